"""Backups: an online copy taken from a second connection while the ledger is being written is
one consistent moment; restoring it gives exactly that ledger; the daily scheduler and its
retention; the ``db backup`` / ``db restore`` commands."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli_ops import COMMANDS, add_db_parsers
from engine.clock import SimClock
from engine.errors import EngineError
from engine.models import Deal, DealEntry, Side
from engine.ports import PaperChange
from storage import open_storage
from storage.backup import (
    BackupScheduler,
    backup_database,
    backup_file,
    backup_name,
    backup_time,
    check_backup,
    restore_database,
)
from storage.db import Database, StorageError
from storage.migrate import available
from tests.ops.conftest import undo_logging

INITIAL = 10_000.0
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
LEDGER = {
    "paper_account": "SELECT balance, next_ticket FROM paper_account",
    "paper_deals": "SELECT * FROM paper_deals ORDER BY ticket",
    "paper_positions": "SELECT * FROM paper_positions ORDER BY ticket",
}


def profit(i: int) -> float:
    # Quarters are exact in binary floating point, so sums compare exactly.
    return ((i * 37) % 17 - 8) * 0.25


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def write_ledger(
    live: Path, first: int, reached: asyncio.Event, done: asyncio.Event, extra: int
) -> int:
    """Commit one closing deal per transaction (balance moves by its profit), set ``reached``
    after ``first`` of them, go on until ``done`` is set and ``extra`` more are written;
    returns how many were written."""
    storage = await open_storage(live)
    try:
        snapshot = await storage.paper.load(INITIAL)
        balance, ticket, written, after = snapshot.balance, snapshot.next_ticket, 0, 0
        while after < extra:
            i = written
            deal = Deal(
                ticket, ticket, ticket, "XAUUSD", Side.SELL, DealEntry.OUT, 0.1,
                2000.0 + i, T0 + timedelta(minutes=i), profit=profit(i),
            )  # fmt: skip
            balance += profit(i)
            ticket += 1
            await storage.paper.commit(PaperChange(balance, ticket, deals=(deal,)))
            written += 1
            if written == first:
                reached.set()
            if done.is_set():
                after += 1
            await asyncio.sleep(0)
        return written
    finally:
        await storage.close()


async def test_backup_while_writing_then_restore_gives_the_same_ledger(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "backups" / "copy.db"
    reached, done = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(write_ledger(live, 150, reached, done, extra=60))
    await asyncio.wait_for(reached.wait(), timeout=60)
    info = await backup_file(live, copy)  # its own connection, as `chattrader db backup` has
    done.set()
    written = await writer

    assert info.path == copy and info.size == copy.stat().st_size
    assert info.schema_version == available()[-1].version
    copied = {name: rows(copy, sql) for name, sql in LEDGER.items()}
    deals = copied["paper_deals"]
    assert 150 <= len(deals) < written  # taken while the writer was busy
    # One consistent moment: the balance is the initial one plus exactly the deals it holds.
    ((balance, next_ticket),) = copied["paper_account"]
    assert balance == INITIAL + sum(profit(i) for i in range(len(deals)))
    assert next_ticket == deals[-1][0] + 1
    # And it is the live ledger's prefix, row for row.
    assert rows(live, LEDGER["paper_deals"])[: len(deals)] == deals

    at = datetime(2024, 3, 5, 8, 0, 0, tzinfo=UTC)
    report = await restore_database(copy, live, at)
    assert report.moved_aside == tmp_path / "live.db.before-restore-20240305-080000"
    assert (report.from_version, report.to_version) == (info.schema_version,) * 2
    assert {name: rows(live, sql) for name, sql in LEDGER.items()} == copied
    assert len(rows(report.moved_aside, LEDGER["paper_deals"])) == written  # kept, not lost
    storage = await open_storage(live)  # the restored file opens and resumes the same account
    try:
        assert (await storage.paper.load(INITIAL)).balance == balance
    finally:
        await storage.close()


async def test_restore_refuses_while_the_database_is_open(tmp_path: Path) -> None:
    live, copy = tmp_path / "live.db", tmp_path / "copy.db"
    storage = await open_storage(live)
    try:
        await backup_database(storage.db, copy)
        with pytest.raises(StorageError, match="in use by another process"):
            await restore_database(copy, live, T0)
    finally:
        await storage.close()
    assert live.exists() and not list(tmp_path.glob("*.before-restore-*"))


async def test_restore_refuses_a_newer_schema_and_junk(tmp_path: Path) -> None:
    live, copy, junk = tmp_path / "live.db", tmp_path / "copy.db", tmp_path / "junk.db"
    storage = await open_storage(live)
    await backup_database(storage.db, copy)
    await storage.close()
    conn = sqlite3.connect(copy)
    conn.execute(
        "INSERT INTO schema_migrations (version, name, sha256, applied_ms) "
        "VALUES (99, 'x', 'y', 0)"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="schema version 99"):
        await restore_database(copy, live, T0)
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StorageError, match="not a usable SQLite database"):
        await check_backup(junk)
    with pytest.raises(StorageError, match="no such file"):
        await check_backup(tmp_path / "missing.db")
    assert not list(tmp_path.glob("*.before-restore-*"))


async def test_backup_refuses_its_own_file(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "live.db")
    try:
        with pytest.raises(StorageError, match="onto itself"):
            await backup_database(db, tmp_path / "live.db")
    finally:
        await db.close()


def test_backup_names_round_trip() -> None:
    name = backup_name(datetime(2024, 3, 4, 9, 5, 7, tzinfo=UTC))
    assert name == "chattrader-20240304-090507.db"
    assert backup_time(Path(name)) == datetime(2024, 3, 4, 9, 5, 7, tzinfo=UTC)
    assert backup_time(Path("chattrader-2024.db")) is None


async def test_daily_schedule_and_retention(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup", encoding="utf-8")  # never touched
    storage = await open_storage(tmp_path / "live.db")
    clock = SimClock(T0)
    try:
        scheduler = BackupScheduler(storage.db, folder, keep_days=3, clock=clock)
        first = await scheduler.run_once()
        assert first == folder / "chattrader-20240304-090000.db"
        clock.advance_to(T0 + timedelta(hours=23, minutes=59))
        assert await scheduler.run_once() is None  # not a day yet
        assert scheduler.due_at() == T0 + timedelta(days=1)
        made = [first]
        for day in range(1, 6):
            clock.advance_to(T0 + timedelta(days=day))
            made.append(await scheduler.run_once())
        # At day 5, backups older than 3 days (days 0 and 1) are gone: days 2..5 stay.
        left = sorted(p.name for p in folder.iterdir())
        assert left == [backup_name(T0 + timedelta(days=d)) for d in (2, 3, 4, 5)] + ["notes.txt"]
        assert await check_backup(made[-1])
        # After a long stop every old backup is past retention, but the newest is kept.
        clock.advance_to(T0 + timedelta(days=30))
        assert scheduler.prune(clock.now()) == [
            folder / backup_name(T0 + timedelta(days=d)) for d in (2, 3, 4)
        ]
        assert [p for _, p in scheduler.backups()] == [made[-1]]
    finally:
        await storage.close()


async def test_scheduler_loop_backs_up_and_sleeps_until_due(tmp_path: Path) -> None:
    storage = await open_storage(tmp_path / "live.db")
    clock = SimClock(T0)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance_to(clock.now() + timedelta(seconds=seconds))
        if len(waits) == 3:
            raise asyncio.CancelledError

    try:
        scheduler = BackupScheduler(storage.db, tmp_path / "b", 7, clock, sleep=sleep)
        with pytest.raises(asyncio.CancelledError):
            await scheduler.run()
    finally:
        await storage.close()
    assert waits == [86400.0, 86400.0, 86400.0]
    assert len(scheduler.made) == 3


def ops_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chattrader")
    parser.add_argument("--env-file", default=".env")
    parser.add_argument("--log-level", default=None)
    sub = parser.add_subparsers(dest="command")
    db = sub.add_parser("db")
    add_db_parsers(db.add_subparsers(dest="db_command", required=True))
    return parser


async def test_db_backup_and_restore_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "data" / "chattrader.db"
    monkeypatch.setenv("DB_PATH", str(live))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    storage = await open_storage(live)
    await storage.paper.load(1234.5)
    await storage.close()
    parser = ops_parser()
    try:
        args = parser.parse_args(["db", "backup", str(tmp_path / "b.db")])
        assert await COMMANDS["db"](args) == 0
        out = capsys.readouterr().out
        assert (
            out.startswith(f"backed up {live} to {tmp_path / 'b.db'} (") and "integrity ok" in out
        )
        conn = sqlite3.connect(live)
        conn.execute("UPDATE paper_account SET balance = 1.0")
        conn.commit()
        conn.close()
        args = parser.parse_args(["db", "restore", str(tmp_path / "b.db")])
        assert await COMMANDS["db"](args) == 0
        assert "the previous database is now" in capsys.readouterr().out
        assert rows(live, "SELECT balance FROM paper_account") == [(1234.5,)]
        missing = parser.parse_args(["db", "restore", str(tmp_path / "nope.db")])
        with pytest.raises(EngineError, match="no such file"):
            await COMMANDS["db"](missing)
    finally:
        undo_logging()
