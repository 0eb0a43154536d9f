"""The async entry points chat and CLI call: load the bars, run off the event loop, report.

``run_backtest_async`` and ``run_compare_async`` load the period's bars from a ``MarketData``
(``history.load_bars``), send the CPU part to a ``BacktestPool`` (or a thread when none is
given) with progress reports and cancellation, and return a report that carries the result,
the chart PNGs, the real window used and the notes a reply must show (clipped period, warm-up,
simulated data). ``BacktestDefaults`` turns the settings plus a request's options into a
``BacktestConfig``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from engine.backtest.config import HISTORICAL_GATES, BacktestConfig, Costs
from engine.backtest.history import LoadedBars, load_bars
from engine.backtest.jobs import Progress, ProgressCallback, checkpoint, report
from engine.backtest.market import DataLabels, MarketArrays
from engine.backtest.period import DateRange
from engine.backtest.pool import BacktestPool, run_job
from engine.backtest.request import BacktestRequest, CompareRequest, RunOptions
from engine.backtest.runner import BacktestResult, check_lots
from engine.backtest.work import BacktestJob, BacktestOutcome, run_backtest_job
from engine.config import Settings
from engine.models import SymbolSpec, Timeframe
from engine.ports import MarketData
from engine.risk import RiskLimits
from engine.risk.from_settings import limits_from_settings
from engine.symbols import default_spec


@dataclass(frozen=True, slots=True)
class BacktestDefaults:
    """What a request does not say: the paper account, costs, risk limits, timeframe."""

    timeframe: Timeframe = Timeframe.M15
    initial_balance: float = 10_000.0
    currency: str = "USD"
    leverage: int = 100
    costs: Costs = field(default_factory=Costs)
    limits: RiskLimits = field(default_factory=RiskLimits)
    gates: bool = True
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def from_settings(
        cls, settings: Settings, limits: RiskLimits | None = None
    ) -> BacktestDefaults:
        """The paper account's numbers; PAPER_COMMISSION_PER_LOT is a round turn, so each
        side pays half, as the paper broker is wired. ``limits`` default to
        ``limits_from_settings`` (the same mapping live trading uses)."""
        p = settings.paper
        limits = limits if limits is not None else limits_from_settings(settings)
        return cls(
            timeframe=settings.trading.timeframe,
            initial_balance=p.balance,
            currency=p.currency,
            leverage=p.leverage,
            costs=Costs(p.spread_points, p.slippage_points, p.commission_per_lot / 2),
            limits=limits,
            zone=settings.app.tz,
        )

    def config(self, options: RunOptions) -> BacktestConfig:
        """These defaults with a request's overrides applied."""
        c = self.costs
        costs = Costs(
            c.spread_points if options.spread_points is None else options.spread_points,
            c.slippage_points if options.slippage_points is None else options.slippage_points,
            c.commission_per_lot
            if options.commission_round_turn is None
            else options.commission_round_turn / 2,
        )
        limits = self.limits
        if options.risk_pct is not None:
            limits = replace(limits, risk_pct=options.risk_pct)
        gates = self.gates if options.gates is None else options.gates
        return BacktestConfig(
            initial_balance=options.balance or self.initial_balance,
            currency=self.currency,
            leverage=self.leverage,
            costs=costs,
            fixed_lots=options.lots,
            limits=limits,
            gates=HISTORICAL_GATES if gates else (),
            zone=self.zone,
        )


@dataclass(frozen=True, slots=True, eq=False)
class BacktestReport:
    """One finished backtest: result, charts (``equity``, ``trades``, ``returns`` PNGs), the
    window the period resolved to, and notes every reply should carry."""

    request: BacktestRequest
    result: BacktestResult
    window: DateRange
    charts: Mapping[str, bytes]
    notes: tuple[str, ...]
    market: MarketArrays  # the bars run on (warm-up included), to draw more charts later

    @property
    def labels(self) -> DataLabels:
        return self.result.info.labels


@dataclass(frozen=True, slots=True, eq=False)
class ComparisonReport:
    request: CompareRequest
    results: Mapping[str, BacktestResult]  # strategy name -> result, in the request's order
    chart: bytes
    window: DateRange
    notes: tuple[str, ...]


