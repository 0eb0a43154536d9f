"""/lang en|mn|ru: the sender's reply language, and this chat's notification language."""

from __future__ import annotations

from aiogram import Bot, Router, flags
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import keyboards, replies
from bot.access import Access, Actor
from bot.arguments import words
from bot.callbacks import LangCb
from bot.i18n import LANGUAGE_NAMES, _, localized
from bot.menu_commands import sync_user
from engine.errors import BadArguments
from engine.models import Role
from storage.repos.chats import SqliteChatPrefsRepo

router = Router(name=__name__)


async def _switch(
    event: Message | CallbackQuery,
    locale: str,
    actor: Actor,
    access: Access,
    chats: SqliteChatPrefsRepo,
    i18n: I18n,
    bot: Bot,
    default_locale: str,
) -> str:
    await access.users.set_locale(actor.user_id, locale)
    await chats.set_locale(replies.chat_of(event), locale)
    with localized(i18n, locale):
        text = _("Language: {name}.").format(name=LANGUAGE_NAMES[locale])
        await replies.reply(event, text)
    refreshed = await access.actor(actor.user_id)
    if refreshed is not None:
        await sync_user(bot, i18n, refreshed, default_locale)
    return f"ok: {locale}"


@router.message(Command("lang"))
@flags.role(Role.VIEWER)
async def cmd_lang(
    message: Message,
    command: CommandObject,
    actor: Actor,
    access: Access,
    chats: SqliteChatPrefsRepo,
    i18n: I18n,
    bot: Bot,
    default_locale: str,
) -> str:
    """/lang en|mn|ru (without an argument: buttons)"""
    args = words(command, most=1)
    if not args:
        await message.answer(_("Choose a language:"), reply_markup=keyboards.languages())
        return "menu"
    locale = args[0].lower()
    if locale not in LANGUAGE_NAMES:
        raise BadArguments(f"unknown language {args[0]!r}", code="usage")
    return await _switch(message, locale, actor, access, chats, i18n, bot, default_locale)


@router.callback_query(LangCb.filter())
@flags.role(Role.VIEWER)
async def on_lang(
    query: CallbackQuery,
    callback_data: LangCb,
    actor: Actor,
    access: Access,
    chats: SqliteChatPrefsRepo,
    i18n: I18n,
    bot: Bot,
    default_locale: str,
) -> str:
    if callback_data.locale not in LANGUAGE_NAMES:
        return "unknown language"
    locale = callback_data.locale
    return await _switch(query, locale, actor, access, chats, i18n, bot, default_locale)
