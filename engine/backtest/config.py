"""How a backtest trades: costs, sizing, which live risk gates apply, the starting account.

Costs are in the units traders quote: spread and slippage in points (``spec.point``), commission
in account money per lot on each side of a trade (a round turn pays it twice, as
``PaperBroker(commission_per_lot=...)`` charges). All of them may be zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from engine.errors import ConfigError
from engine.risk import GateCode, RiskLimits
from engine.risk.gates import (
    CooldownGate,
    DailyLossGate,
    MaxTradesGate,
    SessionGate,
    WeeklyLossGate,
)
from engine.risk.verdict import RiskGate

# The live gates whose inputs exist in history: the clock, the day's entries and losses. Paused,
# breaker, news, spread, market-closed and margin-floor gates need a live account or feed.
HISTORICAL_GATES: tuple[GateCode, ...] = (
    GateCode.SESSION,
    GateCode.MAX_TRADES,
    GateCode.COOLDOWN,
    GateCode.DAILY_LOSS,
    GateCode.WEEKLY_LOSS,
)

_GATES: dict[GateCode, RiskGate] = {
    GateCode.SESSION: SessionGate(),
    GateCode.MAX_TRADES: MaxTradesGate(),
    GateCode.COOLDOWN: CooldownGate(),
    GateCode.DAILY_LOSS: DailyLossGate(),
    GateCode.WEEKLY_LOSS: WeeklyLossGate(),
}


@dataclass(frozen=True, slots=True)
class Costs:
    """Trading costs. ``spread_points=None`` takes each bar's own spread column."""

    spread_points: float | None = None
    slippage_points: float = 0.0
    commission_per_lot: float = 0.0  # account money per lot, each side

    def __post_init__(self) -> None:
        for name in ("slippage_points", "commission_per_lot"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                msg = f"{name} must be a number >= 0, got {value}"
                raise ConfigError(msg, code="bad_cost", name=name, value=value)
        sp = self.spread_points
        if sp is not None and not (math.isfinite(sp) and sp >= 0):
            msg = f"spread_points must be >= 0 or None (the data's spread), got {sp}"
            raise ConfigError(msg, code="bad_cost", name="spread_points", value=sp)

    def describe(self) -> str:
        spread = "data spread" if self.spread_points is None else f"spread {self.spread_points:g}"
        return (
            f"{spread} pt, slippage {self.slippage_points:g} pt, "
            f"commission {self.commission_per_lot:g}/lot/side"
        )


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Account, sizing and rules of one run.

    ``fixed_lots=None`` sizes every entry by the live rule (``limits.risk_pct`` of the running
    equity over the stop distance, ``size_by_risk``); a number trades that many lots. ``gates``
    lists the live gates to apply (``()`` for none); each reads ``limits`` as it does live.
    ``check_margin`` refuses entries the account could not margin at ``leverage``, as the paper
    broker does.
    """

    initial_balance: float = 10_000.0
    currency: str = "USD"
    leverage: int = 100
    costs: Costs = field(default_factory=Costs)
    fixed_lots: float | None = None
    limits: RiskLimits = field(default_factory=RiskLimits)
    gates: tuple[GateCode, ...] = HISTORICAL_GATES
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    check_margin: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.initial_balance) and self.initial_balance > 0):
            msg = f"initial balance must be positive, got {self.initial_balance}"
            raise ConfigError(msg, code="bad_balance", value=self.initial_balance)
        if self.leverage <= 0:
            msg = f"leverage must be positive, got {self.leverage}"
            raise ConfigError(msg, code="bad_leverage", value=self.leverage)
        lots = self.fixed_lots
        if lots is not None and not (math.isfinite(lots) and lots > 0):
            msg = f"fixed lots must be positive (or None to size by risk), got {lots}"
            raise ConfigError(msg, code="bad_lots", value=lots)
        unknown = [g for g in self.gates if g not in _GATES]
        if unknown:
            valid = ", ".join(g.value for g in HISTORICAL_GATES)
            msg = f"gate {unknown[0].value} cannot be judged on history; usable: {valid}"
            raise ConfigError(msg, code="bad_gate", gate=unknown[0].value, valid=valid)

    def gate_objects(self) -> tuple[RiskGate, ...]:
        """The live gate objects for ``gates``, in the live pipeline's order."""
        return tuple(_GATES[g] for g in HISTORICAL_GATES if g in self.gates)

    @property
    def sizing(self) -> str:
        if self.fixed_lots is not None:
            return f"fixed {self.fixed_lots:g} lots"
        return f"risk {self.limits.risk_pct * 100:g}% of equity per trade"
