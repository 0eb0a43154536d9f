"""Ports: what the engine needs from the outside world, as Protocols.

``storage`` implements the repositories, ``engine.brokers`` the brokers, ``engine.data`` the
market data. Only the composition root (``bot/wiring.py``) knows the concrete classes.

Bars travel as pandas DataFrames with a tz-aware UTC ``DatetimeIndex`` named ``time`` (the bar's
open time, ascending, unique) and float columns ``open, high, low, close, volume`` plus an int
column ``spread`` (points). ``df.attrs`` may carry ``source`` (str), ``simulated`` (bool) and
``note`` (str), which replies and charts show to the trader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from engine.models import (
    Account,
    AuditEntry,
    Bar,
    CalendarStatus,
    ClosedTrade,
    DataRange,
    Deal,
    EconomicEvent,
    EquitySnapshot,
    Order,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OutboxMessage,
    Position,
    RejectReason,
    Role,
    SymbolSpec,
    Tick,
    Timeframe,
    User,
)

if TYPE_CHECKING:
    import pandas as pd

BAR_COLUMNS = ("open", "high", "low", "close", "volume", "spread")


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, tz-aware UTC."""
        ...


# --------------------------------------------------------------------------- brokers


@runtime_checkable
class Broker(Protocol):
    """One async broker port with MT5 semantics (tickets, points/digits, tick value, hedging).

    Refusals come back as ``OrderResult(ok=False, reject=...)``; a lost connection raises
    ``BrokerUnavailable``. ``send`` is idempotent on ``OrderRequest.client_id``: a second send
    with the same id never fills twice (it answers ``DUPLICATE`` with the original ticket).
    """

    name: str  # "paper" or "mt5"

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def account(self) -> Account: ...

    async def symbol(self, name: str) -> SymbolSpec: ...

    async def tick(self, symbol: str) -> Tick: ...

    async def positions(self, symbol: str | None = None) -> list[Position]: ...

    async def send(self, request: OrderRequest) -> OrderResult:
        """Market order with optional SL/TP; fills at ask (buy) or bid (sell)."""
        ...

    async def close_position(
        self, ticket: int, volume: float | None = None, *, client_id: str = ""
    ) -> OrderResult:
        """Close a position fully (``volume=None``) or partly by an opposite deal."""
        ...

    async def modify(
        self, ticket: int, *, sl: float | None = None, tp: float | None = None
    ) -> OrderResult:
        """Change SL and/or TP; ``None`` keeps the current level (never removes it)."""
        ...

    async def deals(
        self, start: datetime, end: datetime, symbol: str | None = None
    ) -> list[Deal]: ...

    async def find(self, client_id: str) -> Position | Deal | None:
        """Look up what an order with this client id produced (reconcile after a crash)."""
        ...


# --------------------------------------------------------------------------- market data


