"""Injected time. Nothing in the engine calls ``datetime.now()``: it asks a ``Clock``."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time, tz-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """A clock that tests, backtests and replays move forward by hand. Never goes backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            msg = "SimClock needs a tz-aware start time"
            raise ValueError(msg)
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, t: datetime) -> None:
        t = t.astimezone(UTC)
        if t < self._now:
            msg = f"clock must be monotonic: {t.isoformat()} < {self._now.isoformat()}"
            raise ValueError(msg)
        self._now = t
