"""Calendar reminders: NEWS_REMIND_MINUTES before each important release for the traded
symbols' currencies, every notification chat gets one message (kind ``news``).

Only a ``CachedCalendar`` can remind (it records each reminder in SQLite before returning it,
so a restart never repeats one); with no calendar configured there is nothing to do. The
importance threshold is the news gate's (NEWS_MIN_IMPORTANCE).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from bot.notifier import Notifier
from engine.calendar import CachedCalendar
from engine.models import Importance
from engine.ports import Clock

log = logging.getLogger("chattrader.notify")

Sleep = Callable[[float], Awaitable[object]]


def currencies_of(by_symbol: Mapping[str, frozenset[str] | None]) -> frozenset[str] | None:
    """Every currency of the traded symbols; None (all) when a symbol's are unknown."""
    found: set[str] = set()
    for currencies in by_symbol.values():
        if currencies is None:
            return None
        found |= currencies
    return frozenset(found)


class NewsReminders:
    """Asks the calendar every ``every`` seconds for releases starting within ``lead``."""

    def __init__(
        self,
        notifier: Notifier,
        calendar: CachedCalendar,
        clock: Clock,
        lead: timedelta,
        *,
        currencies: frozenset[str] | None = None,
        min_importance: Importance = Importance.HIGH,
        every: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if lead <= timedelta(0):
            msg = f"a reminder lead must be positive, got {lead}"
            raise ValueError(msg)
        self.notifier = notifier
        self.calendar = calendar
        self.clock = clock
        self.lead = lead
        self.currencies = currencies
        self.min_importance = min_importance
        self.every = every
        self._sleep = sleep

    async def check(self) -> int:
        """Enqueue a reminder for every release now due; returns messages stored."""
        due = await self.calendar.due_reminders(
            self.clock.now(),
            self.lead,
            currencies=self.currencies,
            min_importance=self.min_importance,
        )
        stored = 0
        for event in due:
            stored += await self.notifier.send(self.notifier.news_note(event))
        return stored

    async def run(self) -> None:
        """``check`` every ``every`` seconds until cancelled (failures logged, retried)."""
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("calendar reminders failed")
            await self._sleep(self.every)
