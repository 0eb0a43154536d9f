"""The ordered gate list and how it is run.

Order (DESIGN.md): paused, circuit breaker, trading session, news window, max trades per day,
cooldown, max open positions, daily loss, weekly loss, market closed, spread, margin. Market
closed comes before spread because the spread needs a live price. ``evaluate`` runs every gate
(for /status and /risk); ``first_block`` stops at the first refusal (for a trade decision).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.risk.context import RiskContext
from engine.risk.gates import (
    BreakerGate,
    CooldownGate,
    DailyLossGate,
    MaxPositionsGate,
    MaxTradesGate,
    PausedGate,
    SessionGate,
    WeeklyLossGate,
)
from engine.risk.limits import RiskLimits
from engine.risk.market_gates import MarginGate, MarketClosedGate, SpreadGate
from engine.risk.news import NewsGate
from engine.risk.verdict import GateCode, RiskGate, Verdict


def default_gates(limits: RiskLimits) -> tuple[RiskGate, ...]:
    """The standard gates in order; the news gate takes ``limits.news_policy``."""
    return (
        PausedGate(),
        BreakerGate(),
        SessionGate(),
        NewsGate(policy=limits.news_policy),
        MaxTradesGate(),
        CooldownGate(),
        MaxPositionsGate(),
        DailyLossGate(),
        WeeklyLossGate(),
        MarketClosedGate(),
        SpreadGate(),
        MarginGate(),
    )


def evaluate(gates: Sequence[RiskGate], ctx: RiskContext) -> list[Verdict]:
    """Every gate's verdict, in order."""
    return [gate.check(ctx) for gate in gates]


def first_block(gates: Sequence[RiskGate], ctx: RiskContext) -> Verdict:
    """The first refusal in order, or an ``OK`` verdict when every gate allows."""
    for gate in gates:
        verdict = gate.check(ctx)
        if not verdict.allowed:
            return verdict
    return Verdict.allow(GateCode.OK, f"all {len(gates)} risk gates allow", gates=len(gates))
