"""Bar open times from CSV cells: detect the file's time format once, parse it vectorised.

Known formats: epoch seconds or milliseconds; ISO 8601 (with or without an offset); dotted
year-first dates as MT5 writes them (``2024.01.02 00:00:00``); dotted day-first dates as
Dukascopy writes them (``01.01.2017 22:00:00.000``, optionally ``GMT+0200``); ``2024/01/02``.
The first row decides the format; a later row that does not fit is reported with its line.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from engine.errors import BadArguments, DataValidationError

_EPOCH = re.compile(r"\d{9,13}(\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_DATE_FORMATS = (
    (re.compile(r"\d{4}\.\d{2}\.\d{2}"), "%Y.%m.%d"),
    (re.compile(r"\d{2}\.\d{2}\.\d{4}"), "%d.%m.%Y"),
    (re.compile(r"\d{4}/\d{2}/\d{2}"), "%Y/%m/%d"),
)
_CLOCK_FORMATS = (
    (re.compile(r"\d{1,2}:\d{2}:\d{2}\.\d+"), "%H:%M:%S.%f"),
    (re.compile(r"\d{1,2}:\d{2}:\d{2}"), "%H:%M:%S"),
    (re.compile(r"\d{1,2}:\d{2}"), "%H:%M"),
)
_GMT_SUFFIX = re.compile(r"\s*GMT([+-])(\d{2}):?(\d{2})$")
DUKASCOPY_TIME = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}\.\d{3}(\s*GMT[+-]\d{4})?")


def row_error(line: int, text: str, count: int = 1) -> DataValidationError:
    """The import error for file line ``line`` breaking a rule; ``count`` rows break it."""
    more = f" ({count} rows break this rule, the first is shown)" if count > 1 else ""
    return DataValidationError(f"row {line}: {text}{more}", row=line, rule=text)


def _bad_times(times: pd.Series, text: pd.Series, lines: np.ndarray, like: str) -> None:
    bad = np.flatnonzero(times.isna().to_numpy())
    if bad.size:
        i = bad[0]
        shown = text.iloc[i]
        what = "is empty" if not shown else f"{shown!r} does not read like {like!r}"
        raise row_error(int(lines[i]), f"time {what}", int(bad.size))


def parse_times(text: pd.Series, lines: np.ndarray, utc_offset_hours: float) -> pd.DatetimeIndex:
    """UTC open times from time strings (``lines`` are their file lines, for errors).

    Naive values are shifted by ``-utc_offset_hours``; values with their own offset are
    converted by it, and then a non-zero ``utc_offset_hours`` raises ``BadArguments``.
    """
    first = str(text.iloc[0])
    if first != " ".join(first.split()):  # padded cells: pay for cleaning only when they occur
        text = text.str.strip().str.replace(r"\s+", " ", regex=True)
        first = " ".join(first.split())
    own_offset: pd.Series | None = None
    if _EPOCH.fullmatch(first):
        numbers = pd.to_numeric(text, errors="coerce")
        unit = "ms" if float(numbers.iloc[0]) > 1e11 else "s"
        times = pd.to_datetime(numbers, unit=unit, utc=True)
    elif _ISO_DATE.match(first):
        times = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        if _ISO_OFFSET.search(first):
            own_offset = pd.Series(0.0, index=text.index)
    else:
        date_fmt = next((f for p, f in _DATE_FORMATS if p.match(first)), None)
        if date_fmt is None:
            raise row_error(int(lines[0]), f"time {first!r} is not a date this reader knows")
        suffix = text.str.extract(_GMT_SUFFIX) if "GMT" in first else None
        if suffix is not None and suffix[0].notna().any():
            sign = np.where(suffix[0] == "-", -1.0, 1.0)
            hours = suffix[1].astype(float) + suffix[2].astype(float) / 60
            own_offset = (sign * hours).fillna(0.0)
            text = text.str.replace(_GMT_SUFFIX, "", regex=True)
        rest = str(text.iloc[0])[10:].strip()
        clock = next((f for p, f in _CLOCK_FORMATS if p.fullmatch(rest)), None)
        if rest and clock is None:
            raise row_error(int(lines[0]), f"time of day {rest!r} in {first!r} is not HH:MM[:SS]")
        fmt = f"{date_fmt} {clock}" if rest else date_fmt
        times = pd.to_datetime(text, format=fmt, errors="coerce").dt.tz_localize("UTC")
    _bad_times(times, text, lines, first)
    if own_offset is not None:
        if utc_offset_hours:
            msg = (
                f"utc_offset_hours={utc_offset_hours:g} was given but the file's times carry "
                f"their own offset ({first!r}); drop the option"
            )
            raise BadArguments(msg, code="utc_offset_conflict")
        if own_offset.any():
            times = times - pd.to_timedelta(own_offset.to_numpy(dtype=float), unit="h")
    elif utc_offset_hours:
        times = times - pd.Timedelta(hours=utc_offset_hours)
    return pd.DatetimeIndex(times, name="time")
