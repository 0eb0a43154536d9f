"""Console mode: the chat in a terminal, no Telegram account needed.

``chattrader console`` (or ``chattrader run`` with no token, on a terminal) starts the paper
engine and opens a local chat: each typed line becomes a Telegram ``Update`` fed to the same
dispatcher, middlewares and handlers as the real bot (``Dispatcher.feed_update``); replies are
printed as plain text, photos and documents are saved under ``DATA_DIR/console/`` with their
paths printed, and an inline keyboard's buttons are numbered: typing a number presses that
button of the last keyboard shown. Notifications (fills with their chart, closes, breaker ...)
reach the console through the same outbox. Nothing touches the network
(``bot.console_session.ConsoleSession`` answers every Bot API call).

The person at the keyboard is the first TELEGRAM_ADMIN_IDS user, or else a local admin (user
id 1) that exists only while the console runs. /quit, Ctrl+D or Ctrl+C leave; the engine
stops cleanly and the outbox is flushed on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import Update

from bot.access import Access, pinned_roles
from bot.app import EngineRunner, build_dispatcher, workflow_data
from bot.console_session import ConsoleSession
from bot.i18n import _, build_i18n, localized
from bot.notifications import Notifications

if TYPE_CHECKING:
    from bot.wiring import Core

LOCAL_ADMIN = 1  # the console's own admin when no TELEGRAM_ADMIN_IDS is configured
CONSOLE_TOKEN = "1:console"  # never sent anywhere: the session has no network
QUIT = frozenset({"/quit", "/exit", "quit", "exit"})


class Console:
    """Feeds typed lines to ``dp`` as updates from ``user_id`` in their private chat."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        session: ConsoleSession,
        data: dict[str, Any],
        *,
        user_id: int,
        name: str,
        language: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.session = session
        self.data = data
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": name,
            "language_code": language,
        }
        self._now = now
        self._updates = itertools.count(1)

    def _update(self, payload: dict[str, Any]) -> Update:
        body = {"update_id": next(self._updates), **payload}
        return Update.model_validate(body, context={"bot": self.bot})

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; False when the person wants to leave."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in QUIT:
            return False
        button = next((b for b in self.session.pressable if str(b.number) == text), None)
        if button is not None:
            message = self.session.messages[button.message_id]
            self.session.out.write(f"> {button.label}\n")
            query = {
                "id": str(next(self._updates)),
                "from": self.user,
                "message": message,
                "chat_instance": "console",
                "data": button.data,
            }
            update = self._update({"callback_query": query})
        else:
            message = {
                "message_id": -next(self._updates),  # the person's own messages: no clash
                "date": int(self._now()),
                "chat": self.session.chat,
                "from": self.user,
                "text": text,
            }
            update = self._update({"message": message})
        await self.dp.feed_update(self.bot, update, **self.data)
        return True

    async def run(self, lines: AsyncIterator[str], stop: asyncio.Event) -> None:
        """Handle ``lines`` one at a time until they end, a quit word, or ``stop``."""
        stopper = asyncio.ensure_future(stop.wait())
        try:
            while True:
                reading = asyncio.ensure_future(anext(lines, None))
                await asyncio.wait({reading, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    return
                line = reading.result()
                if line is None or not await self.handle_line(line):
                    return
        finally:
            stopper.cancel()


async def stdin_lines(stream: TextIO | None = None) -> AsyncIterator[str]:
    """Lines typed on ``stream`` (stdin), read by a daemon thread so that leaving never
    waits for a last Enter, on any platform."""
    source = stream or sys.stdin
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in iter(source.readline, ""):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop closed: nobody is reading any more
                return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line


async def run_console(
    core: Core,
    lines: AsyncIterator[str],
    out: TextIO,
    *,
    engine: EngineRunner | None,
    dispatcher: Dispatcher | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """The local chat on a started ``core`` until the person leaves; ``engine`` (the trading
    loop) starts with the chat and stops cleanly before the outbox is flushed."""
    settings = core.settings
    t = settings.telegram
    locale = settings.app.default_lang
    i18n = build_i18n(locale)
    user_id = t.admin_ids[0] if t.admin_ids else LOCAL_ADMIN
    local_admin = not t.admin_ids
    chat = {"id": user_id, "type": "private", "first_name": "console"}
    session = ConsoleSession(
        out, settings.app.data_dir / "console", chat=chat, i18n=i18n, locale=locale
    )
    bot = Bot(
        CONSOLE_TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML)
    )
    notifications = Notifications.build(core, i18n, targets=(user_id,))
    await notifications.catch_up()
    data = workflow_data(core, i18n=i18n, engine=engine, notifications=notifications)
    admins = t.admin_ids or (LOCAL_ADMIN,)
    # The console is a private chat of the person at the keyboard, whatever the allow-list.
    data["access"] = Access(
        core.storage.users, pinned=pinned_roles(admins, t.trader_ids, t.viewer_ids)
    )
    await data["access"].bootstrap(core.clock.now())
    dp = dispatcher or build_dispatcher(i18n)
    console = Console(dp, bot, session, data, user_id=user_id, name="console", language=locale)
    with localized(i18n, locale):
        out.write(banner(core.mode, user_id, Path(session.files)) + "\n")
        out.flush()
    await dp.emit_startup(bot=bot, dispatcher=dp, **data)
    stopping = stop or asyncio.Event()
    handled = _on_signals(stopping)
    try:
        await console.run(lines, stopping)
    finally:
        _off_signals(handled)
        await dp.emit_shutdown(bot=bot, dispatcher=dp, **data)
        if local_admin:
            await core.storage.users.remove(LOCAL_ADMIN)
        await bot.session.close()


def banner(mode: str, user_id: int, files: Path) -> str:
    """The console's first lines (in the current language)."""
    lines = [
        _("chattrader console: {mode}, no Telegram needed.").format(mode=mode),
        _("You are user {user} with the admin role. Type /help to begin.").format(user=user_id),
        _("Photos are saved under {folder}. /quit or Ctrl+D leaves.").format(folder=files),
    ]
    return "\n".join(lines)


def _on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl+C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    return handled


def _off_signals(handled: list[signal.Signals]) -> None:
    loop = asyncio.get_running_loop()
    for sig in handled:
        loop.remove_signal_handler(sig)


async def run_in_terminal(core: Core, *, max_bars: int | None, quiet: bool) -> None:
    """`chattrader console`, and `run` without a token on a terminal: the chat on stdin and
    stdout with the engine running. ``quiet`` keeps the terminal log to warnings (the chat
    already tells what happens; the JSON log file keeps every line)."""
    if quiet:
        for handler in logging.getLogger().handlers:
            if not isinstance(handler, logging.FileHandler):
                handler.setLevel(logging.WARNING)
    engine = EngineRunner(core, max_bars=max_bars)
    await run_console(core, stdin_lines(), sys.stdout, engine=engine)
