"""The daily summary: once a day at DAILY_SUMMARY_TIME (wall time in DISPLAY_TZ) every
notification chat gets today's and yesterday's closed trades and net PnL, today's trades one
per line, balance and equity, open positions, and the breaker and pause state.

Once per day, across restarts: the local day last summarised is stored in the engine state
(``StateRepo`` key ``notify.daily_summary``), and the outbox key ``summary:<day>`` stops a
second copy even if the process dies between enqueueing and storing the day. A process that
was down at the set time sends the day's summary when it starts later that same day.
Days are the display zone's (the same boundaries as the daily risk counters).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import notify_text
from bot.notifier import Note, Notifier
from bot.prefs import NotifyKind
from engine.errors import EngineError
from engine.models import ClosedTrade
from engine.ports import Clock, StateRepo, TradeRepo
from engine.risk.periods import day_start, local_day
from engine.risk.state import RiskState
from engine.service import TradingService
from engine.views import DayPnl

log = logging.getLogger("chattrader.notify")

STATE_KEY = "notify.daily_summary"
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class DailyFigures:
    """What the summary says: two local days of PnL, today's trades (oldest first), the
    account (None while the broker is down) and the risk state."""

    today: DayPnl
    yesterday: DayPnl
    trades: tuple[ClosedTrade, ...]
    currency: str
    balance: float | None
    equity: float | None
    open_positions: int
    floating: float
    state: RiskState


class DailySummary:
    """Checks every ``every`` seconds whether today's summary is due and not yet sent."""

    def __init__(
        self,
        notifier: Notifier,
        service: TradingService,
        trades: TradeRepo,
        state: StateRepo,
        clock: Clock,
        zone: ZoneInfo,
        at: time,
        *,
        every: float = 30.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.notifier = notifier
        self.service = service
        self.trades = trades
        self.state = state
        self.clock = clock
        self.zone = zone
        self.at = at
        self.every = every
        self._sleep = sleep

    def due_at(self, day: date) -> datetime:
        """The UTC instant of ``at`` on the local ``day`` (a time skipped by a daylight-saving
        jump counts from the later offset)."""
        local = datetime.combine(day, self.at, tzinfo=self.zone)
        return local.astimezone(UTC)

    async def check(self) -> bool:
        """Send today's summary if it is due and was not sent; True when it was sent now."""
        now = self.clock.now()
        today = local_day(now, self.zone)
        if now < self.due_at(today):
            return False
        if await self.state.get(STATE_KEY) == today.isoformat():
            return False
        figures = await self.figures(now)
        note = Note(
            NotifyKind.SUMMARY,
            f"summary:{today.isoformat()}",
            lambda c: notify_text.summary(figures, c),
        )
        stored = await self.notifier.send(note)
        await self.state.set(STATE_KEY, today.isoformat())
        log.info("daily summary for %s stored for %d chat(s)", today, stored)
        return True

    async def figures(self, now: datetime) -> DailyFigures:
        """The numbers of the summary at ``now`` (trades from storage, so a broker outage
        leaves only the account figures unknown)."""
        today = local_day(now, self.zone)
        yesterday = today - timedelta(days=1)
        start = _midnight(yesterday, self.zone)
        trades = await self.trades.between(start, now + timedelta(milliseconds=1))
        by_day = {
            d: [t for t in trades if local_day(t.closed_at, self.zone) == d]
            for d in (yesterday, today)
        }
        status = await self.service.status()
        account = status.account
        currency = account.currency if account is not None else await self.notifier.currency()
        return DailyFigures(
            today=_day(today, by_day[today]),
            yesterday=_day(yesterday, by_day[yesterday]),
            trades=tuple(sorted(by_day[today], key=lambda t: t.closed_at)),
            currency=currency,
            balance=account.balance if account is not None else None,
            equity=account.equity if account is not None else None,
            open_positions=status.open_positions,
            floating=status.floating,
            state=status.state,
        )

    async def run(self) -> None:
        """``check`` every ``every`` seconds until cancelled; a failure is logged and retried
        at the next check."""
        while True:
            try:
                await self.check()
            except EngineError as exc:  # the broker is down: try again at the next check
                log.warning("daily summary not ready: %s", exc)
            except Exception:
                log.exception("daily summary failed")
            await self._sleep(self.every)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return day_start(datetime.combine(day, time(12), tzinfo=zone), zone)


def _day(day: date, trades: list[ClosedTrade]) -> DayPnl:
    wins = sum(1 for t in trades if t.net > 0)
    return DayPnl(day, len(trades), wins, round(sum(t.net for t in trades), 2))
