"""Test rig for the chat interface: a paper Core on a temporary SQLite file (replayed gold M15
bars on a ``SimClock``), the one process-wide Dispatcher, and a running bot against the fake
Telegram Bot API on loopback.

The dispatcher is built once per process (``shared_dispatcher``): its routers are module-level
and attach once. Each test gets a fresh Core, workflow data and bot session. The Core is
started (windows seeded from the history before ``REPLAY_FROM``) and priced by one bar through
the paper broker, without trader cycles, so nothing trades unless a test asks for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher

from bot.app import EngineRunner, build_bot, build_dispatcher, workflow_data
from bot.i18n import build_i18n
from bot.middlewares import TokenBucket
from bot.wiring import Core, build_core
from engine.clock import SimClock
from engine.config import Settings, load_settings
from engine.models import Bar
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_types import Call, TgUser

ADMIN, TRADER, VIEWER, STRANGER = 1001, 1002, 1003, 1009
GROUP = -1001234567890
REPLAY_FROM = datetime(2019, 6, 4, 13, tzinfo=UTC)  # a Tuesday, London and New York open


@functools.cache
def _dispatcher() -> Dispatcher:
    return build_dispatcher(build_i18n())


def shared_dispatcher() -> Dispatcher:
    """The process's one Dispatcher, ready to poll on the current event loop.

    aiogram keeps the polling stop events (and its running lock) on the Dispatcher and
    reuses them, so they stay bound to the first test's loop; pytest-asyncio gives every test
    a new loop. Between tests nothing is polling, so fresh ones are safe.
    """
    dp = _dispatcher()
    assert not dp._running_lock.locked(), "the shared dispatcher is still polling"
    dp._running_lock = asyncio.Lock()
    dp._stop_signal = dp._stopped_signal = None
    return dp


def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.chdir(tmp_path)  # no stray .env
    values = {
        "DB_PATH": str(tmp_path / "bot.db"),
        "DATA_DIR": str(tmp_path),
        "TELEGRAM_ADMIN_IDS": str(ADMIN),
        "TELEGRAM_TRADER_IDS": str(TRADER),
        "TELEGRAM_VIEWER_IDS": str(VIEWER),
        "MAX_OPEN_POSITIONS": "2",
        **env,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return load_settings(None)


async def paper_core(settings: Settings) -> Core:
    """A started replay Core quoted at the first replayed bar's close (clock at that close)."""
    core = await build_core(settings, replay=True, speed=1e9, replay_from=REPLAY_FROM)
    await core.start()
    await quote_next_bar(core)
    return core


async def quote_next_bar(core: Core) -> Bar:
    """Price the paper broker with the next replayed bar (no trader cycle runs)."""
    symbol = core.settings.trading.symbols[0]
    bar = await anext(core.feed.closed_bars(symbol, core.settings.trading.timeframe))
    clock = core.clock
    assert isinstance(clock, SimClock)
    clock.advance_to(max(clock.now(), bar.close_time))
    await core.broker.on_bar(bar)
    return bar


def advance(core: Core, seconds: float) -> None:
    clock = core.clock
    assert isinstance(clock, SimClock)
    clock.advance_to(clock.now() + timedelta(seconds=seconds))


