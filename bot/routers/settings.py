"""/settings [NAME VALUE]: every setting (secrets hidden); admins change a risk limit behind
a confirmation card, persisted and applied to the running engine."""

from __future__ import annotations

from aiogram import Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import cards, keyboards, render, replies
from bot.access import Actor
from bot.arguments import words
from bot.confirmations import ConfirmAction, Confirmations
from engine.errors import BadArguments
from engine.models import Role
from engine.service import TradingService

router = Router(name=__name__)


@router.message(Command("settings"))
@flags.role(Role.VIEWER)
async def cmd_settings(
    message: Message,
    command: CommandObject,
    actor: Actor,
    service: TradingService,
    confirmations: Confirmations,
) -> str:
    """/settings [NAME VALUE], e.g. /settings RISK_PCT 0.5%"""
    args = words(command, most=2)
    if not args:
        view = await service.settings_view()
        await replies.reply(message, render.settings(view, admin=actor.may(Role.ADMIN)))
        return "ok"
    if not actor.may(Role.ADMIN):
        await message.answer(render.needs_role(Role.ADMIN, actor.role))
        return "denied"
    if len(args) != 2:
        raise BadArguments("/settings needs a name and a value", code="usage")
    change = service.parse_limit(args[0], args[1])
    card = await confirmations.open(
        ConfirmAction.LIMIT,
        {"name": change.name, "value": args[1]},
        user_id=actor.user_id,
        chat_id=message.chat.id,
    )
    ttl = int(confirmations.ttl.total_seconds())
    await message.answer(cards.limit_card(change, ttl), reply_markup=keyboards.confirm(card.nonce))
    return "card"
