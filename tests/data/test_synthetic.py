"""Seeded synthetic gold-like bars."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from engine.data.noise import StableRandom
from engine.data.resample import resample_bars
from engine.data.synthetic import SyntheticSpec, generate_bars
from engine.models import Timeframe

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def m15() -> pd.DataFrame:
    return generate_bars(Timeframe.M15, START, END, seed=11)


def test_same_seed_identical_other_seed_different(m15: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(generate_bars(Timeframe.M15, START, END, seed=11), m15)
    other = generate_bars(Timeframe.M15, START, END, seed=12)
    assert other.index.equals(m15.index)
    assert not np.array_equal(other["close"].to_numpy(), m15["close"].to_numpy())


def test_stable_random_is_pinned() -> None:
    # PCG64 raw words are stable across numpy versions; these are the first three uniforms for
    # seed 1, stream 2 ((word >> 11) + 0.5) / 2**53 with words 8271799387826207682, ...
    words = [8271799387826207682, 7948369750201702571, 7747616451078592673]
    expected = [((w >> 11) + 0.5) / 2**53 for w in words]
    assert list(StableRandom(1, 2).uniforms(3)) == expected


def test_gold_hours_window_and_labels(m15: pd.DataFrame) -> None:
    weekday, hour = m15.index.day_of_week, m15.index.hour
    assert not (weekday == 5).any()
    assert not ((weekday == 6) & (hour < 22)).any()
    assert not ((weekday == 4) & (hour >= 21)).any()
    assert not (hour == 21).any()
    assert m15.index[0] >= START and m15.index[-1] < END
    assert m15["open"].iloc[0] == 2000.0
    assert m15.attrs["simulated"] is True
    assert m15.attrs["source"] == "synthetic"


def test_ohlc_spread_and_volume(m15: pd.DataFrame) -> None:
    assert (m15["high"] >= m15[["open", "close"]].max(axis=1)).all()
    assert (m15["low"] <= m15[["open", "close"]].min(axis=1)).all()
    assert m15["spread"].between(15, 90).all()
    assert 20 <= m15["spread"].mean() <= 40
    assert (m15["volume"] >= 1).all()


def test_about_one_percent_a_day(m15: pd.DataFrame) -> None:
    session_day = (m15.index + pd.Timedelta(hours=2)).floor("D")
    closes = m15["close"].groupby(session_day).last()
    vol = np.log(closes).diff().dropna().std()
    # 129 daily returns: the sample std of a 1% process lies within +-20% with overwhelming odds.
    assert 0.008 < vol < 0.012


def test_weekend_gaps_bigger_than_daily_break_gaps(m15: pd.DataFrame) -> None:
    index = m15.index
    jumps = np.diff(index.as_unit("s").asi8)  # seconds
    opens, closes = m15["open"].to_numpy()[1:], m15["close"].to_numpy()[:-1]
    gap = np.abs(np.log(opens / closes))
    weekend = gap[jumps > 86_400]
    daily = gap[(jumps > 900) & (jumps <= 86_400)]
    assert len(weekend) == 26 and len(daily) > 100
    assert weekend.mean() > 2 * daily.mean()
    # Within a session a bar opens at the previous close.
    assert (gap[jumps == 900] == 0).all()


def test_higher_timeframes_are_resampled_from_the_same_path(m15: pd.DataFrame) -> None:
    h1 = generate_bars(Timeframe.H1, START, END, seed=11)
    expected = resample_bars(m15, Timeframe.M15, Timeframe.H1)
    pd.testing.assert_frame_equal(h1, expected, check_like=False, check_freq=False)
    d1 = generate_bars(Timeframe.D1, START, END, seed=11)
    assert d1["high"].max() == m15["high"].max()


def test_spec_and_bad_windows() -> None:
    calm = generate_bars(
        Timeframe.H1, START, END, seed=11, spec=SyntheticSpec(start_price=1.1, digits=5)
    )
    assert calm["open"].iloc[0] == 1.1
    assert generate_bars(Timeframe.M15, END, START).empty
    with pytest.raises(ValueError, match="tz-aware"):
        generate_bars(Timeframe.M15, datetime(2024, 1, 1), END)  # noqa: DTZ001
