"""Paper-mode bar feeds, driven by SimClock and a fake sleep (no wall time anywhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from engine.clock import SimClock
from engine.data.feeds import ReplayFeed, SyntheticLiveFeed
from engine.data.synthetic import generate_bars
from engine.models import Bar, Tick, Timeframe


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class FakeSleep:
    """Records each requested pause and moves the SimClock forward by it."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance_to(self.clock.now() + timedelta(seconds=seconds))


async def take(bars: AsyncIterator[Bar], n: int) -> list[Bar]:
    out: list[Bar] = []
    async with aclosing(bars) as stream:
        async for bar in stream:
            out.append(bar)
            if len(out) == n:
                break
    return out


async def live_run(
    start: datetime, n: int, seed: int = 3, timeframe: Timeframe = Timeframe.M15
) -> tuple[list[Bar], list[Tick], FakeSleep]:
    clock = SimClock(start)
    sleep = FakeSleep(clock)
    ticks: list[Tick] = []
    feed = SyntheticLiveFeed(clock, sleep, 2050.0, seed=seed, on_tick=ticks.append)
    bars = await take(feed.closed_bars("XAUUSD", timeframe), n)
    return bars, ticks, sleep


def check_bar_against_ticks(bar: Bar, ticks: list[Tick]) -> None:
    inside = [t for t in ticks if bar.time <= t.time < bar.close_time]
    assert inside, bar
    bids = [t.bid for t in inside]
    spreads = [round((t.ask - t.bid) * 100) for t in inside]
    assert bar.open == bids[0]
    assert bar.high == max(bids)
    assert bar.low == min(bids)
    assert bar.close == bids[-1]
    assert bar.volume == len(inside)
    assert bar.spread == round(sum(spreads) / len(spreads))


async def test_live_bars_close_on_the_clock_and_match_their_ticks() -> None:
    bars, ticks, sleep = await live_run(utc(2024, 1, 2, 10), 3)
    assert [b.time for b in bars] == [utc(2024, 1, 2, 10, m) for m in (0, 15, 30)]
    for bar in bars:
        check_bar_against_ticks(bar, ticks)
        assert bar.volume == 900  # one tick a second
    assert ticks[0].bid == 2050.0  # anchored at the last real price
    assert ticks[0].time == utc(2024, 1, 2, 10)
    assert all(15 <= round((t.ask - t.bid) * 100) <= 90 for t in ticks)
    # The third bar was yielded when the clock reached its close: 10:45, never later.
    assert sleep.clock.now() == utc(2024, 1, 2, 10, 45)
    assert sum(sleep.calls) == 45 * 60


async def test_live_feed_skips_a_partial_first_bar() -> None:
    bars, ticks, _ = await live_run(utc(2024, 1, 2, 10, 7), 1)
    assert bars[0].time == utc(2024, 1, 2, 10, 15)
    assert ticks[0].time == utc(2024, 1, 2, 10, 7)
    check_bar_against_ticks(bars[0], ticks)


async def test_live_feed_respects_the_daily_break_and_weekend() -> None:
    bars, ticks, sleep = await live_run(utc(2024, 1, 5, 20, 30), 3)  # Friday
    assert [b.time for b in bars] == [
        utc(2024, 1, 5, 20, 30),
        utc(2024, 1, 5, 20, 45),
        utc(2024, 1, 7, 22),
    ]
    assert not [t for t in ticks if utc(2024, 1, 5, 21) <= t.time < utc(2024, 1, 7, 22)]
    assert max(sleep.calls) == (utc(2024, 1, 7, 22) - utc(2024, 1, 5, 21)).total_seconds()
    bars, ticks, _ = await live_run(utc(2024, 1, 2, 20, 45), 2)  # Tuesday
    assert [b.time for b in bars] == [utc(2024, 1, 2, 20, 45), utc(2024, 1, 2, 22)]
    for bar in bars:
        check_bar_against_ticks(bar, ticks)


