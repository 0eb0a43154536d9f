"""A small in-memory ``BarRepo`` for the market-data tests (the SQLite one lives in storage/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from engine.data.frames import clip, empty_bars
from engine.models import DataRange, Timeframe


@dataclass
class _Series:
    frame: pd.DataFrame
    source: str
    simulated: bool
    note: str


@dataclass
class MemoryBarRepo:
    """Bars by (symbol, timeframe); ``loads`` records every load call for assertions."""

    series: dict[tuple[str, Timeframe], _Series] = field(default_factory=dict)
    loads: list[tuple[str, Timeframe, datetime | None, datetime | None]] = field(
        default_factory=list
    )

    async def upsert(
        self,
        symbol: str,
        timeframe: Timeframe,
        bars: pd.DataFrame,
        *,
        source: str,
        simulated: bool = False,
        note: str = "",
    ) -> int:
        key = (symbol, timeframe)
        old = self.series[key].frame if key in self.series else empty_bars()
        merged = pd.concat([old.loc[~old.index.isin(bars.index)], bars]).sort_index()
        merged.attrs = {}
        self.series[key] = _Series(merged, source, simulated, note)
        return len(bars)

    async def load(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        self.loads.append((symbol, timeframe, start, end))
        key = (symbol, timeframe)
        if key not in self.series:
            return empty_bars()
        frame = clip(self.series[key].frame, start, end)
        frame.attrs = {}
        return frame

    async def ranges(self) -> list[DataRange]:
        return [
            DataRange(
                symbol=symbol,
                timeframe=tf,
                start=s.frame.index[0].to_pydatetime(),
                end=s.frame.index[-1].to_pydatetime(),
                bars=len(s.frame),
                source=s.source,
                simulated=s.simulated,
                note=s.note,
            )
            for (symbol, tf), s in self.series.items()
            if len(s.frame)
        ]

    async def delete(self, symbol: str, timeframe: Timeframe) -> int:
        removed = self.series.pop((symbol, timeframe), None)
        return 0 if removed is None else len(removed.frame)
