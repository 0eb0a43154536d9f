"""Running an aiogram Dispatcher against the fake Telegram inside a test, and stopping it
cleanly: `async with polling(dp, bot, telegram): ...` starts `dp.start_polling` in a task
(no signal handlers, 1 s long polls), returns once the first getUpdates has arrived, and on
exit stops polling, which runs the shutdown hooks and closes the bot's session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiogram import Bot, Dispatcher

from tests.fakes.telegram_api import FakeTelegram


@asynccontextmanager
async def polling(
    dp: Dispatcher,
    bot: Bot,
    telegram: FakeTelegram,
    *,
    polling_timeout: int = 1,
    startup_timeout: float = 5.0,
    **kwargs: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """Poll `telegram` with `dp` for the duration of the block; yields the polling task.

    Extra keyword arguments go to `start_polling` (workflow data). A failure of the polling
    task (startup hook error, 401 on getMe) is raised here rather than hidden in the task.
    """
    polls_before = len(telegram.calls("getUpdates"))
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=polling_timeout, **kwargs)
    )
    first_poll = asyncio.create_task(
        telegram.wait_for("getUpdates", count=polls_before + 1, timeout=startup_timeout)
    )
    try:
        await asyncio.wait({task, first_poll}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            first_poll.cancel()
            await asyncio.gather(first_poll, return_exceptions=True)
            await task
            raise AssertionError("polling stopped before its first getUpdates")
        await first_poll
        yield task
    finally:
        if not first_poll.done():
            first_poll.cancel()
            await asyncio.gather(first_poll, return_exceptions=True)
        if not task.done():
            await dp.stop_polling()
        await task
