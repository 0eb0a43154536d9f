"""/news [SYMBOL] [24h|7d] (viewer): upcoming releases for the traded symbols' currencies, in
the display zone, with importance, forecast and previous, and whether a news window blocks
entries right now, judged by the same window and policy as the news gate."""

from __future__ import annotations

from types import MappingProxyType
from zoneinfo import ZoneInfo

from aiogram import Router, flags, html
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import news_render, render, replies
from bot.i18n import _
from engine.calendar import NewsRequest, NewsWindow, SymbolCurrencies, news_outlook
from engine.errors import BadArguments
from engine.models import Importance, Role
from engine.service import TradingService

router = Router(name=__name__)


def currencies_of(service: TradingService) -> SymbolCurrencies:
    """The currencies the trader's news gate uses per symbol (computed at wiring time)."""
    known = {s.upper(): c for s, c in service.trader.config.currencies.items() if c is not None}
    return SymbolCurrencies(MappingProxyType(known))


@router.message(Command("news"))
@flags.role(Role.VIEWER)
async def cmd_news(
    message: Message, command: CommandObject, service: TradingService, zone: ZoneInfo
) -> str:
    """/news [SYMBOL] [24h|7d]"""
    try:
        request = NewsRequest.parse(command.args)
    except BadArguments as exc:
        word = html.quote(str(exc.params.get("word", "")))
        why = _("Cannot read {word}: give a symbol and a horizon from 1h to 14d.")
        await message.answer(f"{why.format(word=word)}\n{render.usage('news')}")
        return "usage"
    trader = service.trader
    window = NewsWindow.from_limits(service.limits)
    # Medium releases are listed too (they move prices); only the gate's level blocks.
    floor = min(Importance.MEDIUM, window.min_importance, key=lambda i: i.rank)
    outlook = news_outlook(
        trader.calendar,
        now=trader.clock.now(),
        symbols=(request.symbol,) if request.symbol else service.symbols,
        horizon=request.horizon,
        window=window,
        currencies=currencies_of(service),
        min_importance=floor,
    )
    await replies.reply(message, news_render.news(outlook, zone))
    return "blocking" if outlook.blocking else "ok"
