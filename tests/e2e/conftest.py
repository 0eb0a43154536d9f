"""Fixtures for end-to-end tests: a started fake Telegram Bot API server and aiogram bots
pointed at it over loopback HTTP (HTML parse mode by default, as the real bot is built)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from tests.fakes.telegram_api import FakeTelegram

BotFactory = Callable[..., Bot]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """A started FakeTelegram; stopped after the test, which fails if the fake itself broke."""
    server = FakeTelegram()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert not server.internal_errors, f"fake Telegram failed: {server.internal_errors!r}"


@pytest.fixture
async def make_bot(telegram: FakeTelegram) -> AsyncIterator[BotFactory]:
    """`make_bot(token=None, timeout=10.0)` → a Bot on the fake; sessions closed afterwards."""
    bots: list[Bot] = []

    def build(token: str | None = None, timeout: float = 10.0) -> Bot:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(telegram.base_url), timeout=timeout
        )
        bot = Bot(
            token or telegram.token,
            session=session,
            default=DefaultBotProperties(parse_mode=ParseMode.HTML),
        )
        bots.append(bot)
        return bot

    yield build
    for bot in bots:
        await bot.session.close()


@pytest.fixture
def bot(make_bot: BotFactory) -> Bot:
    """A Bot with the fake's token, pointed at the fake, parse_mode HTML."""
    return make_bot()
