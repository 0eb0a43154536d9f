"""``RiskContext``: everything the gates look at, gathered by the caller before they run.

The caller (live trader, paper loop, backtester) awaits the broker and storage, then builds one
frozen context; gates are pure functions of it. Build it after sizing when you can: with the
proposed ``volume`` (and ``required_margin`` from the broker) the margin gate judges the actual
order instead of only today's free margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from engine.models import Account, Side, SymbolSpec, Tick
from engine.ports import Calendar
from engine.risk.limits import RiskLimits
from engine.risk.state import RiskState, roll


@dataclass(frozen=True, slots=True)
class RiskContext:
    now: datetime  # aware UTC
    zone: ZoneInfo  # display zone: day/week boundaries and the times in reasons
    symbol: str
    side: Side
    spec: SymbolSpec
    tick: Tick | None  # None = no price (treated as market closed)
    account: Account
    open_positions: int  # positions the cap counts (this bot's, on any symbol)
    state: RiskState  # as stored; gates roll it to ``now`` themselves
    limits: RiskLimits
    calendar: Calendar
    volume: float | None = None  # proposed lots, when sized
    stop_dist: float | None = None  # proposed stop distance in price, when known
    required_margin: float | None = None  # broker's margin for the order, account money
    currencies: frozenset[str] | None = None  # news currencies; None = the symbol's default

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            msg = "RiskContext.now must be tz-aware UTC"
            raise ValueError(msg)
        if self.open_positions < 0:
            msg = f"open_positions cannot be negative: {self.open_positions}"
            raise ValueError(msg)

    @property
    def today(self) -> RiskState:
        """The stored state rolled to ``now`` (fresh daily/weekly counters after midnight)."""
        return roll(self.state, self.now, self.zone)
