"""Views to HTML in the reader's language: status, positions, trades, PnL, risk, settings,
users, help, and the short replies (role needed, usage, errors).

Every string that came from a user, the broker or the data (names, reasons, symbols, comments)
goes through ``html.quote``; every line is balanced HTML on its own, so ``split_html`` may cut
a long reply at any line end. Times are shown in the display zone. The confirmation cards and
their outcomes are in ``bot.cards``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.types import Chat

from bot import verdicts
from bot.access import Actor
from bot.command_list import BY_NAME, allowed
from bot.html_split import split_html
from bot.i18n import LANGUAGE_NAMES, _, __
from bot.news_render import calendar_line
from bot.prefs import NotifyKind
from engine.models import Role, Side
from engine.views import (
    DecisionView,
    LimitKind,
    PnlView,
    PositionsView,
    RiskView,
    SettingsView,
    StatusView,
    TradesView,
)

__all__ = ["split_html"]

ROLE_NAMES = {Role.VIEWER: __("viewer"), Role.TRADER: __("trader"), Role.ADMIN: __("admin")}
SIDE_NAMES = {Side.BUY: __("buy"), Side.SELL: __("sell")}
ACTION_NAMES = {
    "order": __("order sent"),
    "blocked": __("blocked"),
    "unsized": __("not sized"),
    "no_price": __("no price"),
    "none": __("no signal"),
}
NOTIFY_NAMES = {
    NotifyKind.FILLS: __("Orders filled"),
    NotifyKind.CLOSES: __("Positions closed"),
    NotifyKind.BLOCKS: __("Signals blocked by risk rules"),
    NotifyKind.RISK: __("Pause and circuit breaker"),
    NotifyKind.BROKER: __("Broker connection"),
    NotifyKind.ERRORS: __("Errors"),
    NotifyKind.NEWS: __("Upcoming news"),
    NotifyKind.SUMMARY: __("Daily summary"),
}


def bold(text: str) -> str:
    """``text`` (already safe HTML) in bold."""
    return f"<b>{text}</b>"


def price(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def money(value: float, currency: str, *, signed: bool = False) -> str:
    """ "+12.50 USD" (signed) or "12.50 USD"; -0.00 shows as 0.00; no currency, no suffix."""
    value = round(value, 2) + 0.0  # + 0.0 turns -0.0 into 0.0
    number = f"{value:+.2f}" if signed else f"{value:.2f}"
    return f"{number} {html.quote(currency)}" if currency else number


def lots(volume: float) -> str:
    return f"{volume:g}"


def side(value: Side) -> str:
    return str(SIDE_NAMES[value])


def role(value: Role) -> str:
    return str(ROLE_NAMES[value])


def duration(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    return _("{days} d {hours} h {minutes} min").format(
        days=days, hours=rest // 60, minutes=rest % 60
    )


def needs_role(needed: Role, have: Role) -> str:
    return _("This needs the {needed} role; yours is {have}.").format(
        needed=role(needed), have=role(have)
    )


def stranger_alert(name: str, chat: Chat | None, *, unknown: bool) -> str:
    """For admins: who wrote (``name`` includes the user id) and from which chat."""
    where = html.quote(chat.title or chat.type) if chat is not None else "?"
    chat_id = chat.id if chat is not None else 0
    if unknown:
        head = _("Someone without access wrote to the bot: {name}.")
    else:
        head = _("{name} wrote from a chat that is not allowed.")
    body = _("Chat: {where} ({chat_id}). They got no reply; later attempts are only audited.")
    head = head.format(name=html.quote(name))
    return f"⚠️ {head}\n{body.format(where=where, chat_id=chat_id)}"


def menu(actor: Actor) -> str:
    return "\n".join(
        [
            "<b>chattrader</b>",
            _("Your role: {role}. Choose below or send /help.").format(role=role(actor.role)),
        ]
    )


def help_text(actor: Actor, *, allow_list: bool) -> str:
    lines = [bold(_("What you may do here")) + f" ({role(actor.role)})", ""]
    for spec in allowed(actor.role):
        lines.append(f"<code>{html.quote(spec.usage)}</code> — {spec.about}")
    lines.append("")
    if allow_list:
        lines.append(_("This bot answers only in the chats on its allow-list."))
    else:
        lines.append(_("This bot answers only known users, in their private chats."))
    lines.append(_("Dangerous actions ask to confirm; a card works once and expires in 60 s."))
    return "\n".join(lines)


def usage(command: str) -> str:
    spec = BY_NAME[command]
    return _("Usage: {usage}").format(usage=f"<code>{html.quote(spec.usage)}</code>")


def when(t: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    return verdicts.local_time(t, zone, now) or "—"


def status(view: StatusView, zone: ZoneInfo) -> str:
    now = view.now
    mode = _("live account (MT5)") if view.live else _("paper account")
    link = _("broker connected") if view.connected else _("broker disconnected")
    lines = [bold(_("Status")) + f" · {mode} · {link}"]
    acct = view.account
    if acct is None:
        lines.append("⚠️ " + _("The broker is unavailable: account figures are unknown."))
    else:
        ccy = acct.currency
        lines.append(
            _("Balance {balance}, equity {equity}").format(
                balance=money(acct.balance, ccy), equity=money(acct.equity, ccy)
            )
        )
        level = f"{acct.margin_level:.0f}%" if acct.margin_level is not None else "—"
        lines.append(
            _("Margin {margin}, free {free}, level {level}").format(
                margin=money(acct.margin, ccy), free=money(acct.free_margin, ccy), level=level
            )
        )
    lines.append(_trading_state(view, zone))
    limit = view.limits.max_trades_per_day
    lines.append(
        _("Trades today: {done} of {limit}").format(
            done=view.state.trades_today, limit=limit if limit is not None else "∞"
        )
    )
    ccy = acct.currency if acct is not None else ""
    loss_limit = view.daily_loss_limit
    lines.append(
        _("Today's PnL: {pnl} (realised {realised}), loss limit {limit}").format(
            pnl=money(view.daily_pnl, ccy, signed=True),
            realised=money(view.realised_today, ccy, signed=True),
            limit=money(loss_limit, ccy) if loss_limit is not None else "—",
        )
    )
    lines.append(_sessions_line(view, zone))
    if view.calendar is not None:
        lines.append(calendar_line(view.calendar, view.limits.news_policy, zone, now))
    lines.append(
        _("Trading {symbols} on {timeframe} with {strategy}; {open} open").format(
            symbols=html.quote(", ".join(view.symbols)),
            timeframe=html.quote(view.timeframe),
            strategy=html.quote(view.strategy),
            open=view.open_positions,
        )
    )
    for decision in view.decisions:
        lines.extend(_decision_lines(decision, zone, now))
    lines.append(
        _("Up {uptime}; {cycles} cycles, {failures} failed").format(
            uptime=duration(view.uptime), cycles=view.cycles, failures=view.failures
        )
    )
    return "\n".join(lines)


def _trading_state(view: StatusView, zone: ZoneInfo) -> str:
    s, now = view.state, view.now
    parts = []
    if s.paused:
        parts.append(
            "⏸ "
            + _("Paused by {who} since {since}: {why}").format(
                who=html.quote(s.paused_by or "?"),
                since=when(s.paused_at, zone, now),
                why=html.quote(s.paused_reason or "—"),
            )
        )
    if s.breaker is not None and s.breaker_active(now):
        kind = str(verdicts.BREAKER_NAMES[s.breaker])
        until = when(s.breaker_until, zone, now) if s.breaker_until else _("a person resets it")
        parts.append(
            "⛔ " + _("Circuit breaker ({kind}) until {until}").format(kind=kind, until=until)
        )
        if verdicts.english() and s.breaker_reason:
            parts.append(html.quote(s.breaker_reason))
    return "\n".join(parts) if parts else "▶️ " + _("Trading: active")


def _sessions_line(view: StatusView, zone: ZoneInfo) -> str:
    names = ", ".join(str(verdicts.SESSION_NAMES[s]) for s in view.sessions_open)
    now_text = names or _("none open")
    if view.next_session is None:
        return _("Sessions now: {now}").format(now=now_text)
    session, opens = view.next_session
    return _("Sessions now: {now}; next {next} at {at}").format(
        now=now_text, next=verdicts.SESSION_NAMES[session], at=when(opens, zone, view.now)
    )


def _decision_lines(d: DecisionView, zone: ZoneInfo, now: datetime) -> list[str]:
    action = str(ACTION_NAMES.get(d.action, html.quote(d.action)))
    head = _("Last decision {symbol} at {at}: {action}").format(
        symbol=html.quote(d.symbol), at=when(d.bar_time, zone, now), action=action
    )
    if d.side is not None:
        head += f" ({side(d.side)})"
    lines = [f"<b>{head}</b>"]
    if d.reason and verdicts.english():
        lines.append(html.quote(d.reason))
    lines.extend(verdicts.line(v, zone, now, detailed=False) for v in d.verdicts)
    return lines


def positions(view: PositionsView, zone: ZoneInfo, now: datetime) -> str:
    if not view.positions:
        return _("No open positions.")
    ccy = view.currency
    lines = [
        bold(_("Open positions"))
        + " · "
        + _("total {profit}").format(profit=money(view.total_profit, ccy, signed=True))
    ]
    for p in view.positions:
        digits = view.digits.get(p.symbol, 5)
        mine = "" if p.ticket in view.ours else " · " + _("not this bot's")
        lines.append(
            f"<b>#{p.ticket}</b> {html.quote(p.symbol)} {side(p.side)} {lots(p.volume)} · "
            + _("{open} → {now}: {profit}").format(
                open=price(p.price_open, digits),
                now=price(p.price_current, digits),
                profit=money(p.profit + p.swap, ccy, signed=True),
            )
            + mine
        )
        lines.append(
            _("SL {sl}, TP {tp}, opened {at}").format(
                sl=price(p.sl, digits), tp=price(p.tp, digits), at=when(p.time, zone, now)
            )
        )
    return "\n".join(lines)


def trades(view: TradesView, zone: ZoneInfo, now: datetime) -> str:
    if not view.trades:
        return _("No closed trades yet.")
    ccy = view.currency
    lines = [bold(_("Closed trades")) + f" ({len(view.trades)})"]
    for t in view.trades:
        digits = view.digits.get(t.symbol, 5)
        r = f", {t.r_multiple:+.2f}R" if t.r_multiple is not None else ""
        lines.append(
            f"{when(t.closed_at, zone, now)} <b>#{t.position_id}</b> {html.quote(t.symbol)} "
            f"{side(t.side)} {lots(t.volume)} {price(t.price_open, digits)} → "
            f"{price(t.price_close, digits)}: {money(t.net, ccy, signed=True)}{r}"
        )
    return "\n".join(lines)


def pnl(view: PnlView) -> str:
    ccy = view.currency
    lines = [bold(_("Profit and loss by day"))]
    for day in view.days:
        lines.append(
            f"<code>{day.day.isoformat()}</code> "
            + _("{net} · {trades} trades, {wins} won").format(
                net=money(day.net, ccy, signed=True), trades=day.trades, wins=day.wins
            )
        )
    lines.append(
        "<b>"
        + _("Total {net} from {trades} trades").format(
            net=money(view.total, ccy, signed=True), trades=view.trades
        )
        + "</b>"
    )
    return "\n".join(lines)


def risk(view: RiskView, zone: ZoneInfo, now: datetime) -> str:
    """Each gate once when buy and sell agree, else one line per side; then the outcome."""
    title = _("Risk gates for {symbol} now").format(symbol=html.quote(view.symbol))
    lines = [f"<b>{title}</b>", _trading_state_line(view)]
    for buy, sell in zip(view.buy.verdicts, view.sell.verdicts, strict=True):
        one, other = verdicts.line(buy, zone, now), verdicts.line(sell, zone, now)
        if one == other:
            lines.append(one)
        else:
            lines.append(f"{one} ({side(Side.BUY)})")
            lines.append(f"{other} ({side(Side.SELL)})")
    for decision in (view.buy, view.sell):
        blocked = decision.blocked_by is not None
        result = _("would be blocked") if blocked else _("would be allowed")
        lines.append(f"<b>{side(decision.signal.side)}</b>: {result}")
    return "\n".join(lines)


def _trading_state_line(view: RiskView) -> str:
    s = view.state
    return _("Losses in a row: {streak} (max {max}); risk per trade {pct}%").format(
        streak=s.consecutive_losses,
        max=view.limits.max_consecutive_losses or "∞",
        pct=f"{view.limits.risk_pct * 100:g}",
    )


def limit_value(kind: LimitKind, value: float | None) -> str:
    if value is None:
        return _("off")
    if kind is LimitKind.FRACTION:
        return f"{value * 100:g}%"
    if kind is LimitKind.MINUTES:
        return _("{n} min").format(n=f"{value:g}")
    return f"{value:g}"


def settings(view: SettingsView, *, admin: bool) -> str:
    lines = [bold(_("Risk limits"))]
    for item in view.limits:
        mark = " ✏️" if item.overridden else ""
        lines.append(f"<code>{item.name}</code> = {limit_value(item.kind, item.value)}{mark}")
    if admin:
        lines.append(_("Change one: /settings NAME VALUE, e.g. /settings RISK_PCT 0.5%"))
    lines.append("")
    lines.append(bold(_("All settings")))
    lines.extend(f"<code>{name}</code> = {html.quote(value)}" for name, value in view.public)
    return "\n".join(lines)


def users(actors: Iterable[Actor]) -> str:
    lines = [bold(_("Users"))]
    for a in actors:
        pin = " · " + _("from settings") if a.pinned else ""
        name = f" {html.quote(a.name)}" if a.name else ""
        lang = f" · {LANGUAGE_NAMES.get(a.locale or '', '')}" if a.locale else ""
        lines.append(f"<code>{a.user_id}</code>{name} · {role(a.role)}{lang}{pin}")
    return "\n".join(lines)


def notify_menu() -> str:
    return _("Notifications in this chat. Press a kind to turn it on or off.")


def notify_label(kind: NotifyKind, muted: frozenset[str]) -> str:
    mark = "🔕" if kind.value in muted else "🔔"
    return f"{mark} {NOTIFY_NAMES[kind]}"


def control(kind: str, changed: bool, params: Mapping[str, str]) -> str:
    """Replies of /pause, /resume and breaker resets (params: who, why)."""
    texts = {
        ("pause", True): lambda: _("⏸ Paused by {who}: {why}. No new trades until /resume."),
        ("pause", False): lambda: _("Already paused; nothing changed."),
        ("resume", True): lambda: _("▶️ Resumed by {who}. New trades are allowed again."),
        ("resume", False): lambda: _("Not paused; nothing changed."),
        ("reset", True): lambda: _("✅ Circuit breaker reset by {who}."),
        ("reset", False): lambda: _("The circuit breaker is not tripped; nothing changed."),
    }
    quoted = {k: html.quote(v) for k, v in params.items()}
    return texts[(kind, changed)]().format(**quoted)
