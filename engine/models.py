"""Domain values of chattrader, modelled on MetaTrader 5 semantics (shared/reference/mt5_api.md).

Prices are in quote currency, volumes in lots, money in the account currency, times tz-aware UTC.
Persisted or packed enums are ``StrEnum`` with stable short values; MT5 integer codes are kept as
properties so adapters translate in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum, StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: profit = sign * (exit - entry) * ..."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def mt5_order_type(self) -> int:
        """ORDER_TYPE_BUY = 0, ORDER_TYPE_SELL = 1 (also POSITION_TYPE_*)."""
        return 0 if self is Side.BUY else 1

    @classmethod
    def from_sign(cls, sign: float) -> Side:
        if sign > 0:
            return cls.BUY
        if sign < 0:
            return cls.SELL
        msg = "a side needs a non-zero sign"
        raise ValueError(msg)


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class OrderStatus(StrEnum):
    """Life of an order row in storage: written PENDING before the broker is called."""

    PENDING = "pending"  # recorded, not confirmed by the broker (unknown after a crash)
    FILLED = "filled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class DealEntry(IntEnum):
    """MT5 DEAL_ENTRY_*: whether a deal opened, closed or reversed a position."""

    IN = 0
    OUT = 1
    INOUT = 2
    OUT_BY = 3


class DealReason(StrEnum):
    """Why a deal happened (MT5 DEAL_REASON_* subset that matters to a trader)."""

    CLIENT = "client"  # a person (chat /force, /close)
    EXPERT = "expert"  # the strategy
    SL = "sl"
    TP = "tp"
    SO = "so"  # stop out


class MarginMode(StrEnum):
    """ACCOUNT_MARGIN_MODE_*: netting keeps one position per symbol, hedging one per entry."""

    NETTING = "netting"
    EXCHANGE = "exchange"
    HEDGING = "hedging"

    @classmethod
    def from_mt5(cls, value: int) -> MarginMode:
        return {0: cls.NETTING, 1: cls.EXCHANGE, 2: cls.HEDGING}[value]


class TradeMode(IntEnum):
    """SYMBOL_TRADE_MODE_*."""

    DISABLED = 0
    LONGONLY = 1
    SHORTONLY = 2
    CLOSEONLY = 3
    FULL = 4


class FillingFlag(IntEnum):
    """SYMBOL_FILLING_* bits of ``symbol_info().filling_mode`` (MQL5 only, not in the module)."""

    FOK = 1
    IOC = 2
    BOC = 4


class RejectReason(StrEnum):
    """Why a broker refused a request, mapped from MT5 retcodes (TRADE_RETCODE_*)."""

    REQUOTE = "requote"  # 10004
    REJECTED = "rejected"  # 10006
    INVALID = "invalid"  # 10013
    INVALID_VOLUME = "invalid_volume"  # 10014
    INVALID_PRICE = "invalid_price"  # 10015
    INVALID_STOPS = "invalid_stops"  # 10016
    TRADE_DISABLED = "trade_disabled"  # 10017
    MARKET_CLOSED = "market_closed"  # 10018
    NO_MONEY = "no_money"  # 10019
    PRICE_CHANGED = "price_changed"  # 10020
    PRICE_OFF = "price_off"  # 10021
    NO_CHANGES = "no_changes"  # 10025
    AUTOTRADING_DISABLED = "autotrading_disabled"  # 10026, 10027
    FROZEN = "frozen"  # 10029
    INVALID_FILL = "invalid_fill"  # 10030
    CONNECTION = "connection"  # 10031
    LIMIT_VOLUME = "limit_volume"  # 10034
    POSITION_CLOSED = "position_closed"  # 10036
    INVALID_CLOSE_VOLUME = "invalid_close_volume"  # 10038
    LIMIT_POSITIONS = "limit_positions"  # 10040
    LONG_ONLY = "long_only"  # 10042
    SHORT_ONLY = "short_only"  # 10043
    CLOSE_ONLY = "close_only"  # 10044
    FIFO_CLOSE = "fifo_close"  # 10045
    HEDGE_PROHIBITED = "hedge_prohibited"  # 10046
    UNKNOWN_POSITION = "unknown_position"
    DUPLICATE = "duplicate"  # the client id already produced a fill
    TIMEOUT = "timeout"  # 10012, or no answer: outcome unknown until reconciled
    ERROR = "error"  # 10011 and anything unmapped


class Timeframe(StrEnum):
    """Bar periods with MT5 names; ``mt5`` gives the TIMEFRAME_* constant value."""

    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4"
    M5 = "M5"
    M6 = "M6"
    M10 = "M10"
    M12 = "M12"
    M15 = "M15"
    M20 = "M20"
    M30 = "M30"
    H1 = "H1"
    H2 = "H2"
    H3 = "H3"
    H4 = "H4"
    H6 = "H6"
    H8 = "H8"
    H12 = "H12"
    D1 = "D1"
    W1 = "W1"
    MN1 = "MN1"

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        """Case-insensitive; accepts MT5 names and a few common aliases (1h, 15m, 1d)."""
        key = text.strip().upper()
        aliases = {"1M": "M1", "5M": "M5", "15M": "M15", "30M": "M30", "1H": "H1", "4H": "H4"}
        aliases |= {"1D": "D1", "D": "D1", "1W": "W1", "W": "W1", "MN": "MN1", "H": "H1"}
        key = aliases.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(t.value for t in cls)
            msg = f"unknown timeframe {text!r}; use one of {names}"
            raise ValueError(msg) from None

    @property
    def minutes(self) -> int:
        """Nominal length; a month counts as 30 days (only used for sizing windows)."""
        v = self.value
        if v == "MN1":
            return 30 * 1440
        if v == "W1":
            return 7 * 1440
        if v == "D1":
            return 1440
        if v.startswith("H"):
            return int(v[1:]) * 60
        return int(v[1:])

    @property
    def delta(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def mt5(self) -> int:
        """TIMEFRAME_*: minutes for M*, hours | 0x4000 for H*/D1, 0x8001 week, 0xC001 month."""
        v = self.value
        if v == "MN1":
            return 0xC001
        if v == "W1":
            return 0x8001
        if v == "D1":
            return 0x4000 | 24
        if v.startswith("H"):
            return 0x4000 | int(v[1:])
        return int(v[1:])

    @property
    def pandas_rule(self) -> str:
        """Resampling rule for pandas (bars labelled by their open time)."""
        if self is Timeframe.MN1:
            return "MS"
        if self is Timeframe.W1:
            return "W-MON"  # not used for week-open alignment; resample code handles weeks
        return f"{self.minutes}min"

    def floor(self, t: datetime) -> datetime:
        """Open time of the bar that contains ``t`` (intraday and daily bars, UTC)."""
        if self in (Timeframe.W1, Timeframe.MN1):
            day = t.replace(hour=0, minute=0, second=0, microsecond=0)
            if self is Timeframe.MN1:
                return day.replace(day=1)
            return day - timedelta(days=day.weekday())
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        step = self.minutes * 60
        seconds = int((t - epoch).total_seconds()) // step * step
        return epoch + timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """What a broker says about a symbol (MT5 ``symbol_info``). Distances below are in points."""

    name: str
    digits: int
    point: float
    tick_size: float
    tick_value: float  # account-currency value of one tick_size move for one lot
    contract_size: float
    volume_min: float
    volume_max: float
    volume_step: float
    stops_level: int = 0  # minimum SL/TP distance from price, in points
    freeze_level: int = 0
    filling_mode: int = FillingFlag.FOK | FillingFlag.IOC  # bit mask of FillingFlag
    trade_mode: TradeMode = TradeMode.FULL
    currency_base: str = ""
    currency_profit: str = "USD"
    currency_margin: str = ""
    description: str = ""
    tick_value_loss: float | None = None  # MT5 trade_tick_value_loss; falls back to tick_value
    margin_rate: float = 1.0  # multiplier on contract_size * price / leverage

    def normalize_price(self, price: float) -> float:
        """Round to the tick grid, then to ``digits`` to clean float noise."""
        ticks = round(price / self.tick_size)
        return round(ticks * self.tick_size, self.digits)

    def normalize_volume(self, volume: float) -> float:
        """Floor to ``volume_step`` in integer steps (no 0.30000000000000004), unclamped."""
        steps = math.floor(volume / self.volume_step + 1e-9)
        decimals = max(0, -math.floor(math.log10(self.volume_step))) if self.volume_step < 1 else 0
        return round(steps * self.volume_step, decimals + 2)

    def volume_ok(self, volume: float) -> bool:
        if volume < self.volume_min - 1e-12 or volume > self.volume_max + 1e-12:
            return False
        steps = volume / self.volume_step
        return abs(steps - round(steps)) < 1e-6

    @property
    def loss_tick_value(self) -> float:
        return self.tick_value_loss if self.tick_value_loss else self.tick_value

    def money_per_price_unit(self, volume: float) -> float:
        """Account money gained by one lot-volume position when price moves by 1.0."""
        return volume * self.tick_value / self.tick_size


@dataclass(frozen=True, slots=True)
class Tick:
    symbol: str
    time: datetime
    bid: float
    ask: float
    last: float = 0.0
    volume: float = 0.0

    @property
    def spread(self) -> float:
        return self.ask - self.bid

    def price_for(self, side: Side) -> float:
        """Price a market order on ``side`` fills at: buy at ask, sell at bid."""
        return self.ask if side is Side.BUY else self.bid

    def close_price_for(self, side: Side) -> float:
        """Price that closes a position on ``side``: a buy closes at bid, a sell at ask."""
        return self.bid if side is Side.BUY else self.ask


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC bar labelled by its open time (UTC); ``spread`` in points, as MT5 rates."""

    symbol: str
    timeframe: Timeframe
    time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    spread: int = 0

    @property
    def close_time(self) -> datetime:
        return self.time + self.timeframe.delta


