"""Read bar files a trader brings: MT5 terminal exports, Dukascopy exports and plain OHLC CSV.

Formats, detected from the header:
- MT5 (Symbols > Bars > Export): tab-separated ``<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE>
  <TICKVOL> <VOL> <SPREAD>``, dates like ``2024.01.02``, times ``00:00:00``; daily exports have no
  ``<TIME>``. Times are the broker's server time: pass ``utc_offset_hours`` (e.g. 2 or 3). It
  shifts intraday bars only: a D1/W1/MN1 bar keeps its date as the trading day it belongs to.
- Dukascopy: ``Time,Open,High,Low,Close,Volume`` with ``01.01.2017 22:00:00.000`` (UTC), or
  "Local time" values ending in ``GMT+0200`` (the offset is applied).
- Plain: case-insensitive headers, a time column (``time``, ``date``, ``datetime``,
  ``timestamp``) or split ``date`` + ``time``; ``open, high, low, close``; optional ``volume`` or
  ``tick_volume``; optional ``spread`` in whole points. ISO times may carry their own offset;
  naive times are UTC unless ``utc_offset_hours`` says otherwise; epoch seconds/ms work too.

Every rule is checked (times readable, numbers present, prices positive, high >= max(open,
close), low <= min(open, close), volume and spread non-negative, ascending, no duplicate times)
and the first broken one raises ``DataValidationError`` naming the file line ("row 57: high
1901.2 < close 1903.0"); the header is row 1. Gaps are reported, not refused.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.csv_times import DUKASCOPY_TIME, parse_times, row_error
from engine.data.frames import bars_frame, label
from engine.data.gaps import Gap, find_gaps
from engine.data.resample import period_labels
from engine.errors import DataValidationError
from engine.models import Timeframe
from engine.ports import BarRepo


class CsvFormat(StrEnum):
    MT5 = "mt5"
    DUKASCOPY = "dukascopy"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an imported file holds and how well it fits the declared timeframe."""

    format: CsvFormat
    timeframe: Timeframe
    rows: int
    start: datetime  # first bar's open time, UTC
    end: datetime  # last bar's open time, UTC
    spacing: timedelta | None  # most common distance between consecutive bars (None: 1 row)
    misaligned: int  # bars whose open time is not on the timeframe's grid
    gaps: int
    missing_bars: int
    largest_gaps: tuple[Gap, ...]
    utc_offset_hours: float = 0.0  # the shift applied (0 for daily and longer bars)

    @property
    def timeframe_ok(self) -> bool:
        """True when bars sit on the timeframe's grid and are mostly one timeframe apart."""
        if self.misaligned:
            return False
        if self.spacing is None:
            return True
        if self.timeframe is Timeframe.MN1:
            return timedelta(days=28) <= self.spacing <= timedelta(days=31)
        return self.spacing == self.timeframe.delta

    def summary(self) -> str:
        """English one-paragraph summary for the CLI."""
        text = (
            f"{self.rows} {self.timeframe.value} bars ({self.format.value}), "
            f"{self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M} UTC"
        )
        if not self.timeframe_ok:
            text += (
                f"; spacing {self.spacing} and {self.misaligned} bars off the grid do not match "
                f"{self.timeframe.value}"
            )
        if not self.gaps:
            return text + "; no gaps beyond weekends and the daily break"
        worst = ", ".join(
            f"{g.after:%Y-%m-%d %H:%M}->{g.before:%Y-%m-%d %H:%M} ({g.missing_bars} bars)"
            for g in self.largest_gaps
        )
        return text + f"; {self.gaps} gaps, {self.missing_bars} bars missing; largest: {worst}"


_TIME_NAMES = ("datetime", "timestamp", "date_time", "time", "date", "gmt_time", "local_time")
_VOLUME_NAMES = ("tickvol", "tick_volume", "volume", "vol", "tick_vol")


