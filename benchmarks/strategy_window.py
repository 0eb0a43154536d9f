"""Per-call cost of ``strategy.signals`` on a live window and on a 1,000,000-bar backtest.

The live trader calls ``signals`` once per closed bar on ``lookback + 1`` bars (about 332 for
ma_rsi's defaults), so that small-frame cost sits inside the bar-close-to-order budget; the
backtest calls the very same function once on the whole history. Live windows are cut from the
bundled XAUUSD M15 sample; the big frame is seeded synthetic M1 gold (same frame every run;
generating 1M bars takes about 15 s).
Prints the median and best per-call time of each strategy at default parameters, plus the
indicator functions alone on the live window.

    .venv/bin/python benchmarks/strategy_window.py [BIG_BARS] [LIVE_CALLS]
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pandas as pd

from engine.data.bundled_series import load_bundled
from engine.data.synthetic import generate_bars
from engine.indicators import atr, bollinger, rsi, sma
from engine.models import Timeframe
from engine.strategies import get_strategy, strategy_names


def per_call_ms(fn: Callable[[], object], calls: int, repeats: int) -> tuple[float, float]:
    """(median, best) over ``repeats`` rounds of the mean time of ``calls`` calls, in ms."""
    fn()  # first call pays imports and caches
    rounds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - t0) * 1000 / calls)
    return statistics.median(rounds), min(rounds)


def big_frame(bars: int) -> pd.DataFrame:
    # About 1.03M open M1 bars per ~3.6 years of gold hours; cut to exactly ``bars``.
    days = bars // 1000 + 30
    start = datetime(2015, 1, 5, tzinfo=UTC)
    frame = generate_bars(Timeframe.M1, start, start + pd.Timedelta(days=days), seed=7)
    if len(frame) < bars:
        msg = f"synthetic history has {len(frame)} bars, fewer than {bars}"
        raise SystemExit(msg)
    return frame.iloc[:bars]


def main(big_bars: int, live_calls: int) -> None:
    sample = load_bundled("XAUUSD", Timeframe.M15)
    print(f"live windows: bundled XAUUSD M15, {live_calls} calls x 7 rounds per line")
    for name in strategy_names():
        strategy = get_strategy(name)
        params = strategy.default_params()
        size = strategy.lookback(params) + 1
        window = sample.iloc[-size:]
        call = partial(strategy.signals, window, params)
        med, best = per_call_ms(call, live_calls, 7)
        print(f"  {name:16} {size:>5} bars   median {med:7.3f} ms   best {best:7.3f} ms")
    window = sample.iloc[-332:]
    close = window["close"]
    indicators: dict[str, Callable[[], object]] = {
        "sma(20)": lambda: sma(close, 20),
        "rsi(14)": lambda: rsi(close, 14),
        "atr(14)": lambda: atr(window, 14),
        "bollinger(20,2)": lambda: bollinger(close, 20, 2.0),
    }
    for label, fn in indicators.items():
        med, best = per_call_ms(fn, live_calls, 7)
        print(f"  {label:16} {len(window):>5} bars   median {med:7.3f} ms   best {best:7.3f} ms")
    frame = big_frame(big_bars)
    print(f"backtest: synthetic M1 gold, {len(frame):,} bars, 5 calls per line")
    for name in strategy_names():
        strategy = get_strategy(name)
        params = strategy.default_params()
        med, best = per_call_ms(partial(strategy.signals, frame, params), 1, 5)
        print(f"  {name:16}              median {med:7.1f} ms   best {best:7.1f} ms")


if __name__ == "__main__":
    big = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    main(big, calls)
