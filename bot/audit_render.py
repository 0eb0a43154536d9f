"""The admin's /audit reply: one line per row, newest first, in the reader's language.

Each line: local time (display zone), the user (id and name when known), the chat ("private"
when it is the user's own), the action with its arguments, and the outcome. Every stored text
is scrubbed again (``bot.redact.scrub``) and HTML-quoted; long arguments are shortened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html

from bot.i18n import _
from bot.redact import scrub
from bot.verdicts import local_time
from engine.models import AuditEntry

DETAIL_SHOWN = 60


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def entry(row: AuditEntry, names: Mapping[int, str], zone: ZoneInfo, now: datetime) -> str:
    """One audit row as a line of HTML."""
    at = local_time(row.time, zone, now)
    if row.user_id is None:
        who = _("unknown user")
    else:
        name = names.get(row.user_id, "")
        who = f"<code>{row.user_id}</code>" + (f" {html.quote(scrub(name))}" if name else "")
    if row.chat_id is None:
        chat = "—"
    elif row.chat_id == row.user_id:
        chat = _("private")
    else:
        chat = _("chat {id}").format(id=f"<code>{row.chat_id}</code>")
    action = html.quote(scrub(row.action))
    detail = _short(scrub(row.detail), DETAIL_SHOWN)
    what = f"<b>{action}</b>" + (f" {html.quote(detail)}" if detail else "")
    outcome = html.quote(scrub(row.outcome))
    return f"{at} · {who} · {chat} · {what} → {outcome}"


def audit(
    rows: Sequence[AuditEntry], names: Mapping[int, str], zone: ZoneInfo, now: datetime
) -> str:
    """The /audit reply: a title and the rows, newest first."""
    if not rows:
        return _("The audit log is empty.")
    title = _("Audit log: the last {n} entries, newest first").format(n=len(rows))
    return "\n".join([f"<b>{title}</b>", *(entry(r, names, zone, now) for r in rows)])
