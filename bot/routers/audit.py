"""/audit [N] (admin): the newest N audit rows (20 by default, 1 to 100): when (display zone),
who, from which chat, what they sent and how it ended. Rows were redacted when written and are
scrubbed again on the way out, so no token or password shows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import audit_render, replies
from bot.access import Access
from bot.arguments import whole, words
from bot.exports import recent_audit
from engine.models import Role
from engine.ports import AuditRepo, Clock

router = Router(name=__name__)


@router.message(Command("audit"))
@flags.role(Role.ADMIN)
async def cmd_audit(
    message: Message,
    command: CommandObject,
    audit: AuditRepo,
    access: Access,
    zone: ZoneInfo,
    clock: Clock,
) -> None:
    """/audit [N], default 20"""
    args = words(command, most=1)
    count = whole(args[0]) if args else 20
    rows = await recent_audit(audit, count)  # BadArguments out_of_range: 1..100
    names = {a.user_id: a.name for a in await access.everyone() if a.name}
    await replies.reply(message, audit_render.audit(rows, names, zone, clock.now()))
