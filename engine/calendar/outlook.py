"""What ``/news [SYMBOL] [24h|7d]`` shows: upcoming releases and whether a window blocks now.

``news_outlook`` reads any ``Calendar`` (no network) and applies the same window rule as the news
gate (``t - before <= now < t + after`` for events at or above the minimum importance) and the
same failure policy when a configured calendar is stale. Every time stays UTC with the
``timedelta`` left until it; the bot renders them in the display zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.calendar.symbols import SymbolCurrencies
from engine.errors import BadArguments
from engine.models import CalendarStatus, EconomicEvent, Importance
from engine.ports import Calendar
from engine.risk.limits import NewsPolicy, RiskLimits

DEFAULT_HORIZON = timedelta(hours=24)
MAX_HORIZON = timedelta(days=14)
_HORIZON = re.compile(r"^(\d{1,3})([hd])$")
_SYMBOL = re.compile(r"^[A-Z0-9._#-]{1,32}$")


@dataclass(frozen=True, slots=True)
class NewsWindow:
    """The news gate's window: ``before``/``after`` an event at or above ``min_importance``."""

    before: timedelta = timedelta(minutes=60)
    after: timedelta = timedelta(minutes=30)
    min_importance: Importance = Importance.HIGH
    policy: NewsPolicy = NewsPolicy.BLOCK

    @classmethod
    def from_limits(cls, limits: RiskLimits) -> NewsWindow:
        """The window the gate uses with ``limits`` (one source of truth for both)."""
        return cls(
            limits.news_before, limits.news_after, limits.news_min_importance, limits.news_policy
        )

    def covers(self, event: EconomicEvent, now: datetime) -> bool:
        """True when ``event`` blocks entries at ``now``."""
        return (
            event.importance.rank >= self.min_importance.rank
            and event.time - self.before <= now < event.time + self.after
        )


@dataclass(frozen=True, slots=True)
class NewsRequest:
    """Parsed ``/news`` arguments: a symbol (None = every traded symbol) and a horizon."""

    symbol: str | None = None
    horizon: timedelta = DEFAULT_HORIZON

    @classmethod
    def parse(cls, args: str | None) -> NewsRequest:
        """``"[SYMBOL] [Nh|Nd]"`` in either order; the horizon is at most 14 days.

        Raises ``BadArguments`` (code ``news_args``) naming the word it could not read.
        """
        symbol: str | None = None
        horizon: timedelta | None = None
        for word in (args or "").split():
            found = _HORIZON.match(word.lower())
            if found and horizon is None:
                amount, unit = int(found.group(1)), found.group(2)
                horizon = timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
                if not timedelta(0) < horizon <= MAX_HORIZON:
                    msg = f"/news horizon must be 1h to 14d: got {word}"
                    raise BadArguments(msg, code="news_args", word=word)
            elif not found and symbol is None and _SYMBOL.match(word.upper()):
                symbol = word.upper()
            else:
                msg = f"/news takes [SYMBOL] [24h|7d]: cannot read {word!r}"
                raise BadArguments(msg, code="news_args", word=word)
        return cls(symbol, horizon or DEFAULT_HORIZON)


@dataclass(frozen=True, slots=True)
class UpcomingEvent:
    """One release in the outlook; ``starts_in`` is negative once it has happened."""

    event: EconomicEvent
    starts_in: timedelta
    window_start: datetime  # UTC; entries blocked from here (if important enough)
    window_end: datetime  # UTC; ... until here
    blocks_now: bool


@dataclass(frozen=True, slots=True)
class NewsOutlook:
    """The answer to ``/news``: events, whether entries are blocked now, and why."""

    now: datetime
    symbols: tuple[str, ...]
    currencies: frozenset[str] | None  # None = every currency
    horizon: timedelta
    window: NewsWindow
    status: CalendarStatus
    events: tuple[UpcomingEvent, ...]
    blocking: bool  # the news gate would block an entry now
    blocked_until: datetime | None  # end of the (chained) windows blocking now, UTC
    reason: str  # one English line for logs; the bot renders its own text from the fields

    @property
    def blocking_events(self) -> tuple[UpcomingEvent, ...]:
        return tuple(u for u in self.events if u.blocks_now)

    @property
    def until_unblocked(self) -> timedelta | None:
        return None if self.blocked_until is None else self.blocked_until - self.now


def news_outlook(
    calendar: Calendar,
    *,
    now: datetime,
    symbols: tuple[str, ...],
    horizon: timedelta,
    window: NewsWindow,
    currencies: SymbolCurrencies | None = None,
    min_importance: Importance | None = None,
) -> NewsOutlook:
    """Releases for ``symbols`` from ``now - window.after`` (still inside their window) to
    ``now + horizon``, at or above ``min_importance`` (default: the window's), by time."""
    mapping = currencies or SymbolCurrencies()
    wanted = mapping.union(symbols)
    status = calendar.status()
    floor = min_importance or window.min_importance
    found = calendar.events_between(now - window.after, now + max(horizon, window.before), wanted)
    # Everything that blocks now is shown, even when the horizon is shorter than the window.
    shown = [
        e
        for e in found
        if window.covers(e, now) or (e.importance.rank >= floor.rank and e.time < now + horizon)
    ]
    events = tuple(
        UpcomingEvent(
            e, e.time - now, e.time - window.before, e.time + window.after, window.covers(e, now)
        )
        for e in sorted(shown, key=lambda e: (e.time, e.currency, e.title))
    )
    blocking, until, reason = _verdict(calendar, status, window, now, wanted, events)
    return NewsOutlook(
        now, symbols, wanted, horizon, window, status, events, blocking, until, reason
    )


def _verdict(
    calendar: Calendar,
    status: CalendarStatus,
    window: NewsWindow,
    now: datetime,
    wanted: frozenset[str] | None,
    events: tuple[UpcomingEvent, ...],
) -> tuple[bool, datetime | None, str]:
    if not status.configured:
        return False, None, f"{status.reason or 'calendar not configured'}; news not checked"
    if not status.ok:
        verb = "blocks" if window.policy is NewsPolicy.BLOCK else "allows"
        reason = f"calendar unavailable ({status.reason}); news policy {verb} entries"
        return window.policy is NewsPolicy.BLOCK, None, reason
    hits = [u for u in events if u.blocks_now]
    if not hits:
        return False, None, "no news window now"
    until = max(u.window_end for u in hits)
    # A window that opens before this one closes keeps entries blocked: follow the chain.
    later = calendar.events_between(now, now + MAX_HORIZON, wanted)
    for event in sorted(later, key=lambda e: e.time):
        if event.importance.rank >= window.min_importance.rank:
            if event.time - window.before > until:
                break
            until = max(until, event.time + window.after)
    first = hits[0].event
    return True, until, f"news window: {first.title} ({first.currency}) at {first.time:%H:%M} UTC"
