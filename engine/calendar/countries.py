"""Which currency a country's releases move, for sources that name countries (Trading Economics).

Trading Economics' ``Currency`` field is the unit of the figure ("C$", "%"), not an ISO code, so
the currency comes from the country. Euro-area members all map to EUR. An unknown country maps to
"" (such an event matches only "all currencies" queries) rather than to a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_EURO_AREA = (
    "euro area", "european union", "germany", "france", "italy", "spain", "netherlands",
    "belgium", "austria", "ireland", "portugal", "greece", "finland", "slovakia", "slovenia",
    "estonia", "latvia", "lithuania", "luxembourg", "malta", "cyprus", "croatia",
)  # fmt: skip

COUNTRY_CURRENCY: Mapping[str, str] = MappingProxyType(
    {
        **dict.fromkeys(_EURO_AREA, "EUR"),
        "united states": "USD",
        "united kingdom": "GBP",
        "japan": "JPY",
        "switzerland": "CHF",
        "canada": "CAD",
        "australia": "AUD",
        "new zealand": "NZD",
        "china": "CNY",
        "sweden": "SEK",
        "norway": "NOK",
        "denmark": "DKK",
        "poland": "PLN",
        "hungary": "HUF",
        "czech republic": "CZK",
        "turkey": "TRY",
        "russia": "RUB",
        "south africa": "ZAR",
        "mexico": "MXN",
        "brazil": "BRL",
        "india": "INR",
        "south korea": "KRW",
        "singapore": "SGD",
        "hong kong": "HKD",
        "thailand": "THB",
        "indonesia": "IDR",
    }
)

# The country printed for feeds that only give a currency (the ForexFactory export).
CURRENCY_COUNTRY: Mapping[str, str] = MappingProxyType(
    {
        "USD": "United States",
        "EUR": "Euro Area",
        "GBP": "United Kingdom",
        "JPY": "Japan",
        "CHF": "Switzerland",
        "CAD": "Canada",
        "AUD": "Australia",
        "NZD": "New Zealand",
        "CNY": "China",
    }
)


def currency_of(country: str) -> str:
    """ISO currency whose market a country's releases move; "" when the country is unknown."""
    return COUNTRY_CURRENCY.get(" ".join(country.split()).casefold(), "")
