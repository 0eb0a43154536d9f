"""Languages of the chat: gettext catalogs under ``locales/`` through aiogram's ``I18n``.

A reply's language is the user's ``/lang`` choice (stored with the user), else their
Telegram app language when we have it, else the default (English unless ``DEFAULT_LANG``
says otherwise). ``_`` translates now, inside an update or ``localized``; ``__`` is the lazy
form for module-level tables (call ``str()`` on it, never hand it to an API raw).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
LOCALES = ("en", "mn", "ru")  # the catalogs we ship; English is the source language
LANGUAGE_NAMES = {"en": "English", "mn": "Монгол", "ru": "Русский"}

__all__ = [
    "DOMAIN",
    "LANGUAGE_NAMES",
    "LOCALES",
    "LOCALES_DIR",
    "UserLocaleMiddleware",
    "_",
    "__",
    "build_i18n",
    "localized",
    "pick_locale",
]


def build_i18n(default_locale: str = "en") -> I18n:
    """The catalogs in ``locales/`` (compiled ``.mo`` files are committed)."""
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def pick_locale(
    chosen: str | None, telegram: str | None, available: tuple[str, ...], default: str
) -> str:
    """``chosen`` (/lang) if we have it, else the Telegram language ("ru-RU" counts as "ru"),
    else ``default``."""
    if chosen in available:
        return str(chosen)
    if telegram:
        base = telegram.replace("_", "-").split("-")[0].lower()
        if base in available:
            return base
    return default


@contextmanager
def localized(i18n: I18n, locale: str) -> Iterator[None]:
    """Translate in ``locale`` outside an update (alerts, notifications, the command menu)."""
    with i18n.context(), i18n.use_locale(locale):
        yield


class UserLocaleMiddleware(I18nMiddleware):
    """Sets the reply language per update from ``data["actor"]`` (the user's stored choice)
    and the Telegram user; ``data["default_locale"]`` overrides the catalog default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        actor = data.get("actor")
        user: User | None = data.get("event_from_user")
        default = data.get("default_locale") or self.i18n.default_locale
        return pick_locale(
            getattr(actor, "locale", None),
            user.language_code if user is not None else None,
            self.i18n.available_locales,
            default,
        )