@dataclass(frozen=True, slots=True)
class Account:
    login: int
    currency: str
    balance: float
    equity: float
    margin: float
    free_margin: float
    leverage: int
    margin_mode: MarginMode = MarginMode.HEDGING
    server: str = ""
    name: str = ""
    trade_allowed: bool = True

    @property
    def margin_level(self) -> float | None:
        """Equity / margin in percent, None when no margin is used (as MT5 reports 0)."""
        return self.equity / self.margin * 100 if self.margin else None

    @property
    def hedging(self) -> bool:
        return self.margin_mode is MarginMode.HEDGING


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A market order to send. ``client_id`` is the idempotency key: stored before sending."""

    client_id: str
    symbol: str
    side: Side
    volume: float  # lots, normalised to the symbol's volume step
    sl: float | None = None
    tp: float | None = None
    comment: str = ""
    magic: int = 0
    deviation_points: int = 20
    reason: DealReason = DealReason.EXPERT


@dataclass(frozen=True, slots=True)
class OrderResult:
    """Outcome of send/close/modify. Expected refusals are values, not exceptions."""

    ok: bool
    ticket: int | None = None  # position ticket (hedging: the opening order's ticket)
    order: int | None = None
    deal: int | None = None
    price: float | None = None
    volume: float | None = None
    reject: RejectReason | None = None
    message: str = ""  # human-readable detail with numbers, e.g. "free margin 120.00 < 250.00"
    retcode: int | None = None

    @classmethod
    def rejected(
        cls, reason: RejectReason, message: str = "", retcode: int | None = None
    ) -> OrderResult:
        return cls(ok=False, reject=reason, message=message, retcode=retcode)


@dataclass(frozen=True, slots=True)
class Order:
    """A stored order (one row per client id)."""

    client_id: str
    symbol: str
    side: Side
    volume: float
    created_at: datetime
    status: OrderStatus = OrderStatus.PENDING
    type: OrderType = OrderType.MARKET
    sl: float | None = None
    tp: float | None = None
    ticket: int | None = None
    price: float | None = None
    reject: RejectReason | None = None
    message: str = ""
    strategy: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Position:
    ticket: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    time: datetime
    sl: float | None = None
    tp: float | None = None
    price_current: float = 0.0
    profit: float = 0.0  # floating, account currency
    swap: float = 0.0
    magic: int = 0
    comment: str = ""
    client_id: str = ""
    identifier: int = 0  # MT5 position identifier (stable across netting changes)

    def with_price(self, price: float, spec: SymbolSpec) -> Position:
        """Mark to ``price`` (bid for buys, ask for sells) and recompute floating profit."""
        pnl = self.side.sign * (price - self.price_open) * spec.money_per_price_unit(self.volume)
        return replace(self, price_current=price, profit=pnl)


@dataclass(frozen=True, slots=True)
class Deal:
    """A fill (MT5 deal). Entry IN opens, OUT closes; ``profit`` is realised on OUT deals."""

    ticket: int
    order: int
    position_id: int
    symbol: str
    side: Side
    entry: DealEntry
    volume: float
    price: float
    time: datetime
    profit: float = 0.0
    commission: float = 0.0
    swap: float = 0.0
    fee: float = 0.0
    reason: DealReason = DealReason.EXPERT
    magic: int = 0
    comment: str = ""
    client_id: str = ""

    @property
    def net(self) -> float:
        """Money this deal added to the balance."""
        return self.profit + self.commission + self.swap + self.fee


Fill = Deal


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A round trip: what a trader reads in /trades and what the risk counters learn from."""

    position_id: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    price_close: float
    opened_at: datetime
    closed_at: datetime
    profit: float
    commission: float = 0.0
    swap: float = 0.0
    sl: float | None = None
    tp: float | None = None
    reason: DealReason = DealReason.EXPERT
    client_id: str = ""
    strategy: str = ""
    risk_money: float | None = None  # money at risk at entry (stop distance), for R multiples

    @property
    def net(self) -> float:
        return self.profit + self.commission + self.swap

    @property
    def r_multiple(self) -> float | None:
        return self.net / self.risk_money if self.risk_money else None


