"""The request retry middleware: 429s waited out, network faults resent once for sends only."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, GetUpdates, SendMessage, TelegramMethod

from bot.retry import RetryMiddleware

BOT = Bot("42:TEST")


class Script:
    """make_request stand-in: raises the queued exceptions in order, then answers "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def flood(method: TelegramMethod[Any], seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(method, f"Too Many Requests: retry after {seconds}", seconds)


def retrying(slept: list[float], **kwargs: Any) -> RetryMiddleware:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryMiddleware(sleep=sleep, **kwargs)


SEND = SendMessage(chat_id=1, text="hi")


async def test_a_429_is_retried_after_the_wait_telegram_asks_for() -> None:
    slept: list[float] = []
    script = Script(flood(SEND, 3), flood(SEND, 1))
    assert await retrying(slept)(script, BOT, SEND) == "done"
    assert (script.calls, slept) == (3, [3, 1])


async def test_429_gives_up_after_the_attempts_or_a_long_ban() -> None:
    slept: list[float] = []
    with pytest.raises(TelegramRetryAfter):
        await retrying(slept, attempts=2)(Script(*[flood(SEND, 1)] * 3), BOT, SEND)
    assert slept == [1]
    with pytest.raises(TelegramRetryAfter):
        await retrying(slept, max_wait=30)(Script(flood(SEND, 31)), BOT, SEND)
    assert slept == [1]


async def test_network_errors_resend_a_message_once_only() -> None:
    slept: list[float] = []
    broken = TelegramNetworkError(SEND, "connection reset")
    assert await retrying(slept)(Script(broken), BOT, SEND) == "done"
    with pytest.raises(TelegramNetworkError):
        await retrying(slept)(Script(broken, broken), BOT, SEND)
    answer = AnswerCallbackQuery(callback_query_id="1")
    script = Script(TelegramNetworkError(answer, "reset"))
    with pytest.raises(TelegramNetworkError):
        await retrying(slept)(script, BOT, answer)  # a callback answer is never repeated
    assert script.calls == 1


async def test_polling_is_left_to_its_own_backoff() -> None:
    slept: list[float] = []
    poll = GetUpdates(timeout=1)
    script = Script(flood(poll, 1))
    with pytest.raises(TelegramRetryAfter):
        await retrying(slept)(script, BOT, poll)
    assert (script.calls, slept) == (1, [])
