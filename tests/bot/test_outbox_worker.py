"""The outbox worker against the fake Telegram Bot API on loopback, over a real SQLite outbox,
with the clock injected (next attempts are asserted as stored instants, never measured): sent
once and in order, photos as multipart PNG, 429 waited exactly ``retry_after`` with nothing
sent meanwhile (also when stacked on the request retry middleware), 403 and 400 dead, network
and server errors retried with doubling backoff while the chat keeps its order, giving up,
a restart in the middle of a backlog, flushing with a deadline, and waking the delivery loop."""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from pydantic import SecretStr

from bot.app import build_bot
from bot.outbox_worker import Backoff, OutboxWorker, Pass
from engine.clock import SimClock
from engine.config import TelegramSettings
from engine.models import OutboxMessage
from storage import Storage, open_storage
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_types import Call

T0 = datetime(2024, 5, 7, 10, 0, tzinfo=UTC)
ALICE, BOB, GROUP = 2001, 2002, -1002222


def png(width: int = 64, height: int = 48) -> bytes:
    """A valid grey RGB PNG (the fake decodes the header as Telegram would)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
    ) + chunk(b"IEND", b"")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    for user_id, name in ((ALICE, "Alice"), (BOB, "Bob")):
        server.user(user_id, name)
    server.group(GROUP)
    try:
        yield server
    finally:
        await server.stop()
    assert not server.internal_errors


@pytest.fixture
async def bot(telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """A plain Bot (no request retry middleware): the worker sees every failure."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(telegram.base_url), timeout=10)
    made = Bot(
        telegram.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )
    yield made
    await made.session.close()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
async def storage(tmp_path: Path, clock: SimClock) -> AsyncIterator[Storage]:
    opened = await open_storage(tmp_path / "outbox.db", clock)
    yield opened
    await opened.close()


async def put(storage: Storage, chat_id: int, text: str, photo: bytes | None = None) -> int:
    message_id = await storage.outbox.enqueue(
        OutboxMessage(chat_id, "fill", text, photo=photo, dedup_key=f"k:{chat_id}:{text}")
    )
    assert message_id is not None
    return message_id


async def row(storage: Storage, message_id: int) -> tuple[int, int | None, int, str]:
    """(attempts, next_attempt_ms, dead, last_error) as stored."""
    found = await storage.db.fetchone(
        "SELECT attempts, next_attempt_ms, dead, last_error FROM outbox WHERE id = ?",
        (message_id,),
    )
    assert found is not None
    return found[0], found[1], found[2], found[3]


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def statuses(calls: list[Call]) -> list[int]:
    return [c.status for c in calls]


