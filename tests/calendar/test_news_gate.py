"""The real chain: HTTP (mock transports) -> SQLite cache -> memory -> the existing NewsGate."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx

from engine.calendar import (
    CachedCalendar,
    FairEconomySource,
    SymbolCurrencies,
    TradingEconomicsSource,
)
from engine.clock import SimClock
from engine.models import Account, Side, Tick
from engine.ports import Calendar
from engine.risk import NewsGate, NewsPolicy, RiskContext, RiskLimits, RiskState
from engine.symbols import DEFAULT_SPECS
from storage import Storage
from tests.calendar.conftest import T0, TE_KEY, Server

UTC_ZONE = ZoneInfo("UTC")
LIMITS = RiskLimits(news_before=timedelta(minutes=60), news_after=timedelta(minutes=30))


def context(
    calendar: Calendar,
    clock: SimClock,
    symbol: str = "XAUUSD",
    *,
    limits: RiskLimits = LIMITS,
    currencies: frozenset[str] | None = None,
) -> RiskContext:
    now = clock.now()
    return RiskContext(
        now=now, zone=UTC_ZONE, symbol=symbol, side=Side.BUY, spec=DEFAULT_SPECS[symbol],
        tick=Tick(symbol, now, 2040.0, 2040.3), account=Account(1, "USD", 1e4, 1e4, 0, 1e4, 100),
        open_positions=0, state=RiskState(), limits=limits, calendar=calendar,
        currencies=currencies,
    )  # fmt: skip


async def refreshed(storage: Storage, clock: SimClock, http: httpx.AsyncClient) -> CachedCalendar:
    sources = [TradingEconomicsSource(http, TE_KEY), FairEconomySource(http)]
    calendar = await CachedCalendar.open(storage.calendar, clock, sources)
    await calendar.refresh()
    return calendar


async def test_gate_blocks_inside_the_payrolls_window_and_allows_outside(
    storage: Storage, clock: SimClock, http: httpx.AsyncClient
) -> None:
    calendar = await refreshed(storage, clock, http)
    gate = NewsGate()
    assert gate.check(context(calendar, clock)).allowed  # 10:00, payrolls at 13:30
    clock.advance_to(T0 + timedelta(hours=2, minutes=29))  # 12:29: 61 min before
    assert gate.check(context(calendar, clock)).allowed
    clock.advance_to(T0 + timedelta(hours=2, minutes=30))  # 12:30: the window opens
    verdict = gate.check(context(calendar, clock))
    assert not verdict.allowed
    assert verdict.reason == (
        "news window: Non Farm Payrolls (USD) at 13:30 UTC and 2 more; no entries until 14:00 UTC"
    )
    clock.advance_to(T0 + timedelta(hours=4))  # 14:00: ISM (15:00) window opens as NFP's ends
    assert not gate.check(context(calendar, clock)).allowed
    clock.advance_to(T0 + timedelta(hours=5, minutes=30))  # 15:30: all windows over
    assert gate.check(context(calendar, clock)).allowed


async def test_configured_currencies_reach_the_gate_through_the_context(
    storage: Storage, clock: SimClock, http: httpx.AsyncClient
) -> None:
    calendar = await refreshed(storage, clock, http)
    clock.advance_to(T0 + timedelta(hours=3))  # 13:00: USD and CAD jobs at 13:30
    cad_only = SymbolCurrencies.parse("EURUSD=CAD").for_symbol("EURUSD")
    verdict = NewsGate().check(context(calendar, clock, "EURUSD", currencies=cad_only))
    assert not verdict.allowed and "Employment Change (CAD)" in verdict.reason
    clock.advance_to(T0 + timedelta(hours=4, minutes=5))  # 14:05: CAD's window is over
    assert NewsGate().check(context(calendar, clock, "EURUSD", currencies=cad_only)).allowed


async def test_stale_or_unreachable_calendar_blocks_by_default_with_the_reason(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    calendar = await refreshed(storage, clock, http)
    server.te, server.ff = (503, b""), httpx.ConnectError
    clock.advance_to(T0 + timedelta(days=1))  # Saturday: no releases near, data 24 h old
    await calendar.refresh()
    verdict = NewsGate().check(context(calendar, clock))
    assert not verdict.allowed
    assert verdict.reason.startswith(
        "calendar unavailable (calendar data is 1 d 0 h old (stale after 6 h); "
        "last refresh: Trading Economics: HTTP 503; ForexFactory feed: connection failed"
    )
    assert verdict.reason.endswith("; news policy blocks entries")
    allow = RiskLimits(news_policy=NewsPolicy.ALLOW)
    assert NewsGate().check(context(calendar, clock, limits=allow)).allowed


async def test_never_fetched_calendar_blocks_too(
    storage: Storage, clock: SimClock, server: Server, http: httpx.AsyncClient
) -> None:
    server.te = server.ff = (500, b"")
    calendar = await refreshed(storage, clock, http)
    verdict = NewsGate().check(context(calendar, clock))
    assert not verdict.allowed
    assert "no calendar data yet: Trading Economics: HTTP 500; ForexFactory feed: HTTP 500" in (
        verdict.reason
    )
