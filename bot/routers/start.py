"""/start: the main menu."""

from __future__ import annotations

from aiogram import Router, flags
from aiogram.filters import CommandStart
from aiogram.types import Message

from bot import keyboards, render
from bot.access import Actor
from engine.models import Role

router = Router(name=__name__)


@router.message(CommandStart())
@flags.role(Role.VIEWER)
async def cmd_start(message: Message, actor: Actor) -> None:
    """/start"""
    await message.answer(render.menu(actor), reply_markup=keyboards.main_menu())
