"""Each fill, exit and cost rule on hand-made bars, with the expected numbers worked out by hand
and the plain-loop reference run on the same bars.

XAUUSD: tick 0.01 worth 1.00 USD per lot, so a 1.00 price move on 1 lot is 100 USD.
Bars are M15 from Tuesday 2024-01-02 08:00 UTC (London session).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from engine.backtest import BacktestConfig, Costs, MarketArrays, SignalArrays, simulate
from engine.backtest.runner import BacktestResult
from engine.models import Timeframe
from engine.risk import GateCode, RiskLimits, Session
from engine.symbols import XAUUSD
from tests.backtest.reference import reference_backtest
from tests.backtest.test_reference import assert_same_trades

T0 = pd.Timestamp("2024-01-02 08:00", tz="UTC")
M15 = timedelta(minutes=15)
FIXED = BacktestConfig(fixed_lots=1.0, gates=(), initial_balance=1_000_000.0)


def bars_of(rows: list[tuple[float, float, float, float]], spread: int = 0) -> pd.DataFrame:
    index = pd.DatetimeIndex([T0 + i * M15 for i in range(len(rows))], name="time")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 0.0
    frame["spread"] = spread
    return frame


def run(
    bars: pd.DataFrame,
    signals: dict[int, tuple[int, float, float]],
    config: BacktestConfig = FIXED,
    m1: pd.DataFrame | None = None,
) -> BacktestResult:
    """Engine result on ``bars`` with signals {bar: (side, sl_dist, tp_dist)}; the reference
    must agree trade for trade."""
    n = len(bars)
    side = np.zeros(n, dtype=np.int8)
    sl, tp = np.full(n, np.nan), np.full(n, np.nan)
    for bar, (s, d_sl, d_tp) in signals.items():
        side[bar], sl[bar], tp[bar] = s, d_sl, d_tp
    arrays = SignalArrays(side, sl, tp)
    m1_arrays = None if m1 is None else MarketArrays.from_frame(m1, Timeframe.M1)
    result = simulate(
        MarketArrays.from_frame(bars, Timeframe.M15), arrays, XAUUSD, config, lo=0, m1=m1_arrays
    )
    ref, ref_equity = reference_backtest(bars, side, sl, tp, XAUUSD, config, bar_minutes=15, m1=m1)
    if len(ref):
        assert_same_trades(result.trades, ref, minimum=0)
    else:
        assert result.trades.empty
    np.testing.assert_array_equal(result.equity["equity"].to_numpy()[1:], ref_equity)
    return result


def one(result: BacktestResult) -> pd.Series:
    assert len(result.trades) == 1
    return result.trades.iloc[0]


FLAT = (100.0, 100.4, 99.6, 100.0)


def test_signal_fills_at_next_open_and_levels_come_from_the_fill() -> None:
    # Buy decided at bar 0's close; bar 1 opens 100.30: entry 100.30, SL 99.30, TP 102.30.
    bars = bars_of([FLAT, (100.3, 100.6, 100.0, 100.5), (100.5, 100.9, 100.2, 100.8)])
    t = one(run(bars, {0: (1, 1.0, 2.0)}))
    assert t.entry_time == T0 + M15
    assert (t.entry_price, t.sl, t.tp) == (100.30, 99.30, 102.30)
    # Still open at the end: closed at the last close 100.80 -> 0.50 x 100 = 50.00.
    assert (t.exit_reason, t.exit_price, t.net) == ("end", 100.80, 50.0)
    assert t.exit_time == T0 + 3 * M15
    assert t.bars_held == 2


def test_entry_bar_range_counts_and_a_touch_is_enough() -> None:
    # Entry at 100.00, SL 99.00: the entry bar's low is exactly 99.00 -> stopped on that bar.
    bars = bars_of([FLAT, (100.0, 100.2, 99.0, 99.5), FLAT])
    t = one(run(bars, {0: (1, 1.0, 2.0)}))
    assert (t.exit_reason, t.exit_price, t.net) == ("sl", 99.0, -100.0)
    assert t.exit_time == T0 + 2 * M15  # known at the close of the entry bar
    assert t.bars_held == 1


def test_target_touched_exactly_counts() -> None:
    bars = bars_of([FLAT, (100.0, 101.0, 99.8, 100.9)])
    t = one(run(bars, {0: (1, 1.0, 1.0)}))
    assert (t.exit_reason, t.exit_price, t.net) == ("tp", 101.0, 100.0)


def test_gap_through_stop_exits_at_the_open() -> None:
    # Long from 100.00, SL 99.00; bar 2 opens at 98.50, below the stop: filled at 98.50.
    bars = bars_of([FLAT, (100.0, 100.3, 99.5, 99.8), (98.5, 99.9, 98.2, 99.7)])
    t = one(run(bars, {0: (1, 1.0, 2.0)}))
    assert (t.exit_reason, t.exit_price, t.net) == ("sl", 98.5, -150.0)


def test_gap_through_target_exits_at_the_better_open() -> None:
    bars = bars_of([FLAT, (100.0, 100.3, 99.5, 100.2), (102.6, 103.0, 102.4, 102.8)])
    t = one(run(bars, {0: (1, 1.0, 2.0)}))
    assert (t.exit_reason, t.exit_price, t.net) == ("tp", 102.6, 260.0)


def test_both_levels_in_one_bar_take_the_stop() -> None:
    bars = bars_of([FLAT, (100.0, 102.5, 98.5, 100.0)])
    result = run(bars, {0: (1, 1.0, 2.0)})
    t = one(result)
    assert (t.exit_reason, t.exit_price) == ("sl", 99.0)
    assert result.info.ambiguous_exits == 1 and result.info.m1_resolved == 0


def test_m1_bars_settle_which_level_came_first() -> None:
    bars = bars_of([FLAT, (100.0, 102.5, 98.5, 100.0)])
    minute = pd.Timedelta(minutes=1)
    # Inside bar 1 the M1 path rises to 102.50 first (TP 102.00), then falls to 98.50.
    rows = [(100.0, 100.5, 99.9, 100.4)] * 3 + [(100.4, 102.5, 100.3, 102.2)]
    rows += [(102.2, 102.3, 98.5, 99.0)] + [(99.0, 100.2, 98.9, 100.0)] * 10
    m1 = pd.DataFrame(
        rows,
        columns=["open", "high", "low", "close"],
        index=pd.DatetimeIndex([T0 + M15 + k * minute for k in range(15)], name="time"),
    )
    m1["volume"], m1["spread"] = 0.0, 0
    result = run(bars, {0: (1, 1.0, 2.0)}, m1=m1)
    t = one(result)
    assert (t.exit_reason, t.exit_price, t.net) == ("tp", 102.0, 200.0)
    assert result.info.m1_resolved == 1


def test_opposite_signal_closes_at_next_open_and_reverses() -> None:
    bars = bars_of([FLAT, FLAT, (100.2, 100.6, 99.9, 100.5), (100.7, 100.9, 100.4, 100.6)])
    result = run(bars, {0: (1, 1.0, 2.0), 2: (-1, 1.0, 2.0)})
    long, short = result.trades.iloc[0], result.trades.iloc[1]
    assert (long.exit_reason, long.exit_price, long.net) == ("signal", 100.7, 70.0)
    assert long.exit_time == T0 + 3 * M15  # the open of bar 3, exactly
    assert (short.side, short.entry_price, short.sl, short.tp) == ("sell", 100.7, 101.7, 98.7)
    assert short.entry_time == long.exit_time
    assert (short.exit_reason, short.exit_price, short.net) == ("end", 100.6, 10.0)


def test_same_side_signal_changes_nothing() -> None:
    bars = bars_of([FLAT, FLAT, (100.1, 100.3, 99.9, 100.2), FLAT])
    result = run(bars, {0: (1, 1.0, 2.0), 2: (1, 0.5, 0.5)})
    t = one(result)
    assert (t.sl, t.tp, t.exit_reason) == (99.0, 102.0, "end")
    assert result.info.skipped == {"same_side": 1}


def test_spread_slippage_and_commission() -> None:
    # Data spread 20 points (0.20), slippage 5 points (0.05), 3.50 per lot per side.
    # Buy: ask 100.00 + 0.20, + 0.05 slippage = 100.25; SL 99.25, TP 102.25.
    # TP is a limit: filled at 102.25 exactly -> profit 2.00 x 100 = 200, commission -7.
    costs = Costs(None, 5, 3.5)
    config = BacktestConfig(fixed_lots=1.0, gates=(), costs=costs, initial_balance=1e6)
    bars = bars_of([FLAT, (100.0, 102.3, 99.9, 102.0)], spread=20)
    t = one(run(bars, {0: (1, 1.0, 2.0)}, config))
    assert (t.entry_price, t.sl, t.tp, t.exit_price) == (100.25, 99.25, 102.25, 102.25)
    assert (t.profit, t.commission, t.net) == (200.0, -7.0, 193.0)


def test_short_is_judged_on_the_ask_and_its_stop_slips() -> None:
    # Sell at bid 100.00 - 0.05 = 99.95; SL 100.95, TP 97.95; fixed spread 30 points.
    # Bar 1's high 100.70 + 0.30 = 101.00 >= 100.95: stopped at 100.95 + 0.05 = 101.00.
    config = BacktestConfig(fixed_lots=1.0, gates=(), costs=Costs(30, 5), initial_balance=1e6)
    bars = bars_of([FLAT, (100.0, 100.7, 99.8, 100.1)])
    t = one(run(bars, {0: (-1, 1.0, 2.0)}, config))
    assert (t.entry_price, t.sl, t.tp) == (99.95, 100.95, 97.95)
    assert (t.exit_reason, t.exit_price, t.net) == ("sl", 101.0, -105.0)


def test_zero_costs_mean_bid_fills() -> None:
    config = BacktestConfig(fixed_lots=1.0, gates=(), costs=Costs(0, 0, 0), initial_balance=1e6)
    bars = bars_of([FLAT, (100.0, 100.4, 99.6, 100.1)], spread=50)
    t = one(run(bars, {0: (1, 1.0, 2.0)}, config))
    assert (t.entry_price, t.exit_price, t.commission) == (100.0, 100.1, 0.0)


def test_risk_sizing_follows_the_running_equity() -> None:
    # 1% of 10,000 = 100 at risk over a 1.00 stop (100 USD per lot) -> 1.00 lot; it loses 100.
    # Then 1% of 9,900 = 99 -> 0.99 lot.
    config = BacktestConfig(gates=(), initial_balance=10_000.0)
    bars = bars_of([FLAT, (100.0, 100.2, 98.9, 99.2), FLAT, (100.0, 100.5, 99.5, 100.2)])
    result = run(bars, {0: (1, 1.0, 2.0), 2: (1, 1.0, 2.0)}, config)
    assert result.trades["volume"].tolist() == [1.0, 0.99]
    assert result.trades["risk_money"].tolist() == [100.0, 99.0]
    assert result.trades["r_multiple"].iloc[0] == -1.0


def test_refusals_bad_stops_and_margin() -> None:
    # A 0.10 stop with a 0.20 spread sits above the bid: the broker would refuse the levels.
    config = BacktestConfig(fixed_lots=1.0, gates=(), costs=Costs(20), initial_balance=1e6)
    result = run(bars_of([FLAT, FLAT]), {0: (1, 0.1, 2.0)}, config)
    assert result.trades.empty and result.info.skipped == {"invalid_stops": 1}
    # 1 lot at 100.00 needs 100 x 100 / 100 = 100 USD of margin; 50 USD is not enough.
    poor = BacktestConfig(fixed_lots=1.0, gates=(), initial_balance=50.0)
    result = run(bars_of([FLAT, FLAT]), {0: (1, 1.0, 2.0)}, poor)
    assert result.trades.empty and result.info.skipped == {"no_money": 1}


def test_live_gates_block_on_history() -> None:
    # Session LONDON only, one trade a day: the 07:45 bar's close (08:00) is inside London, the
    # second signal of the day is refused by the daily cap.
    limits = RiskLimits(sessions=(Session.LONDON,), max_trades_per_day=1, cooldown=timedelta(0))
    config = BacktestConfig(
        fixed_lots=1.0, limits=limits, gates=(GateCode.SESSION, GateCode.MAX_TRADES)
    )
    bars = bars_of([FLAT, (100.0, 100.3, 98.9, 99.5), FLAT, FLAT, FLAT])
    result = run(bars, {0: (1, 1.0, 2.0), 2: (1, 1.0, 2.0)}, config)
    assert len(result.trades) == 1
    assert result.info.skipped == {"gate:max_trades": 1}


def test_session_gate_uses_the_signal_bar_close() -> None:
    early = pd.Timestamp("2024-01-02 05:00", tz="UTC")
    bars = bars_of([FLAT] * 4)
    bars.index = pd.DatetimeIndex([early + i * M15 for i in range(4)], name="time")
    limits = RiskLimits(sessions=(Session.LONDON,))
    config = BacktestConfig(fixed_lots=1.0, limits=limits, gates=(GateCode.SESSION,))
    result = run(bars, {0: (1, 1.0, 2.0)}, config)
    assert result.trades.empty and result.info.skipped == {"gate:session": 1}


def test_equity_is_marked_at_every_close() -> None:
    bars = bars_of([FLAT, (100.0, 100.6, 99.9, 100.5), (100.5, 101.1, 100.4, 101.0)])
    result = run(bars, {0: (1, 1.0, 5.0)}, BacktestConfig(fixed_lots=1.0, gates=()))
    # 10,000 at the start and at bar 0's close; +50 at bar 1; closed at the end at 101.00.
    assert result.equity["equity"].tolist() == [10_000.0, 10_000.0, 10_050.0, 10_100.0]
    assert result.equity.index[0] == T0 and result.equity.index[-1] == T0 + 3 * M15
    assert result.metrics.exposure_pct == pytest.approx(200 / 3)
