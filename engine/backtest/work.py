"""The CPU part of a backtest as a picklable job: arrays in, result and chart PNGs out.

``BacktestJob`` carries the bars as ``MarketArrays`` (a few numpy arrays, cheap to send to a
worker process), the strategy by name with its params, the symbol spec and the run config.
``run_backtest_job`` computes signals, simulates, and renders the charts, reporting each stage
and checking for cancellation between them (``engine.backtest.jobs``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.backtest.config import BacktestConfig
from engine.backtest.jobs import checkpoint, report
from engine.backtest.market import MarketArrays, SignalArrays
from engine.backtest.runner import BacktestResult, simulate
from engine.models import SymbolSpec
from engine.strategies import get_strategy
from engine.strategies.base import StrategyParams

CHART_NAMES = ("equity", "trades", "returns")


@dataclass(frozen=True, slots=True, eq=False)
class BacktestJob:
    market: MarketArrays  # warm-up bars then the tested window
    strategy: str
    params: StrategyParams
    spec: SymbolSpec
    config: BacktestConfig
    start_index: int  # first bar of the tested window
    m1: MarketArrays | None = None
    charts: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class BacktestOutcome:
    result: BacktestResult
    charts: Mapping[str, bytes] = field(default_factory=dict)  # CHART_NAMES -> PNG


def chart_overlays(params: StrategyParams) -> dict[str, Any]:
    """Indicators the trades chart draws for a strategy, read from its parameters: SMAs for
    ``fast``/``slow``, Bollinger bands for ``period``/``k``, RSI for ``rsi_period``."""
    fast, slow = getattr(params, "fast", None), getattr(params, "slow", None)
    period, k = getattr(params, "period", None), getattr(params, "k", None)
    return {
        "sma": (fast, slow) if fast and slow else (),
        "bollinger": (period, k) if period and k else None,
        "rsi_period": getattr(params, "rsi_period", None),
    }


def run_backtest_job(job: BacktestJob) -> BacktestOutcome:
    """Signals, simulation and (when asked) charts for one job."""
    strategy = get_strategy(job.strategy)
    report("signals")
    frame = job.market.to_frame()
    signals = SignalArrays.from_frame(strategy.signals(frame, job.params))
    checkpoint()
    report("simulate")
    meta = {
        "strategy": strategy.name,
        "params": job.params.as_tokens(),
        "timeframe": job.market.labels.timeframe,
        "symbol": job.market.labels.symbol or job.spec.name,
    }
    result = simulate(
        job.market,
        signals,
        job.spec,
        job.config,
        lo=job.start_index,
        meta=meta,
        m1=job.m1,
        check=checkpoint,
    )
    charts = render_charts(CHART_NAMES, job.market, result, job.params) if job.charts else {}
    report("done")
    return BacktestOutcome(result, charts)


def render_charts(
    names: tuple[str, ...],
    market: MarketArrays,
    result: BacktestResult,
    params: StrategyParams,
) -> dict[str, bytes]:
    """The named charts (of ``CHART_NAMES``) as PNG bytes; a separate job so a caller may
    split the charts over processes."""
    from engine.backtest import charts as draw  # noqa: PLC0415 - matplotlib only when drawing

    makers = {
        "equity": lambda: draw.render_equity(result),
        "trades": lambda: draw.render_trades(market.to_frame(), result, **chart_overlays(params)),
        "returns": lambda: draw.render_returns(result),
    }
    out = {}
    for done, name in enumerate(names):
        checkpoint()
        report("charts", done, len(names))
        out[name] = makers[name]()
    return out
