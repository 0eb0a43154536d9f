"""Risk events, past tense: the governor returns them and hands them to ``emit`` (the engine's
event bus); the bot's notifier turns them into messages. ``at`` is when it happened (UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.risk.state import BreakerCode


@dataclass(frozen=True, slots=True)
class BreakerTripped:
    reason_code: BreakerCode
    reason: str  # "3 losses in a row; paused 240 min until 18:00 Asia/Ulaanbaatar"
    until: datetime | None  # None = until a person resets it
    at: datetime | None = None
    detail: Mapping[str, str | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BreakerReset:
    reason: str  # "loss-streak pause ended", "new trading day", "reset by @alice"
    reason_code: BreakerCode | None = None  # the breaker that was cleared
    who: str | None = None  # a person, or None when time released it
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Paused:
    who: str
    reason: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Resumed:
    who: str
    at: datetime | None = None


RiskEvent = BreakerTripped | BreakerReset | Paused | Resumed
