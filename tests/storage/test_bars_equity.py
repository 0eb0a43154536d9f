"""Bars cache (upsert replaces, [start, end) ranges, provenance attrs) and equity snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.models import DataRange, EquitySnapshot, Timeframe
from engine.ports import BAR_COLUMNS
from storage import Storage
from tests.storage.conftest import T0

H1 = Timeframe.H1
HOUR = timedelta(hours=1)


def bars(start: datetime, n: int, base: float = 2000.0, step: timedelta = HOUR) -> pd.DataFrame:
    """Deterministic OHLC bars whose close is ``base + i``."""
    close = base + np.arange(n, dtype=np.float64)
    spaced = pd.date_range(start, periods=n, freq=step, name="time", unit="us")
    index = pd.DatetimeIndex(spaced, freq=None)  # stored bars carry no frequency
    return pd.DataFrame(
        {
            "open": close - 0.25,
            "high": close + 1.5,
            "low": close - 1.75,
            "close": close,
            "volume": np.arange(n, dtype=np.float64) * 10.0,
            "spread": np.arange(n, dtype=np.int64) % 7 + 20,
        },
        index=index,
    )


async def test_round_trip_keeps_the_frame_convention(storage: Storage) -> None:
    df = bars(T0, 48)
    assert await storage.bars.upsert("XAUUSD", H1, df, source="csv:xau.csv", note="demo") == 48
    got = await storage.bars.load("XAUUSD", H1)
    pd.testing.assert_frame_equal(got, df)
    assert list(got.columns) == list(BAR_COLUMNS)
    assert str(got.index.dtype) == "datetime64[us, UTC]"
    assert got.index.name == "time"
    assert got.attrs == {"source": "csv:xau.csv", "simulated": False, "note": "demo"}
    assert (await storage.bars.load("XAUUSD", Timeframe.M5)).empty  # other timeframe


async def test_load_range_is_half_open(storage: Storage) -> None:
    df = bars(T0, 48)
    await storage.bars.upsert("XAUUSD", H1, df, source="mt5")
    start, end = T0 + 5 * HOUR, T0 + 9 * HOUR
    got = await storage.bars.load("XAUUSD", H1, start, end)
    expected = df.iloc[5:9]  # open times 05..08 after T0; the bar opening at `end` is excluded
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(
        await storage.bars.load("XAUUSD", H1, start=T0 + 40 * HOUR), df.iloc[40:]
    )
    pd.testing.assert_frame_equal(await storage.bars.load("XAUUSD", H1, end=T0 + HOUR), df[:1])


async def test_upsert_replaces_overlapping_bars_and_keeps_the_rest(storage: Storage) -> None:
    await storage.bars.upsert("XAUUSD", H1, bars(T0, 10), source="csv")
    newer = bars(T0 + 6 * HOUR, 10, base=3000.0)  # bars 6..9 overlap, 10..15 are new
    assert await storage.bars.upsert("XAUUSD", H1, newer, source="mt5") == 10
    got = await storage.bars.load("XAUUSD", H1)
    expected = pd.concat([bars(T0, 10).iloc[:6], newer])
    pd.testing.assert_frame_equal(got, expected)
    assert got["close"].iloc[6] == 3000.0
    assert got.attrs["source"] == "csv+mt5"


async def test_provenance_never_hides_simulated_bars(storage: Storage) -> None:
    await storage.bars.upsert(
        "XAUUSD", H1, bars(T0, 5), source="synthetic", simulated=True, note="seed 7"
    )
    await storage.bars.upsert("XAUUSD", H1, bars(T0 + 5 * HOUR, 5), source="mt5")
    got = await storage.bars.load("XAUUSD", H1)
    assert got.attrs == {"source": "synthetic+mt5", "simulated": True, "note": "seed 7"}
    await storage.bars.upsert("XAUUSD", H1, bars(T0, 1), source="mt5", note="refreshed")
    assert (await storage.bars.load("XAUUSD", H1)).attrs["note"] == "refreshed"
    assert (await storage.bars.load("XAUUSD", H1)).attrs["source"] == "synthetic+mt5"


async def test_ranges_and_delete(storage: Storage) -> None:
    await storage.bars.upsert("XAUUSD", H1, bars(T0, 24), source="mt5")
    await storage.bars.upsert(
        "EURUSD", H1, bars(T0, 3, step=HOUR), source="gen", simulated=True, note="n"
    )
    assert await storage.bars.ranges() == [
        DataRange("EURUSD", H1, T0, T0 + 2 * HOUR, 3, "gen", True, "n"),
        DataRange("XAUUSD", H1, T0, T0 + 23 * HOUR, 24, "mt5", False, ""),
    ]
    assert await storage.bars.delete("XAUUSD", H1) == 24
    assert await storage.bars.delete("XAUUSD", H1) == 0
    assert [r.symbol for r in await storage.bars.ranges()] == ["EURUSD"]
    gone = await storage.bars.load("XAUUSD", H1)
    assert gone.empty and gone.attrs == {}
    assert list(gone.columns) == list(BAR_COLUMNS)
    assert gone.dtypes.to_dict() == {c: np.dtype("float64") for c in BAR_COLUMNS[:5]} | {
        "spread": np.dtype("int64")
    }
    assert str(gone.index.dtype) == "datetime64[us, UTC]"


async def test_other_time_zones_are_stored_as_utc(storage: Storage) -> None:
    utc = bars(T0, 3)
    local = utc.tz_convert("Asia/Ulaanbaatar")
    await storage.bars.upsert("XAUUSD", H1, local, source="csv")
    got = await storage.bars.load("XAUUSD", H1)
    pd.testing.assert_frame_equal(got, utc)


@pytest.mark.parametrize(
    ("mangle", "error"),
    [
        (lambda df: df.drop(columns=["spread"]), r"lack columns \['spread'\]"),
        (lambda df: df.tz_localize(None), "tz-aware"),
        (lambda df: df.assign(close=np.where(np.arange(len(df)) == 2, np.nan, df["close"])),
         "non-finite close at 2024-01-02T05:04:05"),
    ],
)  # fmt: skip
async def test_bad_frames_write_nothing(storage: Storage, mangle: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        await storage.bars.upsert("XAUUSD", H1, mangle(bars(T0, 4)), source="csv")  # type: ignore[operator]
    assert await storage.bars.ranges() == []
    assert await storage.bars.upsert("XAUUSD", H1, bars(T0, 0), source="csv") == 0
    assert await storage.bars.ranges() == []


async def test_hundred_thousand_bars_round_trip(file_storage: Storage) -> None:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    df = bars(start, 100_000, step=timedelta(minutes=1))
    assert await file_storage.bars.upsert("XAUUSD", Timeframe.M1, df, source="gen") == 100_000
    got = await file_storage.bars.load("XAUUSD", Timeframe.M1)
    # Exact column-wise checks: assert_frame_equal takes seconds on frames this long.
    assert got.index.equals(df.index) and got.index.dtype == df.index.dtype
    assert list(got.columns) == list(df.columns)
    for name in BAR_COLUMNS:
        assert got[name].dtype == df[name].dtype
        assert np.array_equal(got[name].to_numpy(), df[name].to_numpy())
    [summary] = await file_storage.bars.ranges()
    assert (summary.start, summary.end, summary.bars) == (
        start,
        start + timedelta(minutes=99_999),
        100_000,
    )


async def test_equity_series_and_peak(storage: Storage) -> None:
    assert await storage.equity.peak() is None
    snaps = [
        EquitySnapshot(T0 + 2 * HOUR, 10_000.0, 10_040.0, 100.0),
        EquitySnapshot(T0, 10_000.0, 10_000.0),
        EquitySnapshot(T0 + HOUR, 10_000.0, 10_120.5, 200.0),
        EquitySnapshot(T0 + 3 * HOUR, 10_050.0, 9_990.0),
    ]
    for snap in snaps:
        await storage.equity.add(snap)
    assert await storage.equity.peak() == 10_120.5
    assert await storage.equity.series(T0 + HOUR, T0 + 3 * HOUR) == [snaps[2], snaps[0]]
    replaced = EquitySnapshot(T0 + HOUR, 10_000.0, 10_001.0)
    await storage.equity.add(replaced)  # same millisecond: replaces
    assert await storage.equity.series(T0 + HOUR, T0 + 2 * HOUR) == [replaced]
    assert await storage.equity.peak() == 10_040.0
