"""`chattrader run` with TELEGRAM_BOT_TOKEN set: settings roles are written, the command menus
registered, Telegram long-polled through TELEGRAM_API_BASE while the engine trades, and when
the engine ends the bot stops and the run returns cleanly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import app, commands
from bot.cli import build_parser
from engine.models import Role
from storage import open_storage
from tests.bot.harness import ADMIN, TRADER, shared_dispatcher
from tests.fakes.telegram_api import FakeTelegram


async def test_run_polls_telegram_and_stops_with_the_engine(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_ADMIN_IDS": str(ADMIN),
        "TELEGRAM_TRADER_IDS": str(TRADER),
        "DB_PATH": str(tmp_path / "run.db"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # Routers attach to one Dispatcher per process: run_bot gets the tests' shared one.
    monkeypatch.setattr(app, "build_dispatcher", lambda _i18n=None: shared_dispatcher())
    telegram.send_text(telegram.user(ADMIN, "Ada"), "/status")  # waiting when the bot starts
    # 15 simulated minutes per bar at x60,000 is 15 ms: 40 bars take about 0.6 s.
    args = build_parser().parse_args(
        ["run", "--replay", "--speed", "60000", "--max-bars", "40", "--from", "2019-06-04"]
    )
    assert await commands.run(args) == 0
    assert [c.ok for c in telegram.calls("getMe")][:1] == [True]
    scopes = [c.params.get("scope") for c in telegram.calls("setMyCommands")]
    assert None in scopes and {"type": "chat", "chat_id": ADMIN} in scopes
    [status] = telegram.sent_texts(ADMIN)
    assert status.startswith("Status · paper account · broker connected\n")
    storage = await open_storage(tmp_path / "run.db")
    try:
        users = {u.user_id: u.role for u in await storage.users.all()}
        assert users == {ADMIN: Role.ADMIN, TRADER: Role.TRADER}
        assert await storage.orders.pending() == []
        everything = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        snapshots = await storage.equity.series(*everything)
        assert len(snapshots) == 40  # one equity mark per closed bar: the engine ran 40 bars
    finally:
        await storage.close()
