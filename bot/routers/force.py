"""/force buy|sell [SYMBOL] [LOTS] (admin): a card with everything the trade would be; only
Confirm sends it, under the card's nonce as the order's idempotency key."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import cards, keyboards
from bot.access import Actor
from bot.arguments import number, words
from bot.confirmations import ConfirmAction, Confirmations
from engine.errors import BadArguments
from engine.models import Role, Side
from engine.ports import Clock
from engine.service import TradingService

router = Router(name=__name__)


def parse(args: list[str]) -> tuple[Side, str | None, float | None]:
    """(side, symbol, lots) from ``buy|sell [SYMBOL] [LOTS]`` (symbol and lots in any order)."""
    if not args or args[0].lower() not in ("buy", "sell"):
        raise BadArguments("/force needs buy or sell first", code="usage")
    symbol: str | None = None
    volume: float | None = None
    for word in args[1:]:
        value = number(word)
        if value is not None and volume is None:
            volume = value
        elif value is None and symbol is None and not word[0].isdigit() and word[0] != "-":
            symbol = word
        else:
            raise BadArguments(f"unexpected {word!r}", code="usage")
    return Side(args[0].lower()), symbol, volume


@router.message(Command("force"))
@flags.role(Role.ADMIN)
async def cmd_force(
    message: Message,
    command: CommandObject,
    actor: Actor,
    service: TradingService,
    confirmations: Confirmations,
    zone: ZoneInfo,
    clock: Clock,
) -> str:
    """/force buy|sell [SYMBOL] [LOTS]"""
    side, symbol, volume = parse(words(command, most=3))
    preview = await service.preview_force(side, symbol, volume)
    ttl = int(confirmations.ttl.total_seconds())
    text = cards.force_card(preview, zone, clock.now(), ttl)
    if preview.ticket is None:
        await message.answer(text)
        refused = preview.decision.blocked_by
        return f"refused: {refused.code.value if refused else preview.decision.action.value}"
    card = await confirmations.open(
        ConfirmAction.FORCE,
        {"ticket": preview.ticket.to_json()},
        user_id=actor.user_id,
        chat_id=message.chat.id,
    )
    await message.answer(text, reply_markup=keyboards.confirm(card.nonce))
    return "card"
