"""Economic calendars behind the ``engine.ports.Calendar`` port (read from memory by gates).

``UnconfiguredCalendar`` knows nothing and says so. ``CachedCalendar`` serves events from an
in-memory copy of the SQLite cache that ``refresh``/``run_refresher`` fill from sources
(``TradingEconomicsSource``, ``FairEconomySource``). ``SymbolCurrencies`` maps symbols to the
currencies whose news moves them; ``news_outlook`` answers ``/news``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names resolve on first use (PEP 562): a backtest that only needs ``UnconfiguredCalendar``
# must not pay for httpx, which the HTTP sources import.
_HOMES = {
    "CachedCalendar": "cached",
    "FF_THIS_WEEK_URL": "faireconomy",
    "FairEconomySource": "faireconomy",
    "parse_faireconomy": "faireconomy",
    "HttpOptions": "http_json",
    "SourceError": "http_json",
    "redact": "http_json",  # defined in engine.redaction
    "NewsOutlook": "outlook",
    "NewsRequest": "outlook",
    "NewsWindow": "outlook",
    "UpcomingEvent": "outlook",
    "news_outlook": "outlook",
    "ALL_CURRENCIES": "sources",
    "CalendarSource": "sources",
    "event_key": "sources",
    "SymbolCurrencies": "symbols",
    "GUEST_KEY": "tradingeconomics",
    "TE_BASE_URL": "tradingeconomics",
    "TradingEconomicsSource": "tradingeconomics",
    "parse_tradingeconomics": "tradingeconomics",
    "NOT_CONFIGURED": "unconfigured",
    "UnconfiguredCalendar": "unconfigured",
}

if TYPE_CHECKING:
    from engine.calendar.cached import CachedCalendar
    from engine.calendar.faireconomy import FF_THIS_WEEK_URL, FairEconomySource, parse_faireconomy
    from engine.calendar.http_json import HttpOptions, SourceError, redact
    from engine.calendar.outlook import (
        NewsOutlook,
        NewsRequest,
        NewsWindow,
        UpcomingEvent,
        news_outlook,
    )
    from engine.calendar.sources import ALL_CURRENCIES, CalendarSource, event_key
    from engine.calendar.symbols import SymbolCurrencies
    from engine.calendar.tradingeconomics import (
        GUEST_KEY,
        TE_BASE_URL,
        TradingEconomicsSource,
        parse_tradingeconomics,
    )
    from engine.calendar.unconfigured import NOT_CONFIGURED, UnconfiguredCalendar

__all__ = [
    "ALL_CURRENCIES",
    "FF_THIS_WEEK_URL",
    "GUEST_KEY",
    "NOT_CONFIGURED",
    "TE_BASE_URL",
    "CachedCalendar",
    "CalendarSource",
    "FairEconomySource",
    "HttpOptions",
    "NewsOutlook",
    "NewsRequest",
    "NewsWindow",
    "SourceError",
    "SymbolCurrencies",
    "TradingEconomicsSource",
    "UnconfiguredCalendar",
    "UpcomingEvent",
    "event_key",
    "news_outlook",
    "parse_faireconomy",
    "parse_tradingeconomics",
    "redact",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
