"""Risk: gates that judge a signal, sizing, the circuit-breaker governor and stop management.

Gates are small pure objects (``check(ctx) -> Verdict``) run in the order of
``default_gates``; ``RiskGovernor`` is the single writer of the persisted ``RiskState``;
``size_by_risk`` turns risk money and a stop distance into lots; ``manage_stop`` tightens stops.
"""

from __future__ import annotations

from engine.risk.context import RiskContext
from engine.risk.events import BreakerReset, BreakerTripped, Paused, Resumed, RiskEvent
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
from engine.risk.governor import RiskGovernor
from engine.risk.limits import NewsPolicy, RiskLimits
from engine.risk.management import StopUpdate, StopWhy, manage_stop, plan_stop
from engine.risk.market_gates import MarginGate, MarketClosedGate, SpreadGate, estimate_margin
from engine.risk.news import DEFAULT_CURRENCIES, NewsGate, currencies_for
from engine.risk.pipeline import default_gates, evaluate, first_block
from engine.risk.sessions import (
    SESSION_WINDOWS,
    Session,
    SessionWindow,
    next_session_open,
    session_end,
    session_now,
    session_open,
    weekend_closed,
    weekend_reopen,
)
from engine.risk.sizing import SizeCode, SizeResult, size_by_risk
from engine.risk.state import (
    BreakerCode,
    RiskState,
    RiskStateStore,
    record_close,
    record_entry,
    roll,
)
from engine.risk.verdict import GateCode, RiskGate, Verdict

__all__ = [
    "DEFAULT_CURRENCIES",
    "SESSION_WINDOWS",
    "BreakerCode",
    "BreakerGate",
    "BreakerReset",
    "BreakerTripped",
    "CooldownGate",
    "DailyLossGate",
    "GateCode",
    "MarginGate",
    "MarketClosedGate",
    "MaxPositionsGate",
    "MaxTradesGate",
    "NewsGate",
    "NewsPolicy",
    "Paused",
    "PausedGate",
    "Resumed",
    "RiskContext",
    "RiskEvent",
    "RiskGate",
    "RiskGovernor",
    "RiskLimits",
    "RiskState",
    "RiskStateStore",
    "Session",
    "SessionGate",
    "SessionWindow",
    "SizeCode",
    "SizeResult",
    "SpreadGate",
    "StopUpdate",
    "StopWhy",
    "Verdict",
    "WeeklyLossGate",
    "currencies_for",
    "default_gates",
    "estimate_margin",
    "evaluate",
    "first_block",
    "manage_stop",
    "next_session_open",
    "plan_stop",
    "record_close",
    "record_entry",
    "roll",
    "session_end",
    "session_now",
    "session_open",
    "size_by_risk",
    "weekend_closed",
    "weekend_reopen",
]
