"""``MarketData`` implementations: the bundled series and the bars cache (with a fallback).

Both serve a timeframe they do not store by resampling a stored one that tiles it (XAUUSD H4
from M15; real data preferred over simulated, then the finest), and both answer
``history(symbol, timeframe, start=None, end=None)`` with bars whose open time is in
[start, end): ``None`` means "from the first" / "to the last" bar, a request beyond the data is
clipped, and the frame's attrs say what was really used (``first_bar``, ``last_bar``,
``clipped``, plus ``source``, ``simulated``, ``note``). When nothing matches they raise
``DataUnavailable`` whose message lists what does exist, e.g. "XAUUSD M5: no data; available:
XAUUSD M15 2018-03-13..2020-03-13 (simulated intraday from real daily closes)".
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import pandas as pd

from engine.data.bundled_series import SERIES, load_bundled
from engine.data.frames import clip, data_range, describe_range, finish_history, label
from engine.data.resample import can_resample, period_labels, resample_bars
from engine.errors import DataUnavailable
from engine.models import DataRange, Timeframe
from engine.ports import BarRepo, MarketData


@runtime_checkable
class DataCatalog(MarketData, Protocol):
    """A ``MarketData`` that can also list everything it holds (for data listings)."""

    async def ranges(self) -> list[DataRange]: ...


def pick_source(stored: list[tuple[Timeframe, bool]], target: Timeframe) -> Timeframe | None:
    """The stored timeframe to serve ``target`` from; ``stored`` pairs (timeframe, simulated).

    ``target`` itself when stored; else among those that tile it, real data before simulated
    (gold W1 from 41 years of real closes, not 2 years of simulated M15), then the finest.
    """
    if any(t == target for t, _ in stored):
        return target
    usable = [(simulated, t.minutes, t) for t, simulated in stored if can_resample(t, target)]
    return min(usable)[2] if usable else None


def unavailable(
    symbol: str, timeframe: Timeframe, ranges: list[DataRange], detail: str = "no data"
) -> DataUnavailable:
    """The error for a request nothing can serve; lists the symbol's ranges (else all)."""
    same = [r for r in ranges if r.symbol == symbol]
    listing = ", ".join(describe_range(r) for r in (same or ranges)) or "nothing"
    message = f"{symbol} {timeframe.value}: {detail}; available: {listing}"
    return DataUnavailable(
        message,
        symbol=symbol,
        timeframe=timeframe.value,
        available=tuple(describe_range(r) for r in ranges),
    )


def _check_window(start: datetime | None, end: datetime | None) -> None:
    for name, t in (("start", start), ("end", end)):
        if t is not None and t.tzinfo is None:
            msg = f"history {name} must be tz-aware UTC, got naive {t.isoformat()}"
            raise ValueError(msg)


def _window_text(start: datetime | None, end: datetime | None) -> str:
    lo = f"{start:%Y-%m-%d %H:%M}" if start else "the start"
    hi = f"{end:%Y-%m-%d %H:%M}" if end else "the end"
    return f"no bars from {lo} to {hi}"


