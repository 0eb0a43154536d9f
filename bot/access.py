"""Who may talk to the bot, from where, with which role.

Roles per Telegram user id: ``viewer`` (read), ``trader`` (+ pause/resume, close), ``admin``
(+ force, users, settings). Ids listed in TELEGRAM_ADMIN_IDS / TRADER_IDS / VIEWER_IDS are
*pinned*: written at every start (the settings win), and /grant or /revoke cannot change them;
users granted in chat are stored in SQLite and persist.

Chats: when TELEGRAM_ALLOWED_CHAT_IDS is set, exactly those chats are served (add your own user
id to use the bot in a private chat); when it is empty, only private chats of known users are
served. A user without a role is a stranger everywhere. Strangers (and known users in a chat
that is not allowed) get no reply; each attempt is audited and admins get at most one alert per
person and chat per hour, in their private chats when the policy serves them there, else in
the allowed chats.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.types import Chat
from aiogram.types import User as TgUser

from engine.errors import BadArguments
from engine.models import Role, User
from engine.ports import UserRepo


@dataclass(frozen=True, slots=True)
class Actor:
    """The known user behind an update, read fresh from storage for every update."""

    user_id: int
    role: Role
    locale: str | None = None
    name: str = ""
    pinned: bool = False  # role from the settings file

    def may(self, needed: Role) -> bool:
        return self.role.covers(needed)


def display_name(user: TgUser) -> str:
    """How a person is named to others (pause notices, audit): "@alice (1001)"."""
    name = f"@{user.username}" if user.username else user.full_name
    return f"{name} ({user.id})"


def pinned_roles(
    admins: tuple[int, ...], traders: tuple[int, ...], viewers: tuple[int, ...]
) -> dict[int, Role]:
    """Role per id from the settings lists; an id in several lists gets the highest."""
    pinned: dict[int, Role] = {}
    for role, ids in ((Role.VIEWER, viewers), (Role.TRADER, traders), (Role.ADMIN, admins)):
        for user_id in ids:
            pinned[user_id] = role
    return pinned


class StrangerAlerts:
    """At most one admin alert per (user, chat) per ``every``; monotonic seconds."""

    def __init__(
        self, every: timedelta = timedelta(hours=1), now: Callable[[], float] = time.monotonic
    ) -> None:
        self._every = every.total_seconds()
        self._now = now
        self._last: dict[tuple[int, int], float] = {}

    def allow(self, user_id: int, chat_id: int) -> bool:
        now, key = self._now(), (user_id, chat_id)
        last = self._last.get(key)
        if last is not None and now - last < self._every:
            return False
        if len(self._last) > 10_000:  # a flood of distinct strangers must not grow this forever
            self._last = {k: t for k, t in self._last.items() if now - t < self._every}
        self._last[key] = now
        return True


class Access:
    """Roles and the chat allow-list over the ``UserRepo``."""

    def __init__(
        self,
        users: UserRepo,
        *,
        allowed_chats: tuple[int, ...] = (),
        pinned: dict[int, Role] | None = None,
        alerts: StrangerAlerts | None = None,
    ) -> None:
        self.users = users
        self.allowed_chats = frozenset(allowed_chats)
        self.pinned = dict(pinned or {})
        self.alerts = alerts or StrangerAlerts()

    async def bootstrap(self, at: datetime) -> None:
        """Write the pinned roles (settings win over anything granted in chat)."""
        for user_id, role in self.pinned.items():
            await self.users.upsert(User(user_id, role, created_at=at))

    async def actor(self, user_id: int) -> Actor | None:
        user = await self.users.get(user_id)
        if user is None:
            return None
        return Actor(user.user_id, user.role, user.locale, user.name, user_id in self.pinned)

    def chat_allowed(self, actor: Actor, chat: Chat) -> bool:
        if self.allowed_chats:
            return chat.id in self.allowed_chats
        return chat.type == "private" and chat.id == actor.user_id

    async def everyone(self) -> list[Actor]:
        return [
            Actor(u.user_id, u.role, u.locale, u.name, u.user_id in self.pinned)
            for u in await self.users.all()
        ]

    async def admins(self) -> list[Actor]:
        return [a for a in await self.everyone() if a.role is Role.ADMIN]

    async def grant(self, by: Actor, user_id: int, role: Role, at: datetime) -> bool:
        """Give ``user_id`` ``role``; True when they had none before. Pinned ids refuse."""
        self._check_target(by, user_id)
        before = await self.users.get(user_id)
        await self.users.upsert(User(user_id, role, added_by=by.user_id, created_at=at))
        return before is None

    async def revoke(self, by: Actor, user_id: int) -> bool:
        """Remove ``user_id``; False when they had no access. Pinned ids and oneself refuse."""
        self._check_target(by, user_id)
        return await self.users.remove(user_id)

    def _check_target(self, by: Actor, user_id: int) -> None:
        if user_id in self.pinned:
            msg = f"user {user_id} has a role from the settings file; change it there"
            raise BadArguments(msg, code="pinned_user", user_id=user_id)
        if user_id == by.user_id:
            msg = "you cannot change your own role"
            raise BadArguments(msg, code="own_role", user_id=user_id)
