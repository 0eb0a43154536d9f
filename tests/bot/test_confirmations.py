"""Confirmation cards: one-shot in SQLite even under concurrent presses, expiry by the injected
clock, only the asker may answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.confirmations import AnswerStatus, ConfirmAction, Confirmations
from engine.clock import SimClock
from storage import Storage, open_storage
from storage.repos.confirmations import Outcome, SqliteConfirmationRepo

T0 = datetime(2024, 3, 5, 10, tzinfo=UTC)
ASKER, OTHER = 1001, 1002


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    opened = await open_storage(tmp_path / "cards.db")
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def cards(storage: Storage, clock: SimClock) -> Confirmations:
    return Confirmations(SqliteConfirmationRepo(storage.db), clock)


async def test_a_card_confirms_once(cards: Confirmations) -> None:
    card = await cards.open(ConfirmAction.FORCE, {"volume": 0.1}, user_id=ASKER, chat_id=ASKER)
    assert len(card.nonce) == 16 and card.expires_at == T0 + timedelta(seconds=60)
    first = await cards.answer(card.nonce, ASKER, confirm=True)
    assert first.status is AnswerStatus.OK and first.action is ConfirmAction.FORCE
    assert first.card is not None and first.card.payload == {"volume": 0.1}
    again = await cards.answer(card.nonce, ASKER, confirm=True)
    assert again.status is AnswerStatus.USED
    cancel = await cards.answer(card.nonce, ASKER, confirm=False)
    assert cancel.status is AnswerStatus.USED


async def test_concurrent_presses_have_exactly_one_winner(cards: Confirmations) -> None:
    card = await cards.open(ConfirmAction.CLOSE, {"tickets": [7]}, user_id=ASKER, chat_id=-5)
    answers = await asyncio.gather(
        *(cards.answer(card.nonce, ASKER, confirm=i % 2 == 0) for i in range(12))
    )
    statuses = sorted(a.status.value for a in answers)
    assert statuses == ["ok"] + ["used"] * 11


async def test_expiry_follows_the_clock(cards: Confirmations, clock: SimClock) -> None:
    card = await cards.open(ConfirmAction.LIMIT, {}, user_id=ASKER, chat_id=ASKER)
    clock.advance_to(T0 + timedelta(seconds=59, milliseconds=999))
    late = await cards.open(ConfirmAction.LIMIT, {}, user_id=ASKER, chat_id=ASKER)
    clock.advance_to(T0 + timedelta(seconds=60))
    assert (await cards.answer(card.nonce, ASKER, confirm=True)).status is AnswerStatus.EXPIRED
    assert (await cards.answer(late.nonce, ASKER, confirm=True)).status is AnswerStatus.OK


async def test_only_the_asker_answers(cards: Confirmations) -> None:
    card = await cards.open(ConfirmAction.RESET, {}, user_id=ASKER, chat_id=-5)
    assert (await cards.answer(card.nonce, OTHER, confirm=True)).status is AnswerStatus.NOT_YOURS
    assert (await cards.answer(card.nonce, ASKER, confirm=False)).status is AnswerStatus.OK
    assert (await cards.answer("no-such-nonce-00", ASKER, confirm=True)).status is (
        AnswerStatus.UNKNOWN
    )


async def test_repository_claim_is_one_conditional_update(storage: Storage) -> None:
    repo = SqliteConfirmationRepo(storage.db)
    cards = Confirmations(repo, SimClock(T0))
    card = await cards.open(ConfirmAction.FORCE, {}, user_id=ASKER, chat_id=ASKER)
    assert not await repo.claim(card.nonce, Outcome.CONFIRMED, T0 + timedelta(seconds=60))
    assert await repo.claim(card.nonce, Outcome.CANCELLED, T0 + timedelta(seconds=1))
    stored = await repo.get(card.nonce)
    assert stored is not None
    assert (stored.used, stored.outcome, stored.used_at) == (
        True, Outcome.CANCELLED, T0 + timedelta(seconds=1),
    )  # fmt: skip
    assert await repo.prune(T0 + timedelta(days=8)) == 1
    assert await repo.get(card.nonce) is None
