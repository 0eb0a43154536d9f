"""Notification texts in the reader's language: one function per engine event, calendar
reminders and the daily summary.

Each function returns balanced HTML (``bot.render`` helpers, every outside string through
``html.quote``) in the current locale, so call it inside ``bot.i18n.localized``. The engine's
own English explanations (a signal's reason, a breaker's reason, a broker's message) are added
only for English readers, as in ``bot.verdicts``. Numbers come from the event; ``Context``
carries what the event does not (display zone, now, account currency, price digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from aiogram import html

from bot import verdicts
from bot.i18n import _, __
from bot.render import bold, lots, money, price, side
from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.events import (
    CycleFailed,
    GateBlocked,
    LoopRecovered,
    LoopStalled,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    SignalSkipped,
    StopMoved,
)
from engine.models import DealReason, EconomicEvent
from engine.risk import BreakerCode, GateCode
from engine.risk.events import BreakerReset, BreakerTripped, Paused, Resumed

if TYPE_CHECKING:
    from bot.daily_summary import DailyFigures

CLOSE_REASONS = {
    DealReason.SL: __("stop loss hit"),
    DealReason.TP: __("take profit hit"),
    DealReason.CLIENT: __("closed by hand"),
    DealReason.EXPERT: __("closed by the bot"),  # an order of this bot: strategy or chat
    DealReason.SO: __("stop out by the broker"),
}
TRADES_LISTED = 10  # today's trades listed one per line in the daily summary


@dataclass(frozen=True, slots=True)
class Context:
    """What a text needs beyond its event: display zone, now (UTC), account currency and
    the price digits of the event's symbol."""

    zone: ZoneInfo
    now: datetime
    currency: str = ""
    digits: int = 2


def _english(text: str) -> list[str]:
    """The engine's English sentence as its own line, for English readers only."""
    return [html.quote(text)] if text and verdicts.english() else []


def _when(t: datetime | None, c: Context) -> str:
    return verdicts.local_time(t, c.zone, c.now) or "—"


def filled(e: OrderFilled, c: Context) -> str:
    head = _("Opened {side} {volume} {symbol} at {price}").format(
        side=side(e.side),
        volume=lots(e.volume),
        symbol=html.quote(e.symbol),
        price=price(e.price, c.digits),
    )
    levels = _("SL {sl}, TP {tp}").format(sl=price(e.sl, c.digits), tp=price(e.tp, c.digits))
    if e.risk_money is not None:
        levels += " · " + _("risk {money}").format(money=money(e.risk_money, c.currency))
    if e.manual:
        who = _("Manual trade (/force)")
    else:
        who = _("Strategy {name}").format(name=html.quote(e.strategy))
    reason = [] if e.manual else _english(e.reason)  # a manual trade's reason is "manual"
    lines = [f"🟢 {bold(head)} · #{e.ticket}", levels, who, *reason]
    return "\n".join(lines)


def closed(e: PositionClosed, c: Context) -> str:
    head = _("Closed {side} {volume} {symbol}: {profit}").format(
        side=side(e.side),
        volume=lots(e.volume),
        symbol=html.quote(e.symbol),
        profit=money(e.profit, c.currency, signed=True),
    )
    mark = "💰" if e.profit > 0 else "🔻" if e.profit < 0 else "🏁"
    detail = f"{price(e.price_open, c.digits)} → {price(e.price_close, c.digits)}"
    if e.on_signal:
        detail += " · " + _("closed on the opposite signal")
    else:
        detail += f" · {CLOSE_REASONS.get(e.reason, html.quote(e.reason.value))}"
    if e.r_multiple is not None:
        detail += f" · {e.r_multiple:+.2f}R"
    return f"{mark} {bold(head)} · #{e.ticket}\n{detail}"


def rejected(e: OrderRejected, c: Context) -> str:
    head = _("Order refused: {side} {volume} {symbol}").format(
        side=side(e.side), volume=lots(e.volume), symbol=html.quote(e.symbol)
    )
    return f"⚠️ {bold(head)}\n{verdicts.rejection(e.reject, e.message)}"


