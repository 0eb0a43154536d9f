"""Resampling lower-timeframe bars into higher ones, against hand-computed bars."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from engine.data.frames import bars_frame, label
from engine.data.resample import SpreadAgg, can_resample, resample_bars
from engine.models import Timeframe


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def m15_sample() -> pd.DataFrame:
    """Two full hours (10:00, 12:00) and nothing at 11:00."""
    times = [utc(2024, 1, 2, 10, m) for m in (0, 15, 30, 45)]
    times += [utc(2024, 1, 2, 12, m) for m in (0, 15)]
    frame = bars_frame(
        times,
        open_=[100.0, 101.0, 99.5, 102.0, 105.0, 104.0],
        high=[101.5, 102.0, 103.0, 102.5, 106.0, 104.5],
        low=[99.0, 100.5, 99.0, 101.0, 104.0, 103.0],
        close=[101.0, 99.5, 102.0, 101.5, 104.0, 103.5],
        volume=[10, 20, 30, 40, 5, 6],
        spread=[20, 21, 22, 24, 30, 31],
    )
    return label(frame, source="test", simulated=False, note="hand-made")


def test_m15_to_h1_by_hand() -> None:
    h1 = resample_bars(m15_sample(), Timeframe.M15, Timeframe.H1)
    # 10:00: open of 10:00, max high 103.0, min low 99.0, close of 10:45, volume 100,
    # spread mean (20+21+22+24)/4 = 21.75 -> 22. 12:00: 105, 106, 103, 103.5, 11, 30.5 -> 30
    # (rint rounds half to even). No 11:00 bar: nothing traded in it.
    assert list(h1.index) == [utc(2024, 1, 2, 10), utc(2024, 1, 2, 12)]
    assert h1.loc[utc(2024, 1, 2, 10)].to_dict() == {
        "open": 100.0,
        "high": 103.0,
        "low": 99.0,
        "close": 101.5,
        "volume": 100.0,
        "spread": 22,
    }
    assert h1.loc[utc(2024, 1, 2, 12)].to_dict() == {
        "open": 105.0,
        "high": 106.0,
        "low": 103.0,
        "close": 103.5,
        "volume": 11.0,
        "spread": 30,
    }
    assert h1["spread"].dtype == "int64"
    assert h1.index.name == "time"
    assert h1.attrs == {
        "source": "test",
        "simulated": False,
        "note": "hand-made",
        "resampled_from": "M15",
    }


def test_spread_max() -> None:
    h1 = resample_bars(m15_sample(), Timeframe.M15, Timeframe.H1, spread=SpreadAgg.MAX)
    assert list(h1["spread"]) == [24, 31]


def test_h4_d1_w1_mn1_labels() -> None:
    frame = m15_sample()
    h4 = resample_bars(frame, Timeframe.M15, Timeframe.H4)
    assert list(h4.index) == [utc(2024, 1, 2, 8), utc(2024, 1, 2, 12)]
    assert list(resample_bars(frame, Timeframe.M15, Timeframe.D1).index) == [utc(2024, 1, 2)]
    weekly = resample_bars(frame, Timeframe.M15, Timeframe.W1)
    assert list(weekly.index) == [utc(2024, 1, 1)]  # Monday
    assert weekly["close"].iloc[0] == 103.5
    assert list(resample_bars(frame, Timeframe.M15, Timeframe.MN1).index) == [utc(2024, 1, 1)]


def test_daily_to_monthly_by_hand() -> None:
    days = [utc(2024, 1, 30), utc(2024, 1, 31), utc(2024, 2, 1)]
    frame = bars_frame(days, [1.0, 2.0, 3.0], [2.0, 4.0, 3.5], [0.5, 1.5, 2.5], [2.0, 3.0, 3.2])
    monthly = resample_bars(frame, Timeframe.D1, Timeframe.MN1)
    assert list(monthly.index) == [utc(2024, 1, 1), utc(2024, 2, 1)]
    assert list(monthly["high"]) == [4.0, 3.5]
    assert list(monthly["open"]) == [1.0, 3.0]


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            Timeframe.H1,
            Timeframe.M15,
            "cannot resample H1 bars to M15: M15 is shorter than the source and upsampling "
            "would invent prices",
        ),
        (
            Timeframe.M15,
            Timeframe.M20,
            "cannot resample M15 bars to M20: M20 is not a whole number of M15 bars",
        ),
        (
            Timeframe.W1,
            Timeframe.D1,
            "cannot resample W1 bars to D1: D1 is shorter than the source and upsampling "
            "would invent prices",
        ),
    ],
)
def test_refuses_upsampling_and_misfits(
    source: Timeframe, target: Timeframe, message: str
) -> None:
    assert not can_resample(source, target)
    with pytest.raises(ValueError) as caught:
        resample_bars(m15_sample(), source, target)
    assert str(caught.value) == message


def test_same_timeframe_is_a_copy() -> None:
    frame = m15_sample()
    same = resample_bars(frame, Timeframe.M15, Timeframe.M15)
    pd.testing.assert_frame_equal(same, frame)
    same.iloc[0, 0] = -1.0
    assert frame.iloc[0, 0] == 100.0
