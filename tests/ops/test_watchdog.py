"""Stall watchdog: only open-market time counts; one LoopStalled per stall, LoopRecovered after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import SimClock
from engine.data.sessions import is_open
from engine.events import LoopRecovered, LoopStalled
from engine.models import Timeframe
from engine.watchdog import StallWatchdog, open_time, surely_open

MIN = timedelta(minutes=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_open_time_skips_the_weekend_and_the_daily_break() -> None:
    big = timedelta(days=10)
    # 2024-01-05 is a Friday. Gold closes 21:00 UTC Friday and reopens 22:00 Sunday; with an hour
    # of slack each side, "surely open" ends Friday 20:00 and starts Sunday 23:00:
    # 19:00-20:00 Friday (60 min) + 23:00-23:30 Sunday (30 min) = 90 minutes.
    friday, sunday = at("2024-01-05T19:00"), at("2024-01-07T23:30")
    assert open_time(friday, sunday, surely_open, big) == timedelta(minutes=90)
    # The plain model: 19:00-21:00 Friday + 22:00-23:30 Sunday = 210 minutes.
    assert open_time(friday, sunday, is_open, big) == timedelta(minutes=210)
    # Tuesday 19:30 to 23:30 across the daily break: 19:30-20:00 + 23:00-23:30 = 60 minutes.
    assert open_time(at("2024-01-09T19:30"), at("2024-01-09T23:30"), surely_open, big) == 60 * MIN
    # A plain Wednesday morning counts every minute.
    assert open_time(at("2024-01-10T08:00"), at("2024-01-10T09:15"), surely_open, big) == 75 * MIN


def test_open_time_stops_counting_past_the_cap() -> None:
    # A month of silence is counted only until it exceeds the cap (one step past it).
    start, end = at("2024-01-01T00:00"), at("2024-02-01T00:00")
    assert open_time(start, end, surely_open, timedelta(minutes=30)) == timedelta(minutes=31)


@dataclass
class Beat:
    last_cycle: dict[str, datetime] = field(default_factory=dict)
    last_bar: dict[str, datetime] = field(default_factory=dict)


@dataclass
class FakeTrader:
    heartbeat: Beat = field(default_factory=Beat)


async def test_one_stall_event_then_recovery() -> None:
    clock = SimClock(at("2024-01-10T08:00"))  # a Wednesday
    trader = FakeTrader()
    events: list[object] = []

    async def emit(event: object) -> None:
        events.append(event)

    dog = StallWatchdog(trader, clock, Timeframe.M15, emit, symbols=("XAUUSD", "EURUSD"))
    assert dog.every == 60  # a quarter of M15 is 225 s; checks are at most a minute apart
    trader.heartbeat.last_cycle["XAUUSD"] = at("2024-01-10T08:15")
    trader.heartbeat.last_cycle["EURUSD"] = at("2024-01-10T08:15")

    clock.advance_to(at("2024-01-10T08:45"))  # 30 min silent: exactly two M15 periods, fine
    lags = await dog.check()
    assert [lag.stalled for lag in lags] == [False, False] and events == []
    assert lags[0].silent_s == 1800 and lags[0].limit_s == 1800

    trader.heartbeat.last_cycle["EURUSD"] = at("2024-01-10T08:45")
    clock.advance_to(at("2024-01-10T08:46"))  # XAUUSD: 31 min silent -> stalled
    await dog.check()
    await dog.check()  # reported once, not on every check
    assert events == [
        LoopStalled(at("2024-01-10T08:46"), "XAUUSD", Timeframe.M15, at("2024-01-10T08:15"), 1860)
    ]

    trader.heartbeat.last_cycle["XAUUSD"] = at("2024-01-10T09:00")
    clock.advance_to(at("2024-01-10T09:00"))
    await dog.check()
    assert events[1:] == [
        LoopRecovered(at("2024-01-10T09:00"), "XAUUSD", Timeframe.M15, at("2024-01-10T08:46"))
    ]


async def test_weekend_silence_is_no_stall() -> None:
    clock = SimClock(at("2024-01-05T20:00"))  # Friday, last M15 cycle before the close
    trader = FakeTrader()
    trader.heartbeat.last_cycle["XAUUSD"] = at("2024-01-05T20:00")
    events: list[object] = []

    async def emit(event: object) -> None:
        events.append(event)

    dog = StallWatchdog(trader, clock, Timeframe.M15, emit, symbols=("XAUUSD",))
    clock.advance_to(at("2024-01-07T23:20"))  # Sunday night: 20 "surely open" minutes so far
    assert (await dog.check())[0].silent_s == 20 * 60 and events == []
    clock.advance_to(at("2024-01-07T23:31"))  # 31 minutes: now it is a stall
    assert (await dog.check())[0].stalled and len(events) == 1


async def test_before_the_first_cycle_the_start_counts() -> None:
    clock = SimClock(at("2024-01-10T08:00"))
    trader = FakeTrader()
    dog = StallWatchdog(trader, clock, Timeframe.H1, None, symbols=("XAUUSD",))
    clock.advance_to(at("2024-01-10T10:00"))
    assert not dog.lags()[0].stalled  # two hours: the limit itself
    clock.advance_to(at("2024-01-10T10:01"))
    lag = dog.lags()[0]
    assert lag.stalled and lag.last_cycle is None


def test_symbols_are_required() -> None:
    with pytest.raises(ValueError, match="symbols"):
        StallWatchdog(FakeTrader(), SimClock(at("2024-01-10T08:00")), Timeframe.M15, None)
