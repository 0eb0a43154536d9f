"""Notification outbox: messages wait here until Telegram accepts them (or they go dead)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from engine.models import OutboxMessage
from engine.ports import Clock
from storage.columns import from_ms, opt_from_ms, to_ms
from storage.db import Database, Row, StorageError

_COLUMNS = (
    "id, chat_id, kind, text, photo, dedup_key, attempts, next_attempt_ms, created_ms, sent_ms, "
    "dead, last_error, held"
)


class SqliteOutboxRepo:
    """``engine.ports.OutboxRepo`` on ``outbox``; ``attempts`` counts failed deliveries.

    ``clock`` stamps messages enqueued without ``created_at``.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def enqueue(self, message: OutboxMessage) -> int | None:
        """Store for delivery; None when ``dedup_key`` was already enqueued for that chat.

        ``created_at`` defaults to the clock's now, ``next_attempt_at`` to ``created_at``.
        """
        created = message.created_at or self._clock.now()
        first_try = message.next_attempt_at or created
        written = await self._db.execute(
            "INSERT INTO outbox (chat_id, kind, text, photo, dedup_key, attempts, "
            "next_attempt_ms, created_ms, dead, last_error, held) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, dedup_key) DO NOTHING",
            (
                message.chat_id,
                message.kind,
                message.text,
                message.photo,
                message.dedup_key,
                message.attempts,
                to_ms(first_try),
                to_ms(created),
                int(message.dead),
                message.last_error,
                int(message.held),
            ),
        )
        return written.lastrowid if written.rowcount == 1 else None

    async def due(self, now: datetime, limit: int = 20) -> list[OutboxMessage]:
        """Unsent, not dead, not held, ``next_attempt_at`` <= now, oldest first; nothing
        created after a held message of the same chat (it waits for that one's chart)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM outbox AS o WHERE sent_ms IS NULL AND dead = 0 "
            "AND held = 0 AND next_attempt_ms <= ? AND NOT EXISTS ("
            " SELECT 1 FROM outbox AS h WHERE h.held = 1 AND h.chat_id = o.chat_id"
            " AND h.sent_ms IS NULL AND h.dead = 0"
            " AND (h.created_ms < o.created_ms OR (h.created_ms = o.created_ms AND h.id < o.id))"
            ") ORDER BY created_ms, id LIMIT ?",
            (to_ms(now), limit),
        )
        return [_message(r) for r in rows]

    async def attach(self, message_ids: Iterable[int], photo: bytes | None) -> int:
        """Lift the hold of ``message_ids``, attaching ``photo`` when there is one; returns
        how many were still held."""
        ids = list(message_ids)
        if not ids:
            return 0
        marks = ", ".join("?" * len(ids))
        written = await self._db.execute(
            f"UPDATE outbox SET held = 0, photo = COALESCE(?, photo) "
            f"WHERE held = 1 AND id IN ({marks})",
            (photo, *ids),
        )
        return written.rowcount

    async def release_held(self) -> int:
        """Lift every hold (at start-up: a chart being drawn when the process stopped is
        lost, its message goes out without it); returns how many."""
        written = await self._db.execute("UPDATE outbox SET held = 0 WHERE held = 1")
        return written.rowcount

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        await self._update(message_id, "sent_ms = ?", (to_ms(at),))

    async def mark_retry(self, message_id: int, next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt and wait until ``next_attempt_at`` before the next one."""
        await self._update(
            message_id,
            "attempts = attempts + 1, next_attempt_ms = ?, last_error = ?",
            (to_ms(next_attempt_at), error),
        )

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Count the final failed attempt and stop delivering this message."""
        await self._update(
            message_id, "attempts = attempts + 1, dead = 1, last_error = ?", (error,)
        )

    async def backlog(self) -> int:
        """Messages still to deliver (unsent and not dead), due now or later, held or not."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM outbox WHERE sent_ms IS NULL AND dead = 0"
        )
        return 0 if row is None else int(row[0])

    async def prune(self, before: datetime) -> int:
        """Delete messages sent before ``before`` and dead ones created before it."""
        cutoff = to_ms(before)
        written = await self._db.execute(
            "DELETE FROM outbox WHERE (sent_ms IS NOT NULL AND sent_ms < ?) "
            "OR (dead = 1 AND created_ms < ?)",
            (cutoff, cutoff),
        )
        return written.rowcount

    async def _update(self, message_id: int, assignments: str, params: tuple[object, ...]) -> None:
        written = await self._db.execute(
            f"UPDATE outbox SET {assignments} WHERE id = ?", (*params, message_id)
        )
        if written.rowcount != 1:
            msg = f"no outbox message with id {message_id}"
            raise StorageError(msg)


def _message(row: Row) -> OutboxMessage:
    (id_, chat_id, kind, text, photo, dedup_key, attempts, next_attempt_ms, created_ms, sent_ms,
     dead, last_error, held) = row  # fmt: skip
    return OutboxMessage(
        chat_id=chat_id,
        kind=kind,
        text=text,
        id=id_,
        photo=photo,
        dedup_key=dedup_key,
        attempts=attempts,
        next_attempt_at=from_ms(next_attempt_ms),
        created_at=from_ms(created_ms),
        sent_at=opt_from_ms(sent_ms),
        dead=bool(dead),
        last_error=last_error,
        held=bool(held),
    )
