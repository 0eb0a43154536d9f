"""/trades [N] and /pnl [DAYS]: closed trades, and profit and loss per day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import render, replies
from bot.arguments import whole, words
from bot.callbacks import MenuCb, MenuItem
from engine.models import Role
from engine.ports import Clock
from engine.service import TradingService

router = Router(name=__name__)


def _count(command: CommandObject | None, default: int) -> int:
    args = words(command, most=1)
    return whole(args[0]) if args else default


@router.message(Command("trades"))
@router.callback_query(MenuCb.filter(F.item == MenuItem.TRADES))
@flags.role(Role.VIEWER)
async def cmd_trades(
    event: Message | CallbackQuery,
    service: TradingService,
    zone: ZoneInfo,
    clock: Clock,
    command: CommandObject | None = None,
) -> None:
    """/trades [N], default 10"""
    view = await service.recent_trades(_count(command, 10))
    await replies.reply(event, render.trades(view, zone, clock.now()))


@router.message(Command("pnl"))
@router.callback_query(MenuCb.filter(F.item == MenuItem.PNL))
@flags.role(Role.VIEWER)
async def cmd_pnl(
    event: Message | CallbackQuery, service: TradingService, command: CommandObject | None = None
) -> None:
    """/pnl [DAYS], default 7"""
    await replies.reply(event, render.pnl(await service.daily_pnl(_count(command, 7))))
