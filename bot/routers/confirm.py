"""Confirm / Cancel on a card: the role is checked again, the card's nonce is claimed once in
SQLite, the action runs, and the card is edited to what happened.

A second press, a replayed press or a press after 60 s finds the nonce used or expired and does
nothing; only the person who asked may answer.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiogram import Router, flags
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot import cards, render, replies
from bot.access import Actor, display_name
from bot.callbacks import Answer, ConfirmCb
from bot.confirmations import ACTION_ROLE, AnswerStatus, ConfirmAction, Confirmations
from bot.i18n import _
from engine.errors import BrokerUnavailable
from engine.models import Role
from engine.ports import Clock
from engine.service import TradingService
from engine.views import ForceTicket
from storage.repos.confirmations import PendingAction

log = logging.getLogger("chattrader.bot")
router = Router(name=__name__)


@router.callback_query(ConfirmCb.filter())
@flags.role(Role.VIEWER)
async def on_answer(
    query: CallbackQuery,
    callback_data: ConfirmCb,
    actor: Actor,
    confirmations: Confirmations,
    service: TradingService,
    zone: ZoneInfo,
    clock: Clock,
    callback_answer: CallbackAnswer,
) -> str:
    confirm = callback_data.answer is Answer.YES
    card = await confirmations.peek(callback_data.nonce)
    if confirm and card is not None and card.user_id == actor.user_id:
        needed = ACTION_ROLE[ConfirmAction(card.action)]
        if not actor.may(needed):  # the role may have been revoked since the card was shown
            callback_answer.text = render.needs_role(needed, actor.role)
            callback_answer.show_alert = True
            return "denied"
    answered = await confirmations.answer(callback_data.nonce, actor.user_id, confirm=confirm)
    message = query.message if isinstance(query.message, Message) else None
    if answered.status is not AnswerStatus.OK:
        callback_answer.text = cards.answered(answered.status.value)
        # The winner of a double press is editing the card right now: leave it alone.
        if message is not None and answered.status in (
            AnswerStatus.EXPIRED,
            AnswerStatus.UNKNOWN,
        ):
            await replies.edit(message, cards.answered(answered.status.value))
        return answered.status.value
    assert answered.card is not None
    if not confirm:
        if message is not None:
            await replies.edit(message, cards.answered("cancelled"))
        return "cancelled"
    who = display_name(query.from_user)
    try:
        text = await _act(answered.card, service, who, zone, clock)
    except BrokerUnavailable:
        log.warning("broker unavailable while acting on card %s", answered.card.action)
        text = "⚠️ " + _(
            "The broker did not answer. If the request reached it, it is found and recorded "
            "on the next check; look at /positions before trying again."
        )
        outcome = "error: broker_unavailable"
    else:
        outcome = "confirmed"
    if message is not None:
        await replies.edit(message, text)
    else:
        await replies.reply(query, text)
    return outcome


async def _act(
    card: PendingAction, service: TradingService, who: str, zone: ZoneInfo, clock: Clock
) -> str:
    action = ConfirmAction(card.action)
    if action is ConfirmAction.FORCE:
        ticket = ForceTicket.from_json(card.payload["ticket"])
        outcome = await service.execute_force(ticket, key=card.nonce)
        return cards.force_outcome(outcome, zone, clock.now())
    if action is ConfirmAction.CLOSE:
        tickets = tuple(int(t) for t in card.payload["tickets"])
        closed = await service.close(tickets, key=card.nonce)
        currency = (await service.positions()).currency
        return cards.close_outcomes(closed, currency)
    if action is ConfirmAction.LIMIT:
        change = service.parse_limit(str(card.payload["name"]), str(card.payload["value"]))
        return cards.limit_done(await service.apply_limit(change))
    result = await service.reset_breaker(who)
    return render.control("reset", result.changed, {"who": who})
