"""Typed engine events and the async bus that carries them to subscribers (the bot's notifier).

Events are past-tense facts (``OrderFilled``, ``PositionClosed`` ...). Publishing awaits every
subscriber in turn, so when ``publish`` returns the notifier has stored the event in its persistent
outbox; a failing subscriber is logged and never breaks the trading loop or other subscribers.
Risk events (breaker, pause) live in ``engine.risk.events`` and broker link events in
``engine.brokers.events``; the bus carries any object.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from engine.models import ClosedTrade, DealReason, RejectReason, Side, Timeframe

log = logging.getLogger("engine.events")

Subscriber = Callable[[object], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OrderFilled:
    at: datetime
    client_id: str
    symbol: str
    side: Side
    volume: float
    price: float
    ticket: int
    sl: float | None
    tp: float | None
    strategy: str
    reason: str  # the signal's explanation, e.g. "SMA20 crossed above SMA50, RSI 55.2 < 70"
    risk_money: float | None = None
    manual: bool = False  # True for /force from the chat


@dataclass(frozen=True, slots=True)
class OrderRejected:
    at: datetime
    client_id: str
    symbol: str
    side: Side
    volume: float
    reject: RejectReason | None
    message: str


@dataclass(frozen=True, slots=True)
class PositionClosed:
    at: datetime
    ticket: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    price_close: float
    profit: float  # net: profit + commission + swap, account currency
    reason: DealReason
    client_id: str = ""
    r_multiple: float | None = None
    on_signal: bool = False  # closed by the strategy's opposite signal (a reversal)

    @classmethod
    def of(cls, trade: ClosedTrade, *, on_signal: bool = False) -> PositionClosed:
        """The event for a recorded round trip (published live, or announced at catch-up)."""
        return cls(
            at=trade.closed_at,
            ticket=trade.position_id,
            symbol=trade.symbol,
            side=trade.side,
            volume=trade.volume,
            price_open=trade.price_open,
            price_close=trade.price_close,
            profit=trade.net,
            reason=trade.reason,
            client_id=trade.client_id,
            r_multiple=trade.r_multiple,
            on_signal=on_signal,
        )


@dataclass(frozen=True, slots=True)
class StopMoved:
    at: datetime
    ticket: int
    symbol: str
    old_sl: float | None
    new_sl: float
    why: str  # "breakeven" or "trailing"


@dataclass(frozen=True, slots=True)
class GateBlocked:
    at: datetime
    symbol: str
    side: Side
    code: str  # a GateCode value
    reason: str


@dataclass(frozen=True, slots=True)
class SignalSkipped:
    """A signal that sizing refused (e.g. the minimum lot risks more than allowed)."""

    at: datetime
    symbol: str
    side: Side
    reason: str


@dataclass(frozen=True, slots=True)
class CycleFailed:
    at: datetime
    symbol: str
    timeframe: Timeframe
    error: str  # exception class and message; never contains secrets (adapters redact)


class EventBus:
    """Fan-out of engine events to async subscribers, in subscription order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self.published = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)

    async def publish(self, event: object) -> None:
        self.published += 1
        for subscriber in list(self._subscribers):
            try:
                await subscriber(event)
            except Exception:
                log.exception("event subscriber failed on %s", type(event).__name__)


@dataclass(frozen=True, slots=True)
class LoopStalled:
    """No cycle for ``symbol`` during more than two bar periods of open market (the watchdog)."""

    at: datetime
    symbol: str
    timeframe: Timeframe
    last_cycle: datetime | None  # None = no cycle since the watchdog started
    silent_s: float  # seconds of open market without a cycle


@dataclass(frozen=True, slots=True)
class LoopRecovered:
    """Cycles for ``symbol`` run again after a ``LoopStalled``."""

    at: datetime
    symbol: str
    timeframe: Timeframe
    stalled_at: datetime  # when the stall was reported
