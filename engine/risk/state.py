"""Persisted risk counters and switches (``RiskState``) and the pure functions that update them.

One JSON object under one ``StateRepo`` key, so a restart keeps the pause, the breaker and the
day's counters. Daily counters belong to the local day of the display zone and weekly ones to
the local ISO week: ``roll`` resets them when a new day or week has begun. ``record_entry`` and
``record_close`` return a new state; only ``RiskGovernor`` writes the stored copy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import EngineError
from engine.ports import StateRepo
from engine.risk.periods import day_key, week_key

STATE_VERSION = 1


class BreakerCode(StrEnum):
    """Why the circuit breaker tripped (persisted)."""

    DRAWDOWN = "drawdown"  # equity fell max_drawdown_pct from its peak: a person resets it
    LOSS_STREAK = "loss_streak"  # N losses in a row: pause M minutes, then resume by itself
    DAILY_LOSS = "daily_loss"  # realised daily loss hit the limit: halt until the next day


@dataclass(frozen=True, slots=True)
class RiskState:
    day_key: str = ""  # local day of the daily counters, "2024-05-06"
    trades_today: int = 0
    realised_today: float = 0.0  # account money, net of costs
    week_key: str = ""  # local ISO week of the weekly counter, "2024-W19"
    realised_week: float = 0.0
    last_entry_at: datetime | None = None
    last_loss_at: datetime | None = None
    consecutive_losses: int = 0
    equity_peak: float | None = None
    paused: bool = False
    paused_by: str = ""
    paused_reason: str = ""
    paused_at: datetime | None = None
    breaker: BreakerCode | None = None  # None = not tripped
    breaker_reason: str = ""
    breaker_until: datetime | None = None  # None while tripped = until a person resets it
    breaker_at: datetime | None = None

    def breaker_active(self, now: datetime) -> bool:
        """Tripped and not yet expired at ``now``."""
        if self.breaker is None:
            return False
        return self.breaker_until is None or now < self.breaker_until

    def to_json(self) -> dict[str, Any]:
        """JSON-safe mapping: datetimes as ISO text (UTC), enums as their values."""
        out: dict[str, Any] = {"version": STATE_VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, StrEnum):
                value = value.value
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RiskState:
        """Inverse of ``to_json``; a malformed record raises rather than silently unpausing."""
        try:
            return cls(
                day_key=str(data.get("day_key", "")),
                trades_today=int(data.get("trades_today", 0)),
                realised_today=_number(data.get("realised_today", 0.0)),
                week_key=str(data.get("week_key", "")),
                realised_week=_number(data.get("realised_week", 0.0)),
                last_entry_at=_time(data.get("last_entry_at")),
                last_loss_at=_time(data.get("last_loss_at")),
                consecutive_losses=int(data.get("consecutive_losses", 0)),
                equity_peak=_opt_number(data.get("equity_peak")),
                paused=_flag(data.get("paused", False)),
                paused_by=str(data.get("paused_by", "")),
                paused_reason=str(data.get("paused_reason", "")),
                paused_at=_time(data.get("paused_at")),
                breaker=BreakerCode(data["breaker"]) if data.get("breaker") else None,
                breaker_reason=str(data.get("breaker_reason", "")),
                breaker_until=_time(data.get("breaker_until")),
                breaker_at=_time(data.get("breaker_at")),
            )
        except (TypeError, ValueError, KeyError) as exc:
            msg = f"stored risk state is unreadable ({exc}); fix or delete key {RISK_STATE_KEY!r}"
            raise EngineError(msg, code="bad_risk_state") from exc


def _number(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        msg = f"not a finite number: {value!r}"
        raise ValueError(msg)
    return number


def _opt_number(value: Any) -> float | None:
    return None if value is None else _number(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        msg = f"not a boolean: {value!r}"
        raise TypeError(msg)
    return value


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    t = datetime.fromisoformat(str(value))
    if t.tzinfo is None:
        msg = f"naive time in risk state: {value!r}"
        raise ValueError(msg)
    return t


def roll(state: RiskState, at: datetime, zone: ZoneInfo) -> RiskState:
    """The state as seen at ``at``: daily counters reset on a new local day, weekly on a new week.

    Nothing else changes (streak, pause, breaker, peak survive midnight). Never rolls back.
    """
    today, week = day_key(at, zone), week_key(at, zone)
    # Keys are ISO text, so string order is time order. Rolling only forward means a late
    # report (a close noticed after midnight, stamped yesterday) counts toward the current
    # day instead of wiping it.
    if today > state.day_key:
        state = replace(state, day_key=today, trades_today=0, realised_today=0.0)
    if week > state.week_key:
        state = replace(state, week_key=week, realised_week=0.0)
    return state


def record_entry(state: RiskState, at: datetime, zone: ZoneInfo) -> RiskState:
    """One more entry today, at ``at`` (starts the cooldown)."""
    state = roll(state, at, zone)
    last = at if state.last_entry_at is None else max(at, state.last_entry_at)
    return replace(state, trades_today=state.trades_today + 1, last_entry_at=last)


def record_close(state: RiskState, pnl: float, at: datetime, zone: ZoneInfo) -> RiskState:
    """A closed trade's net ``pnl`` (account money) counted on the day and week of ``at``.

    A loss (pnl < 0) extends the losing streak and starts the after-loss cooldown; a win resets
    the streak; a scratch (pnl == 0) leaves the streak as it is.
    """
    if not math.isfinite(pnl):
        msg = f"closed-trade pnl must be a finite number: {pnl!r}"
        raise ValueError(msg)
    state = roll(state, at, zone)
    state = replace(
        state, realised_today=state.realised_today + pnl, realised_week=state.realised_week + pnl
    )
    if pnl < 0:
        last = at if state.last_loss_at is None else max(at, state.last_loss_at)
        return replace(state, consecutive_losses=state.consecutive_losses + 1, last_loss_at=last)
    if pnl > 0:
        return replace(state, consecutive_losses=0)
    return state


RISK_STATE_KEY = "risk.state"


class RiskStateStore:
    """Loads and saves ``RiskState`` as one JSON object through the ``StateRepo`` port."""

    def __init__(self, repo: StateRepo, key: str = RISK_STATE_KEY) -> None:
        self._repo = repo
        self._key = key
        # The governor is the single writer of this key, so after the first read the copy in
        # memory is the stored value; the hot loop then reads without a database round trip.
        self._cached: RiskState | None = None

    async def load(self) -> RiskState:
        """The stored state, or a fresh one on first use."""
        if self._cached is not None:
            return self._cached
        data = await self._repo.get(self._key)
        if data is None:
            return RiskState()
        if not isinstance(data, Mapping):
            msg = f"stored risk state under {self._key!r} is not an object: {type(data).__name__}"
            raise EngineError(msg, code="bad_risk_state")
        self._cached = RiskState.from_json(data)
        return self._cached

    async def save(self, state: RiskState) -> None:
        await self._repo.set(self._key, state.to_json())
        self._cached = state
