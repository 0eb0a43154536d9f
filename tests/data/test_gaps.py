"""Gap finding: expected closures are not gaps, everything else is counted in bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from engine.data.gaps import find_gaps
from engine.models import Timeframe


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def index(times: list[datetime]) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(times)


def test_daily_bars_skip_weekends_but_count_holidays() -> None:
    # Thu 4, Fri 5, Mon 8, Tue 9 (no gap), then Thu 11 (Wed 10 missing: one bar).
    days = [utc(2024, 1, d) for d in (4, 5, 8, 9, 11)]
    summary = find_gaps(index(days), Timeframe.D1)
    assert (summary.count, summary.missing_bars) == (1, 1)
    assert summary.largest[0].after == utc(2024, 1, 9)


def test_server_time_break_and_weekend_are_tolerated() -> None:
    # An MT5 export at UTC+2 read as UTC: break 23:00-00:00, weekend Fri 23:00 -> Mon 00:00.
    step = timedelta(hours=1)
    times = [utc(2024, 1, 4, 20) + step * i for i in range(3)]  # Thu 20, 21, 22
    times += [utc(2024, 1, 5, 0) + step * i for i in range(23)]  # Fri 00..22
    times += [utc(2024, 1, 8, 0), utc(2024, 1, 8, 1)]  # Mon
    summary = find_gaps(index(times), Timeframe.H1)
    assert (summary.count, summary.missing_bars) == (0, 0)


def test_a_break_longer_than_75_minutes_is_a_gap() -> None:
    times = [utc(2024, 1, 2, 20, 45), utc(2024, 1, 2, 22, 30)]  # 21:00..22:15 missing
    summary = find_gaps(index(times), Timeframe.M15)
    assert (summary.count, summary.missing_bars) == (1, 6)


def test_a_hole_spanning_a_weekend_counts_only_trading_time() -> None:
    # Last bar Thu 12:00, next Mon 04:00. Missing: Thu 13..23 (11; a hole this long is no
    # daily break), Fri 00..19 (20), Mon 00..03 (4). Fri 20:00 -> Mon 00:00 is the weekend.
    times = [utc(2024, 1, 4, 12), utc(2024, 1, 8, 4)]
    summary = find_gaps(index(times), Timeframe.H1)
    assert (summary.count, summary.missing_bars) == (1, 11 + 20 + 4)


def test_monthly_counts_calendar_months() -> None:
    months = [utc(2023, 11, 1), utc(2023, 12, 1), utc(2024, 3, 1)]
    summary = find_gaps(index(months), Timeframe.MN1)
    assert (summary.count, summary.missing_bars) == (1, 2)


def test_largest_are_sorted_and_capped() -> None:
    base = utc(2024, 1, 2, 2)  # clear of the 20:00-01:00 break window
    holes = [1, 3, 2, 5, 4, 6]  # missing bars after each kept bar
    times, t = [base], base
    for missing in holes:
        t += timedelta(minutes=15 * (missing + 1))
        times.append(t)
    summary = find_gaps(index(times), Timeframe.M15, top=3)
    assert summary.count == 6
    assert summary.missing_bars == 21
    assert [g.missing_bars for g in summary.largest] == [6, 5, 4]
