"""Localized sentences for the risk gates' verdicts, sizing refusals and broker rejections.

The engine returns codes and numbers (``Verdict.code`` + ``detail``, ``SizeCode``,
``RejectReason``); these functions turn them into one line in the reader's language. A detail
missing from an older record falls back to "allowed"/"blocked"; the engine's own English reason
is added only for English readers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.utils.i18n import I18n

from bot.i18n import _, __
from engine.models import RejectReason
from engine.risk import BreakerCode, GateCode, Session, SizeCode, Verdict

Detail = Mapping[str, str | float]

GATE_NAMES = {
    GateCode.OK: __("All gates"),
    GateCode.PAUSED: __("Pause"),
    GateCode.BREAKER: __("Circuit breaker"),
    GateCode.SESSION: __("Trading session"),
    GateCode.NEWS: __("News window"),
    GateCode.MAX_TRADES: __("Trades per day"),
    GateCode.COOLDOWN: __("Cooldown"),
    GateCode.MAX_POSITIONS: __("Open positions"),
    GateCode.DAILY_LOSS: __("Daily loss"),
    GateCode.WEEKLY_LOSS: __("Weekly loss"),
    GateCode.MARKET_CLOSED: __("Market"),
    GateCode.SPREAD: __("Spread"),
    GateCode.MARGIN: __("Margin"),
}
SESSION_NAMES = {
    Session.TOKYO: __("Tokyo"),
    Session.LONDON: __("London"),
    Session.NEWYORK: __("New York"),
    Session.LDN_NY: __("London/New York overlap"),
    Session.ANY: __("any hour"),
}
BREAKER_NAMES = {
    BreakerCode.DRAWDOWN: __("drawdown from the equity peak"),
    BreakerCode.LOSS_STREAK: __("losses in a row"),
    BreakerCode.DAILY_LOSS: __("daily loss limit"),
}
SIZE_TEXT = {
    SizeCode.MIN_LOT_TOO_RISKY: __(
        "the minimum lot {volume} would risk {risk} {currency}, more than the {allowed} allowed"
    ),
    SizeCode.NO_TICK_VALUE: __("the broker gives no tick value for this symbol"),
    SizeCode.BAD_STOP: __("no stop distance yet (the strategy is warming up)"),
    SizeCode.NO_RISK_MONEY: __("no equity to risk"),
}
REJECT_TEXT = {
    RejectReason.NO_MONEY: __("not enough money"),
    RejectReason.MARKET_CLOSED: __("the market is closed"),
    RejectReason.INVALID_STOPS: __("the stop loss or take profit is too close to the price"),
    RejectReason.INVALID_VOLUME: __("the volume is not allowed for this symbol"),
    RejectReason.REQUOTE: __("requote: the price moved"),
    RejectReason.PRICE_CHANGED: __("the price changed"),
    RejectReason.PRICE_OFF: __("no quotes for this price"),
    RejectReason.TRADE_DISABLED: __("trading is disabled for this symbol"),
    RejectReason.AUTOTRADING_DISABLED: __("algorithmic trading is disabled in the terminal"),
    RejectReason.CONNECTION: __("no connection to the trade server"),
    RejectReason.TIMEOUT: __("no answer in time; the outcome is checked on restart"),
    RejectReason.UNKNOWN_POSITION: __("the position is not open any more"),
    RejectReason.POSITION_CLOSED: __("the position is already closed"),
    RejectReason.DUPLICATE: __("this request was already carried out"),
    RejectReason.LIMIT_POSITIONS: __("the account's limit of open positions is reached"),
    RejectReason.LIMIT_VOLUME: __("the volume limit for this symbol is reached"),
}


def english() -> bool:
    """True when the reply is in English (the engine's own detail lines are English)."""
    i18n = I18n.get_current(no_error=True)
    return i18n is None or i18n.current_locale == "en"


def local_time(iso_or_time: str | datetime | None, zone: ZoneInfo, now: datetime) -> str:
    """ "14:45 +08" today, else "2024-05-07 14:45 +08"; "" when there is no time."""
    if not iso_or_time:
        return ""
    t = iso_or_time if isinstance(iso_or_time, datetime) else datetime.fromisoformat(iso_or_time)
    local = t.astimezone(zone)
    fmt = "%H:%M %Z" if local.date() == now.astimezone(zone).date() else "%Y-%m-%d %H:%M %Z"
    return local.strftime(fmt)


def _num(value: object, digits: int = 2) -> str:
    if isinstance(value, int | float):
        return f"{value:.{digits}f}" if not float(value).is_integer() else f"{value:.0f}"
    return html.quote(str(value))


def _money(value: object) -> str:
    if isinstance(value, int | float):
        return f"{round(value, 2) + 0.0:.2f}"  # + 0.0 turns -0.0 into 0.0
    return html.quote(str(value))


def _sessions(text: object) -> str:
    names = []
    for item in str(text or "").split(","):
        key = item.strip()
        names.append(str(SESSION_NAMES[Session(key)]) if key in Session.__members__ else key)
    return ", ".join(html.quote(n) for n in names if n)


def _paused(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if v.allowed:
        return _("not paused")
    why = html.quote(str(d.get("why") or "")) or "—"
    return _("paused by {who}: {why}").format(who=html.quote(str(d.get("who") or "?")), why=why)


def _breaker(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    kind = str(d.get("breaker") or "")
    code = BreakerCode._value2member_map_.get(kind)
    name = str(BREAKER_NAMES[code]) if isinstance(code, BreakerCode) else html.quote(kind)
    if v.allowed:
        return _("expired ({kind})").format(kind=name) if kind else _("not tripped")
    until = local_time(str(d.get("until") or ""), zone, now)
    if until:
        return _("tripped ({kind}) until {until}").format(kind=name, until=until)
    return _("tripped ({kind}) until a person resets it (/reset_breaker)").format(kind=name)


def _session(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if v.allowed:
        if "session" in d:
            return _("{session} session open").format(session=_sessions(d["session"]))
        return _("trading at any hour")
    if "next" in d:
        return _("outside {sessions}; {next} opens {opens}").format(
            sessions=_sessions(d.get("sessions")),
            next=_sessions(d["next"]),
            opens=local_time(str(d.get("opens") or ""), zone, now),
        )
    return _("outside {sessions}").format(sessions=_sessions(d.get("sessions")))


def _news(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    calendar = d.get("calendar")
    if calendar == "not_configured":
        return _("calendar not configured; news not checked")
    if calendar == "unavailable":
        if v.allowed:
            return _("calendar unavailable; entries allowed by the news policy")
        return _("calendar unavailable; entries blocked by the news policy")
    if v.allowed:
        if "currencies" in d:
            return _("no important news for {currencies}").format(
                currencies=html.quote(str(d["currencies"]))
            )
        return _("news window off")
    return _("{event} ({currency}) at {at}; no entries until {until}").format(
        event=html.quote(str(d.get("event") or "?")),
        currency=html.quote(str(d.get("currency") or "")),
        at=local_time(str(d.get("at") or ""), zone, now),
        until=local_time(str(d.get("until") or ""), zone, now),
    )


def _max_trades(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if "limit" in d:
        return _("{done} of {limit} trades today").format(
            done=_num(d.get("trades", 0)), limit=_num(d["limit"])
        )
    return _("{done} trades today, no limit").format(done=_num(d.get("trades", 0)))


def _cooldown(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if v.allowed:
        return _("no cooldown running")
    until = local_time(str(d.get("until") or ""), zone, now)
    if d.get("after") == "loss":
        return _("cooling down after a loss until {until}").format(until=until)
    return _("cooling down after the last entry until {until}").format(until=until)


def _positions(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if "limit" in d:
        return _("{open} of {limit} positions open").format(
            open=_num(d.get("open", 0)), limit=_num(d["limit"])
        )
    return _("{open} positions open, no limit").format(open=_num(d.get("open", 0)))


def _loss(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    currency = html.quote(str(d.get("currency") or ""))
    if "limit" in d:
        return _("loss {loss} of {limit} {currency} allowed ({pct}% of the start balance)").format(
            loss=_money(max(float(d.get("loss", 0)), 0.0)),
            limit=_money(d["limit"]),
            currency=currency,
            pct=_num(d.get("pct", 0)),
        )
    return _("loss {loss}, no limit").format(loss=_money(max(float(d.get("loss", 0)), 0.0)))


def _market(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    why = d.get("why")
    texts: dict[object, Callable[[], str]] = {
        "open": lambda: _("open"),
        "disabled": lambda: _("trading disabled for this symbol"),
        "close_only": lambda: _("close-only: no new entries"),
        "long_only": lambda: _("long-only: no sells"),
        "short_only": lambda: _("short-only: no buys"),
        "no_price": lambda: _("no price yet"),
        "weekend": lambda: _("weekend; opens {until}").format(
            until=local_time(str(d.get("until") or ""), zone, now)
        ),
        "stale": lambda: _("last price is {age} min old (limit {limit} min)").format(
            age=_num(d.get("age_minutes", 0), 1), limit=_num(d.get("limit_minutes", 0), 1)
        ),
    }
    if why in texts:
        return texts[why]()
    return _("open") if v.allowed else _("closed")


def _spread(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if "points" not in d:
        return _("spread unknown (no price)")
    if "limit" in d:
        return _("{points} points (max {limit})").format(
            points=_num(d["points"]), limit=_num(d["limit"])
        )
    return _("{points} points, no limit").format(points=_num(d["points"]))


def _margin(v: Verdict, d: Detail, zone: ZoneInfo, now: datetime) -> str:
    if "free_after" not in d:
        return _("the order's margin is not a valid amount")
    currency = html.quote(str(d.get("currency") or ""))
    if "floor" in d:
        return _("free margin after the order {free} {currency}, floor {floor}").format(
            free=_money(d["free_after"]), currency=currency, floor=_money(d["floor"])
        )
    return _("free margin after the order {free} {currency}").format(
        free=_money(d["free_after"]), currency=currency
    )


_SENTENCES = {
    GateCode.PAUSED: _paused,
    GateCode.BREAKER: _breaker,
    GateCode.SESSION: _session,
    GateCode.NEWS: _news,
    GateCode.MAX_TRADES: _max_trades,
    GateCode.COOLDOWN: _cooldown,
    GateCode.MAX_POSITIONS: _positions,
    GateCode.DAILY_LOSS: _loss,
    GateCode.WEEKLY_LOSS: _loss,
    GateCode.MARKET_CLOSED: _market,
    GateCode.SPREAD: _spread,
    GateCode.MARGIN: _margin,
}


def sentence(v: Verdict, zone: ZoneInfo, now: datetime) -> str:
    """What a verdict says, in the current language, from its code and detail."""
    make = _SENTENCES.get(v.code)
    return make(v, v.detail, zone, now) if make is not None else brief(v)


def brief(v: Verdict) -> str:
    """Allowed/blocked without the numbers (a stored record keeps no detail); English readers
    also get the engine's reason line."""
    plain = _("allowed") if v.allowed else _("blocked")
    return f"{plain}: {html.quote(v.reason)}" if english() and v.reason else plain


def line(v: Verdict, zone: ZoneInfo, now: datetime, *, detailed: bool = True) -> str:
    """ "✅ <b>Spread</b>: 18 points (max 50)"; ⛔ when the gate blocks."""
    mark = "✅" if v.allowed else "⛔"
    text = sentence(v, zone, now) if detailed else brief(v)
    return f"{mark} <b>{GATE_NAMES[v.code]}</b>: {text}"


def size_refusal(code: SizeCode, detail: Detail, currency: str) -> str:
    text = SIZE_TEXT.get(code)
    if text is None:
        return _("the order cannot be sized")
    return str(text).format(
        volume=_num(detail.get("volume", 0)),
        risk=_money(detail.get("risk_at_min", 0)),
        allowed=_money(detail.get("risk_money", 0)),
        currency=html.quote(currency),
    )


def rejection(reason: RejectReason | None, message: str) -> str:
    """Why the broker refused; its English message is added for English readers."""
    text = REJECT_TEXT.get(reason) if reason is not None else None
    base = (
        str(text)
        if text is not None
        else _("the broker refused ({code})").format(
            code=html.quote(reason.value if reason else "?")
        )
    )
    return f"{base} ({html.quote(message)})" if english() and message else base
