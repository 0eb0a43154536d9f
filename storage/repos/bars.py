"""Bars cache: OHLC series by (symbol, timeframe, open time), with where each series came from.

``bars`` is a WITHOUT ROWID table clustered on its key, so a range read is one sequential scan;
frames are built column-wise with numpy (no per-row Python objects). ``bar_sources`` holds one
row per series: ``source`` names every source merged into it ("csv+mt5"), ``simulated`` stays
true once any simulated bars were written, and the latest non-empty ``note`` wins, so a chart
never passes synthetic prices off as real ones. ``delete`` starts a series afresh.
"""

from __future__ import annotations

from datetime import datetime
from itertools import repeat

import numpy as np
import pandas as pd

from engine.models import DataRange, Timeframe
from engine.ports import BAR_COLUMNS
from storage.columns import from_ms, to_ms
from storage.db import Database

_FLOATS = ("open", "high", "low", "close", "volume")
_MIN_MS = -(2**62)
_MAX_MS = 2**62
_SOURCE_SQL = "SELECT source, simulated, note FROM bar_sources WHERE symbol = ? AND timeframe = ?"
_ROW = np.dtype([("time_ms", np.int64), *((c, np.float64) for c in _FLOATS), ("spread", np.int64)])


class SqliteBarRepo:
    """``engine.ports.BarRepo`` on ``bars`` and ``bar_sources``."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        """Insert or replace bars by (symbol, timeframe, time) and remember where they came from
        (``source``, ``simulated``, ``note`` show up in ``ranges()``); returns rows written.

        ``bars`` follows the frame convention of ``engine.ports``; a naive index, a missing
        column or a NaN price raises ``ValueError`` before anything is written. An empty frame
        writes nothing.
        """
        rows = _rows(symbol, timeframe, bars)
        if not rows:
            return 0
        async with self._db.transaction():
            old = await self._db.fetchone(_SOURCE_SQL, (symbol, timeframe.value))
            if old is not None:
                source = _merge_sources(old[0], source)
                simulated = simulated or bool(old[1])
                note = note or old[2]
            # Never INSERT OR REPLACE here: replacing the parent row would cascade-delete bars.
            await self._db.execute(
                "INSERT INTO bar_sources (symbol, timeframe, source, simulated, note) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (symbol, timeframe) DO UPDATE SET "
                "source = excluded.source, simulated = excluded.simulated, note = excluded.note",
                (symbol, timeframe.value, source, int(simulated), note),
            )
            await self._db.executemany(
                "INSERT INTO bars (symbol, timeframe, time_ms, open, high, low, close, volume, "
                "spread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "open = excluded.open, high = excluded.high, low = excluded.low, "
                "close = excluded.close, volume = excluded.volume, spread = excluded.spread",
                rows,
            )
        return len(rows)

    async def load(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Bars with open time in [start, end) as the ``engine.ports`` frame (UTC index "time").

        ``df.attrs`` carries ``source``, ``simulated`` and ``note`` when the series is known.
        """
        lo = _MIN_MS if start is None else to_ms(start)
        hi = _MAX_MS if end is None else to_ms(end)
        async with self._db.transaction():  # attrs and rows from the same snapshot
            meta = await self._db.fetchone(_SOURCE_SQL, (symbol, timeframe.value))
            rows = await self._db.fetchall(
                "SELECT time_ms, open, high, low, close, volume, spread FROM bars "
                "WHERE symbol = ? AND timeframe = ? AND time_ms >= ? AND time_ms < ? "
                "ORDER BY time_ms",
                (symbol, timeframe.value, lo, hi),
            )
        frame = _frame(rows)
        if meta is not None:
            frame.attrs.update(source=meta[0], simulated=bool(meta[1]), note=meta[2])
        return frame

    async def ranges(self) -> list[DataRange]:
        """One entry per cached series: first and last bar open time, bar count, provenance."""
        rows = await self._db.fetchall(
            "SELECT s.symbol, s.timeframe, s.source, s.simulated, s.note, "
            "MIN(b.time_ms), MAX(b.time_ms), COUNT(*) "
            "FROM bar_sources AS s JOIN bars AS b ON b.symbol = s.symbol "
            "AND b.timeframe = s.timeframe GROUP BY s.symbol, s.timeframe "
            "ORDER BY s.symbol, s.timeframe"
        )
        return [
            DataRange(
                symbol=symbol,
                timeframe=Timeframe(tf),
                start=from_ms(first),
                end=from_ms(last),
                bars=count,
                source=source,
                simulated=bool(sim),
                note=note,
            )
            for symbol, tf, source, sim, note, first, last, count in rows
        ]

    async def delete(self, symbol: str, timeframe: Timeframe) -> int:
        """Drop a series and its provenance; returns the number of bars deleted."""
        async with self._db.transaction():
            gone = await self._db.execute(
                "DELETE FROM bars WHERE symbol = ? AND timeframe = ?", (symbol, timeframe.value)
            )
            await self._db.execute(
                "DELETE FROM bar_sources WHERE symbol = ? AND timeframe = ?",
                (symbol, timeframe.value),
            )
        return gone.rowcount


def _rows(symbol: str, timeframe: Timeframe, bars: pd.DataFrame) -> list[tuple[object, ...]]:
    if len(bars) == 0:
        return []
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        msg = f"bars for {symbol} {timeframe} lack columns {missing}; need {list(BAR_COLUMNS)}"
        raise ValueError(msg)
    index = bars.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        msg = f"bars for {symbol} {timeframe} need a tz-aware DatetimeIndex of open times"
        raise ValueError(msg)
    naive = index.tz_convert("UTC").tz_localize(None).to_numpy()
    times = naive.astype("datetime64[ms]").astype(np.int64)
    columns = [bars[c].to_numpy(dtype=np.float64) for c in _FLOATS]
    spread = bars["spread"].to_numpy(dtype=np.float64)
    for name, values in (*zip(_FLOATS, columns, strict=True), ("spread", spread)):
        bad = ~np.isfinite(values)
        if bad.any():
            at = index[int(np.argmax(bad))]
            msg = f"bars for {symbol} {timeframe} have a non-finite {name} at {at.isoformat()}"
            raise ValueError(msg)
    return list(
        zip(
            repeat(symbol),
            repeat(timeframe.value),
            times.tolist(),
            *(c.tolist() for c in columns),
            spread.astype(np.int64).tolist(),
            strict=False,  # the repeat() iterators are endless by design
        )
    )


def _frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    table = np.fromiter(rows, dtype=_ROW, count=len(rows))
    times = table["time_ms"].astype("datetime64[ms]").astype("datetime64[us]")
    index = pd.DatetimeIndex(times, name="time").tz_localize("UTC")
    data = {name: table[name] for name in BAR_COLUMNS}
    return pd.DataFrame(data, index=index, columns=list(BAR_COLUMNS))


def _merge_sources(old: str, new: str) -> str:
    names = old.split("+")
    return old if new in names else f"{old}+{new}"
