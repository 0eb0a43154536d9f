"""MarketData sources: the bundled series and the bars cache with a fallback."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from engine.data.bundled_series import load_bundled
from engine.data.resample import resample_bars
from engine.data.sources import BundledData, CachedData, DataCatalog, pick_source
from engine.data.synthetic import generate_bars
from engine.errors import DataUnavailable
from engine.models import Timeframe
from tests.data.memory_bar_repo import MemoryBarRepo

M15_LINE = "XAUUSD M15 2018-03-13..2020-03-13 (simulated intraday from real daily closes)"
D1_LINE = (
    "XAUUSD D1 1979-01-01..2020-03-13 "
    "(real daily closes, close only: open = high = low = close, no volume or spread)"
)
EURUSD_LINE = "EURUSD H1 2017-01-01..2017-12-29 (real ask bars; the file has no spread (0))"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_bundled_everything_when_no_window() -> None:
    frame = await BundledData().history("EURUSD", Timeframe.H1)
    assert len(frame) == 6225
    assert frame.attrs["first_bar"] == utc(2017, 1, 1, 22)
    assert frame.attrs["last_bar"] == utc(2017, 12, 29, 21)
    assert frame.attrs["clipped"] is False
    assert (frame.attrs["symbol"], frame.attrs["timeframe"]) == ("EURUSD", "H1")


async def test_bundled_window_is_half_open_and_clipped_at_the_end() -> None:
    data = BundledData()
    frame = await data.history("XAUUSD", Timeframe.M15, utc(2020, 3, 1), utc(2021, 1, 1))
    assert frame.attrs["first_bar"] == utc(2020, 3, 1, 22)  # Sunday open
    assert frame.attrs["last_bar"] == utc(2020, 3, 13, 20, 45)
    assert frame.attrs["clipped"] is True
    inside = await data.history("XAUUSD", Timeframe.M15, utc(2019, 6, 3, 10), utc(2019, 6, 3, 11))
    assert list(inside.index) == [utc(2019, 6, 3, 10, m) for m in (0, 15, 30, 45)]
    assert inside.attrs["clipped"] is False


async def test_bundled_resamples_higher_timeframes() -> None:
    h4 = await BundledData().history("XAUUSD", Timeframe.H4, utc(2019, 6, 3), utc(2019, 6, 4))
    m15 = load_bundled("XAUUSD", Timeframe.M15)
    block = m15.loc[(m15.index >= utc(2019, 6, 3, 8)) & (m15.index < utc(2019, 6, 3, 12))]
    bar = h4.loc[utc(2019, 6, 3, 8)]
    assert len(block) == 16
    assert bar["open"] == block["open"].iloc[0]
    assert bar["high"] == block["high"].max()
    assert bar["low"] == block["low"].min()
    assert bar["close"] == block["close"].iloc[-1]
    assert bar["volume"] == block["volume"].sum()
    assert h4.attrs["simulated"] is True
    assert h4.attrs["resampled_from"] == "M15"
    assert list(h4.index.hour) == [0, 4, 8, 12, 16, 20]


async def test_bundled_unavailable_says_what_exists() -> None:
    data = BundledData()
    with pytest.raises(DataUnavailable) as caught:
        await data.history("XAUUSD", Timeframe.M5)
    assert str(caught.value) == f"XAUUSD M5: no data; available: {M15_LINE}, {D1_LINE}"
    assert caught.value.params["symbol"] == "XAUUSD"
    with pytest.raises(DataUnavailable) as caught:
        await data.history("XAUUSD", Timeframe.M15, utc(2021, 1, 1), utc(2021, 2, 1))
    assert str(caught.value) == (
        f"XAUUSD M15: no bars from 2021-01-01 00:00 to 2021-02-01 00:00; available: {M15_LINE}"
    )
    with pytest.raises(DataUnavailable) as caught:
        await data.history("BTCUSD", Timeframe.H1)
    assert str(caught.value) == (
        f"BTCUSD H1: no data; available: {M15_LINE}, {D1_LINE}, {EURUSD_LINE}"
    )
    assert await data.available("BTCUSD", Timeframe.H1) is None


async def test_bundled_lists_its_ranges() -> None:
    data = BundledData()
    assert isinstance(data, DataCatalog)
    ranges = await data.ranges()
    assert [(r.symbol, r.timeframe, r.bars) for r in ranges] == [
        ("XAUUSD", Timeframe.M15, 47564),
        ("XAUUSD", Timeframe.D1, 10750),
        ("EURUSD", Timeframe.H1, 6225),
    ]
    # Weekly gold comes from 41 years of real closes, not two years of simulated M15.
    weekly = await data.available("XAUUSD", Timeframe.W1)
    assert weekly is not None
    assert weekly.start == utc(1979, 1, 1)  # a Monday
    assert weekly.end == utc(2020, 3, 9)  # the Monday of the last close's week
    assert weekly.extra == {"resampled_from": "D1"}
    assert weekly.simulated is False
    hourly = await data.available("XAUUSD", Timeframe.H4)
    assert hourly is not None and hourly.simulated and hourly.extra == {"resampled_from": "M15"}


async def test_naive_window_is_refused() -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        await BundledData().history("XAUUSD", Timeframe.M15, datetime(2019, 1, 1))  # noqa: DTZ001


@pytest.fixture
async def cached() -> tuple[CachedData, MemoryBarRepo, pd.DataFrame]:
    repo = MemoryBarRepo()
    bars = generate_bars(Timeframe.M15, utc(2024, 1, 1), utc(2024, 2, 1), seed=5)
    await repo.upsert("XAUUSD", Timeframe.M15, bars, source="csv: x.csv", note="imported")
    return CachedData(repo, BundledData()), repo, bars


async def test_cache_serves_exact_timeframe(
    cached: tuple[CachedData, MemoryBarRepo, pd.DataFrame],
) -> None:
    data, _, bars = cached
    frame = await data.history("XAUUSD", Timeframe.M15, utc(2024, 1, 10), utc(2024, 1, 11))
    expected = bars.loc[(bars.index >= utc(2024, 1, 10)) & (bars.index < utc(2024, 1, 11))]
    pd.testing.assert_frame_equal(frame, expected, check_freq=False)
    assert frame.attrs["source"] == "csv: x.csv"
    assert frame.attrs["simulated"] is False
    assert frame.attrs["note"] == "imported"


async def test_cache_resamples_when_only_lower_exists(
    cached: tuple[CachedData, MemoryBarRepo, pd.DataFrame],
) -> None:
    data, repo, bars = cached
    frame = await data.history(
        "XAUUSD", Timeframe.H1, utc(2024, 1, 10, 10, 30), utc(2024, 1, 10, 14)
    )
    expected = resample_bars(bars, Timeframe.M15, Timeframe.H1)
    expected = expected.loc[[utc(2024, 1, 10, h) for h in (11, 12, 13)]]
    pd.testing.assert_frame_equal(frame, expected, check_freq=False)
    assert frame.attrs["resampled_from"] == "M15"
    # It read M15 from the cache, from the start of the 10:00 hour.
    assert repo.loads[-1][1:3] == (Timeframe.M15, utc(2024, 1, 10, 10))
    listed = await data.available("XAUUSD", Timeframe.H1)
    assert listed is not None
    assert listed.bars == len(resample_bars(bars, Timeframe.M15, Timeframe.H1))
    assert listed.source == "csv: x.csv"


async def test_cache_falls_back_and_says_what_exists(
    cached: tuple[CachedData, MemoryBarRepo, pd.DataFrame],
) -> None:
    data, _, _ = cached
    eurusd = await data.history("EURUSD", Timeframe.H1)
    assert len(eurusd) == 6225 and eurusd.attrs["source"] == "bundled: FOREX_EURUSD_1H_ASK.csv"
    # Outside the cached window the bundled sample answers, labelled as simulated.
    old = await data.history("XAUUSD", Timeframe.M15, utc(2019, 6, 3), utc(2019, 6, 4))
    assert old.attrs["simulated"] is True
    with pytest.raises(DataUnavailable) as caught:
        await data.history("XAUUSD", Timeframe.M1)
    assert str(caught.value) == (
        "XAUUSD M1: no data; available: XAUUSD M15 2024-01-01..2024-01-31 (imported), "
        f"{M15_LINE}, {D1_LINE}"
    )


async def test_cache_without_fallback() -> None:
    data = CachedData(MemoryBarRepo())
    assert await data.available("XAUUSD", Timeframe.M15) is None
    with pytest.raises(DataUnavailable) as caught:
        await data.history("XAUUSD", Timeframe.M15)
    assert str(caught.value) == "XAUUSD M15: no data; available: nothing"


def test_pick_source_prefers_exact_then_real_then_finest() -> None:
    m15_sim, m5_sim = (Timeframe.M15, True), (Timeframe.M5, True)
    h1_real, d1_real = (Timeframe.H1, False), (Timeframe.D1, False)
    assert pick_source([m15_sim, h1_real], Timeframe.M15) == Timeframe.M15
    assert pick_source([m15_sim, h1_real], Timeframe.H4) == Timeframe.H1
    assert pick_source([m15_sim, m5_sim], Timeframe.H1) == Timeframe.M5
    assert pick_source([m15_sim, d1_real], Timeframe.H4) == Timeframe.M15
    assert pick_source([d1_real], Timeframe.H1) is None