def blocked(e: GateBlocked, c: Context) -> str:
    head = _("Signal to {side} {symbol} blocked").format(
        side=side(e.side), symbol=html.quote(e.symbol)
    )
    code = GateCode._value2member_map_.get(e.code)
    gate = str(verdicts.GATE_NAMES[code]) if isinstance(code, GateCode) else html.quote(e.code)
    return "\n".join([f"⛔ {bold(head)}: {gate}", *_english(e.reason)])


def skipped(e: SignalSkipped, c: Context) -> str:
    head = _("Signal to {side} {symbol} not traded").format(
        side=side(e.side), symbol=html.quote(e.symbol)
    )
    why = _("the order cannot be sized")
    return "\n".join([f"⛔ {bold(head)}: {why}", *_english(e.reason)])


def breakeven(e: StopMoved, c: Context) -> str:
    head = _("Stop loss of #{ticket} {symbol} moved to break-even").format(
        ticket=e.ticket, symbol=html.quote(e.symbol)
    )
    return f"🛡 {bold(head)}: {price(e.old_sl, c.digits)} → {price(e.new_sl, c.digits)}"


def _breaker_name(code: BreakerCode | None) -> str:
    return str(verdicts.BREAKER_NAMES[code]) if code is not None else "—"


def breaker_tripped(e: BreakerTripped, c: Context) -> str:
    head = _("Circuit breaker tripped: {kind}").format(kind=_breaker_name(e.reason_code))
    if e.until is not None:
        rest = _("No new trades until {until}.").format(until=_when(e.until, c))
    else:
        rest = _("No new trades until a person resets it (/reset_breaker).")
    return "\n".join([f"⛔ {bold(head)}", rest, *_english(e.reason)])


def breaker_reset(e: BreakerReset, c: Context) -> str:
    if e.who:
        head = _("Circuit breaker reset by {who}").format(who=html.quote(e.who))
    else:
        head = _("Circuit breaker released ({kind})").format(kind=_breaker_name(e.reason_code))
    rest = _("New trades are allowed again.")
    return "\n".join([f"✅ {bold(head)}", rest, *_english(e.reason)])


def paused(e: Paused, c: Context) -> str:
    head = _("Trading paused by {who}").format(who=html.quote(e.who))
    why = html.quote(e.reason) or "—"
    rest = _("No new trades until /resume; open positions keep their stops.")
    return f"⏸ {bold(head)}: {why}\n{rest}"


def resumed(e: Resumed, c: Context) -> str:
    head = _("Trading resumed by {who}").format(who=html.quote(e.who))
    rest = _("New trades are allowed again.")
    return f"▶️ {bold(head)}\n{rest}"


def broker_down(e: BrokerDisconnected, c: Context) -> str:
    head = _("Broker connection lost ({broker})").format(broker=html.quote(e.broker))
    rest = _("No orders are sent until it is back; reconnecting.")
    return "\n".join([f"🔌 {bold(head)}", rest, *_english(e.reason)])


def broker_up(e: BrokerReconnected, c: Context) -> str:
    head = _("Broker connection is back ({broker})").format(broker=html.quote(e.broker))
    rest = _("Reconnected after {attempts} attempt(s); trading continues.").format(
        attempts=e.attempts
    )
    return f"✅ {bold(head)}\n{rest}"


