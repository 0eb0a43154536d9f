"""Accelerated paper session: real EURUSD H1 bars (2017) through the real wiring, with a restart.

The run goes through `bot.wiring.build_core` exactly as `chattrader run --replay` does:
settings -> SQLite file -> paper broker -> ma_rsi -> default risk gates. It stops after
1,200 bars with whatever is open, starts again on the same database from the next bar, and
replays 1,000 more. Then it checks that trades happened, every limit held, nothing was lost or
doubled across the restart, and that closed-trade PnL adds up to the balance change.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.wiring import Core, build_core
from engine.config import Settings, load_settings
from engine.models import OrderStatus
from engine.risk import Session, session_open

FIRST, SECOND = 1200, 1000


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


async def run_part(settings: Settings, bars: int, start: object = None) -> Core:
    core = await build_core(settings, replay=True, speed=1e9, replay_from=start)  # type: ignore[arg-type]
    await core.start()
    await core.run(max_bars=bars)
    return core


async def test_replayed_session_with_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch)
    zone = ZoneInfo("Europe/London")
    limits = settings.risk

    # Part one: at least FIRST bars, then stop at the first bar that leaves a position open,
    # so the restart has something to carry over.
    first = await build_core(settings, replay=True, speed=1e9)
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

    second = await run_part(settings, SECOND, last_bar + timedelta(hours=1))
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
    await second.close()
