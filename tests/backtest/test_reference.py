"""The fast engine against the plain-loop reference: identical trade lists on real and bundled
data, with costs on and off, risk sizing and fixed lots, gates on and off."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from engine.backtest import BacktestConfig, Costs, MarketArrays, SignalArrays, simulate
from engine.data.bundled_series import load_bundled
from engine.models import Timeframe
from engine.strategies import get_strategy
from engine.symbols import EURUSD, XAUUSD
from tests.backtest.reference import reference_backtest

COMPARED = [
    "entry_time",
    "exit_time",
    "side",
    "volume",
    "entry_price",
    "exit_price",
    "sl",
    "tp",
    "exit_reason",
    "profit",
    "commission",
    "net",
]


@pytest.fixture(scope="module")
def gold() -> pd.DataFrame:
    # The last six months of the bundled (simulated) XAUUSD M15: about 12,500 bars.
    frame = load_bundled("XAUUSD", Timeframe.M15)
    return frame[frame.index >= pd.Timestamp("2019-09-13", tz="UTC")]


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    return load_bundled("EURUSD", Timeframe.H1)


def engine_and_reference(
    bars: pd.DataFrame, strategy: str, spec: object, config: BacktestConfig, tf: Timeframe
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[float]]:
    chosen = get_strategy(strategy)
    params = chosen.default_params()
    signals = chosen.signals(bars, params)
    start = chosen.warmup(params)
    arrays = SignalArrays.from_frame(signals)
    result = simulate(MarketArrays.from_frame(bars, tf), arrays, spec, config, lo=start)
    ref, ref_equity = reference_backtest(
        bars,
        arrays.side,
        arrays.sl_dist,
        arrays.tp_dist,
        spec,
        config,
        start=start,
        bar_minutes=tf.minutes,
    )
    return result.trades, ref, result.equity, ref_equity


def assert_same_trades(fast: pd.DataFrame, ref: pd.DataFrame, minimum: int = 20) -> None:
    assert len(fast) == len(ref)
    assert len(fast) >= minimum  # on real data the comparison must cover real trading
    left = fast[COMPARED].reset_index(drop=True)
    right = ref[COMPARED].reset_index(drop=True)
    for column in ("entry_time", "exit_time"):
        right[column] = pd.to_datetime(right[column], utc=True)
        left[column] = left[column].dt.as_unit("us")
        right[column] = right[column].dt.as_unit("us")
    pd.testing.assert_frame_equal(left, right, check_exact=True, check_dtype=False)


CONFIGS = {
    "risk, no costs, no gates": BacktestConfig(gates=()),
    "risk, costs, gates": BacktestConfig(costs=Costs(None, 3, 3.5)),
    "fixed lots, fixed spread, gates": BacktestConfig(fixed_lots=0.05, costs=Costs(25, 0, 0.0)),
    "fixed lots, slippage, commission, no gates": BacktestConfig(
        fixed_lots=0.2, gates=(), costs=Costs(None, 5, 7.0)
    ),
}


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("strategy", ["ma_rsi", "bb_reversion"])
def test_bundled_gold_m15_matches_reference(gold: pd.DataFrame, name: str, strategy: str) -> None:
    fast, ref, equity, ref_equity = engine_and_reference(
        gold, strategy, XAUUSD, CONFIGS[name], Timeframe.M15
    )
    assert_same_trades(fast, ref)
    np.testing.assert_array_equal(equity["equity"].to_numpy()[1:], np.array(ref_equity))


EURUSD_CONFIGS = {  # EURUSD: 100,000 units a lot, points of 0.00001
    "risk, no costs, no gates": BacktestConfig(gates=()),
    "risk, fixed spread, slippage, commission, gates": BacktestConfig(costs=Costs(12, 3, 3.5)),
    "fixed lots, gates": BacktestConfig(fixed_lots=1.0),
    "fixed lots, spread, slippage, commission, no gates": BacktestConfig(
        fixed_lots=0.5, gates=(), costs=Costs(8, 2, 5.0)
    ),
}


@pytest.mark.parametrize("name", EURUSD_CONFIGS)
def test_real_eurusd_h1_matches_reference(eurusd: pd.DataFrame, name: str) -> None:
    fast, ref, equity, ref_equity = engine_and_reference(
        eurusd, "ma_rsi", EURUSD, EURUSD_CONFIGS[name], Timeframe.H1
    )
    assert_same_trades(fast, ref)
    np.testing.assert_array_equal(equity["equity"].to_numpy()[1:], np.array(ref_equity))


def test_gates_change_the_trades(gold: pd.DataFrame) -> None:
    # The comparison above is only meaningful if the gates really act on this data.
    off, *_ = engine_and_reference(gold, "ma_rsi", XAUUSD, BacktestConfig(gates=()), Timeframe.M15)
    on, *_ = engine_and_reference(gold, "ma_rsi", XAUUSD, BacktestConfig(), Timeframe.M15)
    assert len(on) < len(off)
    assert datetime(2019, 9, 13, tzinfo=UTC) <= on["entry_time"].min().to_pydatetime()
