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

from importlib import import_module
from typing import Any

# Re-exports load on first use, so ``engine.backtest.pool`` or ``.request`` can be imported
# without pandas (the CLI starts its chart worker before the heavy imports).
_EXPORTS = {
    "HISTORICAL_GATES": "engine.backtest.config",
    "BacktestConfig": "engine.backtest.config",
    "Costs": "engine.backtest.config",
    "DataLabels": "engine.backtest.market",
    "MarketArrays": "engine.backtest.market",
    "SignalArrays": "engine.backtest.market",
    "Metrics": "engine.backtest.metrics",
    "compute_metrics": "engine.backtest.metrics",
    "TRADE_COLUMNS": "engine.backtest.runner",
    "BacktestResult": "engine.backtest.runner",
    "RunInfo": "engine.backtest.runner",
    "run_backtest": "engine.backtest.runner",
    "simulate": "engine.backtest.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        msg = f"module 'engine.backtest' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(import_module(module), name)
