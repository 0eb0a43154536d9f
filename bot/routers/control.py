"""/pause [reason], /resume and /reset_breaker: the manual circuit and the breaker.

Pause and resume act at once (persisted by the governor, which publishes ``Paused`` /
``Resumed`` with who and why for the notifier); resetting a tripped breaker lets trading open
positions again, so it asks to confirm first.
"""

from __future__ import annotations

from aiogram import Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import cards, keyboards, render
from bot.access import Actor, display_name
from bot.confirmations import ConfirmAction, Confirmations
from bot.i18n import _
from engine.models import Role
from engine.service import TradingService

router = Router(name=__name__)
REASON_MAX = 200


@router.message(Command("pause"))
@flags.role(Role.TRADER)
async def cmd_pause(message: Message, command: CommandObject, service: TradingService) -> str:
    """/pause [reason]"""
    assert message.from_user is not None
    who = display_name(message.from_user)
    reason = (command.args or "").strip()[:REASON_MAX] or _("no reason given")
    outcome = await service.pause(who, reason)
    await message.answer(render.control("pause", outcome.changed, {"who": who, "why": reason}))
    return "ok" if outcome.changed else "unchanged"


@router.message(Command("resume"))
@flags.role(Role.TRADER)
async def cmd_resume(message: Message, service: TradingService) -> str:
    """/resume"""
    assert message.from_user is not None
    who = display_name(message.from_user)
    outcome = await service.resume(who)
    await message.answer(render.control("resume", outcome.changed, {"who": who}))
    return "ok" if outcome.changed else "unchanged"


@router.message(Command("reset_breaker"))
@flags.role(Role.TRADER)
async def cmd_reset_breaker(
    message: Message, actor: Actor, service: TradingService, confirmations: Confirmations
) -> str:
    """/reset_breaker"""
    status = await service.status()
    if status.state.breaker is None or not status.state.breaker_active(status.now):
        await message.answer(render.control("reset", False, {}))
        return "unchanged"
    card = await confirmations.open(
        ConfirmAction.RESET, {}, user_id=actor.user_id, chat_id=message.chat.id
    )
    ttl = int(confirmations.ttl.total_seconds())
    await message.answer(cards.reset_card(ttl), reply_markup=keyboards.confirm(card.nonce))
    return "card"
