"""The account and schedule gates: paused, breaker, session, trades per day, cooldown, open
positions, daily and weekly loss.

Each gate is a small frozen object whose ``check`` is a pure function of a ``RiskContext``; it
reads its knobs from ``ctx.limits`` and its counters from ``ctx.today`` (the stored state rolled
to ``ctx.now`` in the display zone). A limit set to ``None`` (or a zero duration) allows and
says the rule is off, so /risk can list every gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from engine.risk.context import RiskContext
from engine.risk.periods import local_text
from engine.risk.sessions import (
    Session,
    next_session_open,
    session_end,
    session_now,
)
from engine.risk.verdict import GateCode, Verdict


def _at(t: datetime, ctx: RiskContext) -> str:
    return local_text(t, ctx.zone, now=ctx.now)


@dataclass(frozen=True, slots=True)
class PausedGate:
    """Blocks while a person has paused trading; only a person resumes."""

    code: ClassVar[GateCode] = GateCode.PAUSED

    def check(self, ctx: RiskContext) -> Verdict:
        s = ctx.state
        if not s.paused:
            return Verdict.allow(self.code, "not paused")
        since = f" since {_at(s.paused_at, ctx)}" if s.paused_at else ""
        why = f": {s.paused_reason}" if s.paused_reason else ""
        return Verdict.block(
            self.code,
            f"paused by {s.paused_by or 'unknown'}{since}{why}",
            who=s.paused_by,
            why=s.paused_reason,
        )


@dataclass(frozen=True, slots=True)
class BreakerGate:
    """Blocks while the circuit breaker is tripped and not yet expired."""

    code: ClassVar[GateCode] = GateCode.BREAKER

    def check(self, ctx: RiskContext) -> Verdict:
        s = ctx.state
        if s.breaker is None:
            return Verdict.allow(self.code, "circuit breaker not tripped")
        if not s.breaker_active(ctx.now):
            # Expired: allowed now; the governor records the reset on its next call.
            return Verdict.allow(
                self.code, f"circuit breaker ({s.breaker}) expired", breaker=s.breaker.value
            )
        if s.breaker_until is None:
            until, until_iso = "until a person resets it", ""
        else:
            until, until_iso = f"until {_at(s.breaker_until, ctx)}", s.breaker_until.isoformat()
        return Verdict.block(
            self.code,
            f"circuit breaker ({s.breaker}) {until}: {s.breaker_reason}",
            breaker=s.breaker.value,
            why=s.breaker_reason,
            until=until_iso,
        )


@dataclass(frozen=True, slots=True)
class SessionGate:
    """Allows only inside one of the configured sessions (ANY = always)."""

    code: ClassVar[GateCode] = GateCode.SESSION

    def check(self, ctx: RiskContext) -> Verdict:
        sessions = ctx.limits.sessions
        names = ", ".join(s.value for s in sessions)
        if Session.ANY in sessions:
            return Verdict.allow(self.code, "any session", sessions=names)
        open_now = session_now(ctx.now, sessions)
        if open_now:
            first = open_now[0]
            end = session_end(first, ctx.now)
            ends = f" until {_at(end, ctx)}" if end else ""
            return Verdict.allow(
                self.code,
                f"{first.value} session open{ends}",
                sessions=names,
                session=first.value,
            )
        nxt = next_session_open(ctx.now, sessions)
        if nxt is None:
            return Verdict.block(self.code, f"outside sessions {names}", sessions=names)
        session, opens = nxt
        return Verdict.block(
            self.code,
            f"outside sessions {names}; {session.value} opens {_at(opens, ctx)}",
            sessions=names,
            next=session.value,
            opens=opens.isoformat(),
        )


@dataclass(frozen=True, slots=True)
class MaxTradesGate:
    """At most ``max_trades_per_day`` entries per local day."""

    code: ClassVar[GateCode] = GateCode.MAX_TRADES

    def check(self, ctx: RiskContext) -> Verdict:
        cap = ctx.limits.max_trades_per_day
        done = ctx.today.trades_today
        if cap is None:
            return Verdict.allow(self.code, f"{done} trades today, no daily limit", trades=done)
        text = f"{done} of {cap} trades today"
        if done >= cap:
            return Verdict.block(self.code, text, trades=done, limit=cap)
        return Verdict.allow(self.code, text, trades=done, limit=cap)


@dataclass(frozen=True, slots=True)
class CooldownGate:
    """No entry within ``cooldown`` of the last entry or ``cooldown_after_loss`` of a loss.

    When both run, the verdict names the one that ends later.
    """

    code: ClassVar[GateCode] = GateCode.COOLDOWN

    def check(self, ctx: RiskContext) -> Verdict:
        s, lim = ctx.state, ctx.limits
        ends: list[tuple[datetime, str]] = []
        if s.last_entry_at is not None and lim.cooldown:
            ends.append((s.last_entry_at + lim.cooldown, "entry"))
        if s.last_loss_at is not None and lim.cooldown_after_loss:
            ends.append((s.last_loss_at + lim.cooldown_after_loss, "loss"))
        running = [(end, kind) for end, kind in ends if ctx.now < end]
        if not running:
            return Verdict.allow(self.code, "no cooldown running")
        end, kind = max(running)
        after = "a loss" if kind == "loss" else "the last entry"
        minutes = (lim.cooldown_after_loss if kind == "loss" else lim.cooldown).total_seconds()
        return Verdict.block(
            self.code,
            f"cooldown after {after} until {_at(end, ctx)}",
            after=kind,
            until=end.isoformat(),
            minutes=minutes / 60,
        )


@dataclass(frozen=True, slots=True)
class MaxPositionsGate:
    """At most ``max_open_positions`` positions open at once."""

    code: ClassVar[GateCode] = GateCode.MAX_POSITIONS

    def check(self, ctx: RiskContext) -> Verdict:
        cap, n = ctx.limits.max_open_positions, ctx.open_positions
        if cap is None:
            return Verdict.allow(self.code, f"{n} positions open, no limit", open=n)
        text = f"{n} of {cap} positions open"
        if n >= cap:
            return Verdict.block(self.code, text, open=n, limit=cap)
        return Verdict.allow(self.code, text, open=n, limit=cap)


def _loss_verdict(
    ctx: RiskContext, code: GateCode, period: str, realised: float, pct: float | None
) -> Verdict:
    """Loss so far this period (realised + floating) against ``pct`` of the period-start
    balance, where start balance = balance - realised this period (deposits aside)."""
    acct = ctx.account
    floating = acct.equity - acct.balance
    loss = -(realised + floating)
    ccy = acct.currency
    if pct is None:
        return Verdict.allow(
            code, f"{period} loss {loss:.2f} {ccy}, no limit", loss=round(loss, 2)
        )
    start = acct.balance - realised
    limit = pct * start
    detail: dict[str, str | float] = {
        "loss": round(loss, 2),
        "limit": round(limit, 2),
        "pct": pct * 100,
        "start_balance": round(start, 2),
        "realised": round(realised, 2),
        "floating": round(floating, 2),
        "currency": ccy,
    }
    text = (
        f"{period} loss {loss:.2f} of {limit:.2f} {ccy} limit "
        f"({pct * 100:g}% of {start:.2f}; realised {realised:.2f}, floating {floating:.2f})"
    )
    if start <= 0 or loss >= limit:
        return Verdict.block(code, text, **detail)
    return Verdict.allow(code, text, **detail)


@dataclass(frozen=True, slots=True)
class DailyLossGate:
    """Blocks once today's loss reaches ``max_daily_loss_pct`` of the day-start balance."""

    code: ClassVar[GateCode] = GateCode.DAILY_LOSS

    def check(self, ctx: RiskContext) -> Verdict:
        pct = ctx.limits.max_daily_loss_pct
        return _loss_verdict(ctx, self.code, "daily", ctx.today.realised_today, pct)


@dataclass(frozen=True, slots=True)
class WeeklyLossGate:
    """Blocks once this week's loss reaches ``max_weekly_loss_pct`` of the week-start balance."""

    code: ClassVar[GateCode] = GateCode.WEEKLY_LOSS

    def check(self, ctx: RiskContext) -> Verdict:
        pct = ctx.limits.max_weekly_loss_pct
        return _loss_verdict(ctx, self.code, "weekly", ctx.today.realised_week, pct)
