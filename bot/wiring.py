"""Composition root: settings -> storage -> broker -> data -> risk -> trader. The only module
that knows every concrete class; everything else receives its collaborators.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pandas as pd

from engine.brokers.mt5 import MT5Broker
from engine.brokers.paper import PaperBroker
from engine.calendar import (
    CachedCalendar,
    CalendarSource,
    FairEconomySource,
    HttpOptions,
    SymbolCurrencies,
    TradingEconomicsSource,
    UnconfiguredCalendar,
)
from engine.clock import SimClock, SystemClock
from engine.config import Settings
from engine.data.feeds import ReplayFeed, SyntheticLiveFeed
from engine.data.polling import PollingBarFeed
from engine.data.sources import BundledData, CachedData
from engine.data.synthetic import SyntheticSpec, generate_bars
from engine.errors import ConfigError, DataUnavailable
from engine.events import EventBus
from engine.journal import Journal
from engine.models import Bar, Tick, Timeframe
from engine.ports import BarFeed, Broker, Calendar, Clock
from engine.risk import RiskGovernor, RiskStateStore
from engine.risk.from_settings import limits_from_settings as risk_limits
from engine.service import TradingService
from engine.strategies import get_strategy
from engine.symbols import DEFAULT_SPECS
from engine.trader import MarketHook, Trader, TraderConfig
from storage import Storage, open_storage

log = logging.getLogger("chattrader.wiring")

FEED_SEED = 20261129  # fixes the synthetic paper market so a restart replays the same warm-up


class TickPump:
    """Carries the synthetic feed's ticks (a sync callback) to the paper broker in order."""

    def __init__(self, broker: PaperBroker) -> None:
        self._broker = broker
        self._queue: asyncio.Queue[Tick] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def push(self, tick: Tick) -> None:
        self._queue.put_nowait(tick)

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump(), name="tick-pump")

    async def _pump(self) -> None:
        while True:
            tick = await self._queue.get()
            try:
                await self._broker.on_tick(tick)
            except Exception:
                log.exception("paper broker could not take a tick for %s", tick.symbol)
            finally:
                self._queue.task_done()

    async def drain(self, _bar: Bar) -> None:
        """Market hook: every tick up to the bar close has reached the broker."""
        await self._queue.join()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class FeedBySymbol:
    """One ``BarFeed`` per symbol behind the single-feed interface the trader consumes."""

    def __init__(self, feeds: dict[str, BarFeed]) -> None:
        self._feeds = feeds

    def closed_bars(self, symbol: str, timeframe: Timeframe) -> Any:
        return self._feeds[symbol].closed_bars(symbol, timeframe)


@dataclass
class Core:
    """Everything `chattrader run` (and later the bot) holds: built once, closed once."""

    settings: Settings
    clock: Clock
    storage: Storage
    broker: Broker
    data: CachedData
    bus: EventBus
    governor: RiskGovernor
    journal: Journal
    trader: Trader
    calendar: Calendar
    feed: BarFeed
    history: dict[str, pd.DataFrame]
    mode: str  # "paper (synthetic live)", "paper (replay x600)", "mt5"
    started_at: datetime
    service: TradingService  # the façade the chat and the CLI call
    notes: list[str] = field(default_factory=list)
    pump: TickPump | None = None
    http: httpx.AsyncClient | None = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        if self.pump is not None:
            self.pump.start()
        if isinstance(self.broker, MT5Broker):
            self._tasks.append(asyncio.create_task(self.broker.supervise(), name="mt5-supervise"))
        if isinstance(self.calendar, CachedCalendar) and self.http is not None:
            every = timedelta(minutes=self.settings.calendar.calendar_refresh_minutes)
            refresher = self.calendar.run_refresher(every, self._stop)
            self._tasks.append(asyncio.create_task(refresher, name="calendar-refresh"))
        await self.trader.start(self.history)

    async def run(self, max_bars: int | None = None) -> None:
        await self.trader.run(self.feed, max_bars=max_bars)

    async def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.pump is not None:
            await self.pump.stop()
        await self.broker.close()
        if self.http is not None:
            await self.http.aclose()
        await self.storage.close()


def _synthetic_spec(symbol: str, anchor: float) -> SyntheticSpec:
    spec = DEFAULT_SPECS[symbol]
    daily_vol = 0.01 if symbol.startswith("XAU") else 0.005
    return SyntheticSpec(start_price=anchor, daily_vol=daily_vol, digits=spec.digits)


async def _last_close(data: CachedData, symbol: str, timeframe: Timeframe) -> tuple[float, str]:
    frame = await data.history(symbol, timeframe)
    note = str(frame.attrs.get("note") or frame.attrs.get("source") or "")
    return float(frame["close"].iloc[-1]), f"{frame.index[-1]:%Y-%m-%d %H:%M} UTC {note}".strip()


@dataclass
class Market:
    """What one mode of running provides: time, a broker, closed bars and their warm-up."""

    clock: Clock
    broker: Broker
    feeds: dict[str, BarFeed]
    history: dict[str, pd.DataFrame]
    hook: MarketHook | None
    mode: str
    notes: list[str]
    pump: TickPump | None = None


