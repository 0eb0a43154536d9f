"""Prometheus metrics of a running chattrader, without the engine knowing about Prometheus.

Three feeds fill one ``CollectorRegistry`` (its own, so tests and two cores never collide):

* an ``EventBus`` subscriber (``Metrics.subscribe``) counts what the engine publishes: orders
  by outcome, rejections by reason, gate blocks by gate, closes, breaker trips, failed cycles,
  loop stalls, and every event by type;
* ``Metrics.refresh(core)``, awaited on each scrape, sets gauges from the live objects: equity,
  balance, open positions, breaker and pause state, broker link, outbox backlog, last bar age;
* ``ObservedFeed`` wraps the bar feed the trader consumes and times each cycle (from handing a
  closed bar over to being asked for the next: exactly ``Trader.on_bar``), and binds the
  symbol into the log context of the symbol's task; ``TelegramErrorCounter`` is an aiogram
  session middleware counting failed Bot API calls by method and error.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.logs import bind
from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.errors import EngineError
from engine.events import (
    CycleFailed,
    GateBlocked,
    LoopRecovered,
    LoopStalled,
    OrderFilled,
    OrderRejected,
    PositionClosed,
)
from engine.models import Bar, Timeframe
from engine.ports import BarFeed
from engine.risk.events import BreakerTripped

if TYPE_CHECKING:
    from bot.wiring import Core
    from engine.watchdog import StallWatchdog

# Seconds: a paper cycle takes milliseconds, an MT5 one tens to hundreds (one order round trip).
CYCLE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The registry and every metric; ``render()`` is the ``/metrics`` body."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = self.registry = registry or CollectorRegistry()
        self.orders = Counter(
            "chattrader_orders",
            "Orders sent to the broker, by symbol, side and outcome (filled/rejected)",
            ["symbol", "side", "outcome"],
            registry=r,
        )
        self.rejections = Counter(
            "chattrader_order_rejections",
            "Orders the broker refused, by reason (RejectReason, from MT5 retcodes)",
            ["reason"],
            registry=r,
        )
        self.gate_blocks = Counter(
            "chattrader_gate_blocks",
            "Signals a risk gate blocked, by gate",
            ["gate"],
            registry=r,
        )
        self.closes = Counter(
            "chattrader_positions_closed",
            "Positions closed, by reason (sl, tp, expert, ...)",
            ["reason"],
            registry=r,
        )
        self.breaker_trips = Counter(
            "chattrader_breaker_trips",
            "Circuit breaker trips, by breaker (drawdown, loss_streak, daily_loss)",
            ["breaker"],
            registry=r,
        )
        self.cycle_failures = Counter(
            "chattrader_cycle_failures", "Cycles that raised", ["symbol"], registry=r
        )
        self.stalls = Counter(
            "chattrader_loop_stalls", "Stall reports of the watchdog", ["symbol"], registry=r
        )
        self.broker_drops = Counter(
            "chattrader_broker_disconnects", "Times the broker link dropped", registry=r
        )
        self.events = Counter(
            "chattrader_events", "Engine events published, by type", ["event"], registry=r
        )
        self.telegram_errors = Counter(
            "chattrader_telegram_send_errors",
            "Bot API calls that failed, by method and error",
            ["method", "error"],
            registry=r,
        )
        self.cycle_latency = Histogram(
            "chattrader_cycle_latency_seconds",
            "Time from a closed bar reaching the trader to its cycle finishing",
            ["symbol"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.equity = Gauge("chattrader_equity", "Account equity, account currency", registry=r)
        self.balance = Gauge("chattrader_balance", "Account balance, account currency", registry=r)
        self.open_positions = Gauge(
            "chattrader_open_positions", "Open positions (all symbols)", registry=r
        )
        self.breaker = Gauge(
            "chattrader_breaker_tripped", "1 while the circuit breaker is tripped", registry=r
        )
        self.paused = Gauge("chattrader_paused", "1 while trading is paused by hand", registry=r)
        self.connected = Gauge(
            "chattrader_broker_connected", "1 while the broker answers", registry=r
        )
        self.outbox = Gauge(
            "chattrader_outbox_backlog", "Notifications waiting to be delivered", registry=r
        )
        self.cycles = Gauge("chattrader_cycles", "Cycles run since start", registry=r)
        self.last_bar_age = Gauge(
            "chattrader_last_bar_age_seconds",
            "Seconds since the last processed bar closed, by symbol",
            ["symbol"],
            registry=r,
        )
        self.stalled = Gauge(
            "chattrader_loop_stalled", "1 while the watchdog sees a stall", ["symbol"], registry=r
        )

    def subscribe(self, bus: Any) -> None:
        """Count the events of ``bus`` (an ``engine.events.EventBus``)."""
        bus.subscribe(self.on_event)

    async def on_event(self, event: object) -> None:
        self.events.labels(type(event).__name__).inc()
        if isinstance(event, OrderFilled):
            self.orders.labels(event.symbol, event.side.value, "filled").inc()
        elif isinstance(event, OrderRejected):
            self.orders.labels(event.symbol, event.side.value, "rejected").inc()
            reason = event.reject.value if event.reject is not None else "unknown"
            self.rejections.labels(reason).inc()
        elif isinstance(event, GateBlocked):
            self.gate_blocks.labels(event.code).inc()
        elif isinstance(event, PositionClosed):
            self.closes.labels(event.reason.value).inc()
        elif isinstance(event, BreakerTripped):
            self.breaker_trips.labels(event.reason_code.value).inc()
            self.breaker.set(1)
        elif isinstance(event, CycleFailed):
            self.cycle_failures.labels(event.symbol).inc()
        elif isinstance(event, LoopStalled):
            self.stalls.labels(event.symbol).inc()
            self.stalled.labels(event.symbol).set(1)
        elif isinstance(event, LoopRecovered):
            self.stalled.labels(event.symbol).set(0)
        elif isinstance(event, BrokerDisconnected):
            self.broker_drops.inc()
            self.connected.set(0)
        elif isinstance(event, BrokerReconnected):
            self.connected.set(1)

    async def refresh(self, core: Core, watchdog: StallWatchdog | None = None) -> None:
        """Set the gauges from the running core (on each scrape). A broker that does not
        answer leaves the money gauges at their last values and reads as disconnected."""
        trader = core.trader
        self.connected.set(1 if core.broker.connected else 0)
        try:
            account = await core.broker.account()
            positions = await core.broker.positions()
        except EngineError:
            self.connected.set(0)
        else:
            self.equity.set(account.equity)
            self.balance.set(account.balance)
            self.open_positions.set(len(positions))
        state = await trader.governor.state()
        now = core.clock.now()
        self.breaker.set(1 if state.breaker_active(now) else 0)
        self.paused.set(1 if state.paused else 0)
        self.outbox.set(await core.storage.outbox.backlog())
        self.cycles.set(trader.heartbeat.cycles)
        period = trader.config.timeframe.delta
        for symbol, opened in trader.heartbeat.last_bar.items():
            self.last_bar_age.labels(symbol).set((now - (opened + period)).total_seconds())
        if watchdog is not None:
            for lag in watchdog.lags():
                self.stalled.labels(lag.symbol).set(1 if lag.stalled else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def counter_value(self, name: str, **labels: str) -> float:
        """Current value of a sample (``chattrader_orders_total`` ...), 0 when absent."""
        value = self.registry.get_sample_value(name, labels or None)
        return 0.0 if value is None else value


class ObservedFeed:
    """A ``BarFeed`` that times each cycle per symbol and binds the symbol into the log
    context of the task consuming it (``core.feed = ObservedFeed(core.feed, metrics)``)."""

    def __init__(
        self,
        feed: BarFeed,
        metrics: Metrics | None = None,
        *,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._feed = feed
        self._metrics = metrics
        self._timer = timer

    def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        return self._observe(symbol, timeframe)

    async def _observe(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        # An async generator runs in the context of the task iterating it, so this binding
        # stays on that task (the trader's consumer for this symbol) for every cycle.
        bind(symbol=symbol)
        histogram = self._metrics.cycle_latency.labels(symbol) if self._metrics else None
        async for bar in self._feed.closed_bars(symbol, timeframe):
            started = self._timer()
            yield bar
            if histogram is not None:
                histogram.observe(self._timer() - started)


Request = Callable[[Any, Any], Awaitable[Any]]


class TelegramErrorCounter:
    """aiogram session middleware (``bot.session.middleware(TelegramErrorCounter(metrics))``):
    counts Bot API calls that raised, by method and exception class, and re-raises."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, make_request: Request, bot: Any, method: Any) -> Any:
        try:
            return await make_request(bot, method)
        except Exception as exc:
            self._metrics.telegram_errors.labels(type(method).__name__, type(exc).__name__).inc()
            raise
