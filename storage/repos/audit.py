"""Audit log: who did what from which chat, and how it ended (append-only)."""

from __future__ import annotations

from datetime import datetime

from engine.models import AuditEntry
from storage.columns import from_ms, to_ms
from storage.db import Database, Row

_COLUMNS = "id, time_ms, user_id, chat_id, action, outcome, detail"


class SqliteAuditRepo:
    """``engine.ports.AuditRepo`` on ``audit_log``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, entry: AuditEntry) -> int:
        """Append ``entry`` (its ``id`` is ignored); returns the new row id."""
        written = await self._db.execute(
            "INSERT INTO audit_log (time_ms, user_id, chat_id, action, outcome, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                to_ms(entry.time),
                entry.user_id,
                entry.chat_id,
                entry.action,
                entry.outcome,
                entry.detail,
            ),
        )
        assert written.lastrowid is not None
        return written.lastrowid

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        """The ``limit`` newest entries, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM audit_log ORDER BY time_ms DESC, id DESC LIMIT ?", (limit,)
        )
        return [_entry(r) for r in rows]

    async def since(self, start: datetime) -> list[AuditEntry]:
        """Entries with time >= ``start``, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM audit_log WHERE time_ms >= ? ORDER BY time_ms, id",
            (to_ms(start),),
        )
        return [_entry(r) for r in rows]


def _entry(row: Row) -> AuditEntry:
    id_, time_ms, user_id, chat_id, action, outcome, detail = row
    return AuditEntry(
        time=from_ms(time_ms),
        user_id=user_id,
        chat_id=chat_id,
        action=action,
        outcome=outcome,
        detail=detail,
        id=id_,
    )