class BundledData:
    """The series shipped in the package (``engine.data.bundled_series``), as ``MarketData``.

    Frames are built once per process (XAUUSD M15 in about 0.15 s) in a worker thread, so the
    event loop stays responsive; every call returns a copy.
    """

    def __init__(self) -> None:
        self._derived: dict[tuple[str, Timeframe], pd.DataFrame] = {}

    def _frame(self, symbol: str, timeframe: Timeframe) -> pd.DataFrame | None:
        stored = [(s.timeframe, s.simulated) for s in SERIES if s.symbol == symbol]
        source = pick_source(stored, timeframe)
        if source is None:
            return None
        if source == timeframe:
            return load_bundled(symbol, timeframe)
        key = (symbol, timeframe)
        if key not in self._derived:
            self._derived[key] = resample_bars(load_bundled(symbol, source), source, timeframe)
        cached = self._derived[key]
        frame = cached.copy()
        frame.attrs = dict(cached.attrs)
        return frame

    async def ranges(self) -> list[DataRange]:
        """Every bundled series as stored (resampled timeframes are not listed)."""
        frames = [await asyncio.to_thread(load_bundled, s.symbol, s.timeframe) for s in SERIES]
        return [data_range(f, s.symbol, s.timeframe) for f, s in zip(frames, SERIES, strict=True)]

    async def available(self, symbol: str, timeframe: Timeframe) -> DataRange | None:
        symbol = symbol.upper()
        frame = await asyncio.to_thread(self._frame, symbol, timeframe)
        return None if frame is None else data_range(frame, symbol, timeframe)

    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Bundled bars with open time in [start, end); see the module docstring."""
        _check_window(start, end)
        symbol = symbol.upper()
        frame = await asyncio.to_thread(self._frame, symbol, timeframe)
        if frame is None:
            raise unavailable(symbol, timeframe, await self.ranges())
        window = clip(frame, start, end)
        if window.empty:
            ranges = [data_range(frame, symbol, timeframe)]
            raise unavailable(symbol, timeframe, ranges, _window_text(start, end))
        first, last = frame.index[0].to_pydatetime(), frame.index[-1].to_pydatetime()
        return finish_history(
            window, symbol, timeframe, start=start, end=end, data_first=first, data_last=last
        )


class CachedData:
    """The bars cache (``BarRepo``) as ``MarketData``, then ``fallback`` for what it lacks.

    The cache answers when it holds the symbol at the timeframe or at a lower one that tiles it
    (resampled on the fly); otherwise, or when its bars miss the requested window, the fallback
    (typically ``BundledData``) is asked. Labels come from what the cache remembers per series.
    """

    def __init__(self, bar_repo: BarRepo, fallback: MarketData | None = None) -> None:
        self._bars = bar_repo
        self._fallback = fallback

    async def ranges(self) -> list[DataRange]:
        """Cached series, then the fallback's (when it can list them)."""
        ranges = list(await self._bars.ranges())
        if isinstance(self._fallback, DataCatalog):
            ranges += await self._fallback.ranges()
        return ranges

    async def _cached_source(self, symbol: str, timeframe: Timeframe) -> DataRange | None:
        stored = [r for r in await self._bars.ranges() if r.symbol == symbol]
        source = pick_source([(r.timeframe, r.simulated) for r in stored], timeframe)
        return next((r for r in stored if r.timeframe == source), None)

    async def _load(
        self,
        stored: DataRange,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime | None,
    ) -> pd.DataFrame:
        """Cached bars for [start, end) at ``timeframe``, resampled from ``stored`` if needed."""
        symbol, source = stored.symbol, stored.timeframe
        if source == timeframe:
            frame = await self._bars.load(symbol, source, start, end)
        else:
            lo = None if start is None else _period_start(start, timeframe)
            hi = None if end is None else end + max(timeframe.delta, timedelta(days=32))
            lower = await self._bars.load(symbol, source, lo, hi)
            frame = resample_bars(lower, source, timeframe) if len(lower) else lower
        frame = clip(frame, start, end)
        label(frame, source=stored.source, simulated=stored.simulated, note=stored.note)
        if source != timeframe:
            frame.attrs["resampled_from"] = source.value
        return frame

    async def available(self, symbol: str, timeframe: Timeframe) -> DataRange | None:
        symbol = symbol.upper()
        stored = await self._cached_source(symbol, timeframe)
        if stored is not None:
            if stored.timeframe == timeframe:
                return stored
            frame = await self._load(stored, timeframe, None, None)
            if len(frame):
                return data_range(frame, symbol, timeframe)
        if self._fallback is not None:
            return await self._fallback.available(symbol, timeframe)
        return None

    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Cached bars with open time in [start, end), else the fallback's; see the module."""
        _check_window(start, end)
        symbol = symbol.upper()
        stored = await self._cached_source(symbol, timeframe)
        detail = "no data"
        if stored is not None:
            frame = await self._load(stored, timeframe, start, end)
            if len(frame):
                first = _period_start(stored.start, timeframe)
                last = _period_start(stored.end, timeframe)
                return finish_history(
                    frame,
                    symbol,
                    timeframe,
                    start=start,
                    end=end,
                    data_first=first,
                    data_last=last,
                )
            detail = _window_text(start, end)
        if self._fallback is not None:
            try:
                return await self._fallback.history(symbol, timeframe, start, end)
            except DataUnavailable:
                pass
        raise unavailable(symbol, timeframe, await self.ranges(), detail)


def _period_start(t: datetime, timeframe: Timeframe) -> datetime:
    return period_labels(pd.DatetimeIndex([t]), timeframe)[0].to_pydatetime()
