"""The keyless ForexFactory weekly export at nfs.faireconomy.media (``ff_calendar_thisweek.json``).

A JSON list of ``{"title", "country", "date", "impact", "forecast", "previous"}``: ``country`` is
a currency code ("USD", "ALL" for releases that concern every market), ``date`` is ISO 8601 with
the New York offset ("2024-01-05T08:30:00-05:00"), ``impact`` is "High", "Medium", "Low",
"Holiday" or "Non-Economic". The page covers one week whatever span is asked for. An impact this
code does not know is taken as high (block rather than miss a release) and logged; any other
malformed item fails the batch, as for Trading Economics.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import httpx

from engine.calendar.countries import CURRENCY_COUNTRY
from engine.calendar.http_json import HttpOptions, get_json
from engine.calendar.sources import parse_events
from engine.models import EconomicEvent, Importance

FF_THIS_WEEK_URL = "https://nfs.faireconomy.media/ff_calendar_thisweek.json"
NAME = "ForexFactory feed"

_IMPACT = {
    "high": Importance.HIGH,
    "medium": Importance.MEDIUM,
    "low": Importance.LOW,
    "holiday": Importance.LOW,
    "non-economic": Importance.LOW,
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")

log = logging.getLogger(__name__)


class FairEconomySource:
    """``CalendarSource`` over the ForexFactory weekly JSON export (no key, always complete)."""

    complete = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str = FF_THIS_WEEK_URL,
        options: HttpOptions | None = None,
        name: str = NAME,
    ) -> None:
        self._client = client
        self._url = url
        self._options = options or HttpOptions()
        self.name = name

    def __repr__(self) -> str:
        return f"FairEconomySource(url={self._url!r})"

    async def fetch(self, start: datetime, end: datetime) -> list[EconomicEvent]:
        """The whole week of the feed (``start``/``end`` cannot narrow a static page)."""
        payload = await get_json(self._client, self._url, source=self.name, options=self._options)
        return parse_faireconomy(payload, source=self.name)


def parse_faireconomy(payload: object, *, source: str = NAME) -> list[EconomicEvent]:
    """The weekly export (a list of objects) to events in UTC; raises ``SourceError`` naming the
    first bad item."""
    return parse_events(payload, source, _event)


def _event(item: object, source: str) -> EconomicEvent:
    if not isinstance(item, dict):
        msg = f"expected an object, got {type(item).__name__}"
        raise TypeError(msg)
    title = _text(item, "title")
    if not title:
        msg = "no title"
        raise ValueError(msg)
    currency = _text(item, "country").upper()
    if not _CURRENCY.match(currency):
        msg = f"country {item.get('country')!r} is not a currency code"
        raise ValueError(msg)
    return EconomicEvent(
        time=_utc(item.get("date")),
        currency=currency,
        country=CURRENCY_COUNTRY.get(currency, ""),
        title=title,
        importance=_impact(item.get("impact"), title),
        actual=_text(item, "actual"),
        forecast=_text(item, "forecast"),
        previous=_text(item, "previous"),
        source=source,
    )


def _utc(value: object) -> datetime:
    """The feed prints New York wall time with its offset; a time without one is refused."""
    if not isinstance(value, str) or not value:
        msg = f"date {value!r} is not a date-time"
        raise ValueError(msg)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"date {value!r} is not ISO 8601"
        raise ValueError(msg) from None
    if parsed.tzinfo is None:
        msg = f"date {value!r} has no UTC offset"
        raise ValueError(msg)
    return parsed.astimezone(UTC)


def _impact(value: object, title: str) -> Importance:
    if not isinstance(value, str):
        msg = f"impact {value!r} is not text"
        raise TypeError(msg)
    known = _IMPACT.get(value.strip().casefold())
    if known is None:
        log.warning("calendar: unknown impact %r for %r, taken as high", value, title)
        return Importance.HIGH
    return known


def _text(item: dict[str, object], field: str) -> str:
    value = item.get(field)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    msg = f"{field} {value!r} is not text"
    raise TypeError(msg)
