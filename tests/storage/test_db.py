"""Database: pragmas, transactions (rollback, nesting, serialisation), reopen and backup."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.models import ClosedTrade, Order, Side
from storage import Storage, open_storage
from storage.columns import from_ms, to_ms
from storage.db import Database, StorageError, TransactionRolledBack
from tests.storage.conftest import T0


def order(client_id: str) -> Order:
    return Order(client_id, "XAUUSD", Side.BUY, 0.1, created_at=T0)


def trade(position_id: int) -> ClosedTrade:
    return ClosedTrade(
        position_id, "XAUUSD", Side.BUY, 0.1, 2000.0, 2010.0, T0, T0 + timedelta(hours=1), 100.0
    )


async def count(db: Database, table: str) -> int:
    row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


def test_epoch_milliseconds_round_trip_and_refuse_naive_times() -> None:
    # 2024-01-01T00:00Z is 1_704_067_200 s; plus one day and 03:04:05.678 -> 1_704_164_645_678.
    t = datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert to_ms(t) == 1_704_164_645_678
    assert from_ms(1_704_164_645_678) == t
    assert from_ms(0).tzinfo is UTC
    plus8 = t.astimezone(ZoneInfo("Asia/Ulaanbaatar"))
    assert to_ms(plus8) == 1_704_164_645_678
    assert to_ms(t + timedelta(microseconds=999)) == 1_704_164_645_678  # floored
    with pytest.raises(ValueError, match="naive"):
        to_ms(datetime(2024, 1, 2))  # noqa: DTZ001


async def test_open_sets_wal_foreign_keys_busy_timeout_and_creates_folders(
    db_path: Path,
) -> None:
    assert not db_path.parent.exists()
    db = await Database.open(db_path)
    try:
        assert db.path == db_path
        assert db.journal_mode == "wal"
        assert await db.fetchone("PRAGMA journal_mode") == ("wal",)
        assert await db.fetchone("PRAGMA foreign_keys") == (1,)
        assert await db.fetchone("PRAGMA busy_timeout") == (5000,)
        assert await db.fetchone("PRAGMA synchronous") == (1,)  # NORMAL
    finally:
        await db.close()
    assert db.closed
    await db.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        await db.fetchall("SELECT 1")


async def test_memory_database_has_no_path() -> None:
    db = await Database.open(":memory:")
    try:
        assert db.path is None
        assert db.journal_mode == "memory"
        assert await db.fetchone("PRAGMA foreign_keys") == (1,)
    finally:
        await db.close()


async def test_foreign_keys_are_enforced(storage: Storage) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await storage.db.execute(
            "INSERT INTO bars VALUES ('XAUUSD', 'H1', 0, 1.0, 1.0, 1.0, 1.0, 0.0, 0)"
        )


async def test_rollback_on_exception_leaves_neither_write(storage: Storage) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with storage.db.transaction():
            assert await storage.orders.add(order("o-1"))
            assert await storage.trades.add(trade(7))
            assert await count(storage.db, "orders") == 1  # visible inside the transaction
            raise RuntimeError("boom")
    assert await storage.orders.get("o-1") is None
    assert await storage.trades.recent() == []
    assert not storage.db.in_transaction()


async def test_nested_transaction_joins_outer_and_commits_only_at_the_end(
    file_storage: Storage, db_path: Path
) -> None:
    observer = await Database.open(db_path)  # a second connection sees only committed rows
    try:
        async with file_storage.db.transaction():
            async with file_storage.db.transaction():
                assert await file_storage.orders.add(order("o-1"))
            assert file_storage.db.in_transaction()
            assert await count(observer, "orders") == 0
            assert await file_storage.trades.add(trade(7))
        assert await count(observer, "orders") == 1
        assert await count(observer, "closed_trades") == 1
    finally:
        await observer.close()


async def test_caught_failure_of_nested_block_rolls_back_the_whole_transaction(
    storage: Storage,
) -> None:
    with pytest.raises(TransactionRolledBack):
        async with storage.db.transaction():
            assert await storage.orders.add(order("o-1"))
            try:
                async with storage.db.transaction():
                    assert await storage.orders.add(order("o-2"))
                    raise KeyError("inner")
            except KeyError:
                pass
    assert await count(storage.db, "orders") == 0


async def test_concurrent_read_modify_write_transactions_do_not_lose_updates(
    file_storage: Storage,
) -> None:
    state = file_storage.state
    await state.set("counter", 0)

    async def bump(times: int) -> None:
        for _ in range(times):
            async with file_storage.db.transaction():
                value = await state.get("counter")
                await asyncio.sleep(0)  # let the other task try to interleave
                await state.set("counter", value + 1)

    await asyncio.gather(bump(50), bump(50))
    assert await state.get("counter") == 100


async def test_other_tasks_wait_instead_of_reading_uncommitted_rows(storage: Storage) -> None:
    started = asyncio.Event()
    seen: list[object] = []

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with storage.db.transaction():
                await storage.state.set("paused", True)
                started.set()
                for _ in range(20):  # yield many times while the transaction is open
                    await asyncio.sleep(0)
                raise RuntimeError("abandon")

    async def reader() -> None:
        await started.wait()
        seen.append(await storage.state.get("paused", "absent"))

    await asyncio.gather(writer(), reader())
    assert seen == ["absent"]


async def test_tasks_started_inside_a_transaction_join_it(storage: Storage) -> None:
    with pytest.raises(RuntimeError):
        async with storage.db.transaction():
            await asyncio.gather(storage.orders.add(order("a")), storage.orders.add(order("b")))
            assert await count(storage.db, "orders") == 2
            raise RuntimeError("undo both")
    assert await count(storage.db, "orders") == 0


async def test_cancelled_transaction_rolls_back_and_releases_the_lock(storage: Storage) -> None:
    inside = asyncio.Event()

    async def stuck() -> None:
        async with storage.db.transaction():
            await storage.orders.add(order("o-1"))
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await storage.orders.get("o-1") is None
    async with storage.db.transaction():  # would hang if the lock were still held
        assert await storage.orders.add(order("o-2"))
    assert (await storage.orders.get("o-2")) is not None


async def test_executemany_alone_is_atomic(storage: Storage) -> None:
    rows = [("k1", "1"), ("k2", "2"), ("k1", "3")]  # the third repeats a primary key
    with pytest.raises(sqlite3.IntegrityError):
        await storage.db.executemany("INSERT INTO engine_state (key, value) VALUES (?, ?)", rows)
    assert await count(storage.db, "engine_state") == 0
    written = await storage.db.executemany(
        "INSERT INTO engine_state (key, value) VALUES (?, ?)", rows[:2]
    )
    assert written == 2


async def test_data_survives_close_and_reopen(db_path: Path) -> None:
    first = await open_storage(db_path)
    assert await first.orders.add(order("o-1"))
    await first.state.set("paused", {"by": 42})
    assert db_path.with_name(db_path.name + "-wal").exists()  # WAL mode on a file
    await first.close()
    again = await open_storage(db_path)
    try:
        assert await again.orders.get("o-1") == order("o-1")
        assert await again.state.get("paused") == {"by": 42}
    finally:
        await again.close()


def dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


async def test_backup_gives_an_identical_database(file_storage: Storage, tmp_path: Path) -> None:
    assert await file_storage.orders.add(order("o-1"))
    assert await file_storage.trades.add(trade(7))
    await file_storage.state.set("breaker", {"tripped": True, "losses": 3})
    target = tmp_path / "backups" / "copy.db"
    await file_storage.db.backup_to(target)
    await file_storage.close()
    original = dump(file_storage.db.path)  # type: ignore[arg-type]
    copy = dump(target)
    assert copy == original
    assert any("o-1" in line for line in copy)


async def test_backup_refuses_itself_and_open_transactions(
    file_storage: Storage, db_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="onto itself"):
        await file_storage.db.backup_to(db_path)
    async with file_storage.db.transaction():
        with pytest.raises(StorageError, match="uncommitted"):
            await file_storage.db.backup_to(tmp_path / "b.db")
