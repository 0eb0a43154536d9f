"""/notify: this chat's notification kinds as toggle buttons (stored per chat)."""

from __future__ import annotations

from aiogram import Router, flags
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot import keyboards, render, replies
from bot.callbacks import NotifyCb
from bot.i18n import _
from engine.models import Role
from storage.repos.chats import SqliteChatPrefsRepo

router = Router(name=__name__)


@router.message(Command("notify"))
@flags.role(Role.VIEWER)
async def cmd_notify(message: Message, chats: SqliteChatPrefsRepo) -> None:
    """/notify"""
    prefs = await chats.get(message.chat.id)
    await message.answer(render.notify_menu(), reply_markup=keyboards.notify(prefs.muted))


@router.callback_query(NotifyCb.filter())
@flags.role(Role.VIEWER)
async def on_toggle(
    query: CallbackQuery,
    callback_data: NotifyCb,
    chats: SqliteChatPrefsRepo,
    callback_answer: CallbackAnswer,
) -> str:
    chat_id = replies.chat_of(query)
    now_on = await chats.toggle(chat_id, callback_data.kind.value)
    prefs = await chats.get(chat_id)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=keyboards.notify(prefs.muted))
    state = _("on") if now_on else _("off")
    callback_answer.text = f"{render.NOTIFY_NAMES[callback_data.kind]}: {state}"
    return f"{callback_data.kind.value}: {'on' if now_on else 'off'}"