def data_notes(loaded: LoadedBars) -> tuple[str, ...]:
    """The loader's notes, with the data's own label first when it is simulated."""
    attrs = loaded.bars.attrs
    notes = list(loaded.notes)
    if attrs.get("simulated") and attrs.get("note"):
        notes.insert(0, f"data: {attrs['note']}")
    return tuple(notes)


def _arrays(loaded: LoadedBars, symbol: str, timeframe: Timeframe) -> MarketArrays:
    labels = DataLabels.of(loaded.bars, symbol, timeframe.value)
    return MarketArrays.from_frame(loaded.bars, timeframe, labels)


async def run_backtest_async(
    request: BacktestRequest,
    data: MarketData,
    *,
    defaults: BacktestDefaults | None = None,
    spec: SymbolSpec | None = None,
    pool: BacktestPool | None = None,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
    charts: bool = True,
) -> BacktestReport:
    """Load, run and chart ``request`` on ``data``; the CPU part runs in ``pool`` (a worker
    process) or, without one, in a thread. ``spec`` defaults to the paper specs."""
    defaults = defaults or BacktestDefaults()
    timeframe = request.timeframe or defaults.timeframe
    spec = spec or default_spec(request.symbol)
    config = defaults.config(request.options)
    check_lots(spec, config.fixed_lots)  # here: an error raised in a worker loses its code
    if progress is not None:
        progress(Progress("data"))
    warmup = request.strategy.lookback(request.params)
    loaded = await load_bars(data, request.symbol, timeframe, request.period, warmup=warmup)
    market = _arrays(loaded, request.symbol, timeframe)
    job = BacktestJob(
        market=market,
        strategy=request.strategy.name,
        params=request.params,
        spec=spec,
        config=config,
        start_index=loaded.start_index,
        m1=None if loaded.m1 is None else MarketArrays.from_frame(loaded.m1, Timeframe.M1),
        charts=charts,
    )
    outcome: BacktestOutcome = await run_job(
        run_backtest_job, job, pool=pool, progress=progress, cancel=cancel
    )
    return BacktestReport(
        request.with_timeframe(timeframe),
        outcome.result,
        loaded.window,
        outcome.charts,
        data_notes(loaded),
        market,
    )


def run_compare_job(jobs: tuple[BacktestJob, ...]) -> tuple[dict[str, BacktestResult], bytes]:
    """Every strategy of a comparison on the same bars, then the comparison chart."""
    results: dict[str, BacktestResult] = {}
    for done, job in enumerate(jobs):
        checkpoint()
        report("simulate", done, len(jobs))
        results[job.strategy] = run_backtest_job(job).result
    report("charts")
    from engine.backtest.charts import render_comparison  # noqa: PLC0415

    return results, render_comparison(results)


async def run_compare_async(
    request: CompareRequest,
    data: MarketData,
    *,
    defaults: BacktestDefaults | None = None,
    spec: SymbolSpec | None = None,
    pool: BacktestPool | None = None,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
) -> ComparisonReport:
    """Run each strategy (default parameters) on the same window and chart them together."""
    defaults = defaults or BacktestDefaults()
    timeframe = request.timeframe or defaults.timeframe
    spec = spec or default_spec(request.symbol)
    params = {s.name: s.default_params() for s in request.strategies}
    warmup = max(s.lookback(params[s.name]) for s in request.strategies)
    loaded = await load_bars(data, request.symbol, timeframe, request.period, warmup=warmup)
    market = _arrays(loaded, request.symbol, timeframe)
    m1 = None if loaded.m1 is None else MarketArrays.from_frame(loaded.m1, Timeframe.M1)
    config = defaults.config(request.options)
    check_lots(spec, config.fixed_lots)
    jobs = tuple(
        BacktestJob(market, s.name, params[s.name], spec, config, loaded.start_index, m1, False)
        for s in request.strategies
    )
    results, chart = await run_job(
        run_compare_job, jobs, pool=pool, progress=progress, cancel=cancel
    )
    return ComparisonReport(request, results, chart, loaded.window, data_notes(loaded))
