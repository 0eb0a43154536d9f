"""Trading sessions and the FX/metals weekend, in fixed UTC hours.

Hours (UTC, start inclusive, end exclusive, Monday to Friday): TOKYO 00:00-09:00, LONDON
07:00-16:00, NEWYORK 12:00-21:00 and their overlap LDN_NY 12:00-16:00; ANY is always open. These
are the figures of the widely published forex market-hours tables, i.e. the local business days
(Tokyo 09-18 JST, London 08-17 BST, New York 08-17 EDT) in northern summer. DST is deliberately
ignored: the windows never move, so in northern winter London and New York local hours start an
hour "earlier" in these windows; a trader who wants other hours changes the windows, not the
clocks. The weekend closure for metals and FX runs from Friday 21:00 to Sunday 22:00 UTC (the
earlier close and later reopen of the summer/winter pair, so it is safe all year). Display code
shows these instants in the configured zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType


class Session(StrEnum):
    """Same names and values as ``engine.config.TradingSession`` (``Session(x)`` converts)."""

    TOKYO = "TOKYO"
    LONDON = "LONDON"
    NEWYORK = "NEWYORK"
    LDN_NY = "LDN_NY"
    ANY = "ANY"


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """A daily window in UTC on weekdays; ``start < end`` (no window crosses midnight UTC)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.start < self.end:
            msg = f"session window must start before it ends: {self.start} >= {self.end}"
            raise ValueError(msg)


SESSION_WINDOWS: Mapping[Session, SessionWindow] = MappingProxyType(
    {
        Session.TOKYO: SessionWindow(time(0), time(9)),
        Session.LONDON: SessionWindow(time(7), time(16)),
        Session.NEWYORK: SessionWindow(time(12), time(21)),
        Session.LDN_NY: SessionWindow(time(12), time(16)),
    }
)

FRIDAY, SUNDAY = 4, 6
WEEKEND_CLOSE = time(21)  # Friday, UTC
WEEKEND_OPEN = time(22)  # Sunday, UTC


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        msg = "session times need an aware datetime"
        raise ValueError(msg)
    return now.astimezone(UTC)


def weekend_closed(now: datetime) -> bool:
    """True from Friday 21:00 to Sunday 22:00 UTC, when metals and FX do not trade."""
    u = _utc(now)
    wd, t = u.weekday(), u.time()
    return (
        (wd == FRIDAY and t >= WEEKEND_CLOSE)
        or wd == FRIDAY + 1
        or (wd == SUNDAY and t < WEEKEND_OPEN)
    )


def weekend_reopen(now: datetime) -> datetime:
    """The next Sunday 22:00 UTC strictly after ``now`` (the reopen, when ``now`` is closed)."""
    u = _utc(now)
    day = u.date() + timedelta(days=(SUNDAY - u.weekday()) % 7)
    reopen = datetime.combine(day, WEEKEND_OPEN, tzinfo=UTC)
    return reopen if reopen > u else reopen + timedelta(days=7)


def session_open(session: Session, now: datetime) -> bool:
    """Whether ``session`` is open at ``now``; named sessions only on UTC weekdays."""
    if session is Session.ANY:
        return True
    u = _utc(now)
    window = SESSION_WINDOWS[session]
    return u.weekday() < 5 and window.start <= u.time() < window.end


def session_now(now: datetime, sessions: Iterable[Session]) -> tuple[Session, ...]:
    """The sessions among ``sessions`` open at ``now``, in the given order."""
    return tuple(s for s in sessions if session_open(Session(s), now))


def session_end(session: Session, now: datetime) -> datetime | None:
    """When an open named session closes (UTC); None for ANY or a closed session."""
    if session is Session.ANY or not session_open(session, now):
        return None
    return datetime.combine(_utc(now).date(), SESSION_WINDOWS[session].end, tzinfo=UTC)


def next_session_open(
    now: datetime, sessions: Iterable[Session]
) -> tuple[Session, datetime] | None:
    """The earliest opening strictly after ``now`` among the named ``sessions`` (UTC).

    ANY has no opening and is skipped; None when no named session is given. Ties go to the
    session listed first.
    """
    u = _utc(now)
    best: tuple[Session, datetime] | None = None
    for raw in sessions:
        session = Session(raw)
        if session is Session.ANY:
            continue
        window = SESSION_WINDOWS[session]
        for days in range(8):
            day = u.date() + timedelta(days=days)
            start = datetime.combine(day, window.start, tzinfo=UTC)
            if day.weekday() < 5 and start > u:
                if best is None or start < best[1]:
                    best = (session, start)
                break
    return best
