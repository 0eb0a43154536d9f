"""/help: what the sender's role may do, and who the bot answers."""

from __future__ import annotations

from aiogram import F, Router, flags
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import render, replies
from bot.access import Access, Actor
from bot.callbacks import MenuCb, MenuItem
from engine.models import Role

router = Router(name=__name__)


@router.message(Command("help"))
@router.callback_query(MenuCb.filter(F.item == MenuItem.HELP))
@flags.role(Role.VIEWER)
async def cmd_help(event: Message | CallbackQuery, actor: Actor, access: Access) -> None:
    """/help"""
    text = render.help_text(actor, allow_list=bool(access.allowed_chats))
    await replies.reply(event, text)
