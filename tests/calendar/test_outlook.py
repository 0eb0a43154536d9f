"""The /news query: parsing its arguments, upcoming events, blocking now, chained windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.calendar import (
    CachedCalendar,
    NewsRequest,
    NewsWindow,
    SymbolCurrencies,
    UnconfiguredCalendar,
    news_outlook,
)
from engine.clock import SimClock
from engine.errors import BadArguments
from engine.models import EconomicEvent, Importance
from engine.ports import CalendarBatch, CalendarFetch
from engine.risk import NewsPolicy, RiskLimits
from storage import Storage

T = datetime(2024, 1, 5, 13, 30, tzinfo=UTC)  # US payrolls


def ev(
    minutes: int, title: str, currency: str = "USD", imp: Importance = Importance.HIGH
) -> EconomicEvent:
    return EconomicEvent(T + timedelta(minutes=minutes), currency, "", title, imp, source="m")


EVENTS = (
    ev(-120, "German Retail Sales m/m", "EUR", Importance.MEDIUM),
    ev(0, "Non-Farm Employment Change"),
    ev(0, "Canada Employment Change", "CAD"),
    ev(90, "ISM Services PMI"),
    ev(600, "Fed Chair Speaks"),
    ev(2000, "Consumer Credit", imp=Importance.LOW),
)
WINDOW = NewsWindow(before=timedelta(minutes=60), after=timedelta(minutes=30))


async def loaded(storage: Storage, clock: SimClock, fetched: datetime) -> CachedCalendar:
    batch = CalendarBatch("m", T - timedelta(days=1), T + timedelta(days=2), EVENTS)
    await storage.calendar.store((batch,), CalendarFetch(fetched, "m"))
    return await CachedCalendar.open(storage.calendar, clock)


@pytest.mark.parametrize(
    ("args", "symbol", "hours"),
    [
        (None, None, 24), ("", None, 24), ("xauusd", "XAUUSD", 24), ("7d", None, 168),
        ("XAUUSD 48h", "XAUUSD", 48), ("12H eurusd", "EURUSD", 12), ("14d", None, 336),
    ],
)  # fmt: skip
def test_news_request_parse(args: str | None, symbol: str | None, hours: int) -> None:
    assert NewsRequest.parse(args) == NewsRequest(symbol, timedelta(hours=hours))


@pytest.mark.parametrize("args", ["15d", "0h", "XAUUSD EURUSD", "24h 7d", "gold!", "XAUUSD 7d x"])
def test_news_request_refuses_what_it_cannot_read(args: str) -> None:
    with pytest.raises(BadArguments) as caught:
        NewsRequest.parse(args)
    assert caught.value.code == "news_args"


def test_window_from_limits_is_the_gates_window() -> None:
    limits = RiskLimits(
        news_before=timedelta(minutes=45), news_after=timedelta(minutes=15),
        news_min_importance=Importance.MEDIUM, news_policy=NewsPolicy.ALLOW,
    )  # fmt: skip
    assert NewsWindow.from_limits(limits) == NewsWindow(
        timedelta(minutes=45), timedelta(minutes=15), Importance.MEDIUM, NewsPolicy.ALLOW
    )


async def test_outlook_before_payrolls_lists_and_blocks(storage: Storage) -> None:
    now = T - timedelta(minutes=40)  # inside payrolls' 60-minute lead
    clock = SimClock(now)
    calendar = await loaded(storage, clock, now - timedelta(hours=1))
    out = news_outlook(
        calendar, now=now, symbols=("XAUUSD",), horizon=timedelta(hours=24), window=WINDOW
    )
    assert out.currencies == frozenset({"USD"})
    assert [(u.event.title, u.starts_in, u.blocks_now) for u in out.events] == [
        ("Non-Farm Employment Change", timedelta(minutes=40), True),
        ("ISM Services PMI", timedelta(minutes=130), False),
        ("Fed Chair Speaks", timedelta(minutes=640), False),
    ]
    nfp = out.events[0]
    assert (nfp.window_start, nfp.window_end) == (
        T - timedelta(hours=1),
        T + timedelta(minutes=30),
    )
    # Payrolls' window ends 14:00, ISM's opens 14:00: the block runs on to ISM's end, 15:30.
    assert out.blocking and out.blocked_until == T + timedelta(minutes=120)
    assert out.until_unblocked == timedelta(minutes=160)
    assert out.reason == "news window: Non-Farm Employment Change (USD) at 13:30 UTC"
    assert [u.event.title for u in out.blocking_events] == ["Non-Farm Employment Change"]


async def test_outlook_for_several_symbols_and_lower_importance(storage: Storage) -> None:
    now = T - timedelta(hours=3)
    clock = SimClock(now)
    calendar = await loaded(storage, clock, now)
    out = news_outlook(
        calendar, now=now, symbols=("XAUUSD", "USDCAD"), horizon=timedelta(days=2),
        window=WINDOW, min_importance=Importance.LOW,
    )  # fmt: skip
    assert [u.event.title for u in out.events] == [
        "Canada Employment Change", "Non-Farm Employment Change", "ISM Services PMI",
        "Fed Chair Speaks", "Consumer Credit",
    ]  # fmt: skip
    assert not out.blocking and out.blocked_until is None and out.reason == "no news window now"
    ger = SymbolCurrencies.parse("GER40=EUR")
    titles = [
        [u.event.title for u in news_outlook(
            calendar, now=now, symbols=("GER40",), horizon=timedelta(minutes=minutes),
            window=WINDOW, currencies=ger, min_importance=Importance.MEDIUM,
        ).events]
        for minutes in (60, 61)
    ]  # fmt: skip
    # German retail sales are exactly 60 min away: outside a 60-minute horizon, inside 61.
    assert titles == [[], ["German Retail Sales m/m"]]


async def test_an_event_blocking_now_is_shown_even_past_a_short_horizon(
    storage: Storage,
) -> None:
    now = T - timedelta(minutes=50)
    calendar = await loaded(storage, SimClock(now), now)
    out = news_outlook(
        calendar, now=now, symbols=("XAUUSD",), horizon=timedelta(minutes=10), window=WINDOW
    )
    assert [u.event.title for u in out.events] == ["Non-Farm Employment Change"]
    assert out.blocking


async def test_after_the_window_nothing_blocks(storage: Storage) -> None:
    now = T + timedelta(minutes=121)  # ISM (15:00) window ended 15:30
    calendar = await loaded(storage, SimClock(now), now)
    out = news_outlook(
        calendar, now=now, symbols=("XAUUSD",), horizon=timedelta(hours=2), window=WINDOW
    )
    assert not out.blocking and [u.event.title for u in out.events] == []


async def test_stale_calendar_follows_the_policy(storage: Storage) -> None:
    now = T - timedelta(hours=5)
    calendar = await loaded(storage, SimClock(now), now - timedelta(hours=7))
    blocked = news_outlook(
        calendar, now=now, symbols=("XAUUSD",), horizon=timedelta(hours=24), window=WINDOW
    )
    assert blocked.blocking and blocked.blocked_until is None
    assert blocked.reason == (
        "calendar unavailable (calendar data is 7 h old (stale after 6 h)); "
        "news policy blocks entries"
    )
    assert len(blocked.events) == 3  # the old data is still shown
    allow = NewsWindow(WINDOW.before, WINDOW.after, policy=NewsPolicy.ALLOW)
    allowed = news_outlook(
        calendar, now=now, symbols=("XAUUSD",), horizon=timedelta(hours=24), window=allow
    )
    assert not allowed.blocking and allowed.reason.endswith("news policy allows entries")


def test_unconfigured_calendar_never_blocks() -> None:
    out = news_outlook(
        UnconfiguredCalendar(), now=T, symbols=("XAUUSD",), horizon=timedelta(hours=24),
        window=WINDOW,
    )  # fmt: skip
    assert not out.blocking and out.events == ()
    assert out.reason == "calendar not configured; news not checked"
