"""Grid search over strategy parameters with a walk-forward split, through one executor seam.

``/optimize XAUUSD 1y fast=5..30:5 slow=20..100:10 metric=sharpe split=0.7``: every grid point
runs on the in-sample part (the first 70% of the window's bars) and, with the same parameters,
on the out-of-sample rest, each with a fresh account; points are ranked by the in-sample metric
and the table shows both, so over-fitting is visible (a great in-sample score that falls apart
out of sample). Signals are computed once per point on the whole window, so the out-of-sample
run starts with warmed-up indicators.

The grid runs on any ``concurrent.futures.Executor``: a ``BacktestPool``'s processes by default,
or Dask distributed (``executor_for(address)``, the ``cluster`` extra) to spread a grid too big
for one machine over a cluster. Work is sent in chunks of points, progress is reported per
finished chunk, and cancelling stops the chunks not yet started.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from typing import Any

from engine.backtest.config import BacktestConfig
from engine.backtest.jobs import JobCancelled, Progress, ProgressCallback
from engine.backtest.market import MarketArrays, SignalArrays
from engine.backtest.metrics import Metrics
from engine.backtest.request import OPTION_KEYS, RunOptions, parse_head, parse_option
from engine.backtest.runner import simulate
from engine.errors import BadArguments, ConfigError, EngineError
from engine.models import SymbolSpec, Timeframe
from engine.strategies import get_strategy
from engine.strategies.base import ParamSpec, Strategy, StrategyParams

# Metric name -> True when higher is better.
METRICS: dict[str, bool] = {
    "sharpe": True,
    "sortino": True,
    "calmar": True,
    "net_profit": True,
    "return_pct": True,
    "profit_factor": True,
    "expectancy": True,
    "expectancy_r": True,
    "win_rate_pct": True,
    "max_drawdown_pct": False,
}
MAX_POINTS = 5_000


@dataclass(frozen=True, slots=True)
class GridAxis:
    name: str
    values: tuple[int | float, ...]


def parse_axis(spec: ParamSpec, text: str) -> GridAxis:
    """``a..b:step``, ``a..b`` (the parameter's own step), ``a,b,c`` or a single value; every
    value must lie in the parameter's range."""
    try:
        if ".." in text:
            span, _, step_text = text.partition(":")
            low_text, _, high_text = span.partition("..")
            low, high = spec.parse(low_text), spec.parse(high_text)
            step = float(step_text) if step_text else float(spec.step)
            if not (math.isfinite(step) and step > 0) or high < low:
                raise ValueError
            count = math.floor((high - low) / step + 1e-9) + 1
            raw = [low + k * step for k in range(count)]
            values = [int(round(v)) if spec.type is int else round(v, 10) for v in raw]
        else:
            values = [spec.parse(v) for v in text.split(",") if v]
    except (ValueError, TypeError):
        raise BadArguments(
            f"{spec.name}={text}: use a..b:step, a..b or a,b,c within {spec.rule()}",
            code="bad_range",
            name=spec.name,
            value=text,
        ) from None
    checked = tuple(dict.fromkeys(spec.check(v) for v in values))
    if not checked:
        raise BadArguments(f"{spec.name}={text} gives no values", code="bad_range", name=spec.name)
    return GridAxis(spec.name, checked)


@dataclass(frozen=True, slots=True)
class OptimizeRequest:
    symbol: str
    period: Any  # engine.backtest.period.Period
    timeframe: Timeframe | None
    strategy: Strategy[Any]
    axes: tuple[GridAxis, ...]
    metric: str = "sharpe"
    split: float = 0.7  # in-sample share of the window's bars
    options: RunOptions = field(default_factory=RunOptions)
    top: int = 10

    @classmethod
    def parse(cls, tokens: str | Sequence[str] | None) -> OptimizeRequest:
        """``SYMBOL PERIOD [TF] [strategy=NAME] param=a..b:step ... [metric=NAME]
        [split=0.7] [option=value ...]``."""
        head = parse_head(tokens, "optimize")
        if head.words:
            raise BadArguments(
                f"unexpected {head.words[0]!r}; ranges are name=a..b:step",
                code="bad_token",
                token=head.words[0],
            )
        pairs = dict(head.pairs)
        if len(pairs) != len(head.pairs):
            raise BadArguments("a parameter is given twice", code="duplicate_param")
        strategy = get_strategy(pairs.pop("strategy", "ma_rsi"))
        metric = pairs.pop("metric", "sharpe").lower()
        if metric not in METRICS:
            valid = ", ".join(METRICS)
            raise BadArguments(
                f"unknown metric {metric!r}; use one of {valid}",
                code="unknown_metric",
                metric=metric,
                valid=valid,
            )
        split = 0.7
        if "split" in pairs:
            text = pairs.pop("split")
            try:
                split = float(text)
            except ValueError:
                split = math.nan
            if not 0.5 <= split <= 0.9:
                raise BadArguments(
                    f"split is the in-sample share, 0.5 to 0.9; got {text!r}",
                    code="bad_option",
                    name="split",
                    value=text,
                )
        options: dict[str, Any] = {}
        for key in [k for k in pairs if k in OPTION_KEYS]:
            parse_option(options, key, pairs.pop(key))
        specs = {s.name: s for s in strategy.specs()}
        axes = []
        for key, text in pairs.items():
            if key not in specs:
                valid = ", ".join(specs)
                raise BadArguments(
                    f"unknown parameter {key!r} for {strategy.name}; valid: {valid}",
                    code="unknown_param",
                    name=key,
                    strategy=strategy.name,
                    valid=valid,
                )
            axes.append(parse_axis(specs[key], text))
        if not any(len(a.values) > 1 for a in axes):
            raise BadArguments(
                "give at least one parameter range, e.g. fast=5..30:5",
                code="no_grid",
                strategy=strategy.name,
            )
        size = math.prod(len(a.values) for a in axes)
        if size > MAX_POINTS:
            raise BadArguments(
                f"the grid has {size} points; at most {MAX_POINTS}",
                code="grid_too_big",
                points=size,
                limit=MAX_POINTS,
            )
        return cls(
            head.symbol,
            head.period,
            head.timeframe,
            strategy,
            tuple(axes),
            metric,
            split,
            RunOptions(**options),
        )

    def points(self) -> tuple[list[StrategyParams], int]:
        """Every valid parameter set of the grid, and how many combinations broke a rule
        between parameters (e.g. fast >= slow)."""
        base = self.strategy.default_params()
        names = [a.name for a in self.axes]
        valid, broken = [], 0
        for combo in itertools.product(*(a.values for a in self.axes)):
            try:
                valid.append(replace(base, **dict(zip(names, combo, strict=True))))
            except BadArguments:
                broken += 1
        return valid, broken


@dataclass(frozen=True, slots=True)
class GridRow:
    """One grid point: its axis values and the in-sample / out-of-sample metrics."""

    values: tuple[tuple[str, int | float], ...]
    in_sample: Metrics
    out_sample: Metrics

    def score(self, metric: str, *, out: bool = False) -> float:
        value = (self.out_sample if out else self.in_sample).get(metric)
        return math.nan if value is None else value


@dataclass(frozen=True, slots=True, eq=False)
class GridChunk:
    market: MarketArrays
    strategy: str
    points: tuple[StrategyParams, ...]
    axes: tuple[str, ...]
    spec: SymbolSpec
    config: BacktestConfig
    lo: int
    split: int
    hi: int


def run_grid_chunk(chunk: GridChunk) -> list[GridRow]:
    """Simulate each point of ``chunk`` in and out of sample (runs in a worker)."""
    strategy = get_strategy(chunk.strategy)
    frame = chunk.market.to_frame()
    rows = []
    for params in chunk.points:
        signals = SignalArrays.from_frame(strategy.signals(frame, params))
        runs = [
            simulate(chunk.market, signals, chunk.spec, chunk.config, lo=a, hi=b).metrics
            for a, b in ((chunk.lo, chunk.split), (chunk.split, chunk.hi))
        ]
        values = tuple((name, getattr(params, name)) for name in chunk.axes)
        rows.append(GridRow(values, runs[0], runs[1]))
    return rows


def rank(rows: Sequence[GridRow], metric: str) -> list[GridRow]:
    """Best in-sample ``metric`` first; undefined scores last."""
    sign = 1.0 if METRICS[metric] else -1.0

    def key(row: GridRow) -> tuple[bool, float]:
        score = row.score(metric)
        return (math.isnan(score), -sign * score if not math.isnan(score) else 0.0)

    return sorted(rows, key=key)


async def run_grid(
    chunks: Sequence[GridChunk],
    executor: Executor,
    *,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
) -> list[GridRow]:
    """Every chunk on ``executor``; progress counts finished points."""
    total = sum(len(c.points) for c in chunks)
    futures: list[Future[list[GridRow]]] = [executor.submit(run_grid_chunk, c) for c in chunks]
    waiting = {asyncio.wrap_future(f): len(c.points) for f, c in zip(futures, chunks, strict=True)}
    stopper = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    rows: list[GridRow] = []
    done_points = 0
    try:
        while waiting:
            watch: set[asyncio.Future[Any]] = set(waiting)
            if stopper is not None:
                watch.add(stopper)
            done, _ = await asyncio.wait(watch, return_when=asyncio.FIRST_COMPLETED)
            if stopper is not None and stopper in done:
                msg = f"optimisation cancelled after {done_points} of {total} points"
                raise JobCancelled(msg)
            for fut in done:
                done_points += waiting.pop(fut)
                rows.extend(fut.result())
            if progress is not None:
                progress(Progress("grid", done_points, total))
    except BaseException:
        for f in futures:
            f.cancel()
        for fut in waiting:  # mark failures as seen: one error is raised, not one per chunk
            if fut.done() and not fut.cancelled():
                fut.exception()
            else:
                fut.cancel()
        raise
    finally:
        if stopper is not None:
            stopper.cancel()
    return rows


def chunked(points: Sequence[StrategyParams], pieces: int) -> list[tuple[StrategyParams, ...]]:
    """``points`` in about ``pieces`` contiguous chunks (at least one point each)."""
    size = max(1, math.ceil(len(points) / max(1, pieces)))
    return [tuple(points[k : k + size]) for k in range(0, len(points), size)]


def executor_for(address: str | None, workers: int = 2) -> tuple[Executor, Callable[[], None]]:
    """The grid's executor and how to close it: a Dask cluster at ``address`` (needs the
    ``cluster`` extra), else a local process pool of ``workers`` processes."""
    if not address:
        from engine.backtest.pool import BacktestPool  # noqa: PLC0415

        pool = BacktestPool(workers)
        return pool.executor, pool.close
    try:
        from distributed import Client  # noqa: PLC0415
    except ImportError:
        msg = (
            f"a Dask scheduler is configured ({address}) but Dask is not installed: "
            'pip install "chattrader[cluster]"'
        )
        raise ConfigError(msg, code="dask_missing") from None
    try:
        client = Client(address, timeout=10)
    except (OSError, TimeoutError) as exc:
        msg = f"cannot reach the Dask scheduler at {address}: {exc}"
        raise EngineError(msg, code="dask_unreachable") from None
    return client.get_executor(), client.close
