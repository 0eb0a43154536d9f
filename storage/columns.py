"""How domain values are encoded in SQLite columns: times as UTC epoch milliseconds.

Every ``*_ms`` column holds integer milliseconds since 1970-01-01 UTC; repositories hand out
tz-aware UTC ``datetime`` values. Sub-millisecond parts are floored, so a datetime round-trips
exactly when it is a whole number of milliseconds (bar times, broker times and clock ticks are).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(t: datetime) -> int:
    """Epoch milliseconds of an aware datetime; a naive one is refused (its zone is unknown)."""
    if t.tzinfo is None or t.utcoffset() is None:
        msg = f"naive datetime {t.isoformat()} cannot be stored: times must be tz-aware UTC"
        raise ValueError(msg)
    return (t - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime of epoch milliseconds."""
    return EPOCH + timedelta(milliseconds=ms)


def opt_to_ms(t: datetime | None) -> int | None:
    return None if t is None else to_ms(t)


def opt_from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)
