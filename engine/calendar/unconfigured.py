"""The calendar used until a real economic calendar is configured: it knows no events.

``status()`` says so ("calendar not configured"), which /status shows and the news gate turns
into an allow with that reason. It never invents events.
"""

from __future__ import annotations

from datetime import datetime

from engine.models import CalendarStatus, EconomicEvent

NOT_CONFIGURED = "calendar not configured"


class UnconfiguredCalendar:
    """Implements ``engine.ports.Calendar`` with no events and a not-configured status."""

    def status(self) -> CalendarStatus:
        return CalendarStatus(configured=False, ok=True, reason=NOT_CONFIGURED)

    def events_between(
        self, start: datetime, end: datetime, currencies: frozenset[str] | None = None
    ) -> list[EconomicEvent]:
        """Always empty: nothing is known, and nothing is made up."""
        return []
