"""/users, /grant USER_ID ROLE and /revoke USER_ID (admin). Roles from the settings file are
pinned and cannot be changed here; nobody changes their own role."""

from __future__ import annotations

from aiogram import Bot, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot import render, replies
from bot.access import Access, Actor
from bot.arguments import whole, words
from bot.i18n import _
from bot.menu_commands import forget_user, sync_user
from engine.errors import BadArguments
from engine.models import Role
from engine.ports import Clock

router = Router(name=__name__)


@router.message(Command("users"))
@flags.role(Role.ADMIN)
async def cmd_users(message: Message, access: Access) -> None:
    """/users"""
    await replies.reply(message, render.users(await access.everyone()))


@router.message(Command("grant"))
@flags.role(Role.ADMIN)
async def cmd_grant(
    message: Message,
    command: CommandObject,
    actor: Actor,
    access: Access,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
    default_locale: str,
) -> str:
    """/grant USER_ID viewer|trader|admin"""
    args = words(command, most=2)
    if len(args) != 2:
        raise BadArguments("/grant needs a user id and a role", code="usage")
    user_id = whole(args[0])
    try:
        role = Role(args[1].lower())
    except ValueError:
        raise BadArguments(f"unknown role {args[1]!r}", code="usage") from None
    if user_id <= 0:
        raise BadArguments(f"{user_id} is not a user id", code="usage")
    new = await access.grant(actor, user_id, role, clock.now())
    if new:
        text = _("{id} now has the {role} role.")
    else:
        text = _("{id} now has the {role} role instead.")
    await message.answer(text.format(id=user_id, role=render.role(role)))
    granted = await access.actor(user_id)
    if granted is not None:
        await sync_user(bot, i18n, granted, default_locale)
    return f"ok: {user_id} {role.value}"


@router.message(Command("revoke"))
@flags.role(Role.ADMIN)
async def cmd_revoke(
    message: Message, command: CommandObject, actor: Actor, access: Access, bot: Bot
) -> str:
    """/revoke USER_ID"""
    args = words(command, most=1)
    if len(args) != 1:
        raise BadArguments("/revoke needs a user id", code="usage")
    user_id = whole(args[0])
    if not await access.revoke(actor, user_id):
        await message.answer(_("{id} had no access; nothing changed.").format(id=user_id))
        return "unchanged"
    await message.answer(_("{id} has no access any more.").format(id=user_id))
    await forget_user(bot, user_id)
    return f"ok: {user_id}"
