"""Stall watchdog: tells people when the trading loop stops closing bars for a symbol.

The trader stamps ``heartbeat.last_cycle[symbol]`` at every cycle. A symbol has *stalled* when
more than ``periods`` (two) bar periods of open market passed without a cycle; then a
``LoopStalled`` event goes to the bus (once), and ``LoopRecovered`` when cycles come back.

Only open-market time counts, so weekends and the daily break never raise an alarm. The default
market model is gold's (``engine.data.sessions.is_open``: Sunday 22:00 to Friday 21:00 UTC with
a break at 21:00) widened by an hour on each side of every closed spell, because brokers shift
those hours with daylight saving: a stall in those quiet hours is reported when the market is
surely open again, rather than a false alarm every evening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from engine.data.sessions import is_open
from engine.events import LoopRecovered, LoopStalled
from engine.models import Timeframe
from engine.ports import Clock

MarketOpen = Callable[[datetime], bool]
Emit = Callable[[object], Awaitable[None]]
Sleep = Callable[[float], Awaitable[object]]
STEP = timedelta(minutes=1)  # resolution of open-market time
HOUR = timedelta(hours=1)


def surely_open(t: datetime) -> bool:
    """Gold's model is open at ``t`` and an hour before and after (daylight-saving slack)."""
    return is_open(t - HOUR) and is_open(t) and is_open(t + HOUR)


def open_time(
    start: datetime, end: datetime, market_open: MarketOpen, cap: timedelta
) -> timedelta:
    """Open-market time in [start, end), counted in whole minutes from ``end`` backwards and
    stopping once it exceeds ``cap`` (so a week-long outage costs no more than ``cap`` does,
    plus the closed spells crossed)."""
    total, t = timedelta(0), end
    while t - STEP >= start and total <= cap:
        t -= STEP
        if market_open(t):
            total += STEP
    return total


class HasHeartbeat(Protocol):
    """What the watchdog reads from the trader (``engine.trader.Trader`` fits)."""

    @property
    def heartbeat(self) -> _Heartbeat: ...


class _Heartbeat(Protocol):
    @property
    def last_cycle(self) -> dict[str, datetime]: ...

    @property
    def last_bar(self) -> dict[str, datetime]: ...


@dataclass(frozen=True, slots=True)
class Lag:
    """One symbol's liveness at ``now``: last cycle and bar (None before the first), the
    open-market seconds since the last cycle (capped just past the limit), and the verdict."""

    symbol: str
    last_cycle: datetime | None
    last_bar: datetime | None
    silent_s: float
    limit_s: float
    stalled: bool


class StallWatchdog:
    """Publishes ``LoopStalled``/``LoopRecovered`` for ``symbols`` of ``trader`` on ``emit``.

    ``check()`` judges now; ``run()`` checks every ``every`` real seconds (a quarter bar, at
    most a minute) until cancelled. Before a symbol's first cycle the watchdog's own start
    counts as its last cycle.
    """

    def __init__(
        self,
        trader: HasHeartbeat,
        clock: Clock,
        timeframe: Timeframe,
        emit: Emit | None,
        *,
        symbols: tuple[str, ...] | None = None,
        periods: float = 2.0,
        market_open: MarketOpen = surely_open,
        every: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        config = getattr(trader, "config", None)
        found = symbols or getattr(config, "symbols", None)
        if not found:
            raise ValueError("StallWatchdog needs the symbols to watch")
        self.trader = trader
        self.clock = clock
        self.timeframe = timeframe
        self.symbols: tuple[str, ...] = tuple(found)
        self.limit = timeframe.delta * periods
        self.market_open = market_open
        self.every = every if every is not None else min(timeframe.delta.total_seconds() / 4, 60)
        self._emit = emit
        self._sleep = sleep
        self.started = clock.now()
        self.stalled: dict[str, datetime] = {}  # symbol -> when the stall was reported

    def lag(self, symbol: str, now: datetime) -> Lag:
        """Liveness of ``symbol`` at ``now`` (no events)."""
        beat = self.trader.heartbeat
        last = beat.last_cycle.get(symbol)
        since = max(last, self.started) if last is not None else self.started
        silent = open_time(since, now, self.market_open, self.limit)
        return Lag(
            symbol,
            last,
            beat.last_bar.get(symbol),
            silent.total_seconds(),
            self.limit.total_seconds(),
            silent > self.limit,
        )

    def lags(self) -> list[Lag]:
        now = self.clock.now()
        return [self.lag(s, now) for s in self.symbols]

    async def check(self) -> list[Lag]:
        """Judge every symbol now and publish what changed."""
        now = self.clock.now()
        lags = [self.lag(s, now) for s in self.symbols]
        for lag in lags:
            reported = self.stalled.get(lag.symbol)
            if lag.stalled and reported is None:
                self.stalled[lag.symbol] = now
                await self._publish(
                    LoopStalled(now, lag.symbol, self.timeframe, lag.last_cycle, lag.silent_s)
                )
            elif reported is not None and lag.last_cycle is not None and lag.last_cycle > reported:
                del self.stalled[lag.symbol]
                await self._publish(LoopRecovered(now, lag.symbol, self.timeframe, reported))
        return lags

    async def _publish(self, event: object) -> None:
        if self._emit is not None:
            await self._emit(event)

    async def run(self) -> None:
        """``check`` every ``every`` seconds until cancelled."""
        while True:
            await self._sleep(self.every)
            await self.check()
