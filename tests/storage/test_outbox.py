"""Outbox: dedup per chat, due-time filtering, oldest first, retry, dead letters, backlog."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import SimClock
from engine.models import OutboxMessage
from storage import Storage
from storage.db import StorageError
from tests.storage.conftest import T0

SECOND = timedelta(seconds=1)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary, with NUL bytes


def message(chat_id: int = -100, text: str = "hi", **kw: object) -> OutboxMessage:
    return OutboxMessage(chat_id=chat_id, kind="fill", text=text, **kw)  # type: ignore[arg-type]


async def test_enqueue_stamps_with_the_clock_and_keeps_the_photo(
    storage: Storage, clock: SimClock
) -> None:
    clock.advance_to(T0 + 5 * SECOND)
    message_id = await storage.outbox.enqueue(message(photo=PNG, dedup_key="k"))
    assert message_id == 1
    [due] = await storage.outbox.due(T0 + 5 * SECOND)
    assert due == OutboxMessage(
        chat_id=-100,
        kind="fill",
        text="hi",
        id=1,
        photo=PNG,
        dedup_key="k",
        attempts=0,
        next_attempt_at=T0 + 5 * SECOND,
        created_at=T0 + 5 * SECOND,
    )
    assert await storage.outbox.due(T0 + 4 * SECOND) == []  # not yet created at that time


async def test_dedup_key_is_once_per_chat(storage: Storage) -> None:
    key = "breaker:2024-01-02"
    first = await storage.outbox.enqueue(message(-100, dedup_key=key))
    assert await storage.outbox.enqueue(message(-100, "again", dedup_key=key)) is None
    other_chat = await storage.outbox.enqueue(message(-200, dedup_key=key))
    no_key = [await storage.outbox.enqueue(message(-100)) for _ in range(2)]  # never deduped
    ids = [first, other_chat, *no_key]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(set(ids))  # (a refused insert may use up an id: gaps are fine)
    assert await storage.outbox.backlog() == 4
    texts = [m.text for m in await storage.outbox.due(T0) if m.chat_id == -100]
    assert texts == ["hi", "hi", "hi"]


async def test_due_filters_by_next_attempt_and_orders_oldest_first(storage: Storage) -> None:
    await storage.outbox.enqueue(message(text="later", created_at=T0 + 2 * SECOND))
    await storage.outbox.enqueue(message(text="first", created_at=T0))
    await storage.outbox.enqueue(
        message(text="scheduled", created_at=T0 - SECOND, next_attempt_at=T0 + 10 * SECOND)
    )
    await storage.outbox.enqueue(message(text="second", created_at=T0 + SECOND))
    assert [m.text for m in await storage.outbox.due(T0 + 2 * SECOND)] == [
        "first",
        "second",
        "later",
    ]
    assert [m.text for m in await storage.outbox.due(T0 + 2 * SECOND, limit=2)] == [
        "first",
        "second",
    ]
    at_ten = await storage.outbox.due(T0 + 10 * SECOND)  # next_attempt_at == now is due
    assert [m.text for m in at_ten] == ["scheduled", "first", "second", "later"]


async def test_retry_counts_attempts_and_waits(storage: Storage) -> None:
    message_id = await storage.outbox.enqueue(message(created_at=T0))
    assert message_id is not None
    await storage.outbox.mark_retry(message_id, T0 + 30 * SECOND, "Retry after 30")
    await storage.outbox.mark_retry(message_id, T0 + 90 * SECOND, "network down")
    assert await storage.outbox.due(T0 + 89 * SECOND) == []
    [again] = await storage.outbox.due(T0 + 90 * SECOND)
    assert (again.attempts, again.last_error, again.next_attempt_at) == (
        2,
        "network down",
        T0 + 90 * SECOND,
    )
    assert await storage.outbox.backlog() == 1


async def test_sent_and_dead_leave_the_queue(storage: Storage) -> None:
    sent = await storage.outbox.enqueue(message(text="sent", created_at=T0))
    dead = await storage.outbox.enqueue(message(text="dead", created_at=T0))
    future = await storage.outbox.enqueue(message(text="future", next_attempt_at=T0 + SECOND))
    assert None not in (sent, dead, future)
    assert await storage.outbox.backlog() == 3  # counts messages not due yet too
    await storage.outbox.mark_sent(sent, T0 + SECOND)  # type: ignore[arg-type]
    await storage.outbox.mark_dead(dead, "Bad Request: chat not found")  # type: ignore[arg-type]
    assert await storage.outbox.backlog() == 1
    assert [m.text for m in await storage.outbox.due(T0 + 60 * SECOND)] == ["future"]
    row = await storage.db.fetchone(
        "SELECT dead, attempts, last_error, sent_ms FROM outbox WHERE id = ?", (dead,)
    )
    assert row == (1, 1, "Bad Request: chat not found", None)
    sent_row = await storage.db.fetchone("SELECT sent_ms FROM outbox WHERE id = ?", (sent,))
    assert sent_row == (1_704_164_646_000,)  # 2024-01-02T03:04:06Z in epoch ms


@pytest.mark.parametrize("mark", ["sent", "retry", "dead"])
async def test_marking_an_unknown_message_raises(storage: Storage, mark: str) -> None:
    with pytest.raises(StorageError, match="no outbox message with id 404"):
        if mark == "sent":
            await storage.outbox.mark_sent(404, T0)
        elif mark == "retry":
            await storage.outbox.mark_retry(404, T0, "x")
        else:
            await storage.outbox.mark_dead(404, "x")


async def test_prune_deletes_only_old_delivered_and_dead_messages(storage: Storage) -> None:
    day = timedelta(days=1)
    old_sent = await storage.outbox.enqueue(message(text="old sent", photo=PNG, created_at=T0))
    new_sent = await storage.outbox.enqueue(message(text="new sent", created_at=T0))
    old_dead = await storage.outbox.enqueue(message(text="old dead", created_at=T0))
    new_dead = await storage.outbox.enqueue(message(text="new dead", created_at=T0 + 40 * day))
    waiting = await storage.outbox.enqueue(message(text="waiting", created_at=T0))  # ancient
    await storage.outbox.mark_sent(old_sent, T0 + day)  # type: ignore[arg-type]
    await storage.outbox.mark_sent(new_sent, T0 + 35 * day)  # type: ignore[arg-type]
    await storage.outbox.mark_dead(old_dead, "Forbidden: bot was blocked")  # type: ignore[arg-type]
    await storage.outbox.mark_dead(new_dead, "Forbidden: bot was blocked")  # type: ignore[arg-type]

    assert await storage.outbox.prune(T0 + 30 * day) == 2
    rows = await storage.db.fetchall("SELECT id FROM outbox ORDER BY id")
    assert [r[0] for r in rows] == [new_sent, new_dead, waiting]
    assert await storage.outbox.backlog() == 1  # the waiting message is still delivered
    assert await storage.outbox.prune(T0 + 30 * day) == 0


async def test_a_held_message_waits_for_its_chart_and_holds_back_its_chat_only(
    storage: Storage,
) -> None:
    fill = await storage.outbox.enqueue(message(text="filled", created_at=T0, held=True))
    later = await storage.outbox.enqueue(message(text="breaker", created_at=T0 + SECOND))
    other = await storage.outbox.enqueue(message(chat_id=-7, text="x", created_at=T0 + SECOND))
    # The fill is not sent, and the same chat's later message waits behind it.
    assert [m.id for m in await storage.outbox.due(T0 + 60 * SECOND)] == [other]
    assert await storage.outbox.backlog() == 3

    assert await storage.outbox.attach([fill], PNG) == 1  # type: ignore[list-item]
    due = await storage.outbox.due(T0 + 60 * SECOND)
    assert [(m.id, m.photo, m.held) for m in due] == [
        (fill, PNG, False),
        (later, None, False),
        (other, None, False),
    ]
    assert await storage.outbox.attach([fill], b"again") == 0  # type: ignore[list-item]
    [first] = await storage.outbox.due(T0 + 60 * SECOND, limit=1)
    assert first.photo == PNG  # attaching is once


async def test_a_chart_that_could_not_be_drawn_still_releases_the_text(storage: Storage) -> None:
    held = await storage.outbox.enqueue(message(text="closed", photo=None, held=True))
    assert await storage.outbox.attach([held], None) == 1  # type: ignore[list-item]
    [due] = await storage.outbox.due(T0 + 60 * SECOND)
    assert (due.text, due.photo) == ("closed", None)
    assert await storage.outbox.attach([], PNG) == 0


async def test_start_up_releases_what_a_stop_left_held(storage: Storage) -> None:
    await storage.outbox.enqueue(message(text="a", created_at=T0, held=True))
    await storage.outbox.enqueue(message(text="b", created_at=T0, held=True, chat_id=-2))
    assert await storage.outbox.due(T0 + SECOND) == []
    assert await storage.outbox.release_held() == 2
    assert [m.text for m in await storage.outbox.due(T0 + SECOND)] == ["a", "b"]
    assert await storage.outbox.release_held() == 0
