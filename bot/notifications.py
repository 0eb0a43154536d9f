"""Everything that tells people what happened, assembled from a ``Core``: the notifier on the
engine's event bus, the outbox worker that delivers, the daily summary and calendar reminders.

``Notifications.build`` subscribes at once, so events are stored in the outbox from then on
even before a bot exists. The engine starts before that and may already have recorded
positions closed while the process was down (a stop loss hit overnight): ``catch_up()``
announces the trades closed since the notifications last ran (at most ``CATCH_UP_MAX``, from
the last ``CATCH_UP_SPAN``; nothing on the very first run, so an old history is not replayed
into the chat; dedup keys make a trade announced live never come twice). ``start(bot)`` runs
delivery, the two schedules and the outbox housekeeping (messages delivered more than
``OUTBOX_KEEP`` ago are deleted with their charts) as tasks (the dispatcher's startup hook
calls it); ``stop()`` ends them and flushes what is due within a bounded wait (the shutdown
hook calls it after the engine stopped, so no new event arrives).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.utils.i18n import I18n

from bot.daily_summary import DailySummary
from bot.notifier import ErrorBudget, Notifier
from bot.outbox_worker import OutboxWorker, Pass
from bot.reminders import NewsReminders, currencies_of
from bot.trade_charts import TradeCharts
from engine.calendar import CachedCalendar
from engine.clock import SystemClock
from engine.events import PositionClosed
from engine.models import Importance
from engine.ports import Clock
from storage.repos.chats import SqliteChatPrefsRepo

if TYPE_CHECKING:
    from bot.wiring import Core

log = logging.getLogger("chattrader.notify")

FLUSH_TIMEOUT_S = 5.0
SEEN_KEY = "notify.seen_until"  # StateRepo: when the notifications last ran (engine clock)
CATCH_UP_MAX = 20
CATCH_UP_SPAN = timedelta(days=7)
# Delivered messages are kept this long (for /diag and support), then deleted with their chart
# PNGs. Longer than CATCH_UP_SPAN, so a dedup key is never forgotten while it may recur.
OUTBOX_KEEP = timedelta(days=30)
HOUSEKEEPING_EVERY_S = 6 * 3600.0


@dataclass
class Notifications:
    core: Core
    notifier: Notifier
    summary: DailySummary | None = None
    reminders: NewsReminders | None = None
    worker: OutboxWorker | None = None
    delivery_clock: Clock = field(default_factory=SystemClock)
    idle: float = 1.0  # seconds between delivery passes when nothing wakes the worker
    delivery: asyncio.Task[None] | None = None  # the outbox worker's loop
    tasks: list[asyncio.Task[None]] = field(default_factory=list)  # summary and reminders

    @classmethod
    def build(
        cls, core: Core, i18n: I18n, *, targets: Iterable[int] | None = None, idle: float = 1.0
    ) -> Notifications:
        """The notifier subscribed to ``core.bus``, for ``targets`` (default: the settings'
        notification chats, else the admins' private chats)."""
        s = core.settings
        t = s.telegram
        chosen = tuple(targets) if targets is not None else (t.notify_chat_ids or t.admin_ids)
        notifier = Notifier(
            core.storage.outbox,
            SqliteChatPrefsRepo(core.storage.db),
            i18n,
            core.clock,
            targets=chosen,
            default_locale=s.app.default_lang,
            zone=s.app.tz,
            broker=core.broker,
            charts=TradeCharts(core.trader, core.storage.trades),
            errors=ErrorBudget(t.notify_errors_per_hour),
        )
        notifier.subscribe(core.bus)
        made = cls(core, notifier, idle=idle)
        if t.summary_time is not None:
            made.summary = DailySummary(
                notifier,
                core.service,
                core.storage.trades,
                core.storage.state,
                core.clock,
                s.app.tz,
                t.summary_time,
            )
        minutes = s.calendar.news_remind_minutes
        if isinstance(core.calendar, CachedCalendar) and minutes > 0:
            made.reminders = NewsReminders(
                notifier,
                core.calendar,
                core.clock,
                timedelta(minutes=minutes),
                currencies=currencies_of(core.trader.config.currencies),
                min_importance=Importance(s.calendar.news_min_importance),
            )
        if not chosen:
            log.warning(
                "no notification chats: set TELEGRAM_NOTIFY_CHAT_IDS or TELEGRAM_ADMIN_IDS"
            )
        return made

    async def catch_up(self) -> int:
        """Announce trades closed since the notifications last ran; returns messages stored."""
        # Charts this process is drawing get attached; what is still held was being drawn
        # when the process last stopped: it goes out as text.
        await self.notifier.drain()
        released = await self.core.storage.outbox.release_held()
        if released:
            log.info(
                "%d notification(s) held for a chart at the last stop: sent as text", released
            )
        state = self.core.storage.state
        now = self.core.clock.now()
        seen = await state.get(SEEN_KEY)
        stored = 0
        if isinstance(seen, str):
            since = max(datetime.fromisoformat(seen), now - CATCH_UP_SPAN)
            trades = await self.core.storage.trades.between(since, now + timedelta(milliseconds=1))
            for trade in sorted(trades, key=lambda t: t.closed_at)[-CATCH_UP_MAX:]:
                stored += await self.notifier.on_event(PositionClosed.of(trade))
        await state.set(SEEN_KEY, now.isoformat())
        if stored:
            log.info("%d notification(s) about trades closed while notifications were off", stored)
        return stored

    def start(self, bot: Bot) -> None:
        """Deliver through ``bot`` and run the schedules, as tasks of the running loop."""
        self.worker = OutboxWorker(
            bot, self.core.storage.outbox, self.delivery_clock, idle=self.idle
        )
        self.notifier.wake = self.worker.wake
        self.delivery = asyncio.create_task(self.worker.run(), name="outbox")
        if self.summary is not None:
            self.tasks.append(asyncio.create_task(self.summary.run(), name="daily-summary"))
        if self.reminders is not None:
            self.tasks.append(asyncio.create_task(self.reminders.run(), name="news-reminders"))
        self.tasks.append(asyncio.create_task(self._housekeeping(), name="outbox-housekeeping"))

    async def housekeep(self) -> int:
        """Delete outbox messages delivered (or dead) more than ``OUTBOX_KEEP`` ago."""
        pruned = await self.core.storage.outbox.prune(self.delivery_clock.now() - OUTBOX_KEEP)
        if pruned:
            log.info(
                "outbox: %d delivered or dead message(s) older than %s deleted",
                pruned,
                OUTBOX_KEEP,
            )
        return pruned

    async def _housekeeping(self) -> None:
        while True:
            try:
                await self.housekeep()
            except Exception:  # a locked or failing database must not end notifications
                log.exception(
                    "outbox housekeeping failed; next try in %.0f s", HOUSEKEEPING_EVERY_S
                )
            await asyncio.sleep(HOUSEKEEPING_EVERY_S)

    async def stop(self, flush_timeout: float = FLUSH_TIMEOUT_S) -> Pass:
        """End the schedules, let delivery finish its pass, then deliver what is due; all
        within about ``flush_timeout`` seconds. Remembers when notifications stopped."""
        with contextlib.suppress(ValueError):  # stopped twice
            self.notifier.unsubscribe(self.core.bus)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + flush_timeout
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Charts being drawn: attached before the last delivery pass (else sent as text later).
        if not await self.notifier.drain(max(deadline - loop.time(), 0.0)):
            log.warning("a notification chart was still being drawn at stop: sent as text later")
            self.notifier.abandon()
        flushed = Pass()
        if self.worker is not None:
            if self.delivery is not None:
                self.worker.finish()
                await asyncio.wait({self.delivery}, timeout=flush_timeout)
                if not self.delivery.done():  # a send hanging past the deadline
                    self.delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.delivery
                self.delivery = None
            flushed = await self.worker.flush(max(deadline - loop.time(), 0.0))
            log.info("outbox flushed: %d sent, %d dead", flushed.sent, flushed.dead)
        self.tasks.clear()
        self.notifier.wake = None
        await self.core.storage.state.set(SEEN_KEY, self.core.clock.now().isoformat())
        return flushed