@dataclass(frozen=True, slots=True)
class EquitySnapshot:
    time: datetime
    balance: float
    equity: float
    margin: float = 0.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    time: datetime
    user_id: int | None
    chat_id: int | None
    action: str
    outcome: str
    detail: str = ""
    id: int | None = None


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 1, "trader": 2, "admin": 3}[self.value]

    def covers(self, needed: Role) -> bool:
        return self.rank >= needed.rank


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    role: Role
    locale: str | None = None
    name: str = ""
    added_by: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A notification waiting for delivery to one chat; ``photo`` is PNG bytes."""

    chat_id: int
    kind: str
    text: str
    id: int | None = None
    photo: bytes | None = None
    dedup_key: str | None = None  # the same key is enqueued once per chat
    attempts: int = 0
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    dead: bool = False
    last_error: str = ""
    held: bool = False  # stored, but not sent until its chart is attached (``attach``)


@dataclass(frozen=True, slots=True)
class DataRange:
    """What a data source holds for one symbol/timeframe."""

    symbol: str
    timeframe: Timeframe
    start: datetime
    end: datetime
    bars: int
    source: str
    simulated: bool = False
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class Importance(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


@dataclass(frozen=True, slots=True)
class EconomicEvent:
    """One calendar release, time in UTC; numbers stay text as the source prints them."""

    time: datetime
    currency: str
    country: str
    title: str
    importance: Importance
    actual: str = ""
    forecast: str = ""
    previous: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CalendarStatus:
    """What /status says about the calendar: configured at all, fresh, and why not."""

    configured: bool
    ok: bool
    fetched_at: datetime | None = None
    reason: str = ""  # e.g. "calendar not configured", "last refresh failed: HTTP 503"
    source: str = ""
