"""What /news says, and the calendar line of /status, in the reader's language.

Times are shown in the display zone (``verdicts.local_time``: "14:45 +08" today, with the date
otherwise) with how long until each release; importance as a coloured dot and a word; forecast
and previous as the source printed them. The calendar line says whether the calendar is
configured, fresh or stale, when it was last updated, and what the news policy does when it is
not fresh (block or allow entries).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram import html

from bot.i18n import _, __
from bot.verdicts import english, local_time
from engine.calendar import NewsOutlook, NewsWindow, UpcomingEvent
from engine.models import CalendarStatus, Importance
from engine.risk import NewsPolicy

MAX_EVENTS = 40  # more than this in one horizon is noise: the count of the rest is shown
IMPORTANCE_NAMES = {
    Importance.HIGH: __("high"),
    Importance.MEDIUM: __("medium"),
    Importance.LOW: __("low"),
}
DOTS = {Importance.HIGH: "🔴", Importance.MEDIUM: "🟠", Importance.LOW: "⚪"}


def span(delta: timedelta) -> str:
    """A short distance in time: "45 min", "3 h 20 min", "2 d 4 h" (sign ignored)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("{d} d {h} h").format(d=days, h=hours)
    if hours:
        return _("{h} h {m} min").format(h=hours, m=mins)
    return _("{m} min").format(m=mins)


def horizon(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48 and hours % 24 == 0:
        return _("{n} d").format(n=hours // 24)
    return _("{n} h").format(n=hours)


def calendar_line(
    status: CalendarStatus, policy: NewsPolicy, zone: ZoneInfo, now: datetime
) -> str:
    """📅 configured or not, fresh or stale (since when, from which sources), and the policy."""
    if not status.configured:
        return "📅 " + _("Calendar not configured: news is not checked before entries.")
    at = local_time(status.fetched_at, zone, now) if status.fetched_at else "—"
    source = f" ({html.quote(status.source)})" if status.source else ""
    if status.ok:
        return "📅 " + _("Calendar fresh, updated {at}{source}.").format(at=at, source=source)
    if policy is NewsPolicy.BLOCK:
        text = _("Calendar stale or unavailable (last update {at}): entries are blocked.")
    else:
        text = _("Calendar stale or unavailable (last update {at}): entries are allowed.")
    line = "⚠️ " + text.format(at=at)
    if status.reason and english():
        line += f"\n{html.quote(status.reason)}"
    if policy is NewsPolicy.BLOCK:
        line += "\n" + _(
            "To trade without news checks, set NEWS_POLICY=allow or CALENDAR_ENABLED=false in .env."  # noqa: E501
        )
    return line


def window_line(window: NewsWindow) -> str:
    minutes_before = int(window.before.total_seconds() // 60)
    minutes_after = int(window.after.total_seconds() // 60)
    return _(
        "Window: {before} min before to {after} min after {importance}-importance news."
    ).format(
        before=minutes_before,
        after=minutes_after,
        importance=IMPORTANCE_NAMES[window.min_importance],
    )


def _verdict(outlook: NewsOutlook, zone: ZoneInfo) -> str:
    now = outlook.now
    status = outlook.status
    if not status.ok:
        if outlook.blocking:
            return "⛔ " + _("Entries are blocked now: the calendar is not fresh.")
        return "⚠️ " + _("Entries are allowed now, but the calendar is not fresh.")
    if outlook.blocking:
        first = outlook.blocking_events[0].event
        until = outlook.blocked_until
        return "⛔ " + _("Entries blocked now by {event} ({currency}) until {until}.").format(
            event=html.quote(first.title),
            currency=html.quote(first.currency),
            until=local_time(until, zone, now) if until else "—",
        )
    return "✅ " + _("No news window blocks entries now.")


def event_line(item: UpcomingEvent, zone: ZoneInfo, now: datetime) -> str:
    e = item.event
    if item.starts_in >= timedelta(0):
        when = _("in {span}").format(span=span(item.starts_in))
    else:
        when = _("{span} ago").format(span=span(item.starts_in))
    head = (
        f"{DOTS[e.importance]} <b>{local_time(e.time, zone, now)}</b> ({when}) "
        f"{html.quote(e.currency)} {html.quote(e.title)}"
    )
    numbers = []
    if e.actual:
        numbers.append(_("actual {value}").format(value=html.quote(e.actual)))
    if e.forecast:
        numbers.append(_("forecast {value}").format(value=html.quote(e.forecast)))
    if e.previous:
        numbers.append(_("previous {value}").format(value=html.quote(e.previous)))
    tail = [str(IMPORTANCE_NAMES[e.importance]), *numbers]
    line = f"{head}\n    " + ", ".join(tail)
    if item.blocks_now:
        line += " · ⛔ " + _("blocking now")
    return line


def news(outlook: NewsOutlook, zone: ZoneInfo) -> str:
    """The whole /news reply."""
    symbols = ", ".join(outlook.symbols)
    currencies = ", ".join(sorted(outlook.currencies)) if outlook.currencies else _("all")
    title = _("News for {symbols} ({currencies}), next {horizon}").format(
        symbols=html.quote(symbols),
        currencies=html.quote(currencies),
        horizon=horizon(outlook.horizon),
    )
    now = outlook.now
    status = outlook.status
    lines = [f"<b>{title}</b>"]
    if not status.configured:
        lines.append(calendar_line(status, outlook.window.policy, zone, now))
        return "\n".join(lines)
    lines.append(_verdict(outlook, zone))
    shown = outlook.events[:MAX_EVENTS]
    if shown:
        lines.extend(event_line(item, zone, now) for item in shown)
    else:
        lines.append(_("No releases of that importance in this horizon."))
    if len(outlook.events) > len(shown):
        lines.append(_("… and {n} more.").format(n=len(outlook.events) - len(shown)))
    lines.append("")
    lines.append(calendar_line(status, outlook.window.policy, zone, now))
    lines.append(window_line(outlook.window))
    return "\n".join(lines)
