from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from engine.clock import SimClock
from engine.data.frames import bars_frame
from engine.data.polling import PollingBarFeed
from engine.models import Timeframe

T0 = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
M15 = Timeframe.M15


def frame(times: list[datetime]) -> pd.DataFrame:
    n = len(times)
    base = pd.Series(range(n), dtype=float) + 2000.0
    return bars_frame(
        pd.DatetimeIndex(times), base.values, base.values + 1, base.values - 1, base.values
    )


async def test_yields_each_closed_bar_once_and_survives_fetch_errors() -> None:
    clock = SimClock(T0 + timedelta(minutes=7))
    sleeps: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance_to(clock.now() + timedelta(seconds=seconds))

    async def fetch(symbol: str, timeframe: Timeframe, count: int) -> pd.DataFrame:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("terminal busy")
        closed_until = timeframe.floor(clock.now())
        times = [closed_until - k * timeframe.delta for k in range(count, 0, -1)]
        return frame(times)

    feed = PollingBarFeed(fetch, clock, sleep)
    got = []
    async for bar in feed.closed_bars("XAUUSD", M15):
        got.append(bar.time)
        if len(got) == 5:
            break
    # First wake: 10:15:02 (8 min 2 s after 10:07). It yields the three bars up to 10:00,
    # then the second fetch fails (retry in 15 s), then 10:15 arrives at the 10:30:02 wake.
    assert sleeps[0] == 482.0
    assert 15.0 in sleeps
    assert got == [T0 - 2 * M15.delta, T0 - M15.delta, T0, T0 + M15.delta, T0 + 2 * M15.delta]
