"""Retrying the bot's own Bot API calls: aiogram's session never retries by itself.

* 429 ``TelegramRetryAfter``: Telegram did not carry the call out, so any method is sent again
  after ``retry_after`` seconds, at most ``attempts`` times in all and only when the wait is at
  most ``max_wait`` (a longer flood ban is raised to the caller, never slept through).
* ``TelegramNetworkError`` (connection dropped, timeout): the call may or may not have reached
  Telegram. Only sending a message or a photo is tried once more: the worst case is the same
  reply twice (a confirmation card repeated carries the same one-shot nonce, so it can still act
  only once), which beats a lost answer. Edits and callback answers are not repeated.

``getUpdates`` is left alone: polling has its own backoff. The notifier's outbox keeps its own
retry policy on top; with this middleware it only sees 429s longer than ``max_wait``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import GetUpdates, SendMessage, SendPhoto, TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger("chattrader.bot")

Sleep = Callable[[float], Awaitable[Any]]
_RESENDABLE = (SendMessage, SendPhoto)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        attempts: int = 3,
        max_wait: float = 60.0,
        network_pause: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.network_pause = network_pause
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):
            return await make_request(bot, method)
        tries, network = 0, 0
        while True:
            tries += 1
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if tries >= self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.warning(
                    "%s hit Telegram's flood limit: retrying in %s s",
                    type(method).__name__,
                    exc.retry_after,
                )
                await self._sleep(exc.retry_after)
            except TelegramNetworkError:
                network += 1
                if network > 1 or not isinstance(method, _RESENDABLE):
                    raise
                log.warning("%s: network error, sending once more", type(method).__name__)
                await self._sleep(self.network_pause)
