"""Backtest periods as people type them, and how they map onto the data that exists.

``90d``, ``12w``, ``6m``, ``1y`` are relative: they end at the data's real last bar, so ``90d``
on the bundled gold series means its last 90 days, not the 90 days before today. An absolute
period ``2025-01-01..2025-03-31`` includes both days (UTC). ``resolve_period`` turns either into
a half-open UTC window ``[start, end)`` clipped to the data, and says when it clipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from engine.errors import BadArguments, DataUnavailable
from engine.models import Timeframe

UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
MAX_YEARS = 100
_RELATIVE = re.compile(r"(\d{1,4})([dwmy])")
_ABSOLUTE = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
PERIOD_HELP = "90d, 12w, 6m, 1y or 2025-01-01..2025-03-31"


@dataclass(frozen=True, slots=True)
class Period:
    """A relative span (``amount`` ``unit``) or an absolute pair of days (both included)."""

    text: str
    amount: int = 0
    unit: str = ""  # d, w, m, y
    first_day: date | None = None
    last_day: date | None = None

    @property
    def relative(self) -> bool:
        return self.first_day is None

    @classmethod
    def parse(cls, text: str) -> Period:
        """``90d`` / ``12w`` / ``6m`` / ``1y`` / ``2025-01-01..2025-03-31``; BadArguments
        (``bad_period``) says which forms exist."""
        raw = text.strip()
        key = raw.lower()
        if match := _RELATIVE.fullmatch(key):
            amount, unit = int(match[1]), match[2]
            days = amount * {"d": 1, "w": 7, "m": 31, "y": 366}[unit]
            if amount == 0 or days > MAX_YEARS * 366:
                raise _bad(raw, f"the period must be between 1 day and {MAX_YEARS} years")
            return cls(raw, amount, unit)
        if match := _ABSOLUTE.fullmatch(key):
            try:
                first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            except ValueError:
                raise _bad(raw, "that is not a calendar date") from None
            if last < first:
                raise BadArguments(
                    f"period {raw!r} ends before it starts",
                    code="period_order",
                    period=raw,
                    start=match[1],
                    end=match[2],
                )
            return cls(raw, first_day=first, last_day=last)
        raise _bad(raw, f"use {PERIOD_HELP}")

    def span_before(self, end: datetime) -> datetime:
        """Start of a relative period that ends at ``end`` (calendar months and years)."""
        stamp = pd.Timestamp(end)
        offset = {
            "d": pd.DateOffset(days=self.amount),
            "w": pd.DateOffset(weeks=self.amount),
            "m": pd.DateOffset(months=self.amount),
            "y": pd.DateOffset(years=self.amount),
        }[self.unit]
        return (stamp - offset).to_pydatetime()

    def describe(self) -> str:
        if self.relative:
            unit = UNITS[self.unit]
            return f"last {self.amount} {unit[:-1] if self.amount == 1 else unit}"
        return f"{self.first_day}..{self.last_day}"


def _bad(text: str, why: str) -> BadArguments:
    return BadArguments(
        f"bad period {text!r}: {why}", code="bad_period", period=text, forms=PERIOD_HELP
    )


@dataclass(frozen=True, slots=True)
class DateRange:
    """The UTC window ``[start, end)`` a period resolved to; ``clipped`` when the data did not
    reach as far as asked (``note`` says how)."""

    start: datetime
    end: datetime
    clipped: bool = False
    note: str = ""


def _day(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}"


def resolve_period(
    period: Period, *, first_bar: datetime, last_bar: datetime, timeframe: Timeframe
) -> DateRange:
    """Map ``period`` onto data whose bars open from ``first_bar`` to ``last_bar`` (UTC).

    Relative periods end at ``last_bar``'s close; absolute ones cover their days. A window
    reaching outside the data is clipped to it (``clipped``, with a note naming the real
    range); one with no overlap raises ``DataUnavailable`` naming what exists.
    """
    data_end = last_bar + timeframe.delta
    if period.relative:
        end = data_end
        start = period.span_before(end)
    else:
        assert period.first_day is not None and period.last_day is not None
        start = datetime.combine(period.first_day, datetime.min.time(), tzinfo=UTC)
        end = datetime.combine(period.last_day, datetime.min.time(), tzinfo=UTC)
        end += timedelta(days=1)
    if end <= first_bar or start >= data_end:
        msg = (
            f"no {timeframe.value} bars in {period.text}: the data covers "
            f"{_day(first_bar)}..{_day(data_end)} UTC"
        )
        raise DataUnavailable(
            msg, code="period_outside_data", first=first_bar.isoformat(), last=last_bar.isoformat()
        )
    notes = []
    if start < first_bar:
        notes.append(f"data starts {_day(first_bar)} UTC, later than asked ({_day(start)})")
        start = first_bar
    if end > data_end:
        notes.append(f"data ends {_day(data_end)} UTC, earlier than asked ({_day(end)})")
        end = data_end
    return DateRange(start, end, bool(notes), "; ".join(notes))
