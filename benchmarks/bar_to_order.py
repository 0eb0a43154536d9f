"""Bar-close-to-order latency of the live trader loop (target: < 10 ms on this machine).

Replays the bundled XAUUSD M15 sample through the real Trader, PaperBroker and SQLite storage
(a temp file, WAL), with ma_rsi and the default risk gates. For every cycle that sends an
order it measures bar close -> order acknowledged by the broker (the closed bar handed to the
trader until ``broker.send`` returns: SL/TP check, closed-trade sync, breaker, strategy on the
window, sizing, twelve gates, the write-ahead order row, the fill). It also prints the whole
cycle, which adds the bookkeeping after the fill (order result, risk counters, equity snapshot,
last decision).

    .venv/bin/python benchmarks/bar_to_order.py [BARS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.brokers.paper import PaperBroker
from engine.calendar import UnconfiguredCalendar
from engine.clock import SimClock
from engine.data.bundled_series import load_bundled
from engine.data.frames import to_bars
from engine.decide import Action
from engine.events import EventBus
from engine.journal import Journal
from engine.models import Timeframe
from engine.risk import RiskGovernor, RiskLimits, RiskStateStore, Session
from engine.strategies import get_strategy
from engine.symbols import DEFAULT_SPECS
from engine.trader import Trader, TraderConfig
from storage import open_storage


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(bars: int) -> None:
    frame = load_bundled("XAUUSD", Timeframe.M15)
    strategy = get_strategy("ma_rsi")
    params = strategy.default_params()
    warm = strategy.lookback(params) + 1
    history, live = frame.iloc[:warm], frame.iloc[warm : warm + bars]
    with tempfile.TemporaryDirectory() as tmp:
        storage = await open_storage(Path(tmp) / "bench.db")
        clock = SimClock(live.index[0].to_pydatetime())
        broker = PaperBroker(storage.paper, clock, DEFAULT_SPECS, initial_balance=10_000.0)
        await broker.connect()
        # Loose limits so orders keep happening: the point is the path, not the strategy.
        limits = RiskLimits(
            sessions=(Session.ANY,),
            max_trades_per_day=None,
            cooldown=timedelta(0),
            cooldown_after_loss=timedelta(0),
            max_open_positions=None,
            max_daily_loss_pct=None,
            max_weekly_loss_pct=None,
            max_drawdown_pct=None,
            max_consecutive_losses=None,
        )
        zone = ZoneInfo("UTC")
        bus = EventBus()
        governor = RiskGovernor(RiskStateStore(storage.state), clock, limits, zone)
        journal = Journal(broker, storage.db, storage.orders, storage.trades, storage.state)
        trader = Trader(
            config=TraderConfig(("XAUUSD",), Timeframe.M15, strategy, params, limits, zone),
            broker=broker,
            journal=journal,
            governor=governor,
            state=storage.state,
            equity=storage.equity,
            uow=storage.db,
            calendar=UnconfiguredCalendar(),
            clock=clock,
            bus=bus,
            market_hook=broker.on_bar,
        )
        await trader.start({"XAUUSD": history})
        all_ms: list[float] = []
        order_ms: list[float] = []
        ack_ms: list[float] = []
        acked: list[float] = []
        send = broker.send

        async def timed_send(request: object) -> object:
            result = await send(request)  # type: ignore[arg-type]
            acked.append(time.perf_counter())
            return result

        broker.send = timed_send  # type: ignore[method-assign]
        for bar in to_bars(live, "XAUUSD", Timeframe.M15):
            clock.advance_to(bar.close_time)
            t0 = time.perf_counter()
            decision = await trader.on_bar(bar)
            ms = (time.perf_counter() - t0) * 1000
            all_ms.append(ms)
            if decision is not None and decision.action is Action.ORDER:
                order_ms.append(ms)
                ack_ms.append((acked[-1] - t0) * 1000)
        await storage.close()
    print(f"bars replayed              {len(all_ms):>8}")
    print(f"window size (bars)         {warm:>8}")
    rows = (
        ("bar close -> order acked", ack_ms),
        ("order cycle, complete", order_ms),
        ("every cycle", all_ms),
    )
    for name, values in rows:
        if not values:
            print(f"{name:26} (none)")
            continue
        print(
            f"{name:26} n={len(values):<6} p50={pct(values, 0.5):6.2f} ms  "
            f"p95={pct(values, 0.95):6.2f} ms  mean={statistics.fmean(values):6.2f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
