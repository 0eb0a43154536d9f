"""The async entry points: loading, progress, cancellation, thread and process-pool runs."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from engine.backtest.history import HistoryChain, load_bars
from engine.backtest.jobs import JobCancelled, Progress, checkpoint, report
from engine.backtest.period import Period
from engine.backtest.pool import BacktestPool, run_job
from engine.backtest.request import BacktestRequest, CompareRequest
from engine.backtest.service import BacktestDefaults, run_backtest_async, run_compare_async
from engine.data.sources import BundledData
from engine.errors import BrokerUnavailable, DataUnavailable
from engine.models import Timeframe
from tests.backtest.slow_jobs import count, wait_for_cancel

PNG = b"\x89PNG\r\n\x1a\n"
NO_GATES = BacktestDefaults(gates=False)


@pytest.fixture(scope="module")
def bundled() -> BundledData:
    return BundledData()


async def test_backtest_in_a_thread_reports_stages_and_draws(bundled: BundledData) -> None:
    stages: list[Progress] = []
    report_ = await run_backtest_async(
        BacktestRequest.parse("XAUUSD 90d"), bundled, progress=stages.append
    )
    await asyncio.sleep(0)  # let the last call_soon_threadsafe progress land
    names = [p.stage for p in stages]
    assert names == ["data", "signals", "simulate", "charts", "charts", "charts", "done"]
    assert [(p.done, p.total) for p in stages if p.stage == "charts"] == [(0, 3), (1, 3), (2, 3)]
    assert set(report_.charts) == {"equity", "trades", "returns"}
    assert all(png.startswith(PNG) for png in report_.charts.values())
    info = report_.result.info
    # The last 90 days the bundled series holds: it ends 2020-03-13 21:00 UTC.
    assert report_.window.end == datetime(2020, 3, 13, 21, tzinfo=UTC)
    assert info.start >= pd.Timestamp(report_.window.start)
    assert info.end == pd.Timestamp(report_.window.end)
    assert info.labels.simulated and "simulated intraday" in info.labels.note
    assert report_.notes[0] == "data: simulated intraday from real daily closes"
    assert info.warmup_bars == report_.request.strategy.lookback(report_.request.params)
    assert report_.request.timeframe is Timeframe.M15  # the default filled in


async def test_cancel_stops_a_running_job_in_a_thread() -> None:
    started, finished = threading.Event(), []

    def job() -> str:
        started.set()
        try:
            while True:
                checkpoint()
                threading.Event().wait(0.005)
        except JobCancelled:
            finished.append("cancelled")
            raise

    cancel = asyncio.Event()
    task = asyncio.create_task(run_job(job, cancel=cancel))
    await asyncio.to_thread(started.wait, 5)
    cancel.set()
    with pytest.raises(JobCancelled):
        await task
    for _ in range(200):  # the thread stops at its next checkpoint
        if finished:
            break
        await asyncio.sleep(0.01)
    assert finished == ["cancelled"]


async def test_already_cancelled_job_never_runs() -> None:
    ran = []
    cancel = asyncio.Event()
    cancel.set()
    with pytest.raises(JobCancelled):
        await run_job(lambda: ran.append(1), cancel=cancel)
    await asyncio.sleep(0.05)
    assert ran == []


async def test_process_pool_runs_reports_and_cancels(bundled: BundledData) -> None:
    request = BacktestRequest.parse("XAUUSD 30d gates=off")
    in_thread = await run_backtest_async(request, bundled, charts=False, defaults=NO_GATES)
    seen: list[Progress] = []
    with BacktestPool(1) as pool:
        in_pool = await run_backtest_async(
            request, bundled, pool=pool, charts=False, defaults=NO_GATES, progress=seen.append
        )
        pd.testing.assert_frame_equal(in_pool.result.trades, in_thread.result.trades)
        assert len(in_pool.result.trades) > 0
        cancel = asyncio.Event()

        def on_progress(p: Progress) -> None:
            if p.stage == "started":
                cancel.set()

        with pytest.raises(JobCancelled):
            await pool.run(wait_for_cancel, 30.0, progress=on_progress, cancel=cancel)
        # The worker stopped at its next checkpoint and takes new work.
        counted: list[Progress] = []
        assert await pool.run(count, 3, progress=counted.append) == 3
        await asyncio.sleep(0.2)
    assert [p.stage for p in seen[:3]] == ["data", "signals", "simulate"]
    assert [(p.done, p.total) for p in counted] == [(1, 3), (2, 3), (3, 3)]


async def test_report_and_checkpoint_do_nothing_outside_a_job() -> None:
    report("anything", 1, 2)
    checkpoint()


class Down:
    async def history(self, *args: object) -> pd.DataFrame:
        raise BrokerUnavailable("terminal closed")


async def test_history_chain_skips_unreachable_sources(bundled: BundledData) -> None:
    chain = HistoryChain([Down(), bundled])  # type: ignore[list-item]
    loaded = await load_bars(chain, "EURUSD", Timeframe.H1, Period.parse("4w"), warmup=100)
    assert loaded.tested > 400 and loaded.start_index == 100
    assert loaded.bars.attrs["note"] == "real ask bars; the file has no spread (0)"
    with pytest.raises(DataUnavailable) as err:
        await HistoryChain([Down(), bundled]).history("BTCUSD", Timeframe.H1)  # type: ignore[list-item]
    assert "BTCUSD H1: no data; available:" in str(err.value)
    assert "XAUUSD M15 2018-03-13..2020-03-13" in str(err.value)


async def test_not_enough_data_says_what_exists(bundled: BundledData) -> None:
    with pytest.raises(DataUnavailable) as err:
        await load_bars(
            bundled, "XAUUSD", Timeframe.H4, Period.parse("2020-03-12..2020-03-12"), warmup=10
        )
    text = str(err.value)
    assert err.value.code == "too_few_bars"
    assert "only 6 bars in 2020-03-12 00:00..2020-03-13 00:00 UTC" in text
    assert "the data covers 2018-03-13" in text
    with pytest.raises(DataUnavailable) as err:
        await load_bars(
            bundled, "XAUUSD", Timeframe.M15, Period.parse("2021-01-01..2021-02-01"), warmup=10
        )
    assert "the data covers 2018-03-13 22:00..2020-03-13 21:00" in str(err.value)


async def test_a_long_period_is_clipped_and_noted(bundled: BundledData) -> None:
    loaded = await load_bars(bundled, "EURUSD", Timeframe.H1, Period.parse("3y"), warmup=50)
    assert loaded.window.clipped
    assert loaded.start_index == 0  # no bar before the data's first for warm-up
    assert any("warm the indicators up" in n for n in loaded.notes)
    assert any("data starts 2017-01-01 22:00" in n for n in loaded.notes)


async def test_compare_runs_each_strategy_on_the_same_bars(bundled: BundledData) -> None:
    request = CompareRequest.parse("XAUUSD 60d ma_rsi bb_reversion")
    result = await run_compare_async(request, bundled, defaults=NO_GATES)
    assert list(result.results) == ["ma_rsi", "bb_reversion"]
    a, b = result.results.values()
    assert (a.info.start, a.info.end) == (b.info.start, b.info.end)
    assert a.info.strategy == "ma_rsi" and b.info.strategy == "bb_reversion"
    assert result.chart.startswith(PNG)
