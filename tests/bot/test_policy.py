"""Access rules, roles from settings, the per-user token bucket, stranger alerts, locales."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiogram.types import Chat

from bot.access import Access, Actor, StrangerAlerts, pinned_roles
from bot.i18n import LOCALES, pick_locale
from bot.middlewares import TokenBucket
from engine.errors import BadArguments
from engine.models import Role, User
from storage import Storage, open_storage

T0 = datetime(2024, 3, 5, 10, tzinfo=UTC)


class Ticks:
    """A settable monotonic clock in seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    opened = await open_storage(":memory:")
    yield opened
    await opened.close()


def private(user_id: int) -> Chat:
    return Chat(id=user_id, type="private")


def test_pinned_roles_take_the_highest_list() -> None:
    pinned = pinned_roles(admins=(1,), traders=(2, 1), viewers=(3, 2))
    assert pinned == {1: Role.ADMIN, 2: Role.TRADER, 3: Role.VIEWER}


async def test_bootstrap_lets_settings_win_and_keeps_granted_users(storage: Storage) -> None:
    access = Access(storage.users, pinned={1: Role.ADMIN, 2: Role.VIEWER})
    await access.bootstrap(T0)
    admin = await access.actor(1)
    assert admin == Actor(1, Role.ADMIN, None, "", pinned=True)
    assert await access.grant(admin, 7, Role.TRADER, T0)  # new user
    await storage.users.set_locale(2, "mn")
    await storage.users.upsert(User(2, Role.ADMIN))  # promoted behind the settings' back
    await Access(storage.users, pinned={1: Role.ADMIN, 2: Role.VIEWER}).bootstrap(T0)
    viewer = await access.actor(2)
    assert viewer is not None and (viewer.role, viewer.locale) == (Role.VIEWER, "mn")
    granted = await access.actor(7)
    assert granted is not None and (granted.role, granted.pinned) == (Role.TRADER, False)


async def test_grant_and_revoke_refuse_pinned_ids_and_oneself(storage: Storage) -> None:
    access = Access(storage.users, pinned={1: Role.ADMIN, 2: Role.TRADER})
    await access.bootstrap(T0)
    me = await access.actor(1)
    assert me is not None
    for target, code in ((2, "pinned_user"), (1, "pinned_user")):
        with pytest.raises(BadArguments) as refused:
            await access.grant(me, target, Role.VIEWER, T0)
        assert refused.value.code == code
    assert await access.grant(me, 9, Role.ADMIN, T0)
    other_admin = await access.actor(9)
    assert other_admin is not None
    with pytest.raises(BadArguments) as own:
        await access.revoke(other_admin, 9)
    assert own.value.code == "own_role"
    assert await access.revoke(me, 9) and not await access.revoke(me, 9)
    assert await access.actor(9) is None


def test_chat_policy_with_and_without_an_allow_list(storage: Storage) -> None:
    ada = Actor(1, Role.ADMIN)
    open_ = Access(storage.users, allowed_chats=())
    assert open_.chat_allowed(ada, private(1))
    assert not open_.chat_allowed(ada, private(2))  # someone else's private chat id
    assert not open_.chat_allowed(ada, Chat(id=-100, type="supergroup"))
    listed = Access(storage.users, allowed_chats=(-100,))
    assert listed.chat_allowed(ada, Chat(id=-100, type="supergroup"))
    assert not listed.chat_allowed(ada, private(1))  # the list is exact: add your id to it


def test_token_bucket_allows_a_burst_then_refills() -> None:
    ticks = Ticks()
    bucket = TokenBucket(rate=2.0, burst=3, warn_every=timedelta(seconds=10), now=ticks)
    assert [bucket.take(5) for _ in range(5)] == ["ok", "ok", "ok", "warn", "drop"]
    assert bucket.take(6) == "ok"  # buckets are per user
    ticks.now = 0.5  # 0.5 s x 2 tokens/s = one token
    assert [bucket.take(5), bucket.take(5)] == ["ok", "drop"]
    ticks.now = 10.0  # refilled to the burst, and the warning window is over
    assert [bucket.take(5) for _ in range(4)] == ["ok", "ok", "ok", "warn"]
    with pytest.raises(ValueError, match="rate > 0"):
        TokenBucket(rate=0)


def test_stranger_alerts_once_per_window_and_chat() -> None:
    ticks = Ticks()
    alerts = StrangerAlerts(timedelta(hours=1), now=ticks)
    assert alerts.allow(9, 9) and not alerts.allow(9, 9)
    assert alerts.allow(9, -100)  # the same stranger in another chat
    ticks.now = 3599.0
    assert not alerts.allow(9, 9)
    ticks.now = 3600.0
    assert alerts.allow(9, 9)


@pytest.mark.parametrize(
    ("chosen", "telegram", "expected"),
    [
        ("mn", "ru", "mn"),  # /lang wins
        (None, "ru-RU", "ru"),  # else the Telegram app language
        (None, "en_GB", "en"),
        (None, "de", "en"),  # else the default
        ("xx", None, "en"),
        (None, None, "en"),
    ],
)
def test_locale_choice(chosen: str | None, telegram: str | None, expected: str) -> None:
    assert pick_locale(chosen, telegram, LOCALES, "en") == expected