async def build_core(
    settings: Settings,
    *,
    replay: bool = False,
    speed: float | None = None,
    replay_from: datetime | None = None,
) -> Core:
    """Open storage and build the engine for `chattrader run` (paper or MT5)."""
    t = settings.trading
    kind = settings.broker.kind
    for symbol in t.symbols:
        if symbol not in DEFAULT_SPECS and kind == "paper":
            known = ", ".join(DEFAULT_SPECS)
            msg = f"SYMBOLS: the paper broker knows {known}; got {symbol}"
            raise ConfigError(msg, variables=("SYMBOLS",))
    replay = kind == "paper" and (replay or settings.paper.feed == "replay")
    if replay and len(t.symbols) != 1:
        msg = f"SYMBOLS: replay runs one symbol at a time, got {', '.join(t.symbols)}"
        raise ConfigError(msg, variables=("SYMBOLS",))
    strategy = get_strategy(t.strategy)
    params = strategy.default_params()
    lookback = strategy.lookback(params) + 1
    bus = EventBus()
    storage = await open_storage(settings.app.db_path)
    try:
        data = CachedData(storage.bars, BundledData())
        if kind == "mt5":
            market = await _mt5_market(settings, bus, lookback)
        elif replay:
            market = await _replay_market(settings, storage, data, lookback, speed, replay_from)
        else:
            market = await _synthetic_market(settings, storage, data, lookback)
        clock, broker = market.clock, market.broker
        if kind == "paper":
            await broker.connect()
        zone = settings.app.tz
        limits = risk_limits(settings)
        store = RiskStateStore(storage.state)
        governor = RiskGovernor(store, clock, limits, zone, emit=bus.publish)
        journal = Journal(broker, storage.db, storage.orders, storage.trades, storage.state)
        calendar, http = await build_calendar(settings, storage, clock, live=not replay)
        symbol_currencies = SymbolCurrencies.parse(settings.calendar.symbol_currencies)
        currencies = {s: symbol_currencies.for_symbol(s, DEFAULT_SPECS.get(s)) for s in t.symbols}
        config = TraderConfig(
            t.symbols,
            t.timeframe,
            strategy,
            params,
            limits,
            zone,
            magic=settings.broker.magic,
            currencies=currencies,
        )
        trader = Trader(
            config=config,
            broker=broker,
            journal=journal,
            governor=governor,
            state=storage.state,
            equity=storage.equity,
            uow=storage.db,
            calendar=calendar,
            clock=clock,
            bus=bus,
            market_hook=market.hook,
        )
        service = TradingService(
            trader,
            market=data,
            trades=storage.trades,
            state=storage.state,
            settings=settings,
            started_at=clock.now(),
        )
        for name, value in (await service.restore_limits()).items():
            log.info("risk limit %s=%s (changed from the chat)", name, value)
    except BaseException:
        await storage.close()
        raise
    return Core(
        settings=settings,
        clock=clock,
        storage=storage,
        broker=broker,
        data=data,
        bus=bus,
        governor=governor,
        journal=journal,
        trader=trader,
        calendar=calendar,
        feed=FeedBySymbol(market.feeds),
        history=market.history,
        mode=market.mode,
        started_at=service.started_at,
        service=service,
        notes=market.notes,
        pump=market.pump,
        http=http,
    )


async def _replay_market(
    settings: Settings,
    storage: Storage,
    data: CachedData,
    lookback: int,
    speed: float | None,
    replay_from: datetime | None,
) -> Market:
    t = settings.trading
    symbol = t.symbols[0]
    frame = await data.history(symbol, t.timeframe)
    start = replay_from or frame.index[min(lookback, len(frame) - 1)].to_pydatetime()
    before, after = frame[frame.index < start], frame[frame.index >= start]
    if after.empty:
        raise DataUnavailable(
            f"{symbol} {t.timeframe.value}: nothing to replay after {start:%Y-%m-%d}; "
            f"data ends {frame.index[-1]:%Y-%m-%d}"
        )
    clock = SimClock(after.index[0].to_pydatetime())
    broker = _paper(settings, storage, clock)
    rate = speed or settings.paper.replay_speed
    note = frame.attrs.get("note") or frame.attrs.get("source", "")
    return Market(
        clock=clock,
        broker=broker,
        feeds={symbol: ReplayFeed(after, t.timeframe, rate, asyncio.sleep, clock=clock)},
        history={symbol: before},
        hook=broker.on_bar,
        mode=f"paper (replay x{rate:g})",
        notes=[
            f"{symbol} {t.timeframe.value}: replaying {len(after):,} bars "
            f"{after.index[0]:%Y-%m-%d %H:%M}..{after.index[-1]:%Y-%m-%d %H:%M} UTC ({note})"
        ],
    )


