"""Parsing both sources: fields, UTC conversion across DST, importance, currencies, bad items."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.calendar import SourceError, parse_faireconomy, parse_tradingeconomics
from engine.calendar.countries import currency_of
from engine.models import EconomicEvent, Importance
from tests.calendar.payloads import (
    FF_DST_WEEK,
    FF_WEEK,
    FF_WEEK_UTC,
    TE_GERMAN_RETAIL,
    TE_NFP,
    TE_WEEK,
)


def test_trading_economics_item_becomes_one_event_in_utc() -> None:
    [nfp] = parse_tradingeconomics([TE_NFP], source="te")
    assert nfp == EconomicEvent(
        time=datetime(2024, 1, 5, 13, 30, tzinfo=UTC),
        currency="USD",
        country="United States",
        title="Non Farm Payrolls",
        importance=Importance.HIGH,
        actual="216K",
        forecast="170K",
        previous="173K",
        source="te",
    )


def test_trading_economics_week_maps_countries_and_importance() -> None:
    events = parse_tradingeconomics(TE_WEEK)
    got = [(e.time.hour, e.currency, e.title, e.importance) for e in events]
    assert got == [
        (23, "", "Independence Day", Importance.LOW),  # Kiribati: no currency we know
        (7, "EUR", "Retail Sales MoM", Importance.MEDIUM),  # Germany is in the euro area
        (13, "USD", "Non Farm Payrolls", Importance.HIGH),
        (13, "CAD", "Employment Change", Importance.HIGH),
        (15, "USD", "ISM Services PMI", Importance.HIGH),
    ]
    # A null consensus falls back to Trading Economics' own forecast.
    assert events[1].forecast == "0.5%"


@pytest.mark.parametrize(
    ("raw", "hour"),
    [("2024-01-05T13:30:00", 13), ("2024-01-05T13:30:00Z", 13), ("2024-01-05T15:30:00+02:00", 13)],
)
def test_trading_economics_dates_are_utc_with_or_without_offset(raw: str, hour: int) -> None:
    [event] = parse_tradingeconomics([{**TE_NFP, "Date": raw}])
    assert event.time == datetime(2024, 1, 5, hour, 30, tzinfo=UTC)


def test_trading_economics_tentative_time_is_said_in_the_title() -> None:
    item = {**TE_NFP, "Event": "Fed Interest Rate Decision", "DateSpan": "1"}
    item["Date"] = "2024-01-31T00:00:00"
    [event] = parse_tradingeconomics([item])
    assert event.title == "Fed Interest Rate Decision (time tentative)"
    assert event.time == datetime(2024, 1, 31, tzinfo=UTC)


def test_trading_economics_numbers_and_string_importance_are_accepted() -> None:
    item = {**TE_NFP, "Actual": 216000, "Previous": 3.7, "Forecast": 170000.0, "Importance": "2"}
    [event] = parse_tradingeconomics([item])
    assert (event.actual, event.previous, event.forecast) == ("216000", "3.7", "170000")
    assert event.importance is Importance.MEDIUM


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ({**TE_NFP, "Date": "05/01/2024 13:30"}, "not ISO 8601"),
        ({**TE_NFP, "Date": None}, "not a date-time"),
        ({**TE_NFP, "Importance": 4}, "not 1, 2 or 3"),
        ({**TE_NFP, "Importance": True}, "not 1, 2 or 3"),
        ({**TE_NFP, "Event": "", "Category": ""}, "no Event or Category"),
        ({**TE_NFP, "Actual": {"v": 1}}, "is not text"),
        ("Non Farm Payrolls", "expected an object"),
    ],
)
def test_trading_economics_bad_item_fails_the_batch_naming_it(item: object, why: str) -> None:
    with pytest.raises(SourceError, match=rf"^te: malformed JSON at item 2: .*{why}"):
        parse_tradingeconomics([TE_GERMAN_RETAIL, TE_NFP, item], source="te")


def test_trading_economics_answer_that_is_not_a_list_is_refused() -> None:
    with pytest.raises(SourceError, match="expected a list of events, got dict"):
        parse_tradingeconomics({"Message": "No Access to this country as free user."})


def test_forexfactory_week_in_utc_from_new_york_time() -> None:
    events = parse_faireconomy(FF_WEEK, source="ff")
    assert [e.time for e in events] == FF_WEEK_UTC
    nfp = events[1]
    assert nfp == EconomicEvent(
        time=datetime(2024, 1, 5, 13, 30, tzinfo=UTC),
        currency="USD",
        country="United States",
        title="Non-Farm Employment Change",
        importance=Importance.HIGH,
        forecast="168K",
        previous="199K",
        source="ff",
    )
    assert [e.importance for e in events] == [
        Importance.MEDIUM, Importance.HIGH, Importance.HIGH, Importance.HIGH, Importance.LOW,
    ]  # fmt: skip


def test_forexfactory_same_new_york_hour_moves_an_hour_in_utc_across_dst() -> None:
    events = parse_faireconomy(FF_DST_WEEK)
    assert [e.time for e in events] == [
        datetime(2024, 3, 8, 13, 30, tzinfo=UTC),  # EST, UTC-5
        datetime(2024, 3, 12, 12, 30, tzinfo=UTC),  # EDT, UTC-4
        datetime(2024, 3, 20, 18, 0, tzinfo=UTC),
        datetime(2024, 3, 14, 7, 0, tzinfo=UTC),
    ]
    assert events[3].currency == "ALL"  # "All" in the feed


def test_forexfactory_unknown_impact_is_taken_as_high(caplog: pytest.LogCaptureFixture) -> None:
    [event] = parse_faireconomy([{**FF_WEEK[1], "impact": "Very High"}])
    assert event.importance is Importance.HIGH
    assert "unknown impact 'Very High'" in caplog.text


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ({**FF_WEEK[1], "date": "2024-01-05T08:30:00"}, "has no UTC offset"),
        ({**FF_WEEK[1], "date": "Fri 8:30am"}, "not ISO 8601"),
        ({**FF_WEEK[1], "country": "United States"}, "not a currency code"),
        ({**FF_WEEK[1], "impact": None}, "impact None is not text"),
        ({**FF_WEEK[1], "title": ""}, "no title"),
        ([1, 2], "expected an object, got list"),
    ],
)
def test_forexfactory_bad_item_fails_the_batch_naming_it(item: object, why: str) -> None:
    with pytest.raises(
        SourceError, match=rf"^ForexFactory feed: malformed JSON at item 3: .*{why}"
    ):
        parse_faireconomy([*FF_WEEK[:3], item])


def test_country_names_map_to_currencies() -> None:
    names = ("United States", "euro  area", "FRANCE", "Japan", "Mars")
    assert [currency_of(c) for c in names] == ["USD", "EUR", "EUR", "JPY", ""]
