"""CachedCalendar over real sources on mock transports and SQLite: merge, cache, staleness,
failures that keep old data, restarts, the refresher's backoff and reminders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from engine.calendar import CachedCalendar, FairEconomySource, TradingEconomicsSource
from engine.clock import SimClock
from engine.models import EconomicEvent, Importance
from engine.ports import CalendarBatch, CalendarFetch
from storage import Storage, open_storage
from tests.calendar.conftest import T0, TE_KEY, Server
from tests.calendar.payloads import FF_DST_WEEK, FF_WEEK, TE_WEEK, body

TE, FF = "Trading Economics", "ForexFactory feed"
WEEK = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC))


def sources(http: httpx.AsyncClient, key: str | None = TE_KEY) -> list:
    return [TradingEconomicsSource(http, key), FairEconomySource(http)]


def summary(events: list[EconomicEvent]) -> list[tuple[str, str, str]]:
    return [(f"{e.time:%d %H:%M}", e.currency, e.title) for e in events]


async def test_refresh_merges_both_sources_and_serves_from_memory(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    status = await calendar.refresh()
    assert (status.configured, status.ok, status.fetched_at, status.reason) == (True, True, T0, "")
    assert status.source == f"{TE}, {FF}"
    assert len(server.requests) == 2
    events = calendar.events_between(*WEEK)
    # 5 + 5 items; "ISM Services PMI" (USD, 15:00 UTC) is in both, Trading Economics listed first.
    assert summary(events) == [
        ("04 23:00", "", "Independence Day"),
        ("05 07:00", "EUR", "German Retail Sales m/m"),
        ("05 07:00", "EUR", "Retail Sales MoM"),
        ("05 13:30", "CAD", "Employment Change"),
        ("05 13:30", "USD", "Non Farm Payrolls"),
        ("05 13:30", "USD", "Non-Farm Employment Change"),
        ("05 13:30", "USD", "Unemployment Rate"),
        ("05 15:00", "USD", "ISM Services PMI"),
        ("08 05:00", "JPY", "Bank Holiday"),
    ]
    ism = events[7]
    assert (ism.source, ism.actual, ism.forecast) == (TE, "50.6", "52.6")
    # The port's reads never touch the network.
    usd = calendar.events_between(T0, T0 + timedelta(hours=6), frozenset({"USD"}))
    assert [e.title for e in usd] == [
        "Non Farm Payrolls", "Non-Farm Employment Change", "Unemployment Rate", "ISM Services PMI",
    ]  # fmt: skip
    assert calendar.events_between(T0, T0 + timedelta(hours=3), frozenset({"USD"})) == []
    assert len(server.requests) == 2


async def test_events_between_is_half_open_and_all_matches_every_currency(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    server.ff = (200, body(FF_DST_WEEK))
    calendar = await CachedCalendar.open(storage.calendar, clock, [FairEconomySource(http)])
    await calendar.refresh()
    cpi = datetime(2024, 3, 12, 12, 30, tzinfo=UTC)
    assert [e.title for e in calendar.events_between(cpi, cpi + timedelta(minutes=1))] == [
        "CPI m/m"
    ]
    assert calendar.events_between(cpi - timedelta(hours=1), cpi) == []
    g7 = calendar.events_between(*(datetime(2024, 3, d, tzinfo=UTC) for d in (14, 15)))
    assert [(e.title, e.currency) for e in g7] == [("G7 Meetings", "ALL")]
    assert (
        calendar.events_between(
            datetime(2024, 3, 14, tzinfo=UTC),
            datetime(2024, 3, 15, tzinfo=UTC),
            frozenset({"JPY"}),
        )
        == g7
    )


async def test_a_restart_reads_the_cache_without_the_network(
    tmp_path: Path, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    path = tmp_path / "cal.db"
    first = await open_storage(path, clock)
    try:
        calendar = await CachedCalendar.open(first.calendar, clock, sources(http))
        await calendar.refresh()
        before = calendar.events_between(*WEEK)
    finally:
        await first.close()
    clock.advance_to(T0 + timedelta(hours=2))
    again = await open_storage(path, clock)
    try:
        restarted = await CachedCalendar.open(again.calendar, clock, sources(http))
        assert restarted.events_between(*WEEK) == before
        status = restarted.status()
        assert (status.ok, status.fetched_at, status.source) == (True, T0, f"{TE}, {FF}")
    finally:
        await again.close()
    assert len(server.requests) == 2


async def test_failed_refresh_keeps_old_data_until_it_is_stale(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    calendar = await CachedCalendar.open(
        storage.calendar, clock, sources(http), stale_after=timedelta(hours=6)
    )
    await calendar.refresh()
    before = calendar.events_between(*WEEK)
    server.te, server.ff = (503, b"Service Unavailable"), httpx.ConnectTimeout
    clock.advance_to(T0 + timedelta(hours=1))
    status = await calendar.refresh()
    failures = f"{TE}: HTTP 503; {FF}: timed out after 10 s"
    assert (status.ok, status.fetched_at, status.reason) == (True, T0, f"last refresh: {failures}")
    assert calendar.events_between(*WEEK) == before
    assert f"calendar: {TE}: HTTP 503" in caplog.text
    clock.advance_to(T0 + timedelta(hours=6))
    assert calendar.status().ok  # exactly stale_after old is still fresh
    clock.advance_to(T0 + timedelta(hours=6, minutes=1))
    stale = calendar.status()
    assert not stale.ok and stale.configured
    assert stale.reason == (
        f"calendar data is 6 h 1 min old (stale after 6 h); last refresh: {failures}"
    )
    assert calendar.events_between(*WEEK) == before  # still served, the gate decides


async def test_one_source_down_the_other_keeps_the_data_fresh(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    server.te = (429, b"{}")
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    status = await calendar.refresh()
    assert (status.ok, status.source) == (True, FF)
    assert status.reason == f"last refresh: {TE}: HTTP 429 (rate limited)"
    assert {e.source for e in calendar.events_between(*WEEK)} == {FF}


async def test_malformed_payload_is_logged_and_the_other_source_used(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    broken = [*FF_WEEK[:3], {**FF_WEEK[3], "date": "Fri 10:00am"}, FF_WEEK[4]]
    server.ff = (200, body(broken))
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    status = await calendar.refresh()
    why = f"{FF}: malformed JSON at item 3: date 'Fri 10:00am' is not ISO 8601"
    assert (status.ok, status.source, status.reason) == (True, TE, f"last refresh: {why}")
    assert why in caplog.text
    assert len(calendar.events_between(*WEEK)) == len(TE_WEEK)


async def test_nothing_fetched_yet_is_not_ok_and_says_why(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    assert calendar.status().reason == "no calendar data yet: not fetched yet"
    assert not calendar.status().ok
    server.te = server.ff = (200, b"<html>maintenance</html>")
    status = await calendar.refresh()
    assert not status.ok and status.fetched_at is None
    assert status.reason == (
        f"no calendar data yet: {TE}: malformed JSON at line 1 column 1 (24 bytes); "
        f"{FF}: malformed JSON at line 1 column 1 (24 bytes)"
    )
    no_sources = await CachedCalendar.open(storage.calendar, clock)
    assert no_sources.status().reason == "no calendar data yet: no source configured"


async def test_a_guest_sample_alone_never_makes_the_data_fresh(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(
        storage.calendar, clock, [TradingEconomicsSource(http, None)]
    )
    status = await calendar.refresh()
    assert not status.ok
    assert status.reason == (
        "no calendar data yet: no complete source answered (a guest key gets a sample only)"
    )
    assert len(calendar.events_between(*WEEK)) == len(TE_WEEK)  # kept: more caution, not less
    assert server.requests[0].url.params["c"] == "guest:guest"


async def test_a_moved_release_replaces_the_old_time(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    await calendar.refresh()
    moved = [dict(item) for item in FF_WEEK]
    moved[1]["date"] = "2024-01-05T09:30:00-05:00"  # payrolls an hour later
    server.ff = (200, body(moved))
    clock.advance_to(T0 + timedelta(hours=1))
    await calendar.refresh()
    nfp = [
        e.time for e in calendar.events_between(*WEEK) if e.title == "Non-Farm Employment Change"
    ]
    assert nfp == [datetime(2024, 1, 5, 14, 30, tzinfo=UTC)]
    assert len(calendar.events_between(*WEEK)) == 9
    assert await storage.calendar.events() == calendar.events_between(*WEEK)


async def test_old_events_are_pruned(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(
        storage.calendar, clock, [FairEconomySource(http)], keep=timedelta(days=2)
    )
    await calendar.refresh()
    server.ff = (200, b"[]")
    clock.advance_to(datetime(2024, 1, 9, 6, 0, tzinfo=UTC))  # keep from 7 Jan 06:00
    await calendar.refresh()
    assert summary(await storage.calendar.events()) == [("08 05:00", "JPY", "Bank Holiday")]


async def test_a_broken_cache_is_reported_and_nothing_crashes(
    clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    storage = await open_storage(":memory:", clock)
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    await calendar.refresh()
    before = calendar.events_between(*WEEK)
    await storage.close()
    status = await calendar.refresh()
    assert status.ok  # the copy in memory is still younger than stale_after
    assert status.reason == "last refresh: cache: StorageError: the database is closed"
    assert calendar.events_between(*WEEK) == before


async def test_refresher_backs_off_after_failures_then_keeps_its_interval(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, [FairEconomySource(http)])
    server.ff = (503, b"")
    stop = asyncio.Event()
    waits: list[float] = []

    async def pause(seconds: float, event: asyncio.Event) -> None:
        assert event is stop
        waits.append(seconds)
        clock.advance_to(clock.now() + timedelta(seconds=seconds))
        if len(waits) == 3:
            server.ff = (200, body(FF_WEEK))
        if len(waits) == 5:
            stop.set()

    await calendar.run_refresher(
        timedelta(hours=1), stop, retry_min=timedelta(minutes=1), pause=pause
    )
    # Three failed refreshes wait 1, 2, 4 min; once fresh, the interval (1 h) each time.
    assert waits == [60.0, 120.0, 240.0, 3600.0, 3600.0]
    assert len(server.requests) == 5
    assert calendar.status().fetched_at == T0 + timedelta(minutes=7, hours=1)


async def test_refresher_backoff_is_capped_at_the_interval(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, [FairEconomySource(http)])
    server.ff = httpx.ConnectError
    stop = asyncio.Event()
    waits: list[float] = []

    async def pause(seconds: float, event: asyncio.Event) -> None:
        waits.append(seconds)
        if len(waits) == 6:
            stop.set()

    await calendar.run_refresher(timedelta(minutes=10), stop, pause=pause)
    assert waits == [60.0, 120.0, 240.0, 480.0, 600.0, 600.0]


async def test_refresher_stops_promptly_when_asked(
    storage: Storage, clock: SimClock, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, [FairEconomySource(http)])
    stop = asyncio.Event()
    task = asyncio.create_task(calendar.run_refresher(timedelta(hours=1), stop))
    try:
        for _ in range(500):  # let the first refresh finish and the hour-long wait begin
            if calendar.status().ok:
                break
            await asyncio.sleep(0.01)
        assert calendar.status().ok
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    finally:
        task.cancel()


async def test_reminders_come_once_each_even_after_a_restart(
    tmp_path: Path, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    usd = frozenset({"USD"})
    path = tmp_path / "cal.db"
    first = await open_storage(path, clock)
    try:
        calendar = await CachedCalendar.open(first.calendar, clock, sources(http))
        await calendar.refresh()
        lead = timedelta(hours=3, minutes=30)  # 10:00 + 3:30 reaches payrolls at 13:30 exactly
        due = await calendar.due_reminders(T0, lead, currencies=usd)
        assert summary(due) == [
            ("05 13:30", "USD", "Non Farm Payrolls"),
            ("05 13:30", "USD", "Non-Farm Employment Change"),
            ("05 13:30", "USD", "Unemployment Rate"),
        ]
        assert await calendar.due_reminders(T0 + timedelta(minutes=5), lead, currencies=usd) == []
    finally:
        await first.close()
    again = await open_storage(path, clock)
    try:
        restarted = await CachedCalendar.open(again.calendar, clock)
        at = T0 + timedelta(hours=2)
        due = await restarted.due_reminders(at, timedelta(hours=3), currencies=usd)
        assert summary(due) == [("05 15:00", "USD", "ISM Services PMI")]
        medium = await restarted.due_reminders(
            T0 - timedelta(hours=4), timedelta(hours=4), min_importance=Importance.MEDIUM
        )
        assert summary(medium) == [("05 07:00", "EUR", "German Retail Sales m/m"),
                                   ("05 07:00", "EUR", "Retail Sales MoM")]  # fmt: skip
    finally:
        await again.close()


async def test_events_inserted_into_the_repo_serve_a_session_without_sources(
    storage: Storage, clock: SimClock
) -> None:
    nfp = EconomicEvent(
        T0 + timedelta(minutes=30), "USD", "United States", "Non-Farm Payrolls", Importance.HIGH
    )
    span = CalendarBatch("manual", nfp.time, nfp.time + timedelta(minutes=1), (nfp,))
    await storage.calendar.store((span,), CalendarFetch(T0, "manual"))
    calendar = await CachedCalendar.open(storage.calendar, clock, stale_after=timedelta(days=30))
    assert calendar.status().ok and calendar.status().source == "manual"
    assert calendar.events_between(T0, T0 + timedelta(hours=1), frozenset({"USD"})) == [nfp]
    assert (await calendar.refresh()).ok  # no sources: nothing asked, nothing lost


def test_settings_that_make_no_sense_are_refused(storage: Storage, clock: SimClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        CachedCalendar(storage.calendar, clock, stale_after=timedelta(0))


async def test_concurrent_refreshes_and_reminders_do_not_double_up(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await CachedCalendar.open(storage.calendar, clock, sources(http))
    first, second = await asyncio.gather(calendar.refresh(), calendar.refresh())
    assert first.ok and second.ok and len(server.requests) == 4
    assert len(await storage.calendar.events()) == 9
    lead, usd = timedelta(hours=4), frozenset({"USD"})
    a, b = await asyncio.gather(
        calendar.due_reminders(T0, lead, currencies=usd),
        calendar.due_reminders(T0, lead, currencies=usd),
    )
    assert sorted(e.title for e in a + b) == [
        "Non Farm Payrolls", "Non-Farm Employment Change", "Unemployment Rate",
    ]  # fmt: skip
