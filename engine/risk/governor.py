"""``RiskGovernor``: the circuit breaker and the manual pause, the one writer of ``RiskState``.

It trips on (1) a drawdown of ``max_drawdown_pct`` from the equity peak, held until a person
resets it; (2) ``max_consecutive_losses`` losses in a row, a pause of ``loss_pause`` after which
trading resumes by itself; (3) a realised daily loss of ``max_daily_loss_pct`` of the day-start
balance, a halt until the next local day. A manual pause is separate and only ``resume`` by a
person lifts it; ``resume`` does not clear a tripped breaker and ``reset_breaker`` does not lift
a pause, so one command never undoes both. When two trips overlap the longer one is kept. Every
trip and reset is returned and handed to ``emit`` after the state is saved.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from engine.ports import Clock
from engine.risk.events import BreakerReset, BreakerTripped, Paused, Resumed, RiskEvent
from engine.risk.limits import RiskLimits
from engine.risk.periods import local_text, next_day_start
from engine.risk.state import BreakerCode, RiskState, RiskStateStore, record_close, record_entry
from engine.risk.state import roll as roll_state

_E = TypeVar("_E", BreakerReset, Paused, Resumed)

Emit = Callable[[object], Awaitable[None]]
Change = Callable[[RiskState, datetime], tuple[RiskState, list[RiskEvent]]]

_RELEASED = {
    BreakerCode.LOSS_STREAK: "loss-streak pause ended",
    BreakerCode.DAILY_LOSS: "new trading day",
    BreakerCode.DRAWDOWN: "drawdown breaker expired",
}


class RiskGovernor:
    def __init__(
        self,
        store: RiskStateStore,
        clock: Clock,
        limits: RiskLimits,
        zone: ZoneInfo,
        *,
        emit: Emit | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._limits = limits
        self._zone = zone
        self._emit = emit
        self._lock = asyncio.Lock()

    def set_limits(self, limits: RiskLimits) -> None:
        """Judge from now on with ``limits`` (a limit changed from the chat)."""
        self._limits = limits

    async def state(self) -> RiskState:
        """Current state: counters rolled to today, expired breakers reset (and emitted)."""
        state, _ = await self._apply(lambda s, _now: (s, []))
        return state

    async def on_entry(self, at: datetime | None = None) -> RiskState:
        """Count an entry (fill time ``at``, default now) for the daily cap and cooldown."""
        state, _ = await self._apply(lambda s, now: (record_entry(s, at or now, self._zone), []))
        return state

    async def on_trade_closed(
        self, pnl: float, *, balance: float, at: datetime | None = None
    ) -> list[RiskEvent]:
        """Learn a closed trade's net ``pnl``; ``balance`` is the balance after the close.

        Trips the daily-loss halt when realised today <= -max_daily_loss_pct x (balance -
        realised today), and the loss-streak pause after max_consecutive_losses losses (the
        streak then starts again from zero).
        """
        if not math.isfinite(balance):
            msg = f"balance must be a finite number: {balance!r}"
            raise ValueError(msg)

        def change(s: RiskState, now: datetime) -> tuple[RiskState, list[RiskEvent]]:
            s = record_close(s, pnl, at or now, self._zone)
            events: list[RiskEvent] = []
            lim = self._limits
            if lim.max_daily_loss_pct is not None:
                start = balance - s.realised_today
                limit = lim.max_daily_loss_pct * start
                if s.realised_today < 0 and -s.realised_today >= limit:
                    until = next_day_start(now, self._zone)
                    text = (
                        f"daily loss {-s.realised_today:.2f} reached {limit:.2f} "
                        f"({lim.max_daily_loss_pct * 100:g}% of {start:.2f}); "
                        f"halted until {local_text(until, self._zone, now=now)}"
                    )
                    s, tripped = self._trip(
                        s,
                        now,
                        BreakerCode.DAILY_LOSS,
                        text,
                        until,
                        loss=round(-s.realised_today, 2),
                        limit=round(limit, 2),
                    )
                    events += tripped
            streak = lim.max_consecutive_losses
            if streak is not None and lim.loss_pause and s.consecutive_losses >= streak:
                until = now + lim.loss_pause
                minutes = lim.loss_pause.total_seconds() / 60
                text = (
                    f"{s.consecutive_losses} losses in a row (max {streak}); paused "
                    f"{minutes:g} min until {local_text(until, self._zone, now=now)}"
                )
                losses = s.consecutive_losses
                s = replace(s, consecutive_losses=0)
                s, tripped = self._trip(
                    s, now, BreakerCode.LOSS_STREAK, text, until, losses=losses, minutes=minutes
                )
                events += tripped
            return s, events

        _, events = await self._apply(change)
        return events

    async def on_equity(self, equity: float) -> list[RiskEvent]:
        """Track the equity peak; trip the drawdown breaker at ``max_drawdown_pct`` below it."""
        if not math.isfinite(equity):
            msg = f"equity must be a finite number: {equity!r}"
            raise ValueError(msg)

        def change(s: RiskState, now: datetime) -> tuple[RiskState, list[RiskEvent]]:
            peak = equity if s.equity_peak is None else max(s.equity_peak, equity)
            if peak != s.equity_peak:
                s = replace(s, equity_peak=peak)
            pct = self._limits.max_drawdown_pct
            if pct is None or peak <= 0:
                return s, []
            drawdown = (peak - equity) / peak
            if drawdown < pct:
                return s, []
            text = (
                f"equity {equity:.2f} is {drawdown * 100:.1f}% below its peak {peak:.2f} "
                f"(max {pct * 100:g}%); a person must reset the breaker"
            )
            return self._trip(
                s,
                now,
                BreakerCode.DRAWDOWN,
                text,
                None,
                equity=round(equity, 2),
                peak=round(peak, 2),
                drawdown_pct=drawdown * 100,
            )

        _, events = await self._apply(change)
        return events

    async def pause(self, who: str, reason: str) -> Paused | None:
        """Manual pause by ``who``; None when already paused (nothing changes)."""
        _require_person(who)

        def change(s: RiskState, now: datetime) -> tuple[RiskState, list[RiskEvent]]:
            if s.paused:
                return s, []
            s = replace(s, paused=True, paused_by=who, paused_reason=reason, paused_at=now)
            return s, [Paused(who=who, reason=reason, at=now)]

        _, events = await self._apply(change)
        return _only(events, Paused)

    async def resume(self, who: str) -> Resumed | None:
        """Lift a manual pause (a person only); None when not paused. Leaves the breaker."""
        _require_person(who)

        def change(s: RiskState, now: datetime) -> tuple[RiskState, list[RiskEvent]]:
            if not s.paused:
                return s, []
            s = replace(s, paused=False, paused_by="", paused_reason="", paused_at=None)
            return s, [Resumed(who=who, at=now)]

        _, events = await self._apply(change)
        return _only(events, Resumed)

    async def reset_breaker(self, who: str) -> BreakerReset | None:
        """Clear a tripped breaker by hand (the only way out of a drawdown trip, which also
        forgets the equity peak so the next ``on_equity`` starts a new one). None when the
        breaker is not tripped."""
        _require_person(who)

        def change(s: RiskState, now: datetime) -> tuple[RiskState, list[RiskEvent]]:
            if s.breaker is None:
                return s, []
            code = s.breaker
            s = _cleared(s)
            if code is BreakerCode.DRAWDOWN:
                s = replace(s, equity_peak=None)
            return s, [BreakerReset(f"reset by {who}", reason_code=code, who=who, at=now)]

        _, events = await self._apply(change)
        return _only(events, BreakerReset)

    # ------------------------------------------------------------------ internals

    async def _apply(self, change: Change) -> tuple[RiskState, list[RiskEvent]]:
        async with self._lock:
            now = self._clock.now()
            stored = await self._store.load()
            state = roll_state(stored, now, self._zone)
            events: list[RiskEvent] = []
            if state.breaker is not None and not state.breaker_active(now):
                code = state.breaker
                state = _cleared(state)
                events.append(BreakerReset(_RELEASED[code], reason_code=code, at=now))
            state, more = change(state, now)
            events += more
            if state != stored:
                await self._store.save(state)
        if self._emit is not None:
            for event in events:
                await self._emit(event)
        return state, events

    def _trip(
        self,
        s: RiskState,
        now: datetime,
        code: BreakerCode,
        reason: str,
        until: datetime | None,
        **detail: str | float,
    ) -> tuple[RiskState, list[RiskEvent]]:
        if s.breaker_active(now):
            current = s.breaker_until
            longer = current is not None and (until is None or until > current)
            if not longer:
                return s, []
        s = replace(s, breaker=code, breaker_reason=reason, breaker_until=until, breaker_at=now)
        return s, [BreakerTripped(code, reason, until, at=now, detail=detail)]


def _cleared(s: RiskState) -> RiskState:
    return replace(s, breaker=None, breaker_reason="", breaker_until=None, breaker_at=None)


def _require_person(who: str) -> None:
    if not who.strip():
        msg = "pause/resume/reset need the name of the person doing it"
        raise ValueError(msg)


def _only(events: list[RiskEvent], kind: type[_E]) -> _E | None:
    found = [e for e in events if isinstance(e, kind)]
    return found[-1] if found else None
