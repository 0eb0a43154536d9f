"""The market and money gates: market closed, spread, and margin after the order.

"Market closed" follows shared/reference/mt5_api.md section 4.7: MT5 has no session function
and keeps returning Friday's tick all weekend, so the gate combines the symbol's trade mode,
the FX/metals weekend window and the age of the last price. The margin gate keeps free margin
*after* the order at or above ``min_free_margin_pct`` of equity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from engine.models import Side, SymbolSpec, TradeMode
from engine.risk.context import RiskContext
from engine.risk.periods import local_text
from engine.risk.sessions import weekend_closed, weekend_reopen
from engine.risk.verdict import GateCode, Verdict


def estimate_margin(spec: SymbolSpec, volume: float, price: float, leverage: int) -> float:
    """Margin in the symbol's profit currency: ``volume * contract * price * margin_rate /
    leverage`` (the CFD/forex formula ``SymbolSpec.margin_rate`` documents)."""
    if leverage <= 0:
        msg = f"leverage must be positive to estimate margin: {leverage}"
        raise ValueError(msg)
    return volume * spec.contract_size * price * spec.margin_rate / leverage


@dataclass(frozen=True, slots=True)
class MarketClosedGate:
    """Blocks without a price, on a disabled/close-only symbol, a side the symbol forbids,
    the weekend (when ``weekend_closed``) or a last price older than ``max_tick_age``."""

    code: ClassVar[GateCode] = GateCode.MARKET_CLOSED

    def check(self, ctx: RiskContext) -> Verdict:
        sym, mode = ctx.symbol, ctx.spec.trade_mode
        if mode is TradeMode.DISABLED:
            return Verdict.block(self.code, f"trading is disabled for {sym}", why="disabled")
        if mode is TradeMode.CLOSEONLY:
            return Verdict.block(self.code, f"{sym} is close-only", why="close_only")
        if (mode is TradeMode.LONGONLY and ctx.side is Side.SELL) or (
            mode is TradeMode.SHORTONLY and ctx.side is Side.BUY
        ):
            only = "long" if mode is TradeMode.LONGONLY else "short"
            return Verdict.block(
                self.code, f"{sym} is {only}-only; no {ctx.side} entries", why=f"{only}_only"
            )
        if ctx.limits.weekend_closed and weekend_closed(ctx.now):
            reopen = weekend_reopen(ctx.now)
            return Verdict.block(
                self.code,
                f"weekend: market closed until {local_text(reopen, ctx.zone, now=ctx.now)}",
                why="weekend",
                until=reopen.isoformat(),
            )
        if ctx.tick is None:
            return Verdict.block(self.code, f"no price for {sym}", why="no_price")
        max_age = ctx.limits.max_tick_age
        age_s = (ctx.now - ctx.tick.time).total_seconds()
        if max_age is not None and age_s > max_age.total_seconds():
            return Verdict.block(
                self.code,
                f"last {sym} price is {age_s / 60:.1f} min old "
                f"(limit {max_age.total_seconds() / 60:g} min)",
                why="stale",
                age_minutes=round(age_s / 60, 1),
                limit_minutes=max_age.total_seconds() / 60,
            )
        return Verdict.allow(self.code, f"{sym} market open", why="open")


@dataclass(frozen=True, slots=True)
class SpreadGate:
    """Blocks when the spread, in points, is above ``max_spread_points`` (or unknown)."""

    code: ClassVar[GateCode] = GateCode.SPREAD

    def check(self, ctx: RiskContext) -> Verdict:
        cap = ctx.limits.max_spread_points
        if ctx.tick is None:
            return Verdict.block(self.code, f"no price for {ctx.symbol}: spread unknown")
        points = round(ctx.tick.spread / ctx.spec.point)
        if cap is None:
            return Verdict.allow(self.code, f"spread {points} points, no limit", points=points)
        text = f"spread {points} points (max {cap:g})"
        if points > cap:
            return Verdict.block(self.code, text, points=points, limit=cap)
        return Verdict.allow(self.code, text, points=points, limit=cap)


@dataclass(frozen=True, slots=True)
class MarginGate:
    """Free margin after the order must stay at or above ``min_free_margin_pct`` of equity.

    The order's margin is ``ctx.required_margin`` when the caller has it; else it is estimated
    with ``estimate_margin`` when the volume and a price are known and the symbol's profit
    currency is the account currency (no conversion needed); else only today's free margin is
    judged and the reason says the order's margin is unknown.
    """

    code: ClassVar[GateCode] = GateCode.MARGIN

    def check(self, ctx: RiskContext) -> Verdict:
        pct, acct = ctx.limits.min_free_margin_pct, ctx.account
        ccy = acct.currency
        required, source = ctx.required_margin, "broker"
        # The estimate is in the profit currency: only usable without a conversion.
        can_estimate = ctx.spec.currency_profit == ccy and acct.leverage > 0
        if required is None and ctx.volume is not None and ctx.tick is not None and can_estimate:
            price = ctx.tick.price_for(ctx.side)
            required = estimate_margin(ctx.spec, ctx.volume, price, acct.leverage)
            source = "estimate"
        if required is None:
            required, source = 0.0, "unknown"
        if not math.isfinite(required) or required < 0:
            return Verdict.block(self.code, f"order margin is not a valid amount: {required}")
        free_after = acct.free_margin - required
        detail: dict[str, str | float] = {
            "free_after": round(free_after, 2),
            "required": round(required, 2),
            "free": round(acct.free_margin, 2),
            "source": source,
            "currency": ccy,
        }
        note = " (order margin unknown)" if source == "unknown" else ""
        if pct is None:
            return Verdict.allow(
                self.code, f"free margin after the order {free_after:.2f} {ccy}{note}", **detail
            )
        floor = pct * acct.equity
        detail |= {"floor": round(floor, 2), "pct": pct * 100, "equity": round(acct.equity, 2)}
        text = (
            f"free margin after the order {free_after:.2f} {ccy}, floor {floor:.2f} "
            f"({pct * 100:g}% of equity {acct.equity:.2f}){note}"
        )
        if free_after < floor or free_after <= 0:
            return Verdict.block(self.code, text, **detail)
        return Verdict.allow(self.code, text, **detail)
