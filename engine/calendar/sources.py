"""The ``CalendarSource`` port and the rules every source shares: event keys and merging.

A source fetches events over a span and names itself; ``complete`` says whether its answer is
the whole calendar (a Trading Economics guest key gets only a sample, so a refresh that read
only such a source does not make the cache fresh). Events from several sources are merged by
(time, currency, title): the first source listed wins a tie. ``ALL`` is the currency of
releases that concern every market (the ForexFactory export prints it for G7/OPEC meetings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from engine.calendar.http_json import SourceError
from engine.models import EconomicEvent

ALL_CURRENCIES = "ALL"

EventKey = tuple[datetime, str, str]


class CalendarSource(Protocol):
    name: str  # shown in /status and in reasons: "Trading Economics", "ForexFactory feed"
    complete: bool  # False: a sample only; its events are kept but it never makes data fresh

    async def fetch(self, start: datetime, end: datetime) -> list[EconomicEvent]:
        """Events around [start, end) (a source may return its whole page, e.g. the week).

        Raises ``SourceError`` with a reason (never a secret) when the source cannot be read
        or its payload is malformed.
        """
        ...


def event_key(event: EconomicEvent) -> EventKey:
    """Identity of a release across refreshes: UTC time, currency, title (case and spacing
    ignored)."""
    return (event.time, event.currency, " ".join(event.title.split()).casefold())


def first_seen(batches: Iterable[Iterable[EconomicEvent]]) -> list[list[EconomicEvent]]:
    """Per batch, its events whose ``event_key`` no earlier batch (nor itself) already had:
    sources listed first win ties, and nothing is kept twice."""
    seen: set[EventKey] = set()
    out: list[list[EconomicEvent]] = []
    for batch in batches:
        kept: list[EconomicEvent] = []
        for event in batch:
            key = event_key(event)
            if key not in seen:
                seen.add(key)
                kept.append(event)
        out.append(kept)
    return out


def matches(event: EconomicEvent, currencies: frozenset[str] | None) -> bool:
    """True when ``event`` concerns one of ``currencies`` (None = every currency)."""
    return currencies is None or event.currency in currencies or event.currency == ALL_CURRENCIES


def parse_events(
    payload: object, source: str, one: Callable[[object, str], EconomicEvent]
) -> list[EconomicEvent]:
    """A JSON list of event objects through ``one``; ``SourceError`` naming the first bad item
    (or the payload, when it is not a list)."""
    if not isinstance(payload, list):
        msg = f"{source}: malformed JSON: expected a list of events, got {type(payload).__name__}"
        raise SourceError(msg, source=source)
    events: list[EconomicEvent] = []
    for index, item in enumerate(payload):
        try:
            events.append(one(item, source))
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"{source}: malformed JSON at item {index}: {exc}"
            raise SourceError(msg, source=source, item=index) from None
    return events
