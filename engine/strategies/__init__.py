"""Trading strategies: pure functions from bars to signals, shared by backtest and live.

``get_strategy("ma_rsi")`` or ``parse_strategy_spec(["strategy=ma_rsi", "fast=10"])`` give a
:class:`Strategy` and its validated Params; ``strategy.signals(bars, params)`` gives the signals
frame described in :mod:`engine.strategies.base`.
"""

from __future__ import annotations

from engine.strategies.base import (
    SIGNAL_COLUMNS,
    ParamSpec,
    ReasonCode,
    Strategy,
    StrategyParams,
)
from engine.strategies.bb_reversion import BbReversion, BbReversionParams
from engine.strategies.ma_rsi import MaRsi, MaRsiParams
from engine.strategies.registry import (
    DEFAULT_STRATEGY,
    get_strategy,
    parse_strategy_spec,
    strategy_names,
)

__all__ = [
    "DEFAULT_STRATEGY",
    "SIGNAL_COLUMNS",
    "BbReversion",
    "BbReversionParams",
    "MaRsi",
    "MaRsiParams",
    "ParamSpec",
    "ReasonCode",
    "Strategy",
    "StrategyParams",
    "get_strategy",
    "parse_strategy_spec",
    "strategy_names",
]
