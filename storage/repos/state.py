"""Key-value engine state (paused flag, circuit breaker, counters) stored as JSON text."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database


class SqliteStateRepo:
    """``engine.ports.StateRepo`` on ``engine_state``.

    Values go through JSON: tuples come back as lists, and NaN/Infinity or objects JSON cannot
    encode are refused with ``ValueError``/``TypeError`` before anything is written.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str, default: Any = None) -> Any:
        row = await self._db.fetchone("SELECT value FROM engine_state WHERE key = ?", (key,))
        return default if row is None else json.loads(row[0])

    async def set(self, key: str, value: Any) -> None:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"), sort_keys=True)
        await self._db.execute(
            "INSERT INTO engine_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, text),
        )

    async def delete(self, key: str) -> None:
        await self._db.execute("DELETE FROM engine_state WHERE key = ?", (key,))

    async def items(self, prefix: str = "") -> dict[str, Any]:
        """Every key starting with ``prefix`` (case-sensitive), in key order."""
        rows = await self._db.fetchall(
            "SELECT key, value FROM engine_state WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        )
        return {key: json.loads(value) for key, value in rows}