class MarketData(Protocol):
    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Bars with open time in [start, end); raises ``DataUnavailable`` saying what exists."""
        ...

    async def available(self, symbol: str, timeframe: Timeframe) -> DataRange | None: ...


class BarFeed(Protocol):
    """A stream of closed bars (the paper feed, or MT5 polled at bar close)."""

    def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]: ...


# --------------------------------------------------------------------------- storage


class UnitOfWork(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """Everything awaited inside runs in one SQLite transaction (re-entrant per task)."""
        ...


class OrderRepo(Protocol):
    async def add(self, order: Order) -> bool:
        """Insert before sending; False when the client id already exists (nothing written)."""
        ...

    async def get(self, client_id: str) -> Order | None: ...

    async def set_result(
        self,
        client_id: str,
        status: OrderStatus,
        *,
        at: datetime,
        ticket: int | None = None,
        price: float | None = None,
        reject: RejectReason | None = None,
        message: str = "",
    ) -> None: ...

    async def pending(self) -> list[Order]:
        """Orders whose outcome is unknown (written, never confirmed): reconcile these."""
        ...

    async def recent(self, limit: int = 20) -> list[Order]: ...


class TradeRepo(Protocol):
    async def add(self, trade: ClosedTrade) -> bool:
        """Record a round trip once; False when ``position_id`` is already recorded."""
        ...

    async def recent(self, limit: int = 20) -> list[ClosedTrade]: ...

    async def between(self, start: datetime, end: datetime) -> list[ClosedTrade]:
        """Trades closed in [start, end)."""
        ...


@dataclass(frozen=True, slots=True)
class PaperSnapshot:
    balance: float
    next_ticket: int
    positions: tuple[Position, ...]


@dataclass(frozen=True, slots=True)
class PaperChange:
    """One atomic step of the paper account: new balance, positions in/out, new deals."""

    balance: float
    next_ticket: int
    upsert: tuple[Position, ...] = ()
    remove: tuple[int, ...] = ()
    deals: tuple[Deal, ...] = ()


class PaperLedger(Protocol):
    """Persistence of the paper broker: a restart resumes the same balance and positions."""

    async def load(self, initial_balance: float) -> PaperSnapshot:
        """Current state; creates the account with ``initial_balance`` on first use."""
        ...

    async def commit(self, change: PaperChange) -> None:
        """Apply ``change`` in one transaction."""
        ...

    async def deal_by_client_id(self, client_id: str) -> Deal | None: ...

    async def deals(
        self, start: datetime, end: datetime, symbol: str | None = None
    ) -> list[Deal]: ...

    async def reset(self, balance: float) -> None:
        """Wipe positions and deals and start again with ``balance``."""
        ...


class StateRepo(Protocol):
    """Key-value engine state (paused, breaker, counters); values are JSON-serialisable."""

    async def get(self, key: str, default: Any = None) -> Any: ...

    async def set(self, key: str, value: Any) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def items(self, prefix: str = "") -> dict[str, Any]: ...


class AuditRepo(Protocol):
    async def add(self, entry: AuditEntry) -> int: ...

    async def recent(self, limit: int = 20) -> list[AuditEntry]: ...

    async def since(self, start: datetime) -> list[AuditEntry]: ...


class UserRepo(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def upsert(self, user: User) -> None: ...

    async def remove(self, user_id: int) -> bool: ...

    async def all(self) -> list[User]: ...

    async def set_locale(self, user_id: int, locale: str) -> None: ...

    async def with_role(self, role: Role) -> list[User]: ...


class OutboxRepo(Protocol):
    async def enqueue(self, message: OutboxMessage) -> int | None:
        """Store for delivery; None when ``dedup_key`` was already enqueued for that chat."""
        ...

    async def due(self, now: datetime, limit: int = 20) -> list[OutboxMessage]:
        """Unsent, not dead, not held, ``next_attempt_at`` <= now, oldest first; nothing
        created after a held message of the same chat."""
        ...

    async def attach(self, message_ids: Iterable[int], photo: bytes | None) -> int:
        """Lift the hold of ``message_ids``, attaching ``photo`` when there is one."""
        ...

    async def release_held(self) -> int:
        """Lift every hold (start-up after a stop while a chart was being drawn)."""
        ...

    async def mark_sent(self, message_id: int, at: datetime) -> None: ...

    async def mark_retry(self, message_id: int, next_attempt_at: datetime, error: str) -> None: ...

    async def mark_dead(self, message_id: int, error: str) -> None: ...

    async def backlog(self) -> int: ...

    async def prune(self, before: datetime) -> int:
        """Delete messages delivered before ``before`` and dead ones enqueued before it (their
        chart PNGs are most of the database's growth); returns how many. Waiting messages
        are never touched."""
        ...


class BarRepo(Protocol):
    """Bars cache: imported CSVs, broker history, generated samples."""

    async def upsert(
        self,
        symbol: str,
        timeframe: Timeframe,
        bars: pd.DataFrame,
        *,
        source: str,
        simulated: bool = False,
        note: str = "",
    ) -> int:
        """Insert or replace bars by (symbol, timeframe, time) and remember where they came from
        (``source``, ``simulated``, ``note`` show up in ``ranges()``); returns rows written."""
        ...

    async def load(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame: ...

    async def ranges(self) -> list[DataRange]: ...

    async def delete(self, symbol: str, timeframe: Timeframe) -> int: ...


class EquityRepo(Protocol):
    async def add(self, snapshot: EquitySnapshot) -> None: ...

    async def series(self, start: datetime, end: datetime) -> list[EquitySnapshot]: ...

    async def peak(self) -> float | None: ...


class Calendar(Protocol):
    """Economic calendar read from memory (refreshed elsewhere): gates never touch the network."""

    def status(self) -> CalendarStatus: ...

    def events_between(
        self, start: datetime, end: datetime, currencies: frozenset[str] | None = None
    ) -> list[EconomicEvent]:
        """Cached events with time in [start, end), for ``currencies`` (None = all)."""
        ...


# --------------------------------------------------------------------------- calendar cache


@dataclass(frozen=True, slots=True)
class CalendarFetch:
    """The last refresh that read a complete calendar: when, and from which sources."""

    fetched_at: datetime
    sources: str  # source names joined by ", "


@dataclass(frozen=True, slots=True)
class CalendarBatch:
    """What one source answered: its events replace that source's cached rows in [start, end)."""

    source: str
    start: datetime
    end: datetime
    events: tuple[EconomicEvent, ...]


class CalendarRepo(Protocol):
    """SQLite cache behind the calendar: events by (time, currency, title), fetches, reminders."""

    async def store(
        self, batches: tuple[CalendarBatch, ...], fetched: CalendarFetch | None = None
    ) -> int:
        """In one transaction, per batch: drop that source's events in [start, end), insert its
        events (same key replaces); then record ``fetched`` when given. Returns events written."""
        ...

    async def events(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[EconomicEvent]:
        """Cached events with time in [start, end) (None = unbounded), by time."""
        ...

    async def last_fetch(self) -> CalendarFetch | None: ...

    async def prune(self, before: datetime) -> int:
        """Forget events (and their reminders) older than ``before``; returns events removed."""
        ...

    async def mark_reminded(self, event: EconomicEvent, at: datetime) -> bool:
        """Record a reminder for ``event``; False when one was already recorded (send none)."""
        ...
