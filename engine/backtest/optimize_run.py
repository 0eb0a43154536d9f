"""``run_optimize_async``: load the window, run the grid on an executor, rank, chart.

The report holds every grid row ranked by the in-sample metric, the walk-forward split (the
in-sample and out-of-sample date ranges), and a heatmap PNG of the metric over the first two
ranged parameters: in-sample on the left, out-of-sample on the right. With more than two
ranged parameters each cell shows the point that scored best in sample among the others.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.backtest.history import load_bars
from engine.backtest.jobs import ProgressCallback
from engine.backtest.market import DataLabels, MarketArrays, ns_time
from engine.backtest.optimize import (
    METRICS,
    GridChunk,
    GridRow,
    OptimizeRequest,
    chunked,
    rank,
    run_grid,
)
from engine.backtest.period import DateRange
from engine.backtest.pool import run_job
from engine.backtest.runner import check_lots
from engine.backtest.service import BacktestDefaults, data_notes
from engine.errors import DataUnavailable
from engine.models import SymbolSpec
from engine.ports import MarketData
from engine.symbols import default_spec

MIN_SIDE_BARS = 50  # bars each side of the split needs to mean anything


@dataclass(frozen=True, slots=True, eq=False)
class OptimizationReport:
    request: OptimizeRequest
    rows: list[GridRow]  # ranked, best in-sample first
    window: DateRange
    in_sample: tuple[pd.Timestamp, pd.Timestamp]  # first bar open, last bar close
    out_sample: tuple[pd.Timestamp, pd.Timestamp]
    broken: int  # combinations refused by a rule between parameters (fast >= slow)
    heatmap: bytes
    notes: tuple[str, ...]

    @property
    def best(self) -> GridRow | None:
        return self.rows[0] if self.rows else None

    def top(self, n: int | None = None) -> list[GridRow]:
        return self.rows[: n or self.request.top]


def heat_tables(
    rows: Sequence[GridRow], request: OptimizeRequest
) -> tuple[str, str, pd.DataFrame, pd.DataFrame]:
    """(x name, y name, in-sample table, out-of-sample table) of the metric, best in-sample
    point per cell. A single ranged parameter gives a one-row table (y = "-")."""
    ranged = [a.name for a in request.axes if len(a.values) > 1]
    x = ranged[0]
    y = ranged[1] if len(ranged) > 1 else "-"
    cells: dict[tuple[float, float], GridRow] = {}
    for row in rank(rows, request.metric):  # best first: keep the first seen per cell
        values = dict(row.values)
        cells.setdefault((values[x], values[y] if y != "-" else 0), row)
    xs = sorted({k[0] for k in cells})
    ys = sorted({k[1] for k in cells})
    inside = pd.DataFrame(np.nan, index=ys, columns=xs)
    outside = inside.copy()
    for (vx, vy), row in cells.items():
        inside.loc[vy, vx] = row.score(request.metric)
        outside.loc[vy, vx] = row.score(request.metric, out=True)
    return x, y, inside, outside


def _render(report_rows: list[GridRow], request: OptimizeRequest, title: str, note: str) -> bytes:
    from engine.backtest.charts import render_heatmap  # noqa: PLC0415

    x, y, inside, outside = heat_tables(report_rows, request)
    return render_heatmap(
        [("in sample", inside), ("out of sample", outside)],
        x=x,
        y=y,
        metric=request.metric,
        title=title,
        note=note,
    )


async def run_optimize_async(
    request: OptimizeRequest,
    data: MarketData,
    executor: Executor,
    *,
    defaults: BacktestDefaults | None = None,
    spec: SymbolSpec | None = None,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
    chunks_per_worker: int = 4,
    workers: int = 2,
) -> OptimizationReport:
    """Grid search of ``request`` on ``data``'s window, on ``executor``."""
    defaults = defaults or BacktestDefaults()
    timeframe = request.timeframe or defaults.timeframe
    spec = spec or default_spec(request.symbol)
    points, broken = request.points()
    if not points:
        msg = f"every one of the {broken} grid points breaks a rule between parameters"
        raise DataUnavailable(msg, code="empty_grid", broken=broken)
    warmup = max(request.strategy.lookback(p) for p in points)
    loaded = await load_bars(data, request.symbol, timeframe, request.period, warmup=warmup)
    lo, hi = loaded.start_index, len(loaded.bars)
    split = lo + math.floor((hi - lo) * request.split)
    if min(split - lo, hi - split) < MIN_SIDE_BARS:
        msg = (
            f"{hi - lo} bars in {request.period.text} leave fewer than {MIN_SIDE_BARS} on one "
            "side of the in/out-of-sample split; ask for a longer period"
        )
        raise DataUnavailable(msg, code="too_few_bars", bars=hi - lo, need=2 * MIN_SIDE_BARS)
    labels = DataLabels.of(loaded.bars, request.symbol, timeframe.value)
    market = MarketArrays.from_frame(loaded.bars, timeframe, labels)
    config = defaults.config(request.options)
    check_lots(spec, config.fixed_lots)
    names = tuple(a.name for a in request.axes)
    chunks = [
        GridChunk(market, request.strategy.name, part, names, spec, config, lo, split, hi)
        for part in chunked(points, workers * chunks_per_worker)
    ]
    rows = rank(await run_grid(chunks, executor, progress=progress, cancel=cancel), request.metric)

    def stamp(i: int, *, close: bool = False) -> pd.Timestamp:
        ns = int(market.time_ns[i]) + (market.bar_ns if close else 0)
        return pd.Timestamp(ns_time(ns))

    in_sample = (stamp(lo), stamp(split - 1, close=True))
    out_sample = (stamp(split), stamp(hi - 1, close=True))
    title = (
        f"{request.symbol} {timeframe.value} {request.strategy.name}: {request.metric}, "
        f"{len(points)} points"
    )
    note = (
        f"in sample {in_sample[0]:%Y-%m-%d}..{in_sample[1]:%Y-%m-%d}, "
        f"out of sample {out_sample[0]:%Y-%m-%d}..{out_sample[1]:%Y-%m-%d}"
    )
    if labels.simulated and labels.note:
        note = f"{note}\n{labels.note}"
    heatmap = await run_job(_render, rows, request, title, note)
    notes = data_notes(loaded)
    if broken:
        notes = (*notes, f"{broken} combinations skipped: they break a parameter rule")
    direction = "higher" if METRICS[request.metric] else "lower"
    notes = (*notes, f"ranked by in-sample {request.metric} ({direction} is better)")
    return OptimizationReport(
        request, rows, loaded.window, in_sample, out_sample, broken, heatmap, notes
    )
