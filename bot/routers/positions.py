"""/positions: open positions with live profit, each with Close and Chart buttons."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router, flags
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import keyboards, render, replies
from bot.callbacks import MenuCb, MenuItem
from engine.models import Role
from engine.ports import Clock
from engine.service import TradingService

router = Router(name=__name__)


@router.message(Command("positions"))
@router.callback_query(MenuCb.filter(F.item == MenuItem.POSITIONS))
@flags.role(Role.VIEWER)
async def cmd_positions(
    event: Message | CallbackQuery, service: TradingService, zone: ZoneInfo, clock: Clock
) -> None:
    """/positions"""
    view = await service.positions()
    text = render.positions(view, zone, clock.now())
    await replies.reply(event, text, keyboards.positions(view.positions, view.ours))
