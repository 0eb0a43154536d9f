"""Bars for a backtest: from the first source that has them, for the period asked, with warm-up.

``HistoryChain`` is a ``MarketData`` over sources in order of preference (the broker's history
when connected, then the bars cache with the bundled data behind it): the first that answers
wins, and when none can, the error lists what the last one knows exists. ``load_bars`` resolves
a period on the data's real range (``resolve_period``), fetches that window plus enough earlier
bars to warm the strategy's indicators up, and the M1 bars of the window when they exist (they
settle bars where SL and TP were both touched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from engine.backtest.period import DateRange, Period, resolve_period
from engine.errors import BrokerUnavailable, DataUnavailable
from engine.models import DataRange, Timeframe
from engine.ports import Clock, MarketData

MIN_TESTED_BARS = 10  # fewer cannot show a trade chart or say anything
WEEK = timedelta(days=7)
OPEN_START = datetime(1970, 1, 1, tzinfo=UTC)  # a live source's history start is not known


class HistoryChain:
    """``MarketData`` trying ``sources`` in order; unreachable or empty sources are skipped.

    A source without ``available`` (a live broker) is probed for its recent bars with
    ``clock``: its range then ends at its last closed bar, its start left open.
    """

    def __init__(self, sources: Sequence[MarketData], clock: Clock | None = None) -> None:
        if not sources:
            msg = "a history chain needs at least one source"
            raise ValueError(msg)
        self.sources = tuple(sources)
        self._clock = clock

    async def available(self, symbol: str, timeframe: Timeframe) -> DataRange | None:
        for source in self.sources:
            try:
                found = await self._range_of(source, symbol, timeframe)
            except (DataUnavailable, BrokerUnavailable):
                continue
            if found is not None:
                return found
        return None

    async def _range_of(
        self, source: MarketData, symbol: str, timeframe: Timeframe
    ) -> DataRange | None:
        ask = getattr(source, "available", None)
        if ask is not None:
            return await ask(symbol, timeframe)
        if self._clock is None:
            return None
        now = self._clock.now()
        recent = await source.history(symbol, timeframe, now - timeframe.delta * 50 - WEEK)
        if not len(recent):
            return None
        last = recent.index[-1].to_pydatetime()
        source_name = str(recent.attrs.get("source", "broker"))
        return DataRange(symbol, timeframe, OPEN_START, last, len(recent), source_name)

    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        last_error: DataUnavailable | None = None
        for source in self.sources:
            try:
                frame = await source.history(symbol, timeframe, start, end)
            except BrokerUnavailable:
                continue
            except DataUnavailable as exc:
                last_error = exc
                continue
            if len(frame):
                return frame
        if last_error is not None:
            raise last_error
        msg = f"{symbol} {timeframe.value}: no source could be reached"
        raise DataUnavailable(msg, symbol=symbol, timeframe=timeframe.value)


@dataclass(frozen=True, slots=True, eq=False)
class LoadedBars:
    """Warm-up bars then the tested window; ``start_index`` is the window's first row."""

    bars: pd.DataFrame
    start_index: int
    window: DateRange
    m1: pd.DataFrame | None
    notes: tuple[str, ...]

    @property
    def tested(self) -> int:
        return len(self.bars) - self.start_index


async def _range(data: MarketData, symbol: str, timeframe: Timeframe) -> tuple[datetime, datetime]:
    """First and last bar open times the data holds."""
    ask = getattr(data, "available", None)
    found = await ask(symbol, timeframe) if ask is not None else None
    if found is not None:
        return found.start, found.end
    # Ask for everything: a source without it raises DataUnavailable naming what exists.
    frame = await data.history(symbol, timeframe)
    return frame.index[0].to_pydatetime(), frame.index[-1].to_pydatetime()


async def load_bars(
    data: MarketData,
    symbol: str,
    timeframe: Timeframe,
    period: Period,
    *,
    warmup: int,
    with_m1: bool = True,
) -> LoadedBars:
    """The window ``period`` maps to on ``data`` plus ``warmup`` earlier bars when they exist.

    Raises ``DataUnavailable`` saying what exists when the window is empty or shorter than
    ``MIN_TESTED_BARS``.
    """
    first, last = await _range(data, symbol, timeframe)
    window = resolve_period(period, first_bar=first, last_bar=last, timeframe=timeframe)
    # Weekends and session breaks: reach back generously, then keep the last ``warmup`` bars.
    reach = timeframe.delta * warmup * 3 + timedelta(days=7)
    frame = await data.history(symbol, timeframe, max(first, window.start - reach), window.end)
    start_index = int(frame.index.searchsorted(pd.Timestamp(window.start)))
    cut = max(0, start_index - warmup)
    frame, start_index = frame.iloc[cut:], start_index - cut
    frame.attrs.setdefault("symbol", symbol)
    frame.attrs["timeframe"] = timeframe.value
    tested = len(frame) - start_index
    if tested < MIN_TESTED_BARS:
        where = f"{window.start:%Y-%m-%d %H:%M}..{window.end:%Y-%m-%d %H:%M} UTC"
        msg = (
            f"{symbol} {timeframe.value} {period.text}: only {tested} bars in {where}, at least "
            f"{MIN_TESTED_BARS} needed; the data covers {first:%Y-%m-%d %H:%M}.."
            f"{last + timeframe.delta:%Y-%m-%d %H:%M} UTC"
        )
        raise DataUnavailable(msg, code="too_few_bars", bars=tested, need=MIN_TESTED_BARS)
    notes = [window.note] if window.note else []
    if start_index < warmup:
        notes.append(
            f"only {start_index} bars before the period to warm the indicators up "
            f"(the strategy needs {warmup}): its first signals come later"
        )
    m1 = None
    if with_m1 and timeframe is not Timeframe.M1:
        m1 = await _m1(data, symbol, window)
        if m1 is not None:
            notes.append(f"M1 bars settle bars that touched both SL and TP ({len(m1):,} M1 bars)")
    return LoadedBars(frame, start_index, window, m1, tuple(notes))


async def _m1(data: MarketData, symbol: str, window: DateRange) -> pd.DataFrame | None:
    """Stored M1 bars of the window (never resampled, never simulated), else None."""
    ask = getattr(data, "available", None)
    found = await ask(symbol, Timeframe.M1) if ask is not None else None
    if found is None or found.simulated or found.end < window.start:
        return None
    try:
        frame = await data.history(symbol, Timeframe.M1, window.start, window.end)
    except (DataUnavailable, BrokerUnavailable):
        return None
    return frame if len(frame) else None
