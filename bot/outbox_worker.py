"""Delivering the notification outbox to Telegram: retried with backoff, each message once.

``OutboxWorker.run`` loops: take the due messages (oldest first), send each (a photo as a
``BufferedInputFile`` with the text as its caption), and record the outcome in SQLite:

* sent: ``mark_sent``; a restart never sends it again (the row says so);
* ``TelegramRetryAfter`` (429): ``mark_retry`` at now + ``retry_after`` exactly as Telegram
  asked, and the worker sends nothing at all until then (flood limits are per bot, and a later
  message overtaking this one would arrive out of order);
* ``TelegramForbiddenError`` (403, the bot was blocked or removed from the chat): dead, logged;
* ``TelegramBadRequest``/``TelegramNotFound`` (400/404: chat not found, bad HTML) and a photo
  too large: dead letter, logged with the message id and Telegram's description;
  ``TelegramMigrateToChat``: dead, logged with the new chat id to put in the settings;
* network errors, 5xx and anything else: ``mark_retry`` with exponential backoff
  (``Backoff``: 5 s doubling to 15 min); the rest of that chat's messages wait so the chat
  keeps its order, and after a network error the pass ends (the link is likely down). After
  ``give_up_after`` failed attempts (about six hours) the message is dead.

How this stacks with ``bot.retry.RetryMiddleware`` on the same Bot session: the middleware
sits below, inside each request. It sleeps through a 429 of at most ``max_wait`` (60 s) and
repeats the call (up to 3 tries), and resends a message once after a dropped connection; only
what it gives up on reaches the worker: longer flood waits, a third 429, a second network
error. So the worker's waits are the long ones and are stored (they survive a restart), while
short hiccups cost one request's latency. A send that dropped after Telegram acted may show
twice (at least once, never silently lost); everything the worker recorded as sent is never
sent again.

``flush(timeout)`` delivers what is due before shutdown and stops at the deadline; what is left
stays in SQLite and goes out after the next start. Time comes from ``clock`` (wall time, even
when the engine replays old dates), waiting from ``sleep``; both injectable for tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile

from bot.html_split import CAPTION_LIMIT, split_html, utf16_len
from bot.redact import scrub
from engine.models import OutboxMessage
from engine.ports import Clock, OutboxRepo

log = logging.getLogger("chattrader.outbox")

Sleep = Callable[[float], Awaitable[object]]
ERROR_MAX = 300  # characters of an error kept in the outbox row


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds before retry ``n`` (1-based) after a transient failure: ``first`` doubling up to
    ``cap``; dead after ``give_up_after`` failed attempts (defaults: about 6 hours)."""

    first: float = 5.0
    cap: float = 900.0
    give_up_after: int = 30

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * 2 ** max(failures - 1, 0))


