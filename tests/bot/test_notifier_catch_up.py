"""Trades the engine records while starting (a stop loss hit while the process was down)
happen before the notifier subscribes: ``Notifications.catch_up`` announces those closed since
the notifications last ran, with their chart, once; the very first run replays no history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import build_i18n
from bot.notifications import OUTBOX_KEEP, SEEN_KEY, Notifications
from bot.wiring import Core
from engine.clock import SimClock
from engine.models import ClosedTrade, DealReason, OutboxMessage, Side
from tests.bot.harness import ADMIN, advance, paper_core, settings_for

STARTED = datetime(2019, 6, 4, 13, 15, tzinfo=UTC)  # the paper core's clock after one bar


def trade(ticket: int, closed: datetime, profit: float) -> ClosedTrade:
    opened = closed - timedelta(hours=2)
    return ClosedTrade(
        ticket, "XAUUSD", Side.BUY, 0.2, 1318.0, 1315.0, opened, closed, profit,
        sl=1315.0, tp=1324.0, reason=DealReason.SL,
    )  # fmt: skip


async def closes(core: Core) -> list[tuple[int, str | None, bool]]:
    stored = await core.storage.outbox.due(datetime(2100, 1, 1, tzinfo=UTC), 100)
    return [(m.chat_id, m.dedup_key, m.photo is not None) for m in stored if m.kind == "close"]


async def test_trades_closed_while_down_are_announced_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch)
    core = await paper_core(settings)
    try:
        await core.storage.trades.add(trade(700, STARTED - timedelta(days=3), -60.0))
        made = Notifications.build(core, build_i18n())
        assert await made.catch_up() == 0  # first run: the old trade stays in the history
        assert await core.storage.state.get(SEEN_KEY) == STARTED.isoformat()
        await made.stop()  # never started: nothing to flush, the time is stored
    finally:
        await core.close()
    core = await paper_core(settings)  # the same database, started again
    try:
        # What the engine's start recorded before anything subscribed: closed after the last
        # run (announced), and one closed before it (not again).
        await core.storage.trades.add(trade(701, STARTED + timedelta(minutes=5), -60.0))
        await core.storage.trades.add(trade(699, STARTED - timedelta(minutes=5), -10.0))
        made = Notifications.build(core, build_i18n())
        assert made.notifier.targets == (ADMIN,)
        # The core's clock restarted at the same replayed bar: the window is [13:15, 13:15].
        advance(core, 10 * 60)
        assert await made.catch_up() == 1
        assert await closes(core) == []  # stored, held while its chart is drawn
        assert await made.notifier.drain()
        assert await closes(core) == [(ADMIN, "close:701", True)]
        assert await made.catch_up() == 0  # nothing new since
        stored = await core.storage.outbox.due(datetime(2100, 1, 1, tzinfo=UTC), 100)
        assert stored[0].text == (
            "🔻 <b>Closed buy 0.2 XAUUSD: -60.00 USD</b> · #701\n1318.00 → 1315.00 · stop loss hit"
        )
        assert stored[0].photo is not None and stored[0].photo.startswith(b"\x89PNG")
    finally:
        await core.close()


async def test_housekeeping_deletes_delivered_messages_after_the_keep_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivery stamps wall-clock times; housekeeping ages messages on the same clock, even
    while the engine replays old dates."""
    core = await paper_core(settings_for(tmp_path, monkeypatch))
    try:
        made = Notifications.build(core, build_i18n())
        wall = SimClock(datetime(2026, 11, 30, 12, tzinfo=UTC))
        made.delivery_clock = wall
        outbox = core.storage.outbox
        old = await outbox.enqueue(OutboxMessage(chat_id=ADMIN, kind="fill", text="old"))
        recent = await outbox.enqueue(OutboxMessage(chat_id=ADMIN, kind="fill", text="recent"))
        waiting = await outbox.enqueue(OutboxMessage(chat_id=ADMIN, kind="fill", text="waiting"))
        await outbox.mark_sent(old, wall.now() - OUTBOX_KEEP - timedelta(hours=1))  # type: ignore[arg-type]
        await outbox.mark_sent(recent, wall.now() - OUTBOX_KEEP + timedelta(hours=1))  # type: ignore[arg-type]
        assert await made.housekeep() == 1
        rows = await core.storage.db.fetchall("SELECT id FROM outbox ORDER BY id")
        assert [r[0] for r in rows] == [recent, waiting]
        assert await outbox.backlog() == 1
    finally:
        await core.close()
