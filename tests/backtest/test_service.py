"""The async entry points: loading, progress, cancellation, thread and process-pool runs."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from engine.backtest.history import HistoryChain, load_bars
from engine.backtest.jobs import JobCancelled, Progress, checkpoint, report
from engine.backtest.period import Period
from engine.backtest.pool import BacktestPool, run_job
from engine.backtest.request import BacktestRequest, CompareRequest
from engine.backtest.service import BacktestDefaults, run_backtest_async, run_compare_async
from engine.data.sources import BundledData
from engine.errors import BadArguments, BrokerUnavailable, DataUnavailable
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


async def test_imported_m1_bars_settle_ambiguous_exits() -> None:
    # An "imported" M1 series and its M15 bars in the cache: the loader finds the M1 bars and
    # the engine walks them where a bar touched both levels; the reference agrees.
    from engine.backtest import BacktestConfig, MarketArrays, SignalArrays, simulate
    from engine.data.resample import resample_bars
    from engine.data.sources import CachedData
    from engine.data.synthetic import generate_bars
    from engine.symbols import XAUUSD
    from tests.backtest.reference import reference_backtest
    from tests.backtest.test_reference import assert_same_trades
    from tests.data.memory_bar_repo import MemoryBarRepo

    start, end = datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 30, tzinfo=UTC)
    m1 = generate_bars(Timeframe.M1, start, end, seed=11)
    m15 = resample_bars(m1, Timeframe.M1, Timeframe.M15)
    repo = MemoryBarRepo()
    await repo.upsert("XAUUSD", Timeframe.M1, m1, source="csv", note="imported M1")
    await repo.upsert("XAUUSD", Timeframe.M15, m15, source="csv", note="imported M15")
    loaded = await load_bars(
        CachedData(repo), "XAUUSD", Timeframe.M15, Period.parse("2w"), warmup=60
    )
    assert loaded.m1 is not None and len(loaded.m1) > 10_000
    assert any("M1 bars settle" in n for n in loaded.notes)
    # Tight levels (0.3 / 0.3 ATR) so that many M15 bars touch both.
    n = len(loaded.bars)
    side = np.zeros(n, dtype=np.int8)
    side[loaded.start_index :: 7] = 1
    side[loaded.start_index + 3 :: 7] = -1
    atr = (loaded.bars["high"] - loaded.bars["low"]).rolling(14).mean().to_numpy()
    sl, tp = 0.3 * atr, 0.3 * atr
    config = BacktestConfig(fixed_lots=1.0, gates=())
    result = simulate(
        MarketArrays.from_frame(loaded.bars, Timeframe.M15),
        SignalArrays(side, sl, tp),
        XAUUSD,
        config,
        lo=loaded.start_index,
        m1=MarketArrays.from_frame(loaded.m1, Timeframe.M1),
    )
    assert result.info.ambiguous_exits > 5
    assert result.info.m1_resolved == result.info.ambiguous_exits
    ref, _ = reference_backtest(
        loaded.bars, side, sl, tp, XAUUSD, config, start=loaded.start_index, bar_minutes=15,
        m1=loaded.m1,
    )  # fmt: skip
    assert_same_trades(result.trades, ref)
    assert (result.trades["exit_reason"] == "tp").sum() > 0


class RecentOnly:
    """A live source (no ``available``): it serves only its recent bars."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    async def history(self, symbol: str, timeframe: Timeframe, start=None, end=None):  # type: ignore[no-untyped-def]
        frame = self.frame
        if start is not None:
            frame = frame[frame.index >= start]
        return frame if end is None else frame[frame.index < end]


async def test_history_chain_probes_a_live_source_with_the_clock(bundled: BundledData) -> None:
    from engine.clock import SimClock

    frame = await bundled.history("EURUSD", Timeframe.H1)
    now = frame.index[-1].to_pydatetime() + pd.Timedelta(hours=1)
    chain = HistoryChain([RecentOnly(frame), bundled], SimClock(now))  # type: ignore[list-item]
    found = await chain.available("EURUSD", Timeframe.H1)
    assert found is not None and found.end == frame.index[-1].to_pydatetime()
    assert found.start.year == 1970  # a live source's first bar is not known
    loaded = await load_bars(chain, "EURUSD", Timeframe.H1, Period.parse("2w"), warmup=20)
    assert loaded.bars.index[-1] == frame.index[-1] and not loaded.window.clipped


async def test_lots_off_the_volume_grid_are_refused_before_any_work(bundled: BundledData) -> None:
    request = BacktestRequest.parse("XAUUSD 30d lots=0.015")
    with BacktestPool(1) as pool, pytest.raises(BadArguments) as err:
        await run_backtest_async(request, bundled, pool=pool)
    assert err.value.code == "bad_lots"
    assert "steps of 0.01" in str(err.value)
