"""The trading loop as a task beside the chat (polling, webhook, console) or alone (headless).

``EngineRunner.start`` runs ``core.run`` as a task; ``on_end`` is awaited when the engine ends
by itself (its bars ran out, or it failed), so the chat stops too: a bot that answers while
nothing trades would mislead. ``stop`` waits for a cycle in progress, so no order is left half
recorded. Free of aiogram: headless ``chattrader run`` never loads the Telegram library.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.wiring import Core

log = logging.getLogger("chattrader.bot")


class EngineRunner:
    """Runs ``core.run`` as a task; ``stop`` waits for a cycle in progress."""

    def __init__(self, core: Core, *, max_bars: int | None = None) -> None:
        self.core = core
        self.max_bars = max_bars
        self.task: asyncio.Task[None] | None = None

    def start(self, on_end: Callable[[], Awaitable[None]] | None = None) -> None:
        self.task = asyncio.create_task(self.core.run(self.max_bars), name="engine")
        if on_end is not None:
            self.task.add_done_callback(lambda task: self._ended(task, on_end))

    def _ended(self, task: asyncio.Task[None], on_end: Callable[[], Awaitable[None]]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("the engine stopped with an error", exc_info=task.exception())
        else:
            log.info("the engine finished its bars; stopping the bot")
        asyncio.get_running_loop().create_task(on_end())

    async def stop(self) -> None:
        task = self.task
        if task is None or task.done():
            return
        async with self.core.trader.idle():  # no cycle is half done when we cancel
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