async def _synthetic_market(
    settings: Settings, storage: Storage, data: CachedData, lookback: int
) -> Market:
    t = settings.trading
    clock = SystemClock()
    broker = _paper(settings, storage, clock)
    pump = TickPump(broker)
    now = clock.now()
    feeds: dict[str, BarFeed] = {}
    history: dict[str, pd.DataFrame] = {}
    notes: list[str] = []
    for i, symbol in enumerate(t.symbols):
        anchor, where = await _last_close(data, symbol, t.timeframe)
        span = t.timeframe.delta * lookback * 3 + timedelta(days=4)  # room for weekends
        warm = generate_bars(
            t.timeframe, now - span, now, seed=FEED_SEED + i, spec=_synthetic_spec(symbol, anchor)
        )
        warm = warm[warm.index + t.timeframe.delta <= now]
        history[symbol] = warm
        last = float(warm["close"].iloc[-1]) if len(warm) else anchor
        feeds[symbol] = SyntheticLiveFeed(
            clock,
            asyncio.sleep,
            last,
            seed=FEED_SEED + i,
            spec=_synthetic_spec(symbol, last),
            on_tick=pump.push,
        )
        notes.append(
            f"{symbol} {t.timeframe.value}: synthetic live market anchored at {anchor} "
            f"(last stored close, {where}); warm-up {len(warm)} simulated bars"
        )
    return Market(
        clock=clock,
        broker=broker,
        feeds=feeds,
        history=history,
        hook=pump.drain,
        mode="paper (synthetic live)",
        notes=notes,
        pump=pump,
    )


def mt5_broker(settings: Settings, clock: Clock, bus: EventBus | None = None) -> MT5Broker:
    """The MT5 adapter over the real MetaTrader5 module (Windows, `pip install -e .[mt5]`)."""
    try:
        import MetaTrader5  # noqa: N813, PLC0415
    except ImportError:
        msg = (
            "BROKER=mt5 needs the MetaTrader5 package, which exists only for Windows: "
            'pip install -e ".[mt5]" next to your MT5 terminal'
        )
        raise ConfigError(msg, variables=("BROKER",)) from None
    b = settings.broker
    offset = b.server_utc_offset
    return MT5Broker(
        MetaTrader5,
        clock,
        path=str(b.path) if b.path else None,
        login=b.login,
        password=b.password,
        server=b.server,
        magic=b.magic,
        deviation_points=b.deviation_points,
        server_utc_offset=None if offset is None else timedelta(hours=offset),
        emit=bus.publish if bus else None,
        symbols=settings.trading.symbols,
    )


async def _mt5_market(settings: Settings, bus: EventBus, lookback: int) -> Market:
    t = settings.trading
    clock = SystemClock()
    broker = mt5_broker(settings, clock, bus)
    await broker.connect()
    history = {s: await broker.bars(s, t.timeframe, lookback) for s in t.symbols}
    feed = PollingBarFeed(broker.bars, clock, asyncio.sleep)
    return Market(
        clock=clock,
        broker=broker,
        feeds=dict.fromkeys(t.symbols, feed),
        history=history,
        hook=None,
        mode="mt5",
        notes=[f"{s} {t.timeframe.value}: bars from the MT5 terminal" for s in t.symbols],
    )


async def build_calendar(
    settings: Settings, storage: Storage, clock: Clock, *, live: bool
) -> tuple[Calendar, httpx.AsyncClient | None]:
    """The news calendar: cached from the configured sources, refreshed in the background.

    A replay runs on historical dates the live feeds do not cover, so it trades with the
    calendar's stored events only (no sources, no refresher, never stale), or with no calendar
    when nothing was ever stored.
    """
    c = settings.calendar
    if not c.calendar_enabled:
        return UnconfiguredCalendar(), None
    if not live:
        cal = await CachedCalendar.open(storage.calendar, clock, stale_after=timedelta(days=36500))
        # Nothing ever stored: there is no history to judge a replay by.
        return (cal if cal.status().fetched_at is not None else UnconfiguredCalendar()), None
    options = HttpOptions(timeout_s=c.calendar_timeout_s)
    http = httpx.AsyncClient()
    sources: list[CalendarSource] = []
    for name in c.calendar_sources:
        if name == "tradingeconomics":
            key = c.calendar_te_key.get_secret_value() if c.calendar_te_key else None
            sources.append(
                TradingEconomicsSource(
                    http,
                    key,
                    base_url=c.calendar_te_base_url,
                    countries=c.calendar_te_countries,
                    options=options,
                )
            )
        else:
            sources.append(FairEconomySource(http, url=c.calendar_ff_url, options=options))
    stale = timedelta(minutes=c.calendar_stale_minutes)
    return await CachedCalendar.open(storage.calendar, clock, sources, stale_after=stale), http


def _paper(settings: Settings, storage: Storage, clock: Clock) -> PaperBroker:
    p = settings.paper
    return PaperBroker(
        storage.paper,
        clock,
        {s: DEFAULT_SPECS[s] for s in settings.trading.symbols},
        initial_balance=p.balance,
        currency=p.currency,
        leverage=p.leverage,
        spread_points=None if p.spread_points is None else round(p.spread_points),
        slippage_points=round(p.slippage_points),
        # PAPER_COMMISSION_PER_LOT is per round turn; the broker charges each side.
        commission_per_lot=p.commission_per_lot / 2,
    )