async def test_due_messages_are_sent_once_in_order(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    for text in ("one", "<b>two</b>", "three"):
        await put(storage, ALICE, text)
    await put(storage, GROUP, "group")
    worker = OutboxWorker(bot, storage.outbox, clock)
    assert await worker.deliver_due() == Pass(sent=4)
    assert telegram.sent_texts(ALICE) == ["one", "two", "three"]  # HTML parsed by Telegram
    assert telegram.sent_texts(GROUP) == ["group"]
    assert await worker.deliver_due() == Pass()
    assert await storage.outbox.backlog() == 0
    assert len(telegram.calls("sendMessage")) == 4


async def test_a_long_text_goes_in_parts(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    lines = [f"line {i:04d} " + "x" * 90 for i in range(60)]  # 60 x 100 characters + breaks
    await put(storage, ALICE, "\n".join(lines))
    assert await OutboxWorker(bot, storage.outbox, clock).deliver_due() == Pass(sent=1)
    parts = telegram.sent_texts(ALICE)
    # 40 lines of 100 and 39 breaks are 4039 characters (a 41st would make 4140 > 4096);
    # the other 20 lines and 19 breaks are 2019.
    assert [len(p) for p in parts] == [4039, 2019]
    assert parts == ["\n".join(lines[:40]), "\n".join(lines[40:])]


async def test_a_photo_goes_as_a_multipart_png_with_its_caption(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    image = png()
    await put(storage, GROUP, "🟢 <b>Opened buy 0.12 XAUUSD</b>", photo=image)
    assert await OutboxWorker(bot, storage.outbox, clock).deliver_due() == Pass(sent=1)
    [call] = telegram.calls("sendPhoto")
    upload = call.file("photo")
    assert upload is not None
    assert (upload.filename, upload.data) == ("fill.png", image)
    assert call.result["caption"] == "🟢 Opened buy 0.12 XAUUSD"
    assert call.result["chat"]["id"] == GROUP


async def test_a_429_waits_exactly_retry_after_and_sends_nothing_meanwhile(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    first = await put(storage, ALICE, "first")
    await put(storage, BOB, "second")
    telegram.fail_next("sendMessage", status=429, retry_after=7)
    worker = OutboxWorker(bot, storage.outbox, clock)
    assert await worker.deliver_due() == Pass(retried=1)
    attempts, next_ms, dead, error = await row(storage, first)
    assert (attempts, next_ms, dead) == (1, ms(T0 + timedelta(seconds=7)), 0)
    assert error.startswith("TelegramRetryAfter: ") and "Retry in 7 seconds." in error
    assert worker.paused_until == T0 + timedelta(seconds=7)
    clock.advance_to(T0 + timedelta(seconds=6))
    assert await worker.deliver_due() == Pass()  # Bob's message waits too: no request at all
    assert statuses(telegram.calls("sendMessage")) == [429]
    clock.advance_to(T0 + timedelta(seconds=7))
    assert await worker.deliver_due() == Pass(sent=2)
    assert telegram.sent_texts(ALICE) == ["first"] and telegram.sent_texts(BOB) == ["second"]


async def test_stacked_on_the_retry_middleware_long_waits_reach_the_worker(
    telegram: FakeTelegram, storage: Storage, clock: SimClock
) -> None:
    cfg = TelegramSettings(token=SecretStr(telegram.token), api_base=telegram.base_url)
    retrying = build_bot(cfg)  # RetryMiddleware sleeps through 429s of at most 60 s itself
    try:
        message_id = await put(storage, ALICE, "after the flood")
        telegram.fail_next("sendMessage", status=429, retry_after=120)
        worker = OutboxWorker(retrying, storage.outbox, clock)
        assert await worker.deliver_due() == Pass(retried=1)
        assert statuses(telegram.calls("sendMessage")) == [429]  # not repeated inline
        assert (await row(storage, message_id))[1] == ms(T0 + timedelta(seconds=120))
    finally:
        await retrying.session.close()


async def test_a_blocked_chat_is_dead_and_the_others_still_get_theirs(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    blocked = await put(storage, ALICE, "to alice")
    await put(storage, BOB, "to bob")
    telegram.fail_next("sendMessage", status=403, where=lambda p: p.get("chat_id") == ALICE)
    assert await OutboxWorker(bot, storage.outbox, clock).deliver_due() == Pass(sent=1, dead=1)
    assert await row(storage, blocked) == (
        1,
        ms(T0),
        1,
        "TelegramForbiddenError: Telegram server says - Forbidden: bot was blocked by the user",
    )
    assert telegram.sent_texts(BOB) == ["to bob"]
    assert await storage.outbox.backlog() == 0


async def test_a_bad_request_is_a_logged_dead_letter(
    telegram: FakeTelegram,
    bot: Bot,
    storage: Storage,
    clock: SimClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = await put(storage, GROUP, "unparseable")
    telegram.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities")
    with caplog.at_level(logging.ERROR, logger="chattrader.outbox"):
        assert await OutboxWorker(bot, storage.outbox, clock).deliver_due() == Pass(dead=1)
    assert (await row(storage, bad))[2] == 1
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox {bad} to chat {GROUP} refused, not retried (dead letter): Telegram server "
        "says - Bad Request: can't parse entities"
    ]
    clock.advance_to(T0 + timedelta(days=1))
    assert await OutboxWorker(bot, storage.outbox, clock).deliver_due() == Pass()


async def test_a_dropped_connection_is_retried_with_doubling_backoff(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    first = await put(storage, ALICE, "through a flaky link")
    await put(storage, BOB, "queued behind it")
    telegram.drop_next("sendMessage", times=2)
    worker = OutboxWorker(bot, storage.outbox, clock)
    # The link is likely down: the pass stops after the failure (Bob's is not tried).
    assert await worker.deliver_due() == Pass(retried=1)
    assert (await row(storage, first))[:3] == (1, ms(T0 + timedelta(seconds=5)), 0)
    clock.advance_to(T0 + timedelta(seconds=5))
    assert await worker.deliver_due() == Pass(retried=1)
    assert (await row(storage, first))[:3] == (2, ms(T0 + timedelta(seconds=15)), 0)
    clock.advance_to(T0 + timedelta(seconds=15))
    assert await worker.deliver_due() == Pass(sent=2)
    assert telegram.sent_texts(ALICE) == ["through a flaky link"]
    assert telegram.sent_texts(BOB) == ["queued behind it"]
    assert statuses(telegram.calls("sendMessage")) == [0, 0, 200, 200]


async def test_a_server_error_holds_only_that_chat_in_order(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    await put(storage, ALICE, "alice 1")
    await put(storage, ALICE, "alice 2")
    await put(storage, BOB, "bob 1")
    telegram.fail_next("sendMessage", status=502, where=lambda p: p.get("chat_id") == ALICE)
    worker = OutboxWorker(bot, storage.outbox, clock)
    assert await worker.deliver_due() == Pass(sent=1, retried=1)
    assert telegram.sent_texts(BOB) == ["bob 1"]
    assert telegram.sent_texts(ALICE) == []  # "alice 2" never overtakes "alice 1"
    clock.advance_to(T0 + timedelta(seconds=5))
    assert await worker.deliver_due() == Pass(sent=2)
    assert telegram.sent_texts(ALICE) == ["alice 1", "alice 2"]


async def test_it_gives_up_after_the_attempt_limit(
    telegram: FakeTelegram, bot: Bot, storage: Storage, clock: SimClock
) -> None:
    message_id = await put(storage, ALICE, "never arrives")
    telegram.fail_next("sendMessage", status=500, times=3)
    worker = OutboxWorker(bot, storage.outbox, clock, backoff=Backoff(first=2, give_up_after=3))
    expected = [(1, 2), (2, 6)]  # retry after 2 s, then 4 s more; the 3rd failure is final
    for attempts, at in expected:
        assert await worker.deliver_due() == Pass(retried=1)
        assert (await row(storage, message_id))[:2] == (attempts, ms(T0 + timedelta(seconds=at)))
        clock.advance_to(T0 + timedelta(seconds=at))
    assert await worker.deliver_due() == Pass(dead=1)
    assert (await row(storage, message_id))[0::2] == (3, 1)
    assert Backoff().delay(1) == 5 and Backoff().delay(4) == 40 and Backoff().delay(30) == 900


async def test_a_restart_in_the_middle_of_a_backlog_sends_each_message_once(
    telegram: FakeTelegram, bot: Bot, tmp_path: Path, clock: SimClock
) -> None:
    path = tmp_path / "restart.db"
    texts = [f"message {i}" for i in range(5)]
    first = await open_storage(path, clock)
    try:
        for text in texts:
            await put(first, GROUP, text)
        assert await OutboxWorker(bot, first.outbox, clock, batch=2).deliver_due() == Pass(sent=2)
    finally:
        await first.close()  # the process stops here, three messages still waiting
    again = await open_storage(path, clock)
    try:
        for text in texts:  # the notifier storing the same facts again adds nothing
            stored = await again.outbox.enqueue(
                OutboxMessage(GROUP, "fill", text, dedup_key=f"k:{GROUP}:{text}")
            )
            assert stored is None
        worker = OutboxWorker(bot, again.outbox, clock)
        assert await worker.deliver_due() == Pass(sent=3)
        assert await worker.deliver_due() == Pass()
    finally:
        await again.close()
    assert telegram.sent_texts(GROUP) == texts


async def test_flush_delivers_what_is_due_and_stops_at_the_deadline(
    telegram: FakeTelegram,
    bot: Bot,
    storage: Storage,
    clock: SimClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(3):
        await put(storage, ALICE, f"due {i}")
    worker = OutboxWorker(bot, storage.outbox, clock, batch=2)
    assert await worker.flush(5.0) == Pass(sent=3)  # two passes: a full batch, then the rest
    await put(storage, BOB, "flooded")
    telegram.fail_next("sendMessage", status=429, retry_after=30)
    assert await worker.flush(5.0) == Pass(retried=1)  # waits for no flood pause
    assert await storage.outbox.backlog() == 1  # left for the next start
    clock.advance_to(T0 + timedelta(seconds=30))
    slow = OutboxWorker(bot, storage.outbox, clock)
    started = asyncio.Event()

    async def never_answers(_message: OutboxMessage) -> None:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(slow, "_send", never_answers)
    assert await slow.flush(0.05) == Pass()  # the deadline ends the wait; nothing marked
    assert started.is_set() and await storage.outbox.backlog() == 1


async def test_the_loop_delivers_on_wake_without_waiting_for_the_idle_tick(
    telegram: FakeTelegram,
    bot: Bot,
    storage: Storage,
    clock: SimClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = OutboxWorker(bot, storage.outbox, clock, idle=3600.0)
    passes: list[Pass] = []
    deliver = worker.deliver_due

    async def counted() -> Pass:
        done = await deliver()
        passes.append(done)
        return done

    monkeypatch.setattr(worker, "deliver_due", counted)
    task = asyncio.create_task(worker.run())
    try:
        while not passes:  # the first pass found nothing; the loop now waits an hour
            await asyncio.sleep(0.001)
        await put(storage, ALICE, "now")
        worker.wake()
        [call] = await telegram.wait_for("sendMessage", timeout=5)
        assert call.result["text"] == "now"
        while len(passes) < 2:  # the pass records the message as sent after the call
            await asyncio.sleep(0.001)
        assert passes == [Pass(), Pass(sent=1)]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_finish_lets_the_send_in_progress_complete(
    telegram: FakeTelegram,
    bot: Bot,
    storage: Storage,
    clock: SimClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    message_id = await put(storage, ALICE, "in flight")
    worker = OutboxWorker(bot, storage.outbox, clock, idle=3600.0)
    sending, release = asyncio.Event(), asyncio.Event()
    send = worker._send

    async def slow(message: OutboxMessage) -> None:
        sending.set()
        await release.wait()
        await send(message)

    monkeypatch.setattr(worker, "_send", slow)
    task = asyncio.create_task(worker.run())
    await sending.wait()
    worker.finish()  # shutdown arrives while the request is on its way
    release.set()
    await asyncio.wait_for(task, 5)  # run returned after recording the send
    assert telegram.sent_texts(ALICE) == ["in flight"]
    assert (await row(storage, message_id))[0::2] == (0, 0)
    assert await storage.outbox.backlog() == 0
