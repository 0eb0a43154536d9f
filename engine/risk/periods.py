"""Trading days and weeks in the display zone, and how times are shown to people.

Daily counters (trades today, realised PnL today) reset at local midnight of the configured
display zone and weekly counters at the start of the local ISO week (Monday 00:00). Every
instant stays tz-aware UTC; the zone only decides where the boundaries fall and how a time is
printed in a reason line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_day(at: datetime, zone: ZoneInfo) -> date:
    """The calendar date of ``at`` (aware) in ``zone``."""
    return at.astimezone(zone).date()


def day_key(at: datetime, zone: ZoneInfo) -> str:
    """Stable key of the local day, ISO date text such as ``"2024-05-06"``."""
    return local_day(at, zone).isoformat()


def week_key(at: datetime, zone: ZoneInfo) -> str:
    """Stable key of the local ISO week, such as ``"2024-W19"`` (weeks start on Monday)."""
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def _midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_start(at: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant of local midnight that opened the day containing ``at``."""
    return _midnight_utc(local_day(at, zone), zone)


def next_day_start(at: datetime, zone: ZoneInfo) -> datetime:
    """UTC instant of the next local midnight after ``at`` (the end of its trading day)."""
    return _midnight_utc(local_day(at, zone) + timedelta(days=1), zone)


def local_text(t: datetime, zone: ZoneInfo, *, now: datetime | None = None) -> str:
    """``"14:45 Asia/Ulaanbaatar"``; the local date is added when it is not ``now``'s date."""
    local = t.astimezone(zone)
    if now is not None and local.date() == local_day(now, zone):
        return f"{local:%H:%M} {zone.key}"
    return f"{local:%Y-%m-%d %H:%M} {zone.key}"
