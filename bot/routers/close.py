"""/close TICKET|all and the Close button of a position: a confirmation card first."""

from __future__ import annotations

from aiogram import F, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import cards, keyboards, replies
from bot.access import Actor
from bot.arguments import words
from bot.callbacks import PosAction, PosCb
from bot.confirmations import ConfirmAction, Confirmations
from bot.i18n import _
from engine.errors import BadArguments
from engine.models import Role
from engine.service import TradingService

router = Router(name=__name__)


async def _card(
    event: Message | CallbackQuery,
    target: str,
    actor: Actor,
    service: TradingService,
    confirmations: Confirmations,
) -> str:
    positions = await service.closable(target)
    if not positions:
        await replies.reply(event, _("No positions of this bot are open."))
        return "nothing"
    view = await service.positions()
    card = await confirmations.open(
        ConfirmAction.CLOSE,
        {"tickets": [p.ticket for p in positions]},
        user_id=actor.user_id,
        chat_id=replies.chat_of(event),
    )
    ttl = int(confirmations.ttl.total_seconds())
    text = cards.close_card(positions, view.currency, ttl)
    await replies.reply(event, text, keyboards.confirm(card.nonce))
    return "card"


@router.message(Command("close"))
@flags.role(Role.TRADER)
async def cmd_close(
    message: Message,
    command: CommandObject,
    actor: Actor,
    service: TradingService,
    confirmations: Confirmations,
) -> str:
    """/close TICKET|all"""
    args = words(command, most=1)
    if not args:
        raise BadArguments("/close needs a ticket or all", code="usage")
    return await _card(message, args[0], actor, service, confirmations)


@router.callback_query(PosCb.filter(F.action == PosAction.CLOSE))
@flags.role(Role.TRADER)
async def on_close_button(
    query: CallbackQuery,
    callback_data: PosCb,
    actor: Actor,
    service: TradingService,
    confirmations: Confirmations,
) -> str:
    return await _card(query, str(callback_data.ticket), actor, service, confirmations)
