"""One-shot confirmations behind the chat's dangerous buttons (force, close, settings).

A card is stored with a random nonce and an expiry; ``claim`` marks it used with a single
conditional ``UPDATE`` and reports whether this call won. Updates run as concurrent tasks, so
two presses of one Confirm button race: the database, not Python, decides which one acts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.columns import from_ms, opt_from_ms, to_ms
from storage.db import Database, Row


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PendingAction:
    """A stored card: what it proposes (``payload``, JSON-safe), who asked, until when."""

    nonce: str
    action: str
    payload: dict[str, Any]
    user_id: int
    chat_id: int
    created_at: datetime
    expires_at: datetime
    used: bool = False
    outcome: Outcome | None = None
    used_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


_COLUMNS = (
    "nonce, action, payload, user_id, chat_id, created_ms, expires_ms, used, outcome, used_ms"
)


class SqliteConfirmationRepo:
    """Confirmation cards on ``confirmations``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, pending: PendingAction) -> None:
        """Store a new open card; a nonce that exists already raises (nonces never repeat)."""
        payload = json.dumps(pending.payload, allow_nan=False, separators=(",", ":"))
        await self._db.execute(
            "INSERT INTO confirmations (nonce, action, payload, user_id, chat_id, created_ms, "
            "expires_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                pending.nonce,
                pending.action,
                payload,
                pending.user_id,
                pending.chat_id,
                to_ms(pending.created_at),
                to_ms(pending.expires_at),
            ),
        )

    async def get(self, nonce: str) -> PendingAction | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM confirmations WHERE nonce = ?", (nonce,)
        )
        return None if row is None else _pending(row)

    async def claim(self, nonce: str, outcome: Outcome, now: datetime) -> bool:
        """Close an open, unexpired card with ``outcome``; True only for the one call that did.

        The card must still be open (``used = 0``) and ``now`` before its expiry; a second
        press, a replay or a late press changes nothing and gets False.
        """
        written = await self._db.execute(
            "UPDATE confirmations SET used = 1, outcome = ?, used_ms = ? "
            "WHERE nonce = ? AND used = 0 AND expires_ms > ?",
            (outcome.value, to_ms(now), nonce, to_ms(now)),
        )
        return written.rowcount == 1

    async def prune(self, before: datetime) -> int:
        """Forget cards created before ``before`` (used or expired long ago); returns rows."""
        written = await self._db.execute(
            "DELETE FROM confirmations WHERE created_ms < ?", (to_ms(before),)
        )
        return written.rowcount


def _pending(row: Row) -> PendingAction:
    nonce, action, payload, user_id, chat_id, created_ms, expires_ms, used, outcome, used_ms = row
    return PendingAction(
        nonce=nonce,
        action=action,
        payload=json.loads(payload),
        user_id=user_id,
        chat_id=chat_id,
        created_at=from_ms(created_ms),
        expires_at=from_ms(expires_ms),
        used=bool(used),
        outcome=Outcome(outcome) if outcome else None,
        used_at=opt_from_ms(used_ms),
    )
