"""Missing bars in a series, not counting the times the market is normally shut.

Expected closures, in UTC and wide enough for brokers' daylight-saving shifts: the weekend from
Friday 20:00 to Monday 00:00, and a daily break of at most 75 minutes that lies between 20:00
and 01:00 (gold's 21:00-22:00 UTC break, or 22:00-23:00 in the northern winter). Anything else
without bars (holidays included) is a gap: it is reported, not refused, because a trader may
still want the data; the report says how much is missing and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engine.models import Timeframe

WEEKEND_START = timedelta(days=4, hours=20)  # from Monday 00:00: Friday 20:00
WEEKEND_END = timedelta(days=7)  # the next Monday 00:00
BREAK_WINDOW = (timedelta(hours=20), timedelta(hours=25))  # 20:00 to 01:00 next day
BREAK_MAX = timedelta(minutes=75)


@dataclass(frozen=True, slots=True)
class Gap:
    """Bars missing between two consecutive bars (open times), outside expected closures."""

    after: datetime  # open time of the last bar before the gap
    before: datetime  # open time of the first bar after it
    missing_bars: int


@dataclass(frozen=True, slots=True)
class GapSummary:
    count: int
    missing_bars: int
    largest: tuple[Gap, ...]  # the biggest ones first, at most ``top`` of them


def _minus_weekends(a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
    """Parts of [a, b) that are not inside a weekend window."""
    week = a.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=a.weekday())
    parts: list[tuple[datetime, datetime]] = []
    cursor = a
    while cursor < b:
        closed_from, closed_to = week + WEEKEND_START, week + WEEKEND_END
        if cursor < closed_from:
            parts.append((cursor, min(b, closed_from)))
        cursor = max(cursor, closed_to)
        week += timedelta(days=7)
    return parts


def _is_daily_break(part: tuple[datetime, datetime]) -> bool:
    start, end = part
    if end - start > BREAK_MAX:
        return False
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    for base in (day, day - timedelta(days=1)):
        lo, hi = base + BREAK_WINDOW[0], base + BREAK_WINDOW[1]
        if lo <= start and end <= hi:
            return True
    return False


def _missing_bars(after: datetime, before: datetime, timeframe: Timeframe) -> int:
    """Bars that should exist between two consecutive bars' open times, closures excluded."""
    if timeframe is Timeframe.MN1:
        return (before.year - after.year) * 12 + before.month - after.month - 1
    step = timeframe.delta
    parts = [p for p in _minus_weekends(after + step, before) if not _is_daily_break(p)]
    # A part counts the bar slots (multiples of the step from ``after``) that fall inside it.
    total = 0
    for start, end in parts:
        first = -(-(start - after) // step)
        last = -(-(end - after) // step)
        total += max(0, last - first)
    return total


def find_gaps(index: pd.DatetimeIndex, timeframe: Timeframe, top: int = 5) -> GapSummary:
    """Gaps in an ascending UTC index of bar open times; the ``top`` largest are listed."""
    if len(index) < 2:
        return GapSummary(0, 0, ())
    if timeframe is Timeframe.MN1:
        candidates = np.arange(len(index) - 1)
    else:
        ns = index.as_unit("ns").asi8
        step_ns = int(timeframe.delta.total_seconds()) * 1_000_000_000
        candidates = np.flatnonzero(np.diff(ns) > step_ns)
    gaps = []
    for i in candidates:
        after, before = index[i].to_pydatetime(), index[i + 1].to_pydatetime()
        missing = _missing_bars(after, before, timeframe)
        if missing > 0:
            gaps.append(Gap(after, before, missing))
    largest = sorted(gaps, key=lambda g: (-g.missing_bars, g.after))[:top]
    return GapSummary(len(gaps), sum(g.missing_bars for g in gaps), tuple(largest))
