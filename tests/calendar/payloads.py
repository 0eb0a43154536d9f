"""Realistic calendar payloads, shaped like the real answers (field names, text figures, zones).

Trading Economics items follow the documented calendar schema (docs.tradingeconomics.com,
economic_calendar/schema): ``Date`` in UTC without an offset, ``Importance`` 1-3, ``Currency``
holding the unit of the figure. ForexFactory items follow the weekly export at
nfs.faireconomy.media: ``country`` is a currency code, ``date`` carries the New York offset.
Figures are the published ones for those releases (US NFP 5 Jan 2024: 216K vs 170K expected).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

# ---------------------------------------------------------------- Trading Economics, 5 Jan 2024

TE_NFP = {
    "CalendarId": "341427",
    "Date": "2024-01-05T13:30:00",
    "Country": "United States",
    "Category": "Non Farm Payrolls",
    "Event": "Non Farm Payrolls",
    "Reference": "Dec",
    "ReferenceDate": "2023-12-31T00:00:00",
    "Source": "U.S. Bureau of Labor Statistics",
    "SourceURL": "https://www.bls.gov",
    "Actual": "216K",
    "Previous": "173K",
    "Forecast": "170K",
    "TEForecast": "165K",
    "URL": "/united-states/non-farm-payrolls",
    "DateSpan": "0",
    "Importance": 3,
    "LastUpdate": "2024-01-05T13:31:00",
    "Revised": "199K",
    "Currency": "",
    "Unit": "K",
    "Ticker": "NFP TCH",
    "Symbol": "NFP TCH",
}
TE_GERMAN_RETAIL = {
    **TE_NFP,
    "CalendarId": "341390",
    "Date": "2024-01-05T07:00:00",
    "Country": "Germany",
    "Category": "Retail Sales MoM",
    "Event": "Retail Sales MoM",
    "Reference": "Nov",
    "Source": "Federal Statistical Office",
    "Actual": "-2.5%",
    "Previous": "1.1%",
    "Forecast": None,
    "TEForecast": "0.5%",
    "Importance": 2,
    "Currency": "",
    "Unit": "%",
    "Ticker": "GRRSMOM",
    "Symbol": "GRRSMOM",
}
TE_CANADA_JOBS = {
    **TE_NFP,
    "CalendarId": "341431",
    "Date": "2024-01-05T13:30:00",
    "Country": "Canada",
    "Category": "Employment Change",
    "Event": "Employment Change",
    "Actual": "0.1K",
    "Previous": "24.9K",
    "Forecast": "13.2K",
    "Importance": 3,
    "Currency": "",
    "Unit": "K",
}
TE_ISM_SERVICES = {
    **TE_NFP,
    "CalendarId": "341452",
    "Date": "2024-01-05T15:00:00",
    "Category": "Non Manufacturing PMI",
    "Event": "ISM Services PMI",
    "Actual": "50.6",
    "Previous": "52.7",
    "Forecast": "52.6",
    "Importance": 3,
    "Unit": "points",
}
TE_KIRIBATI_HOLIDAY = {
    **TE_NFP,
    "CalendarId": "341500",
    "Date": "2024-01-04T23:00:00",
    "Country": "Kiribati",
    "Category": "Calendar",
    "Event": "Independence Day",
    "Actual": "",
    "Previous": "",
    "Forecast": "",
    "TEForecast": "",
    "Importance": 1,
    "Unit": "",
}
TE_WEEK = [TE_KIRIBATI_HOLIDAY, TE_GERMAN_RETAIL, TE_NFP, TE_CANADA_JOBS, TE_ISM_SERVICES]

# ---------------------------------------------------------------- ForexFactory export, same week

FF_WEEK = [
    {
        "title": "German Retail Sales m/m",
        "country": "EUR",
        "date": "2024-01-05T02:00:00-05:00",
        "impact": "Medium",
        "forecast": "0.4%",
        "previous": "1.1%",
    },
    {
        "title": "Non-Farm Employment Change",
        "country": "USD",
        "date": "2024-01-05T08:30:00-05:00",
        "impact": "High",
        "forecast": "168K",
        "previous": "199K",
    },
    {
        "title": "Unemployment Rate",
        "country": "USD",
        "date": "2024-01-05T08:30:00-05:00",
        "impact": "High",
        "forecast": "3.8%",
        "previous": "3.7%",
    },
    {
        "title": "ISM Services PMI",
        "country": "USD",
        "date": "2024-01-05T10:00:00-05:00",
        "impact": "High",
        "forecast": "52.6",
        "previous": "52.7",
    },
    {
        "title": "Bank Holiday",
        "country": "JPY",
        "date": "2024-01-08T00:00:00-05:00",
        "impact": "Holiday",
        "forecast": "",
        "previous": "",
    },
]
# UTC times of FF_WEEK, worked by hand: EST is UTC-5 in January.
FF_WEEK_UTC = [
    datetime(2024, 1, 5, 7, 0, tzinfo=UTC),
    datetime(2024, 1, 5, 13, 30, tzinfo=UTC),
    datetime(2024, 1, 5, 13, 30, tzinfo=UTC),
    datetime(2024, 1, 5, 15, 0, tzinfo=UTC),
    datetime(2024, 1, 8, 5, 0, tzinfo=UTC),
]

# The week US clocks moved to EDT (Sunday 10 March 2024): 08:30 New York is 13:30 UTC before
# the change and 12:30 UTC after it.
FF_DST_WEEK = [
    {
        "title": "Non-Farm Employment Change",
        "country": "USD",
        "date": "2024-03-08T08:30:00-05:00",
        "impact": "High",
        "forecast": "198K",
        "previous": "353K",
    },
    {
        "title": "CPI m/m",
        "country": "USD",
        "date": "2024-03-12T08:30:00-04:00",
        "impact": "High",
        "forecast": "0.4%",
        "previous": "0.3%",
    },
    {
        "title": "FOMC Statement",
        "country": "USD",
        "date": "2024-03-20T14:00:00-04:00",
        "impact": "High",
        "forecast": "",
        "previous": "",
    },
    {
        "title": "G7 Meetings",
        "country": "All",
        "date": "2024-03-14T03:00:00-04:00",
        "impact": "Medium",
        "forecast": "",
        "previous": "",
    },
]


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()
