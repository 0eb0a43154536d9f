"""What ``TradingService`` hands to the chat and the CLI: frozen views of codes and numbers.

Nothing here is a sentence for people. Each view carries the engine's own values (``Account``,
``RiskState``, ``Verdict`` with its ``code`` and ``detail``, ``Decision``) plus the little a
renderer needs besides (currency, price digits); the bot turns them into localized HTML. Money
is in the account currency, prices in quote currency, volumes in lots, times aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from engine.decide import Decision
from engine.models import (
    Account,
    CalendarStatus,
    ClosedTrade,
    OrderResult,
    Position,
    RejectReason,
    Side,
)
from engine.risk import RiskLimits, RiskState, Session, Verdict


@dataclass(frozen=True, slots=True)
class DecisionView:
    """The trader's last decision for one symbol (from its persisted record)."""

    symbol: str
    at: datetime | None
    bar_time: datetime | None
    action: str  # an ``engine.decide.Action`` value, or "none" when no signal fired
    side: Side | None
    reason_code: str  # the strategy's ReasonCode value ("" without a signal)
    reason: str  # the strategy's English reason, a detail for English readers
    verdicts: tuple[Verdict, ...]

    @property
    def blocked_by(self) -> Verdict | None:
        return next((v for v in self.verdicts if not v.allowed), None)


@dataclass(frozen=True, slots=True)
class StatusView:
    broker: str  # "paper" or "mt5"
    live: bool  # real money at stake (MT5), not the paper account
    connected: bool
    account: Account | None  # None while the broker cannot be reached
    state: RiskState  # rolled to today
    limits: RiskLimits
    open_positions: int
    realised_today: float
    floating: float
    daily_loss_limit: float | None  # money: pct of the day-start balance; None = no limit
    sessions_open: tuple[Session, ...]
    next_session: tuple[Session, datetime] | None
    decisions: tuple[DecisionView, ...]
    symbols: tuple[str, ...]
    timeframe: str
    strategy: str
    started_at: datetime
    now: datetime
    cycles: int
    failures: int
    calendar: CalendarStatus | None = None  # the news calendar: configured, fresh or stale

    @property
    def uptime(self) -> timedelta:
        return self.now - self.started_at

    @property
    def daily_pnl(self) -> float:
        return self.realised_today + self.floating


@dataclass(frozen=True, slots=True)
class PositionsView:
    positions: tuple[Position, ...]  # by ticket, marked to the current price
    ours: frozenset[int]  # tickets this bot opened (the others belong to someone else)
    digits: Mapping[str, int]  # price digits per symbol
    currency: str

    @property
    def total_profit(self) -> float:
        return round(sum(p.profit + p.swap for p in self.positions), 2)


@dataclass(frozen=True, slots=True)
class ForceTicket:
    """What a /force card proposes; stored with the card, executed as is after Confirm."""

    symbol: str
    side: Side
    volume: float  # lots
    sl_dist: float  # price units from the fill
    tp_dist: float

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "side": self.side.value,
            "volume": self.volume,
            "sl_dist": self.sl_dist,
            "tp_dist": self.tp_dist,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ForceTicket:
        return cls(
            symbol=str(data["symbol"]),
            side=Side(data["side"]),
            volume=float(data["volume"]),
            sl_dist=float(data["sl_dist"]),
            tp_dist=float(data["tp_dist"]),
        )


@dataclass(frozen=True, slots=True)
class ForcePreview:
    """A manual entry judged now without sending. ``ticket`` is None when it cannot trade."""

    decision: Decision
    ticket: ForceTicket | None
    equity: float
    currency: str
    digits: int

    @property
    def risk_pct(self) -> float | None:
        """Money at risk as a percentage of equity (1.0 = 1%)."""
        money = self.decision.risk_money
        return money / self.equity * 100 if money is not None and self.equity > 0 else None


@dataclass(frozen=True, slots=True)
class ForceOutcome:
    """What Confirm did: the decision at that moment and the broker's answer, if sent.

    ``result`` None with an ORDER decision means the key was used before: nothing was sent.
    """

    decision: Decision
    result: OrderResult | None
    currency: str
    digits: int


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    ticket: int
    symbol: str
    side: Side
    volume: float
    ok: bool
    price: float | None = None
    profit: float | None = None  # net, once the round trip is recorded
    reject: RejectReason | None = None
    message: str = ""  # the broker's English detail, for logs and English readers
    digits: int = 2


@dataclass(frozen=True, slots=True)
class RiskView:
    """Every gate's verdict for a hypothetical buy and sell of ``symbol`` now."""

    symbol: str
    buy: Decision
    sell: Decision
    state: RiskState
    limits: RiskLimits
    currency: str


@dataclass(frozen=True, slots=True)
class TradesView:
    trades: tuple[ClosedTrade, ...]  # newest first
    currency: str
    digits: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class DayPnl:
    day: date  # local day in the display zone
    trades: int
    wins: int
    net: float


@dataclass(frozen=True, slots=True)
class PnlView:
    days: tuple[DayPnl, ...]  # oldest first, one per local day (days without trades too)
    currency: str

    @property
    def total(self) -> float:
        return round(sum(d.net for d in self.days), 2)

    @property
    def trades(self) -> int:
        return sum(d.trades for d in self.days)


@dataclass(frozen=True, slots=True)
class ChartView:
    png: bytes
    symbol: str
    timeframe: str
    bars: int
    source: str = ""
    simulated: bool = False


class LimitKind(StrEnum):
    """How a risk limit is written: a fraction (0.01 = 1%), a count, minutes or points."""

    FRACTION = "fraction"
    COUNT = "count"
    MINUTES = "minutes"
    POINTS = "points"


Number = int | float


@dataclass(frozen=True, slots=True)
class LimitValue:
    name: str  # the setting's variable, e.g. "RISK_PCT"
    kind: LimitKind
    value: Number | None  # in the setting's unit (fraction, count, minutes, points)
    overridden: bool  # changed from the chat (differs from the settings file)


@dataclass(frozen=True, slots=True)
class LimitChange:
    name: str
    kind: LimitKind
    old: Number | None
    new: Number


@dataclass(frozen=True, slots=True)
class SettingsView:
    public: tuple[tuple[str, str], ...]  # variable -> value as text, secrets "set"/"not set"
    limits: tuple[LimitValue, ...]


@dataclass(frozen=True, slots=True)
class ControlOutcome:
    """Pause, resume or breaker reset: whether anything changed, and the state after."""

    changed: bool
    state: RiskState
