"""The command menu Telegram shows next to the input field (``setMyCommands``).

The default scope lists the commands every known user has (viewer), once per language we ship
(the default language without a language code, the others with theirs). Traders and admins get
their longer list in their own private chat (``BotCommandScopeChat``), in their language;
/grant and /revoke update it. Menu failures are logged, never fatal: the menu is a convenience.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommandScopeChat
from aiogram.utils.i18n import I18n

from bot.access import Access, Actor
from bot.command_list import bot_commands
from bot.i18n import LOCALES, localized
from engine.models import Role

log = logging.getLogger("chattrader.bot")


async def sync_all(bot: Bot, i18n: I18n, access: Access, default_locale: str) -> None:
    """The default menu per language, then each trader's and admin's own."""
    for locale in LOCALES:
        code = None if locale == default_locale else locale
        with localized(i18n, locale):
            commands = bot_commands(Role.VIEWER)
        try:
            await bot.set_my_commands(commands, language_code=code)
        except TelegramAPIError as exc:
            log.warning("could not set the %s command menu: %s", locale, exc)
    for actor in await access.everyone():
        await sync_user(bot, i18n, actor, default_locale)


async def sync_user(bot: Bot, i18n: I18n, actor: Actor, default_locale: str) -> None:
    """``actor``'s menu in their private chat: their role's commands in their language."""
    scope = BotCommandScopeChat(chat_id=actor.user_id)
    try:
        if actor.role is Role.VIEWER:
            await bot.delete_my_commands(scope=scope)
            return
        with localized(i18n, actor.locale or default_locale):
            commands = bot_commands(actor.role)
        await bot.set_my_commands(commands, scope=scope)
    except TelegramAPIError as exc:  # e.g. the user never opened a chat with the bot
        log.info("no command menu for user %s: %s", actor.user_id, exc)


async def forget_user(bot: Bot, user_id: int) -> None:
    """Drop a revoked user's own menu (the default one remains)."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=user_id))
    except TelegramAPIError as exc:
        log.info("no command menu to drop for user %s: %s", user_id, exc)
