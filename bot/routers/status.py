"""/status: mode, broker link, account, pause/breaker, today's limits, sessions, decisions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram import F, Router, flags
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import render, replies
from bot.callbacks import MenuCb, MenuItem
from engine.models import Role
from engine.service import TradingService

router = Router(name=__name__)


@router.message(Command("status"))
@router.callback_query(MenuCb.filter(F.item == MenuItem.STATUS))
@flags.role(Role.VIEWER)
async def cmd_status(
    event: Message | CallbackQuery, service: TradingService, zone: ZoneInfo
) -> None:
    """/status"""
    await replies.reply(event, render.status(await service.status(), zone))
