"""Anything no other router took: an unknown command gets a pointer to /help; plain text in a
private chat gets the menu hint; plain text in a group is left alone."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.i18n import _

router = Router(name=__name__)


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message) -> str:
    await message.answer(_("Unknown command. Send /help to see what you may do."))
    return "unknown command"


@router.message(F.chat.type == "private")
async def plain_text(message: Message) -> str:
    await message.answer(_("Send /start for the menu or /help for the commands."))
    return "hint"
