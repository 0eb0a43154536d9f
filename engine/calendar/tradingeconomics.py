"""Trading Economics calendar API: ``GET {base}/calendar/country/{countries}/{d1}/{d2}``.

The key goes in the ``c`` query parameter (``guest:guest`` without one; Trading Economics then
answers with a small sample only, so a guest source is not ``complete``). Each item carries
``Date`` (release time in UTC without an offset, "2024-01-05T13:30:00"), ``Country``,
``Event``/``Category``, ``Importance`` (1 low, 2 medium, 3 high) and ``Actual``/``Forecast``/
``Previous`` as text; ``Currency`` is the unit of the figure ("C$"), so the currency comes from
the country. ``DateSpan`` "1" means only the day is known: the title then says the time is
tentative. Any malformed item fails the whole batch: dropping one silently could drop NFP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from engine.calendar.countries import currency_of
from engine.calendar.http_json import HttpOptions, get_json
from engine.calendar.sources import parse_events
from engine.models import EconomicEvent, Importance
from engine.redaction import protect_logs

TE_BASE_URL = "https://api.tradingeconomics.com"
GUEST_KEY = "guest:guest"
NAME = "Trading Economics"
TENTATIVE = " (time tentative)"

_IMPORTANCE = {1: Importance.LOW, 2: Importance.MEDIUM, 3: Importance.HIGH}


class TradingEconomicsSource:
    """``CalendarSource`` over the Trading Economics API; ``key=None`` uses guest access."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        key: str | None = None,
        *,
        base_url: str = TE_BASE_URL,
        countries: str = "All",
        options: HttpOptions | None = None,
    ) -> None:
        self._client = client
        self._key = key or GUEST_KEY
        self._base = base_url.rstrip("/")
        self._countries = countries
        self._options = options or HttpOptions()
        self.complete = key is not None and key != GUEST_KEY
        self.name = NAME if self.complete else f"{NAME} (guest)"
        if self.complete:
            protect_logs([self._key])

    def __repr__(self) -> str:
        return f"TradingEconomicsSource(base_url={self._base!r}, complete={self.complete})"

    async def fetch(self, start: datetime, end: datetime) -> list[EconomicEvent]:
        """Events of the UTC days from ``start`` to ``end`` inclusive (the API takes dates)."""
        first = start.astimezone(UTC).date()
        last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
        url = f"{self._base}/calendar/country/{self._countries}/{first}/{max(first, last)}"
        payload = await get_json(
            self._client,
            url,
            source=self.name,
            options=self._options,
            params={"c": self._key, "f": "json"},
            secrets=[self._key] if self.complete else [],
        )
        return parse_tradingeconomics(payload, source=self.name)


def parse_tradingeconomics(payload: object, *, source: str = NAME) -> list[EconomicEvent]:
    """Trading Economics calendar JSON (a list of objects) to events; raises ``SourceError``
    naming the first bad item."""
    return parse_events(payload, source, _event)


def _event(item: object, source: str) -> EconomicEvent:
    if not isinstance(item, dict):
        msg = f"expected an object, got {type(item).__name__}"
        raise TypeError(msg)
    country = _text(item, "Country")
    title = _text(item, "Event") or _text(item, "Category")
    if not title:
        msg = "no Event or Category"
        raise ValueError(msg)
    if _text(item, "DateSpan") == "1":  # only the day is known; the time is a placeholder
        title += TENTATIVE
    return EconomicEvent(
        time=_utc(item.get("Date")),
        currency=currency_of(country),
        country=country,
        title=title,
        importance=_importance(item.get("Importance")),
        actual=_text(item, "Actual"),
        forecast=_text(item, "Forecast") or _text(item, "TEForecast"),
        previous=_text(item, "Previous"),
        source=source,
    )


def _utc(value: object) -> datetime:
    """Trading Economics dates are UTC; most carry no offset, a few end in "Z"."""
    if not isinstance(value, str) or not value:
        msg = f"Date {value!r} is not a date-time"
        raise ValueError(msg)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = f"Date {value!r} is not ISO 8601"
        raise ValueError(msg) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _importance(value: object) -> Importance:
    level: object = value
    if (
        isinstance(value, str)
        and value.strip().isdigit()
        or isinstance(value, float)
        and value.is_integer()
    ):
        level = int(value)
    # bool is an int subclass, and True is not an importance.
    if isinstance(level, bool) or not isinstance(level, int) or level not in _IMPORTANCE:
        msg = f"Importance {value!r} is not 1, 2 or 3"
        raise ValueError(msg)
    return _IMPORTANCE[level]


def _text(item: dict[str, object], field: str) -> str:
    """A figure as printed; numbers (seen in some answers) become text, null becomes ""."""
    value = item.get(field)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    msg = f"{field} {value!r} is not text"
    raise TypeError(msg)