def decode_text(data: bytes) -> str:
    """File bytes as text: UTF-8 (with or without BOM) or UTF-16 (MT5 writes UTF-16 LE)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:200]:
        return data.decode("utf-16-le")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not a text file (UTF-8 or UTF-16 expected): byte {exc.start} is not UTF-8"
        raise DataValidationError(msg) from None


def _column_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().strip("<>").strip().lower())


def _pick(columns: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((columns[n] for n in names if n in columns), None)


def _time_strings(raw: pd.DataFrame, columns: dict[str, str], header: str) -> pd.Series:
    if "date" in columns and "time" in columns:
        return raw[columns["date"]].fillna("") + " " + raw[columns["time"]].fillna("")
    name = _pick(columns, _TIME_NAMES)
    if name is None:
        msg = (
            f"cannot read the header {header!r}: need a time column (time, date, datetime or "
            "timestamp, or MT5's <DATE> <TIME>) and open, high, low, close"
        )
        raise DataValidationError(msg, rule="header")
    return raw[name].fillna("")


def _numbers(raw: pd.DataFrame, column: str, name: str, lines: np.ndarray) -> np.ndarray:
    cells = raw[column].fillna("")
    try:
        values = cells.to_numpy(dtype=object).astype(np.float64)
    except ValueError:
        values = np.array([np.nan])
    if np.isfinite(values).all():
        return values
    # Slow path only for odd cells: decimal commas, or real errors to report.
    text = cells.str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = bad[0]
        shown = text.iloc[i]
        what = "is empty" if shown == "" else f"{shown!r} is not a number"
        if shown.lower() in ("nan", "na", "null", "none", "n/a"):
            what = "is NaN"
        raise row_error(int(lines[i]), f"{name} {what}", int(bad.size))
    return values


def _check_rule(broken: np.ndarray, lines: np.ndarray, describe: Callable[[int], str]) -> None:
    bad = np.flatnonzero(broken)
    if bad.size:
        i = int(bad[0])
        raise row_error(int(lines[i]), describe(i), int(bad.size))


def _validate_values(cols: dict[str, np.ndarray], lines: np.ndarray) -> None:
    o, h, lo, c = cols["open"], cols["high"], cols["low"], cols["close"]
    vol, spread = cols["volume"], cols["spread"]
    for name in ("open", "high", "low", "close"):
        v = cols[name]
        _check_rule(v <= 0, lines, lambda i, n=name, v=v: f"{n} {float(v[i])} is not positive")

    def high_rule(i: int) -> str:
        other, value = ("close", c[i]) if h[i] < c[i] else ("open", o[i])
        return f"high {float(h[i])} < {other} {float(value)}"

    def low_rule(i: int) -> str:
        other, value = ("close", c[i]) if lo[i] > c[i] else ("open", o[i])
        return f"low {float(lo[i])} > {other} {float(value)}"

    _check_rule(h < np.maximum(o, c), lines, high_rule)
    _check_rule(lo > np.minimum(o, c), lines, low_rule)
    _check_rule(vol < 0, lines, lambda i: f"volume {float(vol[i])} is negative")
    _check_rule(spread < 0, lines, lambda i: f"spread {float(spread[i])} is negative")
    _check_rule(
        spread != np.rint(spread),
        lines,
        lambda i: f"spread {float(spread[i])} is not a whole number of points",
    )


def _validate_order(times: pd.DatetimeIndex, lines: np.ndarray) -> None:
    if len(times) < 2:
        return
    step = np.diff(times.as_unit("ns").asi8)
    if (step < 0).all():
        msg = "rows are in descending time order (newest first); sort them oldest first"
        raise DataValidationError(msg, rule="descending")

    def stamp(i: int) -> str:
        return f"{times[i]:%Y-%m-%d %H:%M}"

    _check_rule(
        np.concatenate(([False], step < 0)),
        lines,
        lambda i: (
            f"time {stamp(i)} is earlier than row {int(lines[i - 1])}'s {stamp(i - 1)} "
            "(rows must be in ascending time order)"
        ),
    )
    _check_rule(
        np.concatenate(([False], step == 0)),
        lines,
        lambda i: f"duplicate time {stamp(i)} (same as row {int(lines[i - 1])})",
    )


def _read_table(text: str) -> tuple[pd.DataFrame, str, np.ndarray]:
    """Raw string cells, the header, and each row's line number in the file (header = 1 when
    it is the first line). Blank lines are dropped here so they never count as bad rows."""
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not numbered:
        raise DataValidationError("the file is empty", rule="empty")
    header = numbered[0][1]
    sep = max(("\t", ",", ";"), key=header.count)
    try:
        raw = pd.read_csv(
            io.StringIO("\n".join(line for _, line in numbered)),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"cannot split the file into columns: {str(exc).strip()}"
        raise DataValidationError(msg, rule="columns") from None
    lines = np.array([n for n, _ in numbered[1:]], dtype=np.int64)
    if len(raw) != len(lines):
        msg = f"{len(lines)} lines gave {len(raw)} rows: a bar file needs one bar per line"
        raise DataValidationError(msg, rule="columns")
    return raw, header, lines


def parse_bars_csv(
    text: str, timeframe: Timeframe, *, utc_offset_hours: float = 0.0
) -> tuple[pd.DataFrame, ImportReport]:
    """Parse and validate bar text in any supported format; returns the frame and a report.

    Raises ``DataValidationError`` naming the first broken rule and its row (file line), and
    ``BadArguments`` when ``utc_offset_hours`` is given for times that carry their own offset.
    """
    raw, header, lines = _read_table(text)
    if raw.empty:
        raise DataValidationError("no bars: the file has a header but no rows", rule="empty")
    columns = {_column_key(str(c)): str(c) for c in raw.columns}
    missing = [n for n in ("open", "high", "low", "close") if n not in columns]
    if missing:
        found = ", ".join(columns) or "nothing"
        msg = f"cannot read the header {header.strip()!r}: no {', '.join(missing)} column "
        msg += f"(found: {found})"
        raise DataValidationError(msg, rule="header")
    time_text = _time_strings(raw, columns, header.strip())
    fmt = CsvFormat.PLAIN
    if "<" in header:
        fmt = CsvFormat.MT5
    elif DUKASCOPY_TIME.fullmatch(str(time_text.iloc[0])):
        fmt = CsvFormat.DUKASCOPY
    if timeframe.minutes >= Timeframe.D1.minutes:
        utc_offset_hours = 0.0  # a daily bar is labelled by its trading day, not shifted to 22:00
    times = parse_times(time_text, lines, utc_offset_hours)
    cols = {n: _numbers(raw, columns[n], n, lines) for n in ("open", "high", "low", "close")}
    volume_col = _pick(columns, _VOLUME_NAMES)
    zeros = np.zeros(len(raw))
    cols["volume"] = zeros if volume_col is None else _numbers(raw, volume_col, "volume", lines)
    spread_col = columns.get("spread")
    cols["spread"] = zeros if spread_col is None else _numbers(raw, spread_col, "spread", lines)
    _validate_values(cols, lines)
    _validate_order(times, lines)
    frame = bars_frame(
        times,
        cols["open"],
        cols["high"],
        cols["low"],
        cols["close"],
        cols["volume"],
        cols["spread"],
    )
    label(frame, source=f"csv ({fmt.value})", simulated=False, note="")
    return frame, _report(frame, fmt, timeframe, utc_offset_hours)


def _report(
    frame: pd.DataFrame, fmt: CsvFormat, timeframe: Timeframe, utc_offset_hours: float
) -> ImportReport:
    index = pd.DatetimeIndex(frame.index)
    spacing = None
    if len(index) > 1:
        diffs = pd.Series(np.diff(index.as_unit("ns").asi8))
        spacing = pd.Timedelta(int(diffs.mode().iloc[0]), unit="ns").to_pytimedelta()
    misaligned = int((period_labels(index, timeframe) != index).sum())
    gaps = find_gaps(index, timeframe)
    return ImportReport(
        format=fmt,
        timeframe=timeframe,
        rows=len(frame),
        start=index[0].to_pydatetime(),
        end=index[-1].to_pydatetime(),
        spacing=spacing,
        misaligned=misaligned,
        gaps=gaps.count,
        missing_bars=gaps.missing_bars,
        largest_gaps=gaps.largest,
        utc_offset_hours=utc_offset_hours,
    )


def read_bars_csv(
    path: Path | str, timeframe: Timeframe, *, utc_offset_hours: float = 0.0
) -> tuple[pd.DataFrame, ImportReport]:
    """``parse_bars_csv`` on a file (UTF-8 or UTF-16); the frame's source names the file."""
    file = Path(path)
    frame, report = parse_bars_csv(
        decode_text(file.read_bytes()), timeframe, utc_offset_hours=utc_offset_hours
    )
    frame.attrs["source"] = f"csv: {file.name}"
    return frame, report


async def import_csv(
    repo: BarRepo,
    path: Path | str,
    symbol: str,
    timeframe: Timeframe,
    *,
    utc_offset_hours: float = 0.0,
) -> ImportReport:
    """Read, validate and store a bar file in the bars cache (``chattrader data import``).

    Refuses (``DataValidationError``) a file whose bar spacing or alignment does not match
    ``timeframe``, so a mislabelled file never lands in the cache. Returns the report.
    """
    frame, report = await asyncio.to_thread(
        read_bars_csv, path, timeframe, utc_offset_hours=utc_offset_hours
    )
    if not report.timeframe_ok:
        msg = (
            f"{Path(path).name} does not hold {timeframe.value} bars: most bars are "
            f"{report.spacing} apart and {report.misaligned} are off the {timeframe.value} grid"
        )
        if report.misaligned and report.utc_offset_hours:
            msg += (
                f" (a {report.utc_offset_hours:g} h server offset moves {timeframe.value} bars "
                "off the UTC grid: import H1 or lower and let chattrader resample)"
            )
        raise DataValidationError(msg, rule="timeframe")
    await repo.upsert(
        symbol.upper(), timeframe, frame, source=frame.attrs["source"], simulated=False, note=""
    )
    return report
