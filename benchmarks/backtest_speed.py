"""Backtest engine speed on 1,000,000 bars, against backtesting.py on the same bars and rules.

    .venv/bin/python benchmarks/backtest_speed.py [BARS]

Input: seeded synthetic gold M1 bars (``engine.data.synthetic.generate_bars``), the first BARS
(default 1,000,000), made gapless (each open = the previous close) so that backtesting.py, which
validates SL/TP against the *current* close when an order is placed, accepts the levels our
engine places from the *next* open. Strategy: ``ma_rsi`` with default parameters; its signals
are computed once and timed apart (they are the strategy's cost, not the engine's).

Engine time = ``simulate()`` from the signals to trades, bar-by-bar equity and metrics:
* cold: the first call in a fresh process (imports excluded, measured in a subprocess);
* warm: best of 5 in this process.
Configurations: fixed 1 lot, no costs, no gates (what backtesting.py runs); risk sizing with
costs; and with the live gates.

backtesting.py (a benchmark-only dependency: ``pip install -e ".[bench]"``) runs the same
conventions: market orders fill at the next open, SL/TP from that fill with the signal bar's
distances, checked on the entry bar (backtesting.py re-processes a new trade's SL/TP on its
entry bar), SL first when both are touched, an opposite signal closes and reverses, a same-side
signal is ignored, the last open trade closes at the last close (``finalize_trades``). Its
limit orders (our take profits) need the price *through* the level, ours count a touch, so
its take-profit levels are nudged by 1e-7. The trade lists must match (entry/exit bars, prices
to 1e-6, size, PnL to a cent); the script prints the ratio of the two run times.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from engine.backtest import BacktestConfig, Costs, MarketArrays, SignalArrays, simulate
from engine.data.synthetic import generate_bars
from engine.models import Timeframe
from engine.strategies import get_strategy
from engine.symbols import XAUUSD

SEED = 20261129
LOT_UNITS = 100  # one XAUUSD lot is 100 oz: backtesting.py trades units
BASELINE = BacktestConfig(fixed_lots=1.0, gates=(), initial_balance=1e9, costs=Costs(0, 0, 0))


def million_bars(count: int) -> pd.DataFrame:
    """``count`` gapless gold-like M1 bars, the same every run."""
    days = count // 900 + 30  # about 990 M1 bars a calendar day (weekends closed)
    start = datetime(2021, 1, 4, tzinfo=UTC)
    end = start + timedelta(days=days)
    bars = generate_bars(Timeframe.M1, start, end, seed=SEED).iloc[:count]
    if len(bars) < count:
        msg = f"generated only {len(bars)} bars"
        raise SystemExit(msg)
    close = bars["close"].to_numpy()
    opens = np.concatenate(([bars["open"].iloc[0]], close[:-1]))
    bars["open"] = opens
    bars["high"] = np.maximum(bars["high"].to_numpy(), opens)
    bars["low"] = np.minimum(bars["low"].to_numpy(), opens)
    bars.attrs["timeframe"] = "M1"
    return bars


def best_of(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


COLD = """
import sys, time, pickle
from engine.backtest import simulate
m, s, spec, config = pickle.load(open(sys.argv[1], "rb"))
t = time.perf_counter()
simulate(m, s, spec, config, lo=0)
print(time.perf_counter() - t)
"""


def cold_time(m: MarketArrays, s: SignalArrays) -> float:
    """First ``simulate`` call in a new interpreter (imports done before the clock starts)."""
    import pickle
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".pkl") as handle:
        pickle.dump((m, s, XAUUSD, BASELINE), handle)
        handle.flush()
        out = subprocess.run(
            [sys.executable, "-c", COLD, handle.name], check=True, capture_output=True, text=True
        )
    return float(out.stdout.strip())


def backtesting_py(bars: pd.DataFrame, signals: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """backtesting.py on the same bars, signals and conventions: (its trades, run seconds)."""
    try:
        from backtesting import Backtest, Strategy
    except ImportError:
        raise SystemExit('backtesting.py is not installed: pip install -e ".[bench]"') from None

    frame = pd.DataFrame(
        {
            "Open": bars["open"].to_numpy(),
            "High": bars["high"].to_numpy(),
            "Low": bars["low"].to_numpy(),
            "Close": bars["close"].to_numpy(),
            "Volume": np.ones(len(bars)),
            "Side": signals["side"].to_numpy(dtype=float),
            "NextOpen": np.append(bars["open"].to_numpy()[1:], np.nan),
            "SlDist": signals["sl_dist"].to_numpy(),
            "TpDist": signals["tp_dist"].to_numpy(),
        },
        index=bars.index.tz_localize(None),
    )
    last = len(frame) - 1
    tick, digits = XAUUSD.tick_size, XAUUSD.digits

    def norm(price: float) -> float:
        return round(round(price / tick) * tick, digits)

    class Signals(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            side = self.data.Side[-1]
            if side == 0 or i >= last:
                return
            held = self.position.size
            if held and np.sign(held) == side:
                return
            if held:
                self.position.close()
            entry = self.data.NextOpen[-1]
            sl = norm(entry - side * self.data.SlDist[-1])
            tp = norm(entry + side * self.data.TpDist[-1])
            if not (sl < entry < tp if side > 0 else tp < entry < sl):
                return  # our engine refuses levels on the wrong side of the fill too
            if side > 0:
                self.buy(size=LOT_UNITS, sl=sl, tp=tp - 1e-7)
            else:
                self.sell(size=LOT_UNITS, sl=sl, tp=tp + 1e-7)

    test = Backtest(frame, Signals, cash=1e9, finalize_trades=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        stats = test.run()
        seconds = time.perf_counter() - started
    return stats._trades, seconds


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, m: MarketArrays) -> str:
    """Trade by trade: entry/exit bar, prices, size and PnL."""
    bar_of = {int(t): k for k, t in enumerate(m.time_ns)}
    entry_bar = [bar_of[int(t)] for t in ours["entry_time"].astype("int64")]
    if len(ours) != len(theirs):
        return f"MISMATCH: {len(ours)} trades here, {len(theirs)} in backtesting.py"
    checks = {
        "entry bar": np.array_equal(entry_bar, theirs["EntryBar"].to_numpy()),
        "entry price": np.allclose(ours["entry_price"], theirs["EntryPrice"], atol=1e-6),
        "exit price": np.allclose(ours["exit_price"], theirs["ExitPrice"], atol=1e-6),
        "size": np.array_equal(
            np.where(ours["side"] == "buy", 1, -1) * ours["volume"] * LOT_UNITS,
            theirs["Size"].to_numpy(),
        ),
        "pnl": np.allclose(ours["net"], theirs["PnL"], atol=0.011),
    }
    bad = [name for name, ok in checks.items() if not ok]
    return f"MISMATCH in {', '.join(bad)}" if bad else f"identical ({len(ours):,} trades)"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    print(f"generating {count:,} gapless synthetic XAUUSD M1 bars (seed {SEED}) ...")
    bars = million_bars(count)
    strategy = get_strategy("ma_rsi")
    params = strategy.default_params()
    t = time.perf_counter()
    signal_frame = strategy.signals(bars, params)
    signal_s = time.perf_counter() - t
    m = MarketArrays.from_frame(bars, Timeframe.M1)
    s = SignalArrays.from_frame(signal_frame)
    fired = int((s.side != 0).sum())
    print(f"strategy signals (ma_rsi defaults): {signal_s:.3f} s, {fired:,} signals")

    cold = cold_time(m, s)
    baseline = simulate(m, s, XAUUSD, BASELINE, lo=0)
    warm = best_of(lambda: simulate(m, s, XAUUSD, BASELINE, lo=0))
    costs = BacktestConfig(gates=(), costs=Costs(None, 2, 3.5), initial_balance=1e6)
    sized = best_of(lambda: simulate(m, s, XAUUSD, costs, lo=0))
    gated = BacktestConfig(costs=Costs(None, 2, 3.5), initial_balance=1e6)
    gates = best_of(lambda: simulate(m, s, XAUUSD, gated, lo=0), repeat=1)
    print(f"engine, fixed lots, no costs/gates: cold {cold:.3f} s, warm {warm:.3f} s "
          f"({baseline.metrics.trades:,} trades)")  # fmt: skip
    print(f"engine, risk sizing + spread/slippage/commission: warm {sized:.3f} s")
    print(f"engine, + live gates (sessions, trades/day, cooldown, loss limits): {gates:.3f} s")

    print("backtesting.py on the same bars and rules ...")
    theirs, bt_s = backtesting_py(bars, signal_frame)
    print(f"backtesting.py: {bt_s:.2f} s")
    print(f"trades: {compare(baseline.trades, theirs, m)}")
    print(f"ratio backtesting.py / engine (warm): {bt_s / warm:.1f}x; cold: {bt_s / cold:.1f}x")
    total = signal_s + warm
    print(f"with the strategy's signals: {total:.3f} s -> {bt_s / total:.1f}x")
    print(f"(median engine run {statistics.median([warm, cold]):.3f} s)")


if __name__ == "__main__":
    main()