@dataclass(frozen=True, slots=True)
class Pass:
    """What one delivery pass did (counts of messages)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


class OutboxWorker:
    """Sends due outbox messages through ``bot`` and records each outcome in ``outbox``."""

    def __init__(
        self,
        bot: Bot,
        outbox: OutboxRepo,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        idle: float = 1.0,
        batch: int = 50,
        backoff: Backoff | None = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.clock = clock
        self.idle = idle
        self.batch = batch
        self.backoff = backoff or Backoff()
        self.paused_until: datetime | None = None  # after a 429: nothing is sent before this
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._finishing = False

    def wake(self) -> None:
        """Deliver now rather than at the next idle tick (the notifier calls it)."""
        self._wake.set()

    async def deliver_due(self) -> Pass:
        """One pass over the messages due now; returns what happened to them."""
        now = self.clock.now()
        if self.paused_until is not None and now < self.paused_until:
            return Pass()
        self.paused_until = None
        sent = retried = dead = 0
        held: set[int] = set()  # chats whose earlier message must go first
        for message in await self.outbox.due(now, self.batch):
            if message.chat_id in held:
                continue
            assert message.id is not None
            outcome = await self._deliver(message)
            if outcome == "sent":
                sent += 1
            elif outcome == "dead":
                dead += 1
            else:
                retried += 1
                held.add(message.chat_id)
                if outcome == "stop":
                    break
        return Pass(sent, retried, dead)

    async def _deliver(self, message: OutboxMessage) -> str:
        """Send one message and record the outcome: "sent", "dead", "retry" or "stop" (retry,
        and nothing more this pass)."""
        assert message.id is not None
        try:
            await self._send(message)
        except TelegramRetryAfter as exc:
            until = self.clock.now() + timedelta(seconds=exc.retry_after)
            self.paused_until = until
            log.warning(
                "outbox %s: Telegram flood limit, retrying after %s s", message.id, exc.retry_after
            )
            await self.outbox.mark_retry(message.id, until, _error(exc))
            return "stop"
        except TelegramForbiddenError as exc:
            log.warning("outbox %s: chat %s blocked the bot: %s", message.id, message.chat_id, exc)
            await self.outbox.mark_dead(message.id, _error(exc))
            return "dead"
        except TelegramMigrateToChat as exc:
            log.error(
                "outbox %s: chat %s is now %s; put the new id in TELEGRAM_NOTIFY_CHAT_IDS",
                message.id,
                message.chat_id,
                exc.migrate_to_chat_id,
            )
            await self.outbox.mark_dead(message.id, _error(exc))
            return "dead"
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as exc:
            log.error(
                "outbox %s to chat %s refused, not retried (dead letter): %s",
                message.id,
                message.chat_id,
                scrub(str(exc)),
            )
            await self.outbox.mark_dead(message.id, _error(exc))
            return "dead"
        except TelegramNetworkError as exc:
            return await self._transient(message, exc, stop=True)
        except TelegramAPIError as exc:  # 5xx, 401, 409 ...
            return await self._transient(message, exc, stop=False)
        except Exception as exc:
            log.exception("outbox %s: unexpected failure while sending", message.id)
            return await self._transient(message, exc, stop=False)
        await self.outbox.mark_sent(message.id, self.clock.now())
        return "sent"

    async def _transient(self, message: OutboxMessage, exc: Exception, *, stop: bool) -> str:
        assert message.id is not None
        failures = message.attempts + 1
        if failures >= self.backoff.give_up_after:
            log.error(
                "outbox %s to chat %s: giving up after %d attempts: %s",
                message.id,
                message.chat_id,
                failures,
                _error(exc),
            )
            await self.outbox.mark_dead(message.id, _error(exc))
            return "dead"
        delay = self.backoff.delay(failures)
        log.warning(
            "outbox %s: %s; attempt %d failed, retrying in %g s",
            message.id,
            _error(exc),
            failures,
            delay,
        )
        until = self.clock.now() + timedelta(seconds=delay)
        await self.outbox.mark_retry(message.id, until, _error(exc))
        return "stop" if stop else "retry"

    async def _send(self, message: OutboxMessage) -> None:
        if message.photo is not None:
            caption = message.text
            if utf16_len(caption) > CAPTION_LIMIT:
                caption = split_html(caption, CAPTION_LIMIT)[0]
            photo = BufferedInputFile(message.photo, filename=f"{message.kind}.png")
            await self.bot.send_photo(message.chat_id, photo, caption=caption)
            return
        for part in split_html(message.text):
            await self.bot.send_message(message.chat_id, part)

    def finish(self) -> None:
        """Ask ``run`` to return after the pass in progress (a send is never cut in half:
        a request aborted mid-way may have reached Telegram and would then be sent twice)."""
        self._finishing = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled or ``finish``: after each pass wait for ``wake``, ``idle``
        seconds, or the end of a flood-limit pause, whichever comes first."""
        while not self._finishing:
            self._wake.clear()  # a wake during the pass below makes another pass at once
            try:
                done = await self.deliver_due()
            except Exception:  # the database hiccupped: try again on the next tick
                log.exception("outbox delivery pass failed")
                done = Pass()
            if self._finishing:
                return
            if done.sent + done.dead + done.retried >= self.batch:
                continue  # a full batch: more may be due
            await self._wait()

    async def _wait(self) -> None:
        seconds = self.idle
        if self.paused_until is not None:  # a wake in a flood pause finds nothing to send
            seconds = max(seconds, (self.paused_until - self.clock.now()).total_seconds())
        waiter = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, sleeper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def flush(self, timeout: float) -> Pass:
        """Deliver what is due now, for at most ``timeout`` seconds (shutdown). Messages
        waiting for a retry stay stored for the next start."""
        total = Pass()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    done = await self.deliver_due()
                    total = Pass(
                        total.sent + done.sent,
                        total.retried + done.retried,
                        total.dead + done.dead,
                    )
                    if done.sent + done.dead == 0:
                        break
        left = await self.outbox.backlog()
        if left:
            log.info("outbox: %d notification(s) left for the next start", left)
        return total


def _error(exc: BaseException) -> str:
    return scrub(f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
