"""``PollingBarFeed``: closed bars from a broker that only answers "give me the last N bars".

MT5 has no bar-close callback, so the feed sleeps until a bar should have closed (plus a small
settle delay for the terminal to publish it), asks for the last few closed bars and yields the
ones newer than what it already yielded. A fetch failure is logged and retried at the next wake,
so a broker outage delays bars instead of ending the stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

import pandas as pd

from engine.data.frames import to_bars
from engine.models import Bar, Timeframe
from engine.ports import Clock

log = logging.getLogger("engine.data.polling")

FetchBars = Callable[[str, Timeframe, int], Awaitable[pd.DataFrame]]
Sleep = Callable[[float], Awaitable[None]]


class PollingBarFeed:
    def __init__(
        self,
        fetch: FetchBars,
        clock: Clock,
        sleep: Sleep,
        *,
        settle: timedelta = timedelta(seconds=2),
        batch: int = 3,
        retry: timedelta = timedelta(seconds=15),
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._sleep = sleep
        self._settle = settle
        self._batch = batch
        self._retry = retry

    async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        last: datetime | None = None
        while True:
            now = self._clock.now()
            wake = timeframe.floor(now) + timeframe.delta + self._settle
            await self._sleep(max(0.0, (wake - now).total_seconds()))
            try:
                frame = await self._fetch(symbol, timeframe, self._batch)
            except Exception as exc:
                log.warning("%s %s: could not read bars (%s); retrying", symbol, timeframe, exc)
                await self._sleep(self._retry.total_seconds())
                continue
            for bar in to_bars(frame, symbol, timeframe):
                if last is None or bar.time > last:
                    last = bar.time
                    yield bar
