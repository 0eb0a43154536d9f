"""The one redaction layer: every log line, error reply and audit row passes through it.

A ``Redactor`` knows the secret values of the settings (every ``SecretStr``: the bot token, the
Telegram proxy URL, the MT5 password, the Trading Economics key) and masks each of them in any
text, in every form they take on the way out: as written, URL-encoded (``engine.calendar``'s
``secret_forms``, the same rule the calendar sources use), the token's secret half after the
colon, and a proxy URL's password on its own. It also masks anything shaped like a Telegram bot
token (``<digits>:<35 characters>``), configured or not, because the Bot API puts the token in
every request URL (``https://api.telegram.org/bot<token>/sendMessage``) and a stray token from
another environment is still a secret.

``install`` makes a redactor the process-wide one (``configure_logging`` does this), so code
without the settings at hand (an error reply, the audit writer) calls ``scrub(text)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from engine.config import GROUPS, Settings
from engine.models import AuditEntry
from engine.ports import AuditRepo
from engine.redaction import MASK, secret_forms

# Telegram bot tokens: the bot id, a colon, 35 URL-safe characters (BotFather's format).
TOKEN_SHAPE = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
MIN_PART = 6  # a token half or proxy password shorter than this is masked only as a whole


def settings_secrets(settings: Settings) -> tuple[str, ...]:
    """Every non-empty ``SecretStr`` value in ``settings`` (all groups, so a new secret field
    is covered without touching this module)."""
    found: list[str] = []
    for attr, group in GROUPS.items():
        values = getattr(settings, attr)
        for name in group.model_fields:
            value = getattr(values, name)
            if isinstance(value, SecretStr) and (text := value.get_secret_value()):
                found.append(text)
    return tuple(found)


def _parts(secret: str) -> list[str]:
    """Pieces of a secret that travel on their own: a token's secret half, a URL password."""
    parts = []
    if TOKEN_SHAPE.fullmatch(secret):
        parts.append(secret.split(":", 1)[1])
    if "://" in secret:
        try:
            password = urlsplit(secret).password
        except ValueError:
            password = None
        if password:
            parts += [password, unquote(password)]
    return [p for p in parts if len(p) >= MIN_PART]


@dataclass(frozen=True, slots=True)
class Redactor:
    """Masks known secret values (all their forms) and token-shaped text with ``***``."""

    forms: tuple[str, ...] = ()

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        """A redactor for these secret values (empty ones are ignored)."""
        values = [s for s in secrets if s]
        values += [p for s in values for p in _parts(s)]
        return cls(secret_forms(values))

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        return cls.of(settings_secrets(settings))

    def text(self, text: str) -> str:
        """``text`` with every secret form and every token-shaped string masked."""
        for form in self.forms:  # longest first (secret_forms), so no fragment survives
            if form in text:
                text = text.replace(form, MASK)
        return TOKEN_SHAPE.sub(MASK, text)

    def error(self, exc: BaseException) -> str:
        """``"ClassName: message"`` of an exception, masked (for replies and events)."""
        message = str(exc)
        return self.text(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


_current = Redactor()


def install(redactor: Redactor) -> None:
    """Make ``redactor`` the process-wide one that ``scrub`` and the log filter use."""
    global _current  # one redaction policy per process, set at startup
    _current = redactor


def current() -> Redactor:
    return _current


def scrub(text: str) -> str:
    """``text`` through the process-wide redactor (token shapes are masked even before
    ``install``)."""
    return _current.text(text)


class RedactingAuditRepo:
    """``AuditRepo`` that scrubs action, outcome and detail before they are stored.

    Wrap the storage repo once in the composition root (``RedactingAuditRepo(storage.audit)``)
    and hand the wrapper to the ``Auditor``: an admin typing a token into the chat, or an error
    text quoted in an outcome, never reaches the database. ``redactor`` None = the process-wide
    one at the time of each write.
    """

    def __init__(self, inner: AuditRepo, redactor: Redactor | None = None) -> None:
        self._inner = inner
        self._redactor = redactor

    def _clean(self, text: str) -> str:
        return (self._redactor or _current).text(text)

    async def add(self, entry: AuditEntry) -> int:
        clean = replace(
            entry,
            action=self._clean(entry.action),
            outcome=self._clean(entry.outcome),
            detail=self._clean(entry.detail),
        )
        return await self._inner.add(clean)

    async def recent(self, limit: int = 20) -> list[AuditEntry]:
        return await self._inner.recent(limit)

    async def since(self, start: datetime) -> list[AuditEntry]:
        return await self._inner.since(start)
