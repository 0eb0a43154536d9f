"""Policy around every handler: who is served, how often, what is audited, which role.

Order (``bot.app.build_dispatcher``): ``AccessMiddleware`` (outer, on updates) drops strangers
with an audit row and a rate-limited admin alert and puts ``actor`` in the data; the locale
middleware (outer, per event) picks the language; ``ThrottleMiddleware`` (outer, per event)
drops floods with one localized "slow down" per window; ``AuditMiddleware`` (inner) writes one
row per handled command or button with its outcome; ``RoleMiddleware`` (inner, so it sees the
handler's ``@flags.role``) refuses with the role needed. Collaborators come from ``data``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n

from bot import render
from bot.access import Access, Actor, display_name
from bot.i18n import _, localized
from engine.errors import EngineError
from engine.models import AuditEntry, Role
from engine.ports import AuditRepo, Clock

log = logging.getLogger("chattrader.bot")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
DETAIL_MAX = 200


class Auditor:
    """Appends audit rows: who, which chat, what, how it ended."""

    def __init__(self, repo: AuditRepo, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def record(
        self, user_id: int | None, chat_id: int | None, action: str, outcome: str, detail: str = ""
    ) -> None:
        entry = AuditEntry(
            self._clock.now(), user_id, chat_id, action[:64], outcome[:64], detail[:DETAIL_MAX]
        )
        await self._repo.add(entry)


def describe(event: TelegramObject) -> tuple[str, str]:
    """(action, detail) of a message or button press: "/close" + "123", "button" + data."""
    if isinstance(event, Update):
        inner = event.message or event.callback_query or event.edited_message
        return describe(inner) if inner is not None else (event.event_type, "")
    if isinstance(event, CallbackQuery):
        return "button", event.data or ""
    if isinstance(event, Message):
        text = event.text or event.caption or ""
        if text.startswith("/"):
            head, _, rest = text.partition(" ")
            return head.split("@")[0].lower(), rest.strip()
        return "message", text if text else (event.content_type or "")
    return type(event).__name__, ""


class AccessMiddleware(BaseMiddleware):
    """Outer on ``dp.update``: serve only known users in allowed chats (see ``bot.access``)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        access: Access = data["access"]
        user: TgUser | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        actor = await access.actor(user.id) if user is not None else None
        if actor is not None and chat is not None and access.chat_allowed(actor, chat):
            data["actor"] = actor
            return await handler(event, data)
        action, detail = describe(event)
        chat_id = chat.id if chat is not None else None
        user_id = user.id if user is not None else None
        why = "unknown user" if actor is None else "chat not allowed"
        await data["auditor"].record(user_id, chat_id, action, f"ignored: {why}", detail)
        if user is not None and access.alerts.allow(user.id, chat_id or 0):
            await _alert_admins(data, access, user, chat, actor is None)
        return None


async def _alert_admins(
    data: dict[str, Any], access: Access, user: TgUser, chat: Chat | None, unknown: bool
) -> None:
    """Tell the admins, where the bot may write: their private chats when the chat policy
    serves them there, else the allowed chats other than the one the attempt came from (the
    reported person must not see it)."""
    bot: Bot = data["bot"]
    i18n: I18n = data["i18n"]
    default = data.get("default_locale") or i18n.default_locale
    admins = [a for a in await access.admins() if a.user_id != user.id]
    targets = [
        (a.user_id, a.locale or default)
        for a in admins
        if access.chat_allowed(a, Chat(id=a.user_id, type="private"))
    ]
    if not targets:
        here = chat.id if chat is not None else None
        targets = [(c, default) for c in sorted(access.allowed_chats) if c != here]
    for chat_id, locale in targets:
        with localized(i18n, locale):
            text = render.stranger_alert(display_name(user), chat, unknown=unknown)
        try:
            await bot.send_message(chat_id, text)
        except TelegramAPIError as exc:  # an admin who never opened the bot: nothing to do
            log.warning("could not send a stranger alert to %s: %s", chat_id, exc)


class TokenBucket:
    """Per-user token buckets: ``burst`` updates at once, refilled at ``rate`` per second.

    ``take`` answers "ok", "warn" (the first refusal in a ``warn_every`` window: tell the user
    once) or "drop" (refuse silently). Seconds come from ``now`` (monotonic by default).
    """

    def __init__(
        self,
        rate: float = 1.0,
        burst: int = 8,
        warn_every: timedelta = timedelta(seconds=10),
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            msg = f"a token bucket needs rate > 0 and burst >= 1, got {rate} and {burst}"
            raise ValueError(msg)
        self.rate, self.burst = rate, burst
        self._warn_every = warn_every.total_seconds()
        self._now = now
        self._tokens: dict[int, tuple[float, float]] = {}  # user -> (tokens, at)
        self._warned: dict[int, float] = {}

    def take(self, user_id: int) -> str:
        now = self._now()
        tokens, at = self._tokens.get(user_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._tokens[user_id] = (tokens - 1.0, now)
            return "ok"
        self._tokens[user_id] = (tokens, now)
        warned = self._warned.get(user_id)
        if warned is not None and now - warned < self._warn_every:
            return "drop"
        self._warned[user_id] = now
        return "warn"


class ThrottleMiddleware(BaseMiddleware):
    """Outer per event, after the locale is set: a stuck client cannot flood the engine."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: TgUser | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = data["throttle"].take(user.id)
        if verdict == "ok":
            return await handler(event, data)
        if verdict == "warn":
            action, detail = describe(event)
            chat: Chat | None = data.get("event_chat")
            chat_id = chat.id if chat is not None else None
            await data["auditor"].record(user.id, chat_id, action, "throttled", detail)
            text = _("Too many requests. Please wait a few seconds and try again.")
            if isinstance(event, CallbackQuery | Message):
                await event.answer(text)
        return None


class AuditMiddleware(BaseMiddleware):
    """Inner: one audit row per handled command or button press, with its outcome.

    A handler's string return value is the outcome ("ok" otherwise); an exception is recorded
    as "error: <code>" and raised on to the errors router.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        action, detail = describe(event)
        actor: Actor | None = data.get("actor")
        chat: Chat | None = data.get("event_chat")
        user_id = actor.user_id if actor is not None else None
        chat_id = chat.id if chat is not None else None
        try:
            result = await handler(event, data)
        except Exception as exc:
            code = exc.code if isinstance(exc, EngineError) else type(exc).__name__
            await data["auditor"].record(user_id, chat_id, action, f"error: {code}", detail)
            raise
        outcome = result if isinstance(result, str) else "ok"
        await data["auditor"].record(user_id, chat_id, action, outcome, detail)
        return result


class RoleMiddleware(BaseMiddleware):
    """Inner: a handler flagged ``@flags.role(Role.X)`` runs only for X or above."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        needed: Role | None = get_flag(data, "role")
        actor: Actor = data["actor"]
        if needed is None or actor.may(needed):
            return await handler(event, data)
        text = render.needs_role(needed, actor.role)
        if isinstance(event, CallbackQuery):
            answer = data.get("callback_answer")
            if answer is not None:  # CallbackAnswerMiddleware answers once, with this text
                answer.text, answer.show_alert = text, True
            else:
                await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return "denied"
