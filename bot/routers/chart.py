"""/chart [SYMBOL] [TF] [BARS]: candles with SMA, Bollinger bands and RSI; also the Chart
button of a position (entry, SL and TP drawn)."""

from __future__ import annotations

from aiogram import Bot, F, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.chat_action import ChatActionSender

from bot import replies
from bot.arguments import is_timeframe, whole, words
from bot.callbacks import MenuCb, MenuItem, PosAction, PosCb
from bot.i18n import _
from engine.errors import BadArguments
from engine.models import Role
from engine.service import TradingService
from engine.views import ChartView

router = Router(name=__name__)


def caption(view: ChartView) -> str:
    text = _("{symbol} {timeframe}, last {bars} bars").format(
        symbol=view.symbol, timeframe=view.timeframe, bars=view.bars
    )
    if view.simulated:
        text += " · " + _("simulated data")
    return f"<b>{text}</b>"


@router.message(Command("chart"))
@flags.role(Role.VIEWER)
async def cmd_chart(
    message: Message, command: CommandObject, service: TradingService, bot: Bot
) -> None:
    """/chart [SYMBOL] [TF] [BARS], e.g. /chart XAUUSD H1 200"""
    symbol = timeframe = None
    bars = None
    for word in words(command, most=3):
        if word.isdigit():
            if bars is not None:
                raise BadArguments("two bar counts", code="usage")
            bars = whole(word)
        elif is_timeframe(word) and timeframe is None:
            timeframe = word
        elif symbol is None:
            symbol = word
        else:
            raise BadArguments(f"unexpected {word!r}", code="usage")
    async with ChatActionSender.upload_photo(chat_id=message.chat.id, bot=bot):  # ~0.5 s render
        view = await service.chart(symbol, timeframe, bars)
    await replies.photo(message, view.png, f"{view.symbol}_{view.timeframe}.png", caption(view))


@router.callback_query(MenuCb.filter(F.item == MenuItem.CHART))
@flags.role(Role.VIEWER)
async def on_menu_chart(query: CallbackQuery, service: TradingService) -> None:
    view = await service.chart()
    await replies.photo(query, view.png, f"{view.symbol}_{view.timeframe}.png", caption(view))


@router.callback_query(PosCb.filter(F.action == PosAction.CHART))
@flags.role(Role.VIEWER)
async def on_position_chart(
    query: CallbackQuery, callback_data: PosCb, service: TradingService
) -> None:
    view = await service.position_chart(callback_data.ticket)
    head = f"#{callback_data.ticket} · " + caption(view)
    await replies.photo(query, view.png, f"{view.symbol}_{callback_data.ticket}.png", head)
