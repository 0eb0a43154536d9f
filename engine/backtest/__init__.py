"""Backtests: the live ``Strategy`` objects run over history with the paper broker's fill model.

Conventions (stated here once; tests check each on hand-made bars):

* A signal decided at the close of bar ``i`` fills at the open of bar ``i + 1`` (bid bars; a
  buy pays the ask = bid + spread, both sides pay slippage, ``engine.brokers.sim``).
* SL and TP are placed from that fill price with the signal bar's distances (its ATR), on the
  tick grid (``decide.levels``). Levels the broker would refuse (not beyond the closing price,
  or inside ``stops_level``) refuse the entry.
* An opposite signal closes the position at the next open (a market deal) and reverses; a
  same-side signal while a position is open changes nothing. One position at a time.
* SL/TP are checked against the whole range of every bar the position lives in, the entry bar
  included; a gap through a level exits at the open; when one bar touches both, SL first,
  unless M1 bars cover that bar, which are then walked in order with the same rule; a touch
  counts.
* A position still open at the end closes at the last close (a market deal) and counts.
* Costs on top, each may be zero: spread (the data's column or a fixed value), commission per
  lot on each side, slippage on market fills and stop exits (not on take profits).
* Sizing by the live risk rule on the running equity (default) or fixed lots; the live gates
  that make sense on history (sessions, trades per day, cooldown, daily and weekly loss) run as
  the same gate code, at the signal bar's close, with the same risk counters; switchable.
* Money as the paper broker books it: each deal rounded to cents, entry commission paid at the
  fill. Equity is marked to market at every bar's close (longs at the bid, shorts at the ask).

Entry points: ``run_backtest`` (sync, one frame), ``service.run_backtest_async`` (loads data,
runs in a process pool with progress and cancellation), ``optimize`` (grid search with a
walk-forward split) and ``compare`` (strategies side by side).
"""

from __future__ import annotations

from engine.backtest.config import HISTORICAL_GATES, BacktestConfig, Costs
from engine.backtest.market import DataLabels, MarketArrays, SignalArrays
from engine.backtest.metrics import Metrics, compute_metrics
from engine.backtest.runner import TRADE_COLUMNS, BacktestResult, RunInfo, run_backtest, simulate

__all__ = [
    "HISTORICAL_GATES",
    "TRADE_COLUMNS",
    "BacktestConfig",
    "BacktestResult",
    "Costs",
    "DataLabels",
    "MarketArrays",
    "Metrics",
    "RunInfo",
    "SignalArrays",
    "compute_metrics",
    "run_backtest",
    "simulate",
]
