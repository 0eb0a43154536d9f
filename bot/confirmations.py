"""Confirm/Cancel cards for dangerous actions: open one, answer it once.

A card gets a random 16-character nonce (in its buttons' callback data) and expires ``ttl``
after it was opened, by the injected clock. Answering claims the nonce in SQLite with one
conditional UPDATE, so of two presses (or a replayed one) exactly one acts. Only the person who
asked may answer; the caller checks their role again before acting.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from engine.models import Role
from engine.ports import Clock
from storage.repos.confirmations import Outcome, PendingAction, SqliteConfirmationRepo

TTL = timedelta(seconds=60)
KEEP = timedelta(days=7)  # cards are pruned this long after they were opened


class ConfirmAction(StrEnum):
    FORCE = "force"
    CLOSE = "close"
    LIMIT = "limit"  # change a risk limit
    RESET = "reset"  # reset the circuit breaker


# The role an action needs, checked again when Confirm is pressed.
ACTION_ROLE = {
    ConfirmAction.FORCE: Role.ADMIN,
    ConfirmAction.CLOSE: Role.TRADER,
    ConfirmAction.LIMIT: Role.ADMIN,
    ConfirmAction.RESET: Role.TRADER,
}


class AnswerStatus(StrEnum):
    OK = "ok"  # this press won: act on the card
    USED = "used"  # already confirmed or cancelled
    EXPIRED = "expired"
    UNKNOWN = "unknown"  # no such card (pruned, or data not from this bot)
    NOT_YOURS = "not_yours"


@dataclass(frozen=True, slots=True)
class Answered:
    status: AnswerStatus
    card: PendingAction | None = None

    @property
    def action(self) -> ConfirmAction | None:
        return ConfirmAction(self.card.action) if self.card is not None else None


class Confirmations:
    def __init__(self, repo: SqliteConfirmationRepo, clock: Clock, ttl: timedelta = TTL) -> None:
        self._repo = repo
        self._clock = clock
        self.ttl = ttl

    async def open(
        self, action: ConfirmAction, payload: dict[str, Any], *, user_id: int, chat_id: int
    ) -> PendingAction:
        """Store a new card; ``payload`` is what Confirm will act on (JSON-safe)."""
        now = self._clock.now()
        await self._repo.prune(now - KEEP)
        card = PendingAction(
            nonce=secrets.token_urlsafe(12),
            action=action.value,
            payload=payload,
            user_id=user_id,
            chat_id=chat_id,
            created_at=now,
            expires_at=now + self.ttl,
        )
        await self._repo.add(card)
        return card

    async def peek(self, nonce: str) -> PendingAction | None:
        """The card as stored (to check the role before answering); changes nothing."""
        return await self._repo.get(nonce)

    async def answer(self, nonce: str, user_id: int, *, confirm: bool) -> Answered:
        """Confirm or cancel the card ``nonce`` for ``user_id``; ``OK`` exactly once."""
        card = await self._repo.get(nonce)
        if card is None:
            return Answered(AnswerStatus.UNKNOWN)
        if card.user_id != user_id:
            return Answered(AnswerStatus.NOT_YOURS, card)
        outcome = Outcome.CONFIRMED if confirm else Outcome.CANCELLED
        now = self._clock.now()
        if await self._repo.claim(nonce, outcome, now):
            return Answered(AnswerStatus.OK, card)
        # Lost the race or came late: read again to say which.
        again = await self._repo.get(nonce) or card
        status = AnswerStatus.USED if again.used else AnswerStatus.EXPIRED
        return Answered(status, again)
