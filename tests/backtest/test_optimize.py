"""Grid search: the walk-forward split, ranking, heatmap tables, cancellation, and the executor
seam (threads, a local process pool and a Dask LocalCluster give the same rows)."""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from engine.backtest.history import load_bars
from engine.backtest.jobs import JobCancelled, Progress
from engine.backtest.market import MarketArrays, SignalArrays
from engine.backtest.optimize import OptimizeRequest, executor_for, rank
from engine.backtest.optimize_run import heat_tables, run_optimize_async
from engine.backtest.runner import simulate
from engine.backtest.service import BacktestDefaults
from engine.data.sources import BundledData
from engine.errors import ConfigError
from engine.models import Timeframe
from engine.symbols import EURUSD

PNG = b"\x89PNG\r\n\x1a\n"
DEFAULTS = BacktestDefaults(gates=False, timeframe=Timeframe.H1)
REQUEST = "EURUSD 6m fast=10..20:10 slow=40..60:20 metric=net_profit"


@pytest.fixture(scope="module")
def bundled() -> BundledData:
    return BundledData()


def key(rows: list) -> list[tuple]:  # type: ignore[type-arg]
    return sorted((r.values, r.in_sample.net_profit, r.out_sample.net_profit) for r in rows)


async def test_split_ranking_and_heatmap(bundled: BundledData) -> None:
    request = OptimizeRequest.parse(REQUEST)
    with ThreadPoolExecutor(2) as pool:
        report = await run_optimize_async(request, bundled, pool, defaults=DEFAULTS)
    assert len(report.rows) == 4 and report.broken == 0
    scores = [r.in_sample.net_profit for r in report.rows]
    assert scores == sorted(scores, reverse=True)  # best in-sample first
    (a, b), (c, d) = report.in_sample, report.out_sample
    assert a < b <= c < d
    assert report.heatmap.startswith(PNG)
    # Re-run the best point by hand on the same bars: the split is 70% of the window's bars.
    best = report.best
    assert best is not None
    strategy = request.strategy
    params = replace(strategy.default_params(), **dict(best.values))
    warmup = max(strategy.lookback(p) for p in request.points()[0])
    loaded = await load_bars(bundled, "EURUSD", Timeframe.H1, request.period, warmup=warmup)
    m = MarketArrays.from_frame(loaded.bars, Timeframe.H1)
    signals = SignalArrays.from_frame(strategy.signals(loaded.bars, params))
    lo, hi = loaded.start_index, len(loaded.bars)
    split = lo + int((hi - lo) * 0.7)
    config = DEFAULTS.config(request.options)
    inside = simulate(m, signals, EURUSD, config, lo=lo, hi=split).metrics
    outside = simulate(m, signals, EURUSD, config, lo=split, hi=hi).metrics
    assert best.in_sample == inside and best.out_sample == outside
    assert inside.trades > 0 and outside.trades > 0


async def test_heat_tables_keep_the_best_in_sample_point_per_cell(bundled: BundledData) -> None:
    request = OptimizeRequest.parse("EURUSD 6m fast=10..20:10 slow=40..60:20 sl_atr=1,2")
    with ThreadPoolExecutor(2) as pool:
        report = await run_optimize_async(request, bundled, pool, defaults=DEFAULTS)
    x, y, inside, outside = heat_tables(report.rows, request)
    assert (x, y) == ("fast", "slow") and inside.shape == (2, 2)
    for fast in (10, 20):
        for slow in (40, 60):
            cell = [
                r
                for r in report.rows
                if dict(r.values)["fast"] == fast and dict(r.values)["slow"] == slow
            ]
            best = rank(cell, "sharpe")[0]
            assert inside.loc[slow, fast] == pytest.approx(best.score("sharpe"), nan_ok=True)
            assert outside.loc[slow, fast] == pytest.approx(
                best.score("sharpe", out=True), nan_ok=True
            )


async def test_cancel_stops_the_grid(bundled: BundledData) -> None:
    request = OptimizeRequest.parse("EURUSD 6m fast=10..30:2 slow=40 metric=net_profit")
    cancel = asyncio.Event()
    seen: list[Progress] = []

    def on_progress(p: Progress) -> None:
        seen.append(p)
        cancel.set()

    with ThreadPoolExecutor(1) as pool, pytest.raises(JobCancelled) as err:
        await run_optimize_async(
            request, bundled, pool, defaults=DEFAULTS, progress=on_progress, cancel=cancel,
            chunks_per_worker=11, workers=1,
        )  # fmt: skip
    assert len(seen) == 1 and seen[0].total == 11
    assert f"after {seen[0].done} of 11 points" in str(err.value)


async def test_local_process_pool_gives_the_same_rows(bundled: BundledData) -> None:
    request = OptimizeRequest.parse(REQUEST)
    with ThreadPoolExecutor(2) as pool:
        threads = await run_optimize_async(request, bundled, pool, defaults=DEFAULTS)
    executor, close = executor_for(None, workers=2)
    try:
        processes = await run_optimize_async(request, bundled, executor, defaults=DEFAULTS)
    finally:
        close()
    assert key(processes.rows) == key(threads.rows)


async def test_dask_local_cluster_gives_the_same_rows(bundled: BundledData) -> None:
    distributed = pytest.importorskip("distributed")
    request = OptimizeRequest.parse(REQUEST)
    with ThreadPoolExecutor(2) as pool:
        threads = await run_optimize_async(request, bundled, pool, defaults=DEFAULTS)
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    try:
        executor, close = executor_for(cluster.scheduler_address)
        try:
            on_dask = await run_optimize_async(request, bundled, executor, defaults=DEFAULTS)
        finally:
            close()
    finally:
        cluster.close()
    assert key(on_dask.rows) == key(threads.rows)
    assert np.isfinite([r.in_sample.net_profit for r in on_dask.rows]).all()


def test_dask_address_without_dask_installed_says_how_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ConfigError) as err:
        executor_for("tcp://127.0.0.1:8786")
    assert 'pip install "chattrader[cluster]"' in str(err.value)
