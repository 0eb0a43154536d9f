"""Equity snapshots over time: the equity curve and its peak (for drawdown)."""

from __future__ import annotations

from datetime import datetime

from engine.models import EquitySnapshot
from storage.columns import from_ms, to_ms
from storage.db import Database


class SqliteEquityRepo:
    """``engine.ports.EquityRepo`` on ``equity_snapshots`` (one row per millisecond)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, snapshot: EquitySnapshot) -> None:
        """Store a snapshot; a second one at the same millisecond replaces the first."""
        await self._db.execute(
            "INSERT OR REPLACE INTO equity_snapshots (time_ms, balance, equity, margin) "
            "VALUES (?, ?, ?, ?)",
            (to_ms(snapshot.time), snapshot.balance, snapshot.equity, snapshot.margin),
        )

    async def series(self, start: datetime, end: datetime) -> list[EquitySnapshot]:
        """Snapshots with time in [start, end), oldest first."""
        rows = await self._db.fetchall(
            "SELECT time_ms, balance, equity, margin FROM equity_snapshots "
            "WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms",
            (to_ms(start), to_ms(end)),
        )
        return [EquitySnapshot(from_ms(t), b, e, m) for t, b, e, m in rows]

    async def peak(self) -> float | None:
        """Highest equity ever recorded; None before the first snapshot."""
        row = await self._db.fetchone("SELECT MAX(equity) FROM equity_snapshots")
        return None if row is None else row[0]
