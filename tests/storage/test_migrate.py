"""Migrations: from empty, from every earlier version (data kept), idempotent, guarded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import storage.migrate as migrate_module
from engine.clock import SimClock
from engine.models import (
    AuditEntry,
    ClosedTrade,
    Deal,
    DealEntry,
    EconomicEvent,
    EquitySnapshot,
    Importance,
    Order,
    OutboxMessage,
    Position,
    Role,
    Side,
    Timeframe,
    User,
)
from engine.ports import CalendarBatch, CalendarFetch, PaperChange
from storage import Storage
from storage.columns import to_ms
from storage.db import Database
from storage.migrate import Migration, MigrationError, available, current_version, migrate
from storage.repos.chats import ChatPrefs, SqliteChatPrefsRepo
from storage.repos.confirmations import Outcome, PendingAction, SqliteConfirmationRepo
from tests.storage.conftest import T0

LATEST = available()[-1].version

ORDER = Order("cid-1", "XAUUSD", Side.SELL, 0.25, created_at=T0, sl=2010.0, strategy="ema")
TRADE = ClosedTrade(
    11, "XAUUSD", Side.BUY, 0.1, 2000.0, 2012.5, T0, T0 + timedelta(hours=2), 125.0
)
USER = User(555, Role.ADMIN, locale="mn", name="Bat", created_at=T0)
AUDIT = AuditEntry(T0, 555, -100, "pause", "ok", "from chat")
POSITION = Position(1, "XAUUSD", Side.BUY, 0.1, 2000.0, T0, sl=1990.0, client_id="cid-2")
DEAL = Deal(2, 1, 1, "XAUUSD", Side.BUY, DealEntry.IN, 0.1, 2000.0, T0, client_id="cid-2")
MESSAGE = OutboxMessage(-100, "fill", "<b>filled</b>", photo=b"\x89PNG\r\n", dedup_key="fill:1")
BARS = pd.DataFrame(
    {
        "open": [1.0, 2.0],
        "high": [1.5, 2.5],
        "low": [0.5, 1.5],
        "close": [1.2, 2.2],
        "volume": [10.0, 20.0],
        "spread": np.array([3, 4], dtype=np.int64),
    },
    index=pd.DatetimeIndex([T0, T0 + timedelta(hours=1)], name="time").as_unit("us"),
)
SNAPSHOT = EquitySnapshot(T0, 10_000.0, 9_990.0, 200.0)
NFP = EconomicEvent(
    T0 + timedelta(days=3), "USD", "United States", "Non Farm Payrolls", Importance.HIGH,
    forecast="180K", previous="199K", source="te",
)  # fmt: skip


async def seed_v1(s: Storage) -> None:
    assert await s.orders.add(ORDER)
    assert await s.trades.add(TRADE)
    await s.users.upsert(USER)
    await s.audit.add(AUDIT)
    await s.state.set("breaker", {"tripped": True, "losses": [1, 2]})


async def check_v1(s: Storage) -> None:
    assert await s.orders.get("cid-1") == ORDER
    assert await s.trades.recent() == [TRADE]
    assert await s.users.get(555) == USER
    assert [(e.action, e.detail) for e in await s.audit.recent()] == [("pause", "from chat")]
    assert await s.state.get("breaker") == {"tripped": True, "losses": [1, 2]}


async def seed_v2(s: Storage) -> None:
    await s.paper.load(10_000.0)
    await s.paper.commit(PaperChange(9_999.5, 3, upsert=(POSITION,), deals=(DEAL,)))


async def check_v2(s: Storage) -> None:
    snapshot = await s.paper.load(1.0)
    assert (snapshot.balance, snapshot.next_ticket, snapshot.positions) == (
        9_999.5,
        3,
        (POSITION,),
    )
    assert await s.paper.deal_by_client_id("cid-2") == DEAL


async def seed_v3(s: Storage) -> None:
    # The outbox as version 3 wrote it (no ``held`` column yet).
    await s.db.execute(
        "INSERT INTO outbox (chat_id, kind, text, photo, dedup_key, next_attempt_ms, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (-100, "fill", MESSAGE.text, MESSAGE.photo, "fill:1", to_ms(T0), to_ms(T0)),
    )
    assert await s.bars.upsert("XAUUSD", Timeframe.H1, BARS, source="csv") == 2
    await s.equity.add(SNAPSHOT)


async def check_v3(s: Storage) -> None:
    [message] = await s.outbox.due(T0)
    assert (message.photo, message.dedup_key, message.created_at) == (MESSAGE.photo, "fill:1", T0)
    assert not message.held
    pd.testing.assert_frame_equal(await s.bars.load("XAUUSD", Timeframe.H1), BARS)
    assert await s.equity.series(T0, T0 + timedelta(seconds=1)) == [SNAPSHOT]


async def seed_v4(s: Storage) -> None:
    batch = CalendarBatch("te", T0, T0 + timedelta(days=7), (NFP,))
    assert await s.calendar.store((batch,), CalendarFetch(T0, "te")) == 1
    assert await s.calendar.mark_reminded(NFP, T0)


async def check_v4(s: Storage) -> None:
    assert await s.calendar.events() == [NFP]
    assert await s.calendar.last_fetch() == CalendarFetch(T0, "te")
    assert not await s.calendar.mark_reminded(NFP, T0 + timedelta(hours=1))


CARD = PendingAction(
    "n0nce-1", "force", {"symbol": "XAUUSD", "volume": 0.1}, 555, -100, T0,
    T0 + timedelta(seconds=60),
)  # fmt: skip


async def seed_v5(s: Storage) -> None:
    # Bot-only repositories (no engine port): built over the same database.
    await SqliteConfirmationRepo(s.db).add(CARD)
    chats = SqliteChatPrefsRepo(s.db)
    await chats.set_locale(-100, "ru")
    assert await chats.toggle(-100, "fill") is False


async def check_v5(s: Storage) -> None:
    cards = SqliteConfirmationRepo(s.db)
    assert await cards.get("n0nce-1") == CARD
    assert await cards.claim("n0nce-1", Outcome.CONFIRMED, T0 + timedelta(seconds=1))
    assert not await cards.claim("n0nce-1", Outcome.CONFIRMED, T0)
    assert await SqliteChatPrefsRepo(s.db).get(-100) == ChatPrefs(-100, "ru", frozenset({"fill"}))


async def seed_v6(s: Storage) -> None:
    held = OutboxMessage(-200, "close", "closed", dedup_key="close:9", created_at=T0, held=True)
    assert await s.outbox.enqueue(held) is not None


async def check_v6(s: Storage) -> None:
    assert [m.dedup_key for m in await s.outbox.due(T0) if m.chat_id == -200] == []
    assert await s.outbox.release_held() == 1
    assert [m.dedup_key for m in await s.outbox.due(T0) if m.chat_id == -200] == ["close:9"]


SEEDS: dict[int, tuple[Callable[[Storage], Awaitable[None]], ...]] = {
    1: (seed_v1, check_v1),
    2: (seed_v2, check_v2),
    3: (seed_v3, check_v3),
    4: (seed_v4, check_v4),
    5: (seed_v5, check_v5),
    6: (seed_v6, check_v6),
}


async def schema(db: Database) -> list[tuple[str, str, str, str | None]]:
    rows = await db.fetchall(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def empty_then_latest_schema() -> list[tuple[str, str, str, str | None]]:
    db = await Database.open(":memory:")
    try:
        await migrate(db)
        return await schema(db)
    finally:
        await db.close()


def test_every_migration_has_a_seed_and_a_check() -> None:
    assert [m.version for m in available()] == list(range(1, LATEST + 1))
    assert sorted(SEEDS) == [m.version for m in available()]
    assert LATEST >= 3


async def test_migrate_from_empty_creates_every_table() -> None:
    db = await Database.open(":memory:")
    try:
        assert await current_version(db) == 0
        assert await migrate(db) == [1, 2, 3, 4, 5, 6]
        assert await current_version(db) == LATEST
        tables = {
            r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert tables >= {
            "schema_migrations", "orders", "closed_trades", "engine_state", "audit_log", "users",
            "paper_account", "paper_positions", "paper_deals", "outbox", "bar_sources", "bars",
            "equity_snapshots", "calendar_events", "calendar_fetch", "calendar_reminders",
            "confirmations", "chat_prefs",
        }  # fmt: skip
        names = [r[0] for r in await db.fetchall("SELECT name FROM schema_migrations")]
        assert names == ["core", "paper", "outbox_bars_equity", "calendar", "bot", "outbox_held"]
    finally:
        await db.close()


@pytest.mark.parametrize("k", range(LATEST))
async def test_migrate_from_each_earlier_version_keeps_data(k: int, tmp_path: Path) -> None:
    clock = SimClock(T0)
    db = await Database.open(tmp_path / "old.db")
    try:
        assert await migrate(db, target=k) == list(range(1, k + 1))
        assert await current_version(db) == k
        old = Storage.over(db, clock)
        for version in range(1, k + 1):
            await SEEDS[version][0](old)
        assert await migrate(db) == list(range(k + 1, LATEST + 1))
        assert await schema(db) == await empty_then_latest_schema()
        new = Storage.over(db, clock)
        for version in range(1, k + 1):
            await SEEDS[version][1](new)
        for version in range(k + 1, LATEST + 1):  # the new tables work as well
            await SEEDS[version][0](new)
            await SEEDS[version][1](new)
    finally:
        await db.close()


async def test_migrate_twice_is_a_no_op(storage: Storage) -> None:
    before = await schema(storage.db)
    recorded = await storage.db.fetchall("SELECT * FROM schema_migrations ORDER BY version")
    assert await migrate(storage.db) == []
    assert await schema(storage.db) == before
    assert (
        await storage.db.fetchall("SELECT * FROM schema_migrations ORDER BY version") == recorded
    )


async def test_two_connections_migrating_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    a, b = await Database.open(path), await Database.open(path)
    try:
        applied = await asyncio.gather(migrate(a), migrate(b))
        assert sorted(applied[0] + applied[1]) == list(range(1, LATEST + 1))
        versions = await a.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert versions == [(v,) for v in range(1, LATEST + 1)]
    finally:
        await a.close()
        await b.close()


async def test_database_from_a_newer_version_is_refused(storage: Storage) -> None:
    await storage.db.execute(
        "INSERT INTO schema_migrations VALUES (?, 'future', 'x', 0)", (LATEST + 1,)
    )
    with pytest.raises(MigrationError, match=f"schema version {LATEST + 1}"):
        await migrate(storage.db)


async def test_migration_edited_after_it_was_applied_is_refused(storage: Storage) -> None:
    await storage.db.execute("UPDATE schema_migrations SET sha256 = 'edited' WHERE version = 2")
    with pytest.raises(MigrationError, match="0002_paper differs"):
        await migrate(storage.db)


async def test_failing_migration_leaves_the_previous_version(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migration(LATEST + 1, "broken", "CREATE TABLE extra (a);\nCREATE TABLE orders (b);\n")
    monkeypatch.setattr(migrate_module, "available", lambda: (*available(), broken))
    with pytest.raises(Exception, match="orders already exists"):
        await migrate(storage.db)
    assert await current_version(storage.db) == LATEST
    assert await storage.db.fetchone("SELECT 1 FROM sqlite_master WHERE name = 'extra'") is None


def test_statements_split_on_complete_sql_only() -> None:
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE t (a TEXT DEFAULT 'x;y');\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
        "  UPDATE t SET a = 'z;'; DELETE FROM t WHERE a = ';';\n"
        "END;\n"
        "-- trailing comment\n"
    )
    parts = Migration(9, "x", sql).statements()
    assert len(parts) == 2
    assert parts[0].endswith("DEFAULT 'x;y');")
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
    with pytest.raises(MigrationError, match="incomplete"):
        Migration(9, "x", "CREATE TABLE t (a);\nCREATE TABLE u (\n").statements()


async def test_target_outside_known_versions_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="outside"):
        await migrate(storage.db, target=LATEST + 1)
