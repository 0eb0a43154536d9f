"""Confirmation cards (what Confirm would do) and what the card becomes afterwards.

A card states everything a person needs to decide: for a forced trade the symbol, side, lots,
expected price, SL, TP and the money and share of equity at risk; for a close the positions
and their current profit; for a limit the old and new value. Once answered (or expired) the
same message is edited to the outcome, without buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html

from bot import verdicts
from bot.i18n import _
from bot.render import bold, limit_value, lots, money, price, side
from engine.decide import Action
from engine.models import Position
from engine.views import CloseOutcome, ForceOutcome, ForcePreview, LimitChange


def expires(seconds: int) -> str:
    return _("Confirm within {seconds} s; the card works once.").format(seconds=seconds)


def force_card(p: ForcePreview, zone: ZoneInfo, now: datetime, ttl_s: int) -> str:
    d = p.decision
    s = d.signal
    head = bold(_("Manual trade")) + f": {side(s.side)}"
    if d.action is Action.BLOCKED and (v := d.blocked_by) is not None:
        return "\n".join(
            [head, "⛔ " + _("Refused by a hard limit:"), verdicts.line(v, zone, now)]
        )
    if d.action is Action.UNSIZED and d.size is not None:
        text = verdicts.size_refusal(d.size.code, d.size.detail, p.currency)
        return "\n".join([head, "⛔ " + _("Cannot size the trade: {why}").format(why=text)])
    if p.ticket is None or d.volume is None:
        return "\n".join([head, "⛔ " + _("No price to trade at.")])
    pct = f"{p.risk_pct:.2f}" if p.risk_pct is not None else "—"
    return "\n".join(
        [
            f"{head} {lots(d.volume)} {html.quote(p.ticket.symbol)}",
            _("Price about {price}").format(price=price(d.price, p.digits)),
            _("Stop loss {sl}, take profit {tp}").format(
                sl=price(d.sl, p.digits), tp=price(d.tp, p.digits)
            ),
            _("At risk: {money} ({pct}% of equity)").format(
                money=money(d.risk_money or 0.0, p.currency), pct=pct
            ),
            expires(ttl_s),
        ]
    )


def force_outcome(o: ForceOutcome, zone: ZoneInfo, now: datetime) -> str:
    d, r = o.decision, o.result
    s = d.signal
    if d.action is Action.BLOCKED and (v := d.blocked_by) is not None:
        return "\n".join(
            ["⛔ " + _("Not sent, a limit refused it now:"), verdicts.line(v, zone, now)]
        )
    if d.action is not Action.ORDER:
        return "⛔ " + _("Not sent: no price or size now.")
    if r is None:
        return "ℹ️ " + _("Already carried out; no second trade was opened.")
    if not r.ok and r.reject is not None and r.reject.value != "duplicate":
        return "⛔ " + _("The broker refused: {why}").format(
            why=verdicts.rejection(r.reject, r.message)
        )
    return "✅ " + _("Filled #{ticket}: {side} {lots} at {price}, SL {sl}, TP {tp}").format(
        ticket=r.ticket,
        side=side(s.side),
        lots=lots(r.volume or d.volume or 0.0),
        price=price(r.price, o.digits),
        sl=price(d.sl, o.digits),
        tp=price(d.tp, o.digits),
    )


def close_card(positions: Sequence[Position], currency: str, ttl_s: int) -> str:
    lines = [bold(_("Close these positions?"))]
    for p in positions:
        lines.append(
            f"#{p.ticket} {html.quote(p.symbol)} {side(p.side)} {lots(p.volume)} · "
            + _("now {profit}").format(profit=money(p.profit + p.swap, currency, signed=True))
        )
    lines.append(expires(ttl_s))
    return "\n".join(lines)


def close_outcomes(outcomes: Sequence[CloseOutcome], currency: str) -> str:
    lines = [bold(_("Close"))]
    for o in outcomes:
        if o.ok:
            profit = money(o.profit, currency, signed=True) if o.profit is not None else "—"
            lines.append(
                "✅ "
                + _("#{ticket} closed at {price}: {profit}").format(
                    ticket=o.ticket, price=price(o.price, o.digits), profit=profit
                )
            )
        else:
            lines.append(
                "⛔ "
                + _("#{ticket} not closed: {why}").format(
                    ticket=o.ticket, why=verdicts.rejection(o.reject, o.message)
                )
            )
    return "\n".join(lines)


def limit_card(change: LimitChange, ttl_s: int) -> str:
    return "\n".join(
        [
            bold(_("Change a risk limit?")),
            _("{name}: {old} → {new}").format(
                name=f"<code>{change.name}</code>",
                old=limit_value(change.kind, change.old),
                new=limit_value(change.kind, change.new),
            ),
            expires(ttl_s),
        ]
    )


def limit_done(change: LimitChange) -> str:
    return "✅ " + _("{name} is now {new} (was {old}); it applies from the next decision.").format(
        name=f"<code>{change.name}</code>",
        old=limit_value(change.kind, change.old),
        new=limit_value(change.kind, change.new),
    )


def reset_card(ttl_s: int) -> str:
    return "\n".join(
        [
            bold(_("Reset the circuit breaker?")),
            _("Trading may open new positions again right away."),
            expires(ttl_s),
        ]
    )


def answered(status: str) -> str:
    """The card's last words when it could not act (expired, used, someone else's)."""
    texts = {
        "expired": lambda: "⌛ " + _("This card expired; nothing was done. Ask again."),
        "used": lambda: _("This card was already answered."),
        "not_yours": lambda: _("Only the person who asked can answer this card."),
        "unknown": lambda: _("This card is not known (too old?); nothing was done."),
        "cancelled": lambda: "✖️ " + _("Cancelled; nothing was done."),
    }
    return texts[status]()
