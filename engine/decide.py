"""One decision path: a signal row plus the account and risk context become a ``Decision``.

Pure and synchronous: the caller gathers the broker and storage facts first. Sizing runs before
the gates so the margin gate judges the real order (volume and required margin); every gate's
verdict is kept, in order, so /status and /risk can show why a signal did or did not trade.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from engine.brokers import sim
from engine.models import Account, Side, SymbolSpec, Tick
from engine.ports import Calendar
from engine.risk import RiskContext, RiskGate, RiskLimits, RiskState, Verdict, size_by_risk
from engine.risk.sizing import SizeResult


class Action(StrEnum):
    ORDER = "order"
    BLOCKED = "blocked"  # a risk gate said no
    UNSIZED = "unsized"  # sizing refused (e.g. the minimum lot risks too much)
    NO_PRICE = "no_price"


@dataclass(frozen=True, slots=True)
class Signal:
    """What a strategy row asks for, in price distances; ``reason`` is the one-line why."""

    side: Side
    sl_dist: float
    tp_dist: float
    reason: str
    reason_code: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    signal: Signal
    verdicts: tuple[Verdict, ...] = ()
    size: SizeResult | None = None
    volume: float | None = None
    price: float | None = None  # expected fill (ask for a buy, bid for a sell)
    sl: float | None = None
    tp: float | None = None
    risk_money: float | None = None

    @property
    def blocked_by(self) -> Verdict | None:
        return next((v for v in self.verdicts if not v.allowed), None)

    @property
    def summary(self) -> str:
        """One English line for logs and the last-decision record."""
        s = self.signal
        head = f"{s.side.value} signal ({s.reason})"
        if self.action is Action.ORDER:
            return f"{head}: order {self.volume} lots at ~{self.price}, SL {self.sl}, TP {self.tp}"
        if self.action is Action.BLOCKED and (v := self.blocked_by) is not None:
            return f"{head}: blocked by {v.code.value}: {v.reason}"
        if self.action is Action.UNSIZED and self.size is not None:
            return f"{head}: not sized: {self.size.reason}"
        return f"{head}: no price to trade at"


def levels(signal: Signal, price: float, spec: SymbolSpec) -> tuple[float, float]:
    """SL and TP placed from the expected fill price, normalised to the tick grid."""
    sign = signal.side.sign
    sl = spec.normalize_price(price - sign * signal.sl_dist)
    tp = spec.normalize_price(price + sign * signal.tp_dist)
    return sl, tp


def decide(
    signal: Signal,
    *,
    now: datetime,
    zone: ZoneInfo,
    symbol: str,
    spec: SymbolSpec,
    tick: Tick | None,
    account: Account,
    open_positions: int,
    state: RiskState,
    limits: RiskLimits,
    gates: Sequence[RiskGate],
    calendar: Calendar,
    volume: float | None = None,
    currencies: frozenset[str] | None = None,
) -> Decision:
    """Size by risk (or take ``volume``), run every gate, and say whether to send the order."""
    price = tick.price_for(signal.side) if tick is not None else None
    size: SizeResult | None = None
    lots = volume
    margin = None
    if price is not None:
        risk_money = account.equity * limits.risk_pct
        size = size_by_risk(risk_money, signal.sl_dist, spec, allow_min_lot=limits.allow_min_lot)
        lots = volume if volume is not None else size.volume
        margin = (
            sim.required_margin(spec, lots, price, account.leverage, account.currency)
            if lots
            else None
        )
    ctx = RiskContext(
        now=now,
        zone=zone,
        symbol=symbol,
        side=signal.side,
        spec=spec,
        tick=tick,
        account=account,
        open_positions=open_positions,
        state=state,
        limits=limits,
        calendar=calendar,
        volume=lots,
        stop_dist=signal.sl_dist,
        required_margin=margin,
        currencies=currencies,
    )
    verdicts = tuple(g.check(ctx) for g in gates)
    if any(not v.allowed for v in verdicts):
        return Decision(Action.BLOCKED, signal, verdicts, size)
    if price is None:
        return Decision(Action.NO_PRICE, signal, verdicts)
    if lots is None:
        return Decision(Action.UNSIZED, signal, verdicts, size)
    sl, tp = levels(signal, price, spec)
    actual_risk = abs(price - sl) / spec.tick_size * spec.loss_tick_value * lots
    return Decision(
        Action.ORDER,
        signal,
        verdicts,
        size,
        volume=lots,
        price=price,
        sl=sl,
        tp=tp,
        risk_money=round(actual_risk, 2),
    )
