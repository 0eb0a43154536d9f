"""Accelerated paper session: real EURUSD H1 bars (2017) through the real wiring, with a restart.

The run goes through `bot.wiring.build_core` exactly as `chattrader run --replay` does:
settings -> SQLite file -> paper broker -> ma_rsi -> default risk gates. It stops after
1,200 bars with whatever is open, starts again on the same database from the next bar, and
replays 1,000 more. Then it checks that trades happened, every limit held, nothing was lost or
doubled across the restart, and that closed-trade PnL adds up to the balance change.
The calendar holds a high-impact US release at 13:30 UTC every weekday (stored as a real
calendar refresh would store it): no entry may open inside its news window, and the news gate
must have blocked at least one signal.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.wiring import build_core
from engine.config import Settings, load_settings
from engine.events import GateBlocked
from engine.models import EconomicEvent, Importance, OrderStatus
from engine.ports import CalendarBatch, CalendarFetch
from engine.risk import Session, session_open
from storage import open_storage

FIRST, SECOND = 1200, 1000
HOUR = timedelta(hours=1)


def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {
        "SYMBOLS": "EURUSD",
        "TIMEFRAME": "H1",
        "SESSIONS": "LONDON,NEWYORK",
        "DISPLAY_TZ": "Europe/London",
        "MAX_TRADES_PER_DAY": "2",
        "COOLDOWN_MINUTES": "120",
        "COOLDOWN_AFTER_LOSS_MINUTES": "360",
        "MAX_OPEN_POSITIONS": "1",
        "RISK_PCT": "0.005",
        "MAX_DRAWDOWN_PCT": "0.2",
        "PAPER_SPREAD_POINTS": "8",
        "PAPER_COMMISSION_PER_LOT": "7",
        "DB_PATH": str(tmp_path / "session.db"),
        "DATA_DIR": str(tmp_path),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(None)


RELEASE = time(13, 30)
NEWS_BEFORE, NEWS_AFTER = timedelta(minutes=60), timedelta(minutes=30)


async def store_daily_us_releases(settings: Settings) -> list[datetime]:
    storage = await open_storage(settings.app.db_path)
    day, last = datetime(2017, 1, 2, tzinfo=UTC), datetime(2018, 1, 1, tzinfo=UTC)
    times = []
    while day < last:
        if day.weekday() < 5:
            times.append(datetime.combine(day.date(), RELEASE, UTC))
        day += timedelta(days=1)
    events = tuple(
        EconomicEvent(t, "USD", "United States", "Data release", Importance.HIGH) for t in times
    )
    batch = CalendarBatch("test", times[0], times[-1] + timedelta(minutes=1), events)
    await storage.calendar.store((batch,), CalendarFetch(times[0], "test"))
    await storage.close()
    return times


async def test_replayed_session_with_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch)
    zone = ZoneInfo("Europe/London")
    limits = settings.risk

    # Part one: at least FIRST bars, then stop at the first bar that leaves a position open,
    # so the restart has something to carry over.
    releases = await store_daily_us_releases(settings)
    news_blocks: list[GateBlocked] = []

    async def on_event(event: object) -> None:
        if isinstance(event, GateBlocked) and event.code == "news":
            news_blocks.append(event)

    first = await build_core(settings, replay=True, speed=1e9)
    first.bus.subscribe(on_event)
    await first.start()
    async for bar in first.feed.closed_bars("EURUSD", settings.trading.timeframe):
        await first.trader.on_bar(bar)
        if first.trader.heartbeat.cycles >= FIRST and await first.broker.positions():
            break
    assert first.trader.heartbeat.cycles >= FIRST
    open_at_stop = {p.ticket: p for p in await first.broker.positions()}
    last_bar = first.trader.heartbeat.last_bar["EURUSD"]
    tracked_at_stop = set(await first.journal.tracked())
    await first.close()

    second = await build_core(settings, replay=True, speed=1e9, replay_from=last_bar + HOUR)
    second.bus.subscribe(on_event)
    await second.start()
    await second.run(max_bars=SECOND)
    assert second.trader.heartbeat.cycles == SECOND
    # The restart picked up exactly the positions that were open: same tickets, same sizes.
    reopened = {p.ticket: p for p in await second.broker.positions()}
    for ticket, position in open_at_stop.items():
        still = reopened.get(ticket)
        if still is not None:
            assert still.volume == position.volume and still.price_open == position.price_open
    assert open_at_stop, "the first part must stop with a position open"
    assert tracked_at_stop == set(open_at_stop)

    # Flatten what is left so every fill belongs to a recorded round trip.
    for position in await second.broker.positions():
        result = await second.broker.close_position(position.ticket)
        assert result.ok, result.message
    await second.trader.sync()

    storage = second.storage
    trades = await storage.trades.recent(10_000)
    orders = await storage.orders.recent(10_000)
    filled = [o for o in orders if o.status is OrderStatus.FILLED]
    account = await second.broker.account()

    # Trades happened, on both sides of the restart.
    assert len(trades) >= 8
    assert any(t.opened_at <= last_bar for t in trades)
    assert any(t.opened_at > last_bar for t in trades)

    # Nothing lost or doubled: one order per key, one position per filled order, one round
    # trip per position, and every position open at the stop ended as exactly one trade.
    assert len({o.client_id for o in orders}) == len(orders)
    assert len({o.ticket for o in filled}) == len(filled)
    assert Counter(t.position_id for t in trades).most_common(1)[0][1] == 1
    assert {t.position_id for t in trades} == {o.ticket for o in filled}
    assert set(open_at_stop) <= {t.position_id for t in trades}

    # The money adds up to the cent: closed-trade PnL (net of commission) = balance change.
    assert sum(t.net for t in trades) == pytest.approx(account.balance - 10_000.0, abs=0.005)
    assert account.equity == pytest.approx(account.balance)

    # Every limit held.
    entries = sorted(t.opened_at for t in trades)
    per_day = Counter(t.astimezone(zone).date() for t in entries)
    assert max(per_day.values()) <= limits.max_trades_per_day
    for a, b in zip(entries, entries[1:], strict=False):
        assert b - a >= timedelta(minutes=limits.cooldown_minutes)
    spans = sorted((t.opened_at, t.closed_at) for t in trades)
    for (_, closed), (opened, _) in zip(spans, spans[1:], strict=False):
        assert opened >= closed, "two positions open at once (MAX_OPEN_POSITIONS=1)"
    losses = sorted(t.closed_at for t in trades if t.net < 0)
    for loss in losses:
        later = [e for e in entries if e > loss]
        if later:
            gap = later[0] - loss
            assert gap >= timedelta(minutes=limits.cooldown_after_loss_minutes)
    sessions = (Session.LONDON, Session.NEWYORK)
    for t in trades:
        if t.client_id.startswith("ma_rsi-"):
            assert any(session_open(s, t.opened_at) for s in sessions), t.opened_at
    # The news window held: nothing opened within 60 min before or 30 min after a release.
    assert news_blocks, "the news gate never had to block a signal"
    for t in trades:
        for release in releases:
            assert not (release - NEWS_BEFORE <= t.opened_at < release + NEWS_AFTER), t.opened_at
    await second.close()