def stalled(e: LoopStalled, c: Context) -> str:
    head = _("No trading cycle for {symbol} {timeframe}").format(
        symbol=html.quote(e.symbol), timeframe=html.quote(e.timeframe.value)
    )
    last = _when(e.last_cycle, c) if e.last_cycle is not None else _("none since the start")
    rest = _("{minutes} min of open market without a cycle; last cycle: {last}.").format(
        minutes=int(e.silent_s // 60), last=last
    )
    hint = _("Check the broker link and the terminal.")
    return f"⚠️ {bold(head)}\n{rest}\n{hint}"


def recovered(e: LoopRecovered, c: Context) -> str:
    head = _("Trading cycles for {symbol} {timeframe} run again").format(
        symbol=html.quote(e.symbol), timeframe=html.quote(e.timeframe.value)
    )
    rest = _("The stall was reported at {at}.").format(at=_when(e.stalled_at, c))
    return f"✅ {bold(head)}\n{rest}"


def cycle_failed(e: CycleFailed, c: Context, error: str, suppressed: int, limit: int) -> str:
    """``error`` is already scrubbed of secrets; ``suppressed`` failures were not sent."""
    head = _("A trading cycle failed ({symbol} {timeframe})").format(
        symbol=html.quote(e.symbol), timeframe=html.quote(e.timeframe.value)
    )
    lines = [f"❗ {bold(head)}", f"<code>{html.quote(error)}</code>"]
    if suppressed:
        lines.append(
            _("{count} more failures were not sent (at most {limit} an hour).").format(
                count=suppressed, limit=limit
            )
        )
    return "\n".join(lines)


def news(e: EconomicEvent, c: Context) -> str:
    minutes = max(0, round((e.time - c.now).total_seconds() / 60))
    head = _("{title} ({currency}) in {minutes} min, at {at}").format(
        title=html.quote(e.title),
        currency=html.quote(e.currency),
        minutes=minutes,
        at=_when(e.time, c),
    )
    lines = [f"📰 {bold(head)}"]
    if e.forecast or e.previous:
        lines.append(
            _("Forecast {forecast}, previous {previous}").format(
                forecast=html.quote(e.forecast or "—"), previous=html.quote(e.previous or "—")
            )
        )
    return "\n".join(lines)


def summary(f: DailyFigures, c: Context) -> str:
    ccy = f.currency
    title = _("Daily summary for {day}").format(day=f.today.day.isoformat())
    lines = [f"📅 {bold(title)}"]
    for label, day in ((_("Today"), f.today), (_("Yesterday"), f.yesterday)):
        lines.append(
            f"{label}: "
            + _("{trades} trades, {wins} won, net {net}").format(
                trades=day.trades, wins=day.wins, net=money(day.net, ccy, signed=True)
            )
        )
    for t in f.trades[:TRADES_LISTED]:
        reason = CLOSE_REASONS.get(t.reason, html.quote(t.reason.value))
        lines.append(
            f"  #{t.position_id} {html.quote(t.symbol)} {side(t.side)} {lots(t.volume)}: "
            f"{money(t.net, ccy, signed=True)} ({reason})"
        )
    if len(f.trades) > TRADES_LISTED:
        lines.append("  " + _("and {count} more").format(count=len(f.trades) - TRADES_LISTED))
    if f.balance is None or f.equity is None:
        lines.append("⚠️ " + _("The broker is unavailable: account figures are unknown."))
    else:
        lines.append(
            _("Balance {balance}, equity {equity}").format(
                balance=money(f.balance, ccy), equity=money(f.equity, ccy)
            )
        )
        lines.append(
            _("Open positions: {count}, floating {floating}").format(
                count=f.open_positions, floating=money(f.floating, ccy, signed=True)
            )
        )
    lines.extend(_risk_lines(f, c))
    return "\n".join(lines)


def _risk_lines(f: DailyFigures, c: Context) -> list[str]:
    s = f.state
    lines = []
    if s.breaker is not None and s.breaker_active(c.now):
        until = _when(s.breaker_until, c) if s.breaker_until else _("a person resets it")
        lines.append(
            "⛔ "
            + _("Circuit breaker ({kind}) until {until}").format(
                kind=_breaker_name(s.breaker), until=until
            )
        )
    else:
        lines.append("✅ " + _("Circuit breaker: not tripped"))
    if s.paused:
        lines.append(
            "⏸ "
            + _("Paused by {who}: {why}").format(
                who=html.quote(s.paused_by or "?"), why=html.quote(s.paused_reason or "—")
            )
        )
    else:
        lines.append("▶️ " + _("Trading: active"))
    lines.append(_("Losses in a row: {count}").format(count=s.consecutive_losses))
    return lines
