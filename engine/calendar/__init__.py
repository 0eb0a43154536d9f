"""Economic calendars behind the ``engine.ports.Calendar`` port (read from memory by gates)."""

from __future__ import annotations

from engine.calendar.unconfigured import NOT_CONFIGURED, UnconfiguredCalendar

__all__ = ["NOT_CONFIGURED", "UnconfiguredCalendar"]
