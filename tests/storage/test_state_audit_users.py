"""Engine state as JSON, the audit log, users and roles."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from engine.models import AuditEntry, Role, User
from storage import Storage
from storage.db import StorageError
from tests.storage.conftest import T0


async def test_state_round_trips_json_values(storage: Storage) -> None:
    values = {
        "paused": True,
        "breaker": {"tripped": True, "until_ms": 1_704_164_645_678, "reason": "3 losses"},
        "counters": [1, 2.5, None, "Улаанбаатар"],
        "loss_today": -125.75,
        "note": None,
    }
    for key, value in values.items():
        await storage.state.set(key, value)
    for key, value in values.items():
        assert await storage.state.get(key) == value
    await storage.state.set("paused", False)  # overwrite
    assert await storage.state.get("paused") is False
    assert await storage.state.get("note", "default") is None  # a stored null is not missing
    assert await storage.state.get("missing", {"x": 1}) == {"x": 1}
    await storage.state.set("pair", (1, 2))
    assert await storage.state.get("pair") == [1, 2]  # JSON has no tuples


async def test_state_refuses_values_json_cannot_hold(storage: Storage) -> None:
    with pytest.raises(ValueError, match="JSON"):
        await storage.state.set("loss", math.nan)
    with pytest.raises(TypeError):
        await storage.state.set("when", T0)
    assert await storage.state.items() == {}


async def test_state_items_by_literal_prefix_and_delete(storage: Storage) -> None:
    for key in ("risk_a", "riskXa", "risk%", "risk_b", "Risk_c", "other"):
        await storage.state.set(key, key.upper())
    # "_" and "%" are LIKE wildcards; the prefix must match literally.
    assert await storage.state.items("risk_") == {"risk_a": "RISK_A", "risk_b": "RISK_B"}
    assert list(await storage.state.items("risk%")) == ["risk%"]
    assert len(await storage.state.items()) == 6
    await storage.state.delete("risk_a")
    await storage.state.delete("never-there")
    assert await storage.state.items("risk_") == {"risk_b": "RISK_B"}


async def test_audit_ids_and_order(storage: Storage) -> None:
    minute = timedelta(minutes=1)
    entries = [
        AuditEntry(T0 + 2 * minute, 1, 10, "pause", "ok"),
        AuditEntry(T0, None, 99, "message", "denied", "unknown_chat_or_user"),
        AuditEntry(T0 + minute, 2, 10, "force", "confirmed", "buy 0.10 XAUUSD"),
    ]
    ids = [await storage.audit.add(e) for e in entries]
    assert ids == [1, 2, 3]
    recent = await storage.audit.recent()
    assert [e.id for e in recent] == [1, 3, 2]  # newest time first
    assert recent[2] == AuditEntry(T0, None, 99, "message", "denied", "unknown_chat_or_user", 2)
    assert [e.id for e in await storage.audit.recent(limit=1)] == [1]
    assert [e.id for e in await storage.audit.since(T0 + minute)] == [3, 1]


async def test_users_roles_and_locale(storage: Storage) -> None:
    admin = User(100, Role.ADMIN, locale="ru", name="Anna", created_at=T0)
    trader = User(50, Role.TRADER, name="Bold", added_by=100, created_at=T0)
    viewer = User(70, Role.VIEWER)
    for user in (admin, trader, viewer):
        await storage.users.upsert(user)
    assert await storage.users.get(100) == admin
    assert await storage.users.get(1) is None
    assert [u.user_id for u in await storage.users.all()] == [50, 70, 100]
    assert await storage.users.with_role(Role.TRADER) == [trader]
    await storage.users.set_locale(50, "mn")
    assert (await storage.users.get(50)) == User(
        50, Role.TRADER, "mn", "Bold", added_by=100, created_at=T0
    )
    with pytest.raises(StorageError, match="no user 1"):
        await storage.users.set_locale(1, "en")
    assert await storage.users.remove(70)
    assert not await storage.users.remove(70)
    assert [u.user_id for u in await storage.users.all()] == [50, 100]


async def test_upsert_changes_role_but_keeps_what_the_caller_does_not_know(
    storage: Storage,
) -> None:
    await storage.users.upsert(User(100, Role.TRADER, locale="mn", name="Anna", created_at=T0))
    # Seeding the admin list from settings at start-up knows only id and role.
    await storage.users.upsert(User(100, Role.ADMIN, created_at=T0 + timedelta(days=3)))
    assert await storage.users.get(100) == User(100, Role.ADMIN, "mn", "Anna", created_at=T0)
    await storage.users.upsert(User(100, Role.ADMIN, locale="en", name="Anna B.", added_by=7))
    assert await storage.users.get(100) == User(
        100, Role.ADMIN, "en", "Anna B.", added_by=7, created_at=T0
    )