@dataclass
class Rig:
    """A bot polling the fake Telegram with the real dispatcher over a paper Core."""

    telegram: FakeTelegram
    core: Core
    bot: Bot
    data: dict[str, Any]
    dp: Dispatcher
    users: dict[int, TgUser] = field(default_factory=dict)
    polling: asyncio.Task[None] | None = None

    @property
    def admin(self) -> TgUser:
        return self.users[ADMIN]

    @property
    def trader(self) -> TgUser:
        return self.users[TRADER]

    @property
    def viewer(self) -> TgUser:
        return self.users[VIEWER]

    @property
    def stranger(self) -> TgUser:
        return self.users[STRANGER]

    async def ask(self, user: TgUser, text: str, *, chat_id: int | None = None) -> list[Call]:
        """Send ``text`` as ``user`` and wait until the bot has answered that update: the
        messages, photos and edits it sent to the chat in response, in order."""
        before = len(self.telegram.calls())
        update = self.telegram.send_text(user, text, chat_id)
        return await self.answered(update["update_id"], before)

    async def press(self, user: TgUser, message: Call, data: str) -> list[Call]:
        """Press the button with ``data`` on the bot's ``message`` as ``user``; the replies."""
        before = len(self.telegram.calls())
        _, update = self.telegram.updates.press_button(user, message, data)
        return await self.answered(update["update_id"], before)

    async def answered(self, update_id: int, before: int) -> list[Call]:
        """Wait until the bot confirmed ``update_id`` (its next getUpdates carries a higher
        offset; polling handles one update at a time here, so the handler has finished), then
        return the replies since ``before``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10.0
        while any(u["update_id"] <= update_id for u in self.telegram.updates.updates):
            if loop.time() > deadline:
                raise AssertionError(f"update {update_id} was not handled within 10 s")
            await asyncio.sleep(0.002)
        return self.replies(before)

    def replies(self, before: int) -> list[Call]:
        kinds = ("sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup")
        return [c for c in self.telegram.calls()[before:] if c.method in kinds and c.ok]


def texts(calls: list[Call]) -> list[str]:
    """What the user sees of each reply (text after HTML parsing, or a photo's caption)."""
    return [c.result.get("text") or c.result.get("caption") or "" for c in calls]


@contextlib.asynccontextmanager
async def running_bot(
    telegram: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    throttle: TokenBucket | None = None,
    concurrent: bool = False,
    engine: bool = False,
    max_bars: int | None = None,
    **env: str,
) -> AsyncIterator[Rig]:
    """A started Core and bot polling ``telegram``; everything closed afterwards."""
    env = {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE": telegram.base_url, **env}
    settings = settings_for(tmp_path, monkeypatch, **env)
    core = await paper_core(settings)
    try:
        bucket = throttle or TokenBucket(rate=1000, burst=1000)
        # With ``engine`` the startup hook runs the trader loop over the replay (as `run` does).
        runner = EngineRunner(core, max_bars=max_bars) if engine else None
        data = workflow_data(core, throttle=bucket, engine=runner)
        await data["access"].bootstrap(core.clock.now())
        bot = build_bot(settings.telegram)
        dp = shared_dispatcher()
        rig = Rig(telegram, core, bot, data, dp)
        for user_id, name, lang in (
            (ADMIN, "Ada", "en"),
            (TRADER, "Tom", "en"),
            (VIEWER, "Vic", "en"),
            (STRANGER, "Eve", "en"),
        ):
            rig.users[user_id] = telegram.user(user_id, name, lang, username=name.lower())
        # One update at a time unless a test wants aiogram's concurrent handling (double press).
        async with listening(dp, bot, telegram, handle_as_tasks=concurrent, **data) as task:
            rig.polling = task
            yield rig
    finally:
        await core.close()


@contextlib.asynccontextmanager
async def listening(
    dp: Dispatcher, bot: Bot, telegram: FakeTelegram, **kwargs: Any
) -> AsyncIterator[asyncio.Task[None]]:
    """Poll ``telegram`` with ``dp`` inside the block: returns as soon as the first long poll
    waits on the server (``tests.fakes.telegram_polling.polling`` waits for that poll to be
    answered, a second per rig), and stops polling (shutdown hooks included) on exit."""
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, polling_timeout=1, **kwargs)
    )
    waiting = asyncio.create_task(telegram.wait_polling(timeout=10))
    try:
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            await task
            raise AssertionError("polling stopped before its first getUpdates")
        await waiting
        yield task
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        if not task.done():
            await dp.stop_polling()
        await task


def keyboard_data(call: Call) -> list[str]:
    rows = (call.result or {}).get("reply_markup", {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def replay_press(telegram: FakeTelegram, user: TgUser, message: Call, data: str) -> int:
    """Queue a callback query with ``data`` as if pressed on ``message`` as it was first sent
    (a replayed or stale press, even after its buttons were removed); returns the update id."""
    query_id = f"99{len(telegram.calls())}{user.id}"
    telegram.state.pending_callbacks.add(query_id)
    query = {
        "id": query_id,
        "from": user.to_json(),
        "message": dict(message.result),
        "chat_instance": "replay",
        "data": data,
    }
    return int(telegram.queue_update({"callback_query": query})["update_id"])


def audit_outcomes(rows: list[Any], action: str) -> list[str]:
    """Outcomes of the audit rows for ``action`` (oldest first)."""
    return [row.outcome for row in reversed(rows) if row.action == action]
