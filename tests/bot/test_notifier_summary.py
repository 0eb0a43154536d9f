"""The daily summary on a paper Core (replayed gold on a SimClock, display zone Ulaanbaatar,
+08): due at DAILY_SUMMARY_TIME local, today's and yesterday's trades split at local midnight,
sent once per day to the notification chats (the admins when none is set), and not again
after a restart the same day; the next day it comes again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.i18n import build_i18n
from bot.notifications import Notifications
from bot.wiring import Core
from engine.models import ClosedTrade, DealReason, Side
from tests.bot.harness import ADMIN, advance, paper_core, settings_for

OPENED = datetime(2019, 6, 3, 9, 0, tzinfo=UTC)
TRADES = [
    # (ticket, side, lots, closed at UTC, profit, commission, reason); +08 decides the day.
    (500, Side.BUY, 0.1, datetime(2019, 6, 3, 10, 0, tzinfo=UTC), 5.0, 0.0, DealReason.TP),
    (503, Side.SELL, 0.1, datetime(2019, 6, 3, 16, 30, tzinfo=UTC), -2.0, 0.0, DealReason.EXPERT),
    (501, Side.BUY, 0.2, datetime(2019, 6, 4, 2, 0, tzinfo=UTC), 31.0, -1.0, DealReason.TP),
    (502, Side.BUY, 0.1, datetime(2019, 6, 4, 5, 0, tzinfo=UTC), -12.5, 0.0, DealReason.SL),
]
# June 3 (+08): #500 only (+5.00). June 4 (+08) from 16:00 UTC June 3: #503 -2.00, #501
# +30.00 net, #502 -12.50 -> 3 trades, 1 won, +15.50.
SUMMARY = (
    "📅 <b>Daily summary for 2019-06-04</b>\n"
    "Today: 3 trades, 1 won, net +15.50 USD\n"
    "Yesterday: 1 trades, 1 won, net +5.00 USD\n"
    "  #503 XAUUSD sell 0.1: -2.00 USD (closed by the bot)\n"
    "  #501 XAUUSD buy 0.2: +30.00 USD (take profit hit)\n"
    "  #502 XAUUSD buy 0.1: -12.50 USD (stop loss hit)\n"
    "Balance 10000.00 USD, equity 10000.00 USD\n"
    "Open positions: 0, floating +0.00 USD\n"
    "✅ Circuit breaker: not tripped\n"
    "▶️ Trading: active\n"
    "Losses in a row: 0"
)


async def summaries(core: Core) -> list[tuple[int, str, str | None, str]]:
    stored = await core.storage.outbox.due(datetime(2100, 1, 1, tzinfo=UTC), 100)
    return [(m.chat_id, m.kind, m.dedup_key, m.text) for m in stored if m.kind == "summary"]


async def test_the_daily_summary_comes_once_a_day_across_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"DISPLAY_TZ": "Asia/Ulaanbaatar", "DAILY_SUMMARY_TIME": "21:30"}
    settings = settings_for(tmp_path, monkeypatch, **env)
    core = await paper_core(settings)
    try:
        for ticket, side, lots, closed, profit, commission, reason in TRADES:
            trade = ClosedTrade(
                ticket, "XAUUSD", side, lots, 1320.0, 1321.0, OPENED, closed, profit,
                commission, reason=reason,
            )  # fmt: skip
            assert await core.storage.trades.add(trade)
        made = Notifications.build(core, build_i18n())
        summary = made.summary
        assert summary is not None and made.notifier.targets == (ADMIN,)
        assert core.clock.now() == datetime(2019, 6, 4, 13, 15, tzinfo=UTC)  # 21:15 local
        assert summary.due_at(datetime(2019, 6, 4).date()) == datetime(
            2019, 6, 4, 13, 30, tzinfo=UTC
        )
        assert await summary.check() is False  # 15 minutes early
        advance(core, 15 * 60)
        assert await summary.check() is True
        assert await summary.check() is False
        assert await summaries(core) == [(ADMIN, "summary", "summary:2019-06-04", SUMMARY)]
    finally:
        await core.close()
    core = await paper_core(settings)  # the same database: a restart later that evening
    try:
        made = Notifications.build(core, build_i18n())
        assert made.summary is not None
        advance(core, 60 * 60)
        assert await made.summary.check() is False
        assert len(await summaries(core)) == 1
        advance(core, 24 * 60 * 60)  # 22:15 local the next day
        assert await made.summary.check() is True
        [_, (_, _, key, text)] = await summaries(core)
        assert key == "summary:2019-06-05"
        assert text.startswith(
            "📅 <b>Daily summary for 2019-06-05</b>\n"
            "Today: 0 trades, 0 won, net +0.00 USD\n"
            "Yesterday: 3 trades, 1 won, net +15.50 USD\n"
            "Balance 10000.00 USD"
        )
    finally:
        await core.close()


async def test_no_summary_without_a_time_and_no_reminders_without_a_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch, TELEGRAM_NOTIFY_CHAT_IDS="-100777,1003")
    core = await paper_core(settings)
    try:
        made = Notifications.build(core, build_i18n())
        assert made.summary is None and made.reminders is None
        assert made.notifier.targets == (-100777, 1003)
        advance(core, 24 * 60 * 60)
        assert await summaries(core) == []
    finally:
        await core.close()
