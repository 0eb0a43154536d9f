"""The same strategy traded live (the Trader on the paper broker, bar by bar, through SQLite)
and backtested (the vectorised engine) on the same bars gives the same trades: entry and exit
times, sides, sizes, prices, exit reasons and money.

The bars are the bundled gold M15 series made gapless (each open is the previous close), so the
live fill at a bar's close and the backtest's fill at the next bar's open are the same price;
the spread is fixed (live fills use the closing bar's spread, the backtest the next bar's). The
two stamp a fill decided at a bar's close differently only across a break in the data (the
daily pause, a weekend): live at that close, the backtest at the next bar's open.
Breakers that only live trading has (loss streak, drawdown) are off; every gate the backtest
judges on history is on, with the live defaults.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from engine.backtest import BacktestConfig, Costs, MarketArrays, SignalArrays, simulate
from engine.clock import SimClock
from engine.data.bundled_series import load_bundled
from engine.models import Bar, Timeframe
from engine.risk import RiskLimits, Session
from engine.strategies import get_strategy
from engine.symbols import DEFAULT_SPECS
from tests.engine.test_trader import make_rig

M15 = Timeframe.M15
WARMUP = 300
SPREAD = 30
COMMISSION = 3.5  # per lot and side


def limits(*sessions: Session) -> RiskLimits:
    # The loss-streak and drawdown breakers exist only live: off, the rest at the defaults.
    return RiskLimits(sessions=sessions, max_consecutive_losses=None, max_drawdown_pct=None)


def gapless(bars: pd.DataFrame) -> pd.DataFrame:
    out = bars.copy()
    out["open"] = out["close"].shift(1).fillna(out["open"])
    out["high"] = out[["high", "open"]].max(axis=1)
    out["low"] = out[["low", "open"]].min(axis=1)
    out["spread"] = SPREAD
    return out


async def live_trades(tmp_path: Path, bars: pd.DataFrame, limits: RiskLimits) -> pd.DataFrame:
    strategy = get_strategy("ma_rsi")
    rig = await make_rig(
        tmp_path / "live.db",
        strategy,
        clock=SimClock(bars.index[WARMUP].to_pydatetime()),
        limits=limits,
        params=strategy.default_params(),
        history={"XAUUSD": bars.iloc[:WARMUP]},
        spread_points=SPREAD,
        commission_per_lot=COMMISSION,
    )
    try:
        for time, row in bars.iloc[WARMUP:].iterrows():
            bar = Bar("XAUUSD", M15, time.to_pydatetime(), row.open, row.high, row.low,
                      row.close, row.volume, int(row.spread))  # fmt: skip
            await rig.feed(bar)
        trades = await rig.storage.trades.recent(10_000)
    finally:
        await rig.storage.close()
    return pd.DataFrame(
        {
            "entry_time": [pd.Timestamp(t.opened_at) for t in trades],
            "exit_time": [pd.Timestamp(t.closed_at) for t in trades],
            "side": [t.side.value for t in trades],
            "volume": [t.volume for t in trades],
            "entry_price": [t.price_open for t in trades],
            "exit_price": [t.price_close for t in trades],
            "net": [round(t.net, 2) for t in trades],
        }
    ).sort_values("entry_time", ignore_index=True)


def backtest_trades(bars: pd.DataFrame, limits: RiskLimits) -> pd.DataFrame:
    strategy = get_strategy("ma_rsi")
    signals = strategy.signals(bars, strategy.default_params())
    config = BacktestConfig(
        initial_balance=10_000.0,
        costs=Costs(spread_points=SPREAD, commission_per_lot=COMMISSION),
        limits=limits,
    )
    result = simulate(
        MarketArrays.from_frame(bars, M15),
        SignalArrays.from_frame(signals),
        DEFAULT_SPECS["XAUUSD"],
        config,
        lo=WARMUP,
    )
    trades = result.trades
    trades = trades[trades["exit_reason"] != "end"]  # live leaves the last one open
    columns = ["entry_time", "exit_time", "side", "volume", "entry_price", "exit_price", "net"]
    return trades[[*columns, "exit_reason"]].reset_index(drop=True)


def next_open(bars: pd.DataFrame, times: pd.Series) -> list[pd.Timestamp]:
    """The open time of the first bar at or after each of ``times``."""
    return [bars.index[bars.index.searchsorted(t)] for t in times]


@pytest.mark.parametrize(
    ("sessions", "count", "reversals"),
    [
        # Round the clock: opposite signals close and reverse (close, then the new entry).
        ((Session.ANY,), 1_500, 4),
        # London and New York only: some opposite signals close outside the sessions, and the
        # new entry is blocked (the position still closes, as the backtest rules say).
        ((Session.LONDON, Session.NEWYORK), 2_300, 0),
    ],
)
async def test_live_paper_trading_and_the_backtest_make_the_same_trades(
    tmp_path: Path, sessions: tuple[Session, ...], count: int, reversals: int
) -> None:
    rules = limits(*sessions)
    bars = gapless(load_bundled("XAUUSD", M15).iloc[:count])
    live = await live_trades(tmp_path, bars, rules)
    back = backtest_trades(bars, rules)
    assert len(back) >= 20
    by_signal = back["exit_reason"] == "signal"
    assert by_signal.sum() >= 3  # positions closed by an opposite signal are checked too
    assert (by_signal & (back["exit_time"] == back["entry_time"].shift(-1))).sum() == reversals
    assert next_open(bars, live["entry_time"]) == list(back["entry_time"])
    assert next_open(bars, live["exit_time"]) == list(back["exit_time"])
    assert list(live["side"]) == list(back["side"])
    assert list(live["volume"]) == pytest.approx(list(back["volume"]))
    assert list(live["entry_price"]) == pytest.approx(list(back["entry_price"]), abs=1e-9)
    assert list(live["exit_price"]) == pytest.approx(list(back["exit_price"]), abs=1e-9)
    assert list(live["net"]) == pytest.approx(list(back["net"]), abs=0.005)
    assert timedelta(0) < (live["exit_time"] - live["entry_time"]).min()
