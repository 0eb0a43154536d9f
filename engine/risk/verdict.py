"""What a risk gate answers: a ``Verdict`` with a stable code, an English line and parameters.

``code`` names the rule that produced the verdict (the gate's own code, whether it allowed or
blocked); ``GateCode.OK`` is used only for the summary verdict of a clean pass. ``reason`` is one
English line with the numbers, for logs and the CLI; ``detail`` carries the same numbers so the
bot can render a localized sentence from ``code`` + ``detail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.risk.context import RiskContext


class GateCode(StrEnum):
    """Stable short codes of the risk rules (persisted in events and audit rows)."""

    OK = "ok"
    PAUSED = "paused"
    BREAKER = "breaker"
    SESSION = "session"
    NEWS = "news"
    MAX_TRADES = "max_trades"
    COOLDOWN = "cooldown"
    MAX_POSITIONS = "max_positions"
    DAILY_LOSS = "daily_loss"
    WEEKLY_LOSS = "weekly_loss"
    MARKET_CLOSED = "market_closed"
    SPREAD = "spread"
    MARGIN = "margin"


Detail = Mapping[str, str | float]


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    code: GateCode
    reason: str  # one English line with the numbers: "3 of 3 trades today"
    detail: Detail = field(default_factory=dict)

    @classmethod
    def allow(cls, code: GateCode, reason: str, **detail: str | float) -> Verdict:
        return cls(allowed=True, code=code, reason=reason, detail=detail)

    @classmethod
    def block(cls, code: GateCode, reason: str, **detail: str | float) -> Verdict:
        return cls(allowed=False, code=code, reason=reason, detail=detail)


class RiskGate(Protocol):
    """A small, pure, synchronous rule. It never awaits and never reads the wall clock."""

    @property
    def code(self) -> GateCode: ...

    def check(self, ctx: RiskContext) -> Verdict: ...