async def test_live_h1_bar_spans_the_break() -> None:
    bars, ticks, _ = await live_run(utc(2024, 1, 2, 20), 3, timeframe=Timeframe.H1)
    assert [b.time for b in bars] == [
        utc(2024, 1, 2, 20),
        utc(2024, 1, 2, 22),
        utc(2024, 1, 2, 23),
    ]
    assert bars[0].volume == 3600
    for bar in bars:
        check_bar_against_ticks(bar, ticks)


async def test_live_feed_is_seeded() -> None:
    first, _, _ = await live_run(utc(2024, 1, 2, 10), 2, seed=3)
    again, _, _ = await live_run(utc(2024, 1, 2, 10), 2, seed=3)
    other, _, _ = await live_run(utc(2024, 1, 2, 10), 2, seed=4)
    assert first == again
    assert first != other


def test_live_feed_refuses_a_bad_anchor() -> None:
    clock = SimClock(utc(2024, 1, 2))
    with pytest.raises(ValueError, match="anchor price must be positive"):
        SyntheticLiveFeed(clock, FakeSleep(clock), 0.0)


@pytest.fixture
def history() -> pd.DataFrame:
    return generate_bars(Timeframe.M15, utc(2024, 1, 2, 10), utc(2024, 1, 2, 12, 30), seed=9)


async def test_replay_in_order_at_speed(history: pd.DataFrame) -> None:
    clock = SimClock(utc(2024, 1, 2, 10))
    sleep = FakeSleep(clock)
    feed = ReplayFeed(history, Timeframe.M15, speed=600, sleep=sleep)
    bars = await take(feed.closed_bars("XAUUSD", Timeframe.M15), 100)
    assert [b.time for b in bars] == list(history.index)
    assert [b.close for b in bars] == list(history["close"])
    assert sleep.calls == [1.5] * len(history)  # 900 s / 600


async def test_replay_from_a_time_moves_the_clock_and_quotes(history: pd.DataFrame) -> None:
    clock = SimClock(utc(2024, 1, 2, 11))  # replayed time, for the paper broker and trader
    wall = SimClock(utc(2025, 6, 1))  # what the fake sleep advances
    ticks: list[Tick] = []
    feed = ReplayFeed(
        history,
        Timeframe.M15,
        speed=60,
        sleep=FakeSleep(wall),
        start=utc(2024, 1, 2, 11),
        clock=clock,
        on_tick=ticks.append,
        point=0.01,
    )
    bars = await take(feed.closed_bars("XAUUSD", Timeframe.M15), 2)
    assert [b.time for b in bars] == [utc(2024, 1, 2, 11), utc(2024, 1, 2, 11, 15)]
    assert clock.now() == bars[-1].close_time
    assert wall.now() == utc(2025, 6, 1, 0, 0, 30)  # two M15 bars at 60x: 15 s each
    first = bars[0]
    quotes = [t.bid for t in ticks[:4]]
    if first.close >= first.open:
        assert quotes == [first.open, first.low, first.high, first.close]
    else:
        assert quotes == [first.open, first.high, first.low, first.close]
    assert ticks[0].time == first.time
    assert ticks[3].time == first.close_time - timedelta(seconds=1)
    assert ticks[0].ask == pytest.approx(first.open + first.spread * 0.01)


async def test_replay_resamples_up_never_down(history: pd.DataFrame) -> None:
    clock = SimClock(utc(2024, 1, 2, 10))
    sleep = FakeSleep(clock)
    feed = ReplayFeed(history, Timeframe.M15, speed=3600, sleep=sleep)
    bars = await take(feed.closed_bars("XAUUSD", Timeframe.H1), 10)
    assert [b.time for b in bars] == [utc(2024, 1, 2, h) for h in (10, 11, 12)]
    assert bars[0].high == history["high"].iloc[:4].max()
    assert sleep.calls == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="upsampling"):
        await take(feed.closed_bars("XAUUSD", Timeframe.M5), 1)
    with pytest.raises(ValueError, match="speed must be positive"):
        ReplayFeed(history, Timeframe.M15, speed=0, sleep=sleep)
