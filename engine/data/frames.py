"""The bars DataFrame convention of ``engine.ports`` made concrete: build, label, clip, describe.

A bars frame has a tz-aware UTC ``DatetimeIndex`` named ``time`` (bar open time, ascending,
unique), float columns ``open, high, low, close, volume`` and an int column ``spread`` (points).
``attrs`` carry ``source``, ``simulated`` and ``note`` so every reply and chart can say where the
prices came from; ``history`` adds ``symbol``, ``timeframe``, ``first_bar``, ``last_bar`` and
``clipped`` (the request reached beyond the data).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from engine.models import Bar, DataRange, Timeframe
from engine.ports import BAR_COLUMNS

PRICE_COLUMNS = ("open", "high", "low", "close")


def bars_frame(
    times: pd.DatetimeIndex | np.ndarray,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray | None = None,
    spread: np.ndarray | None = None,
) -> pd.DataFrame:
    """A bars frame from column arrays; ``volume`` and ``spread`` default to zeros."""
    index = pd.DatetimeIndex(times, name="time")
    index = index.tz_localize(UTC) if index.tz is None else index.tz_convert(UTC)
    n = len(index)
    return pd.DataFrame(
        {
            "open": np.asarray(open_, dtype=np.float64),
            "high": np.asarray(high, dtype=np.float64),
            "low": np.asarray(low, dtype=np.float64),
            "close": np.asarray(close, dtype=np.float64),
            "volume": np.zeros(n) if volume is None else np.asarray(volume, dtype=np.float64),
            "spread": (
                np.zeros(n, dtype=np.int64)
                if spread is None
                else np.asarray(spread).astype(np.int64)
            ),
        },
        index=index,
    )


def empty_bars() -> pd.DataFrame:
    """A bars frame with no rows (right columns, dtypes and index)."""
    none = np.zeros(0)
    return bars_frame(pd.DatetimeIndex([], tz=UTC), none, none, none, none)


def label(frame: pd.DataFrame, *, source: str, simulated: bool, note: str) -> pd.DataFrame:
    """Set where the bars came from (in place) and return the frame."""
    frame.attrs["source"] = source
    frame.attrs["simulated"] = simulated
    frame.attrs["note"] = note
    return frame


def clip(frame: pd.DataFrame, start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Rows with open time in [start, end); ``None`` leaves that side open. Keeps attrs."""
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= frame.index >= pd.Timestamp(start)
    if end is not None:
        mask &= frame.index < pd.Timestamp(end)
    out = frame.loc[mask].copy()
    out.attrs = dict(frame.attrs)
    return out


def finish_history(
    frame: pd.DataFrame,
    symbol: str,
    timeframe: Timeframe,
    *,
    start: datetime | None,
    end: datetime | None,
    data_first: datetime,
    data_last: datetime,
) -> pd.DataFrame:
    """Stamp a non-empty history answer with what it really covers.

    ``first_bar``/``last_bar`` are the open times of the first and last rows returned;
    ``clipped`` is True when the request started before ``data_first`` or ended after the close
    of ``data_last`` (the whole series), so replies can state the real range used.
    """
    frame.attrs["symbol"] = symbol
    frame.attrs["timeframe"] = timeframe.value
    frame.attrs["first_bar"] = frame.index[0].to_pydatetime()
    frame.attrs["last_bar"] = frame.index[-1].to_pydatetime()
    before = start is not None and start < data_first
    after = end is not None and end > data_last + timeframe.delta
    frame.attrs["clipped"] = bool(before or after)
    return frame


def data_range(frame: pd.DataFrame, symbol: str, timeframe: Timeframe) -> DataRange:
    """What ``frame`` holds, from its index and attrs (frame must not be empty)."""
    extra = {}
    if "resampled_from" in frame.attrs:
        extra["resampled_from"] = str(frame.attrs["resampled_from"])
    return DataRange(
        symbol=symbol,
        timeframe=timeframe,
        start=frame.index[0].to_pydatetime(),
        end=frame.index[-1].to_pydatetime(),
        bars=len(frame),
        source=str(frame.attrs.get("source", "")),
        simulated=bool(frame.attrs.get("simulated", False)),
        note=str(frame.attrs.get("note", "")),
        extra=extra,
    )


def describe_range(r: DataRange) -> str:
    """One line for listings and errors: ``XAUUSD M15 2018-03-13..2020-03-13 (note)``."""
    text = f"{r.symbol} {r.timeframe.value} {r.start:%Y-%m-%d}..{r.end:%Y-%m-%d}"
    if "resampled_from" in r.extra:
        text += f" from {r.extra['resampled_from']}"
    return f"{text} ({r.note})" if r.note else text


def to_bars(frame: pd.DataFrame, symbol: str, timeframe: Timeframe) -> Iterator[Bar]:
    """The rows of a bars frame as ``Bar`` values, oldest first."""
    columns = [frame[c].to_numpy() for c in BAR_COLUMNS]
    for i, t in enumerate(frame.index):
        yield Bar(
            symbol=symbol,
            timeframe=timeframe,
            time=t.to_pydatetime(),
            open=float(columns[0][i]),
            high=float(columns[1][i]),
            low=float(columns[2][i]),
            close=float(columns[3][i]),
            volume=float(columns[4][i]),
            spread=int(columns[5][i]),
        )
