"""Bar feeds for paper mode: a synthetic live market, and a replay of stored history.

``SyntheticLiveFeed`` makes ticks in real time from a seeded random walk anchored at the last
real price (gold-like volatility and session rhythm, no ticks while the market is shut) and
closes a bar as soon as the clock passes its end. ``ReplayFeed`` plays stored bars back at
``speed`` times real time. Both take the clock and the sleep function from outside, so tests run
them instantly with ``SimClock`` and a fake sleep that advances it.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from engine.clock import SimClock
from engine.data import sessions
from engine.data.frames import clip, to_bars
from engine.data.noise import StableRandom
from engine.data.resample import check_resample, resample_bars
from engine.data.synthetic import SyntheticSpec
from engine.models import Bar, Tick, Timeframe
from engine.ports import Clock

Sleep = Callable[[float], Awaitable[None]]
OnTick = Callable[[Tick], None]
SPREAD_REVERSION_S = 300.0  # the spread's deviation from its hourly norm halves in ~3.5 min
SPREAD_DEVIATION_POINTS = 4.0


@dataclass(slots=True)
class _BarBuilder:
    """OHLC of bid prices, tick count and mean spread of the ticks inside one bar."""

    time: datetime
    timeframe: Timeframe
    open: float
    high: float
    low: float
    close: float
    ticks: int = 1
    spread_sum: float = 0.0

    @property
    def close_time(self) -> datetime:
        return self.time + self.timeframe.delta

    def add(self, bid: float, spread: int) -> None:
        self.high = max(self.high, bid)
        self.low = min(self.low, bid)
        self.close = bid
        self.ticks += 1
        self.spread_sum += spread

    def bar(self, symbol: str) -> Bar:
        return Bar(
            symbol=symbol,
            timeframe=self.timeframe,
            time=self.time,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=float(self.ticks),
            spread=round(self.spread_sum / self.ticks),
        )


class SyntheticLiveFeed:
    """Live-looking closed bars from a synthetic tick stream (paper mode without a broker).

    Every ``tick_interval`` while the market is open (``sessions.is_open``) the bid moves by a
    normal step whose variance is the elapsed share of a trading day (session-weighted) times
    ``spec.daily_vol`` squared, plus a reopen gap after a closure; ask = bid + spread x point.
    Each tick goes to ``on_tick`` (the paper broker's quotes). A bar is yielded once the clock
    reaches its close time; the first bar is skipped when the feed starts after its open (its
    open would not be the real open). If the clock jumps over whole bars (a suspended machine),
    those bars have no ticks and are not invented. Prices start at ``anchor_price``; the seed
    fixes the whole stream. The generator runs until the consumer stops iterating.
    """

    def __init__(
        self,
        clock: Clock,
        sleep: Sleep,
        anchor_price: float,
        *,
        seed: int = 0,
        spec: SyntheticSpec | None = None,
        tick_interval: timedelta = timedelta(seconds=1),
        on_tick: OnTick | None = None,
    ) -> None:
        if anchor_price <= 0:
            msg = f"anchor price must be positive, got {anchor_price}"
            raise ValueError(msg)
        if tick_interval <= timedelta(0):
            msg = f"tick interval must be positive, got {tick_interval}"
            raise ValueError(msg)
        self._clock = clock
        self._sleep = sleep
        self._anchor = anchor_price
        self._seed = seed
        self._spec = spec or SyntheticSpec()
        self._interval = tick_interval
        self._on_tick = on_tick

    async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """Closed bars of ``symbol`` at ``timeframe``, forever, in real (clock) time."""
        rng = StableRandom(self._seed, 0)
        spec = self._spec
        started = self._clock.now()
        log_price = math.log(self._anchor)
        deviation = 0.0  # spread's distance from the hour's norm, in points
        last: datetime | None = None
        reopened = False
        current: _BarBuilder | None = None
        while True:
            now = self._clock.now()
            if current is not None and now >= current.close_time:
                if current.time >= started:
                    yield current.bar(symbol)
                current = None
            if not sessions.is_open(now):
                reopened = last is not None
                wake = sessions.next_open(now)
            else:
                if last is not None:
                    share = self._variance_share(last, now, reopened)
                    log_price += math.sqrt(share) * spec.daily_vol * rng.normal()
                    decay = math.exp(-(now - last).total_seconds() / SPREAD_REVERSION_S)
                    noise = SPREAD_DEVIATION_POINTS * math.sqrt(1 - decay * decay)
                    deviation = deviation * decay + noise * rng.normal()
                last, reopened = now, False
                tick = self._tick(symbol, now, log_price, deviation)
                spread = round((tick.ask - tick.bid) * 10**spec.digits)
                if current is None:
                    bar_time = timeframe.floor(now)
                    current = _BarBuilder(bar_time, timeframe, *(tick.bid,) * 4, 1, spread)
                else:
                    current.add(tick.bid, spread)
                if self._on_tick is not None:
                    self._on_tick(tick)
                wake = now + self._interval
            if current is not None:
                wake = min(wake, current.close_time)
            await self._sleep(max(0.0, (wake - now).total_seconds()))

    def _tick(self, symbol: str, now: datetime, log_price: float, deviation: float) -> Tick:
        digits = self._spec.digits
        norm = sessions.SPREAD_BY_HOUR[now.hour] + deviation
        spread = min(sessions.SPREAD_MAX_POINTS, max(sessions.SPREAD_MIN_POINTS, round(norm)))
        bid = round(math.exp(log_price), digits)
        ask = round(bid + spread * 10.0**-digits, digits)
        return Tick(symbol=symbol, time=now, bid=bid, ask=ask, volume=1.0)

    def _variance_share(self, last: datetime, now: datetime, reopened: bool) -> float:
        """Share of a trading day's variance between two ticks, plus a gap after a closure."""
        minutes = (now - last).total_seconds() / 60
        vol = sessions.VOL_BY_HOUR[now.hour]
        share = vol * vol / sessions.DAY_VARIANCE_UNITS * minutes
        if reopened:
            spec = self._spec
            long_break = now - last > timedelta(days=1)
            share = spec.weekend_gap_share if long_break else spec.reopen_gap_share
        return share


class ReplayFeed:
    """Stored history played back bar by bar at ``speed`` times real time.

    Before each bar it sleeps the bar's length divided by ``speed`` (speed 600: an M15 bar every
    1.5 s); closed-market time between bars is not waited for. With ``on_tick`` it first emits
    four quotes inside the bar (open, the extreme nearer the open's direction, the other one,
    close: O-L-H-C for a rising bar, O-H-L-C for a falling one; ask = bid + spread x point), and
    with ``clock`` (a ``SimClock``) it moves the clock to each quote's time and to the bar's
    close, so the paper broker and the trader live in replayed time (that clock must not be
    ahead of the first replayed bar, and must not be the one the sleep advances). No randomness:
    the same frame always replays the same way.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        timeframe: Timeframe,
        speed: float,
        sleep: Sleep,
        *,
        start: datetime | None = None,
        clock: SimClock | None = None,
        on_tick: OnTick | None = None,
        point: float | None = None,
    ) -> None:
        if speed <= 0:
            msg = f"replay speed must be positive, got {speed}"
            raise ValueError(msg)
        if on_tick is not None and point is None:
            msg = "a replay that emits ticks needs the symbol's point to build the ask"
            raise ValueError(msg)
        self._frame = clip(frame, start, None)
        self._timeframe = timeframe
        self._speed = speed
        self._sleep = sleep
        self._clock = clock
        self._on_tick = on_tick
        self._point = point or 0.0

    async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        """The stored bars from ``start`` on, resampled when ``timeframe`` is higher."""
        check_resample(self._timeframe, timeframe)
        frame = resample_bars(self._frame, self._timeframe, timeframe)
        pause = timeframe.delta.total_seconds() / self._speed
        for bar in to_bars(frame, symbol, timeframe):
            await self._sleep(pause)
            if self._on_tick is not None:
                self._emit_quotes(bar, self._on_tick)
            if self._clock is not None:
                self._clock.advance_to(bar.close_time)
            yield bar

    def _emit_quotes(self, bar: Bar, on_tick: OnTick) -> None:
        rising = bar.close >= bar.open
        path = (
            (bar.open, bar.low, bar.high, bar.close)
            if rising
            else (
                bar.open,
                bar.high,
                bar.low,
                bar.close,
            )
        )
        length = bar.close_time - bar.time
        offsets = (timedelta(0), length / 3, length * 2 / 3, length - timedelta(seconds=1))
        for price, offset in zip(path, offsets, strict=True):
            t = bar.time + offset
            if self._clock is not None:
                self._clock.advance_to(t)
            ask = price + bar.spread * self._point
            on_tick(Tick(symbol=bar.symbol, time=t, bid=price, ask=ask))
