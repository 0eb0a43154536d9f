"""/risk [SYMBOL]: every gate's verdict for a buy and a sell now, and the breaker state."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import render, replies
from bot.arguments import words
from bot.callbacks import MenuCb, MenuItem
from engine.models import Role
from engine.ports import Clock
from engine.service import TradingService

router = Router(name=__name__)


@router.message(Command("risk"))
@flags.role(Role.VIEWER)
async def cmd_risk(
    message: Message,
    command: CommandObject,
    service: TradingService,
    zone: ZoneInfo,
    clock: Clock,
) -> None:
    """/risk [SYMBOL]"""
    args = words(command, most=1)
    view = await service.risk(args[0] if args else None)
    await replies.reply(message, render.risk(view, zone, clock.now()))


@router.callback_query(MenuCb.filter(F.item == MenuItem.RISK))
@flags.role(Role.VIEWER)
async def on_menu_risk(
    query: CallbackQuery, service: TradingService, zone: ZoneInfo, clock: Clock
) -> None:
    await replies.reply(query, render.risk(await service.risk(), zone, clock.now()))
