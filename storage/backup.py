"""Backups of the SQLite database: online copies, checks, restore, and a daily schedule.

``backup_database`` copies the committed database with SQLite's online backup API (one step,
under a read transaction, so the copy is one consistent moment even while another process keeps
writing), writes it under a temporary name, checks it (``PRAGMA integrity_check``) and only then
renames it into place: a file with the final name is always a complete, checked backup.

``restore_database`` refuses while any other connection has the live file open (it takes an
exclusive lock to find out), moves the current file and its WAL aside (nothing is deleted),
copies the backup in, and migrates it to this version's schema. ``BackupScheduler`` makes one
backup per day into a folder and deletes those older than the retention, never the newest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from engine.ports import Clock
from storage.db import Database, StorageError
from storage.migrate import available, current_version, migrate

log = logging.getLogger("storage.backup")

PREFIX = "chattrader-"
_NAME = re.compile(r"chattrader-(\d{8}-\d{6})\.db")
_SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """A checked backup file: its size in bytes and schema version."""

    path: Path
    size: int
    schema_version: int


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """What a restore did: the file restored, where the previous database went (None when
    there was none), and the schema versions before and after migrating the copy."""

    source: Path
    target: Path
    moved_aside: Path | None
    from_version: int
    to_version: int


def backup_name(at: datetime) -> str:
    """``chattrader-YYYYMMDD-HHMMSS.db`` for a UTC time (the scheduler's file names)."""
    return f"{PREFIX}{at.astimezone(UTC):%Y%m%d-%H%M%S}.db"


def backup_time(path: Path) -> datetime | None:
    """The UTC time in a scheduler file name, or None for any other file."""
    match = _NAME.fullmatch(path.name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)


def _check_file(path: Path) -> int:
    """Integrity check of a database file (read-only); returns its schema version."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"{path}: cannot open as SQLite ({exc})") from None
    try:
        try:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
            named = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            ).fetchone()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path}: not a usable SQLite database ({exc})") from None
        if verdict != "ok":
            raise StorageError(f"{path}: integrity check failed: {verdict}")
        if named is None:
            raise StorageError(f"{path}: not a chattrader database (no schema_migrations table)")
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        return int(row[0])
    finally:
        conn.close()


async def check_backup(path: Path) -> BackupInfo:
    """Integrity-check ``path`` and read its schema version; ``StorageError`` if unusable."""
    if not path.is_file():
        raise StorageError(f"{path}: no such file")
    version = await asyncio.to_thread(_check_file, path)
    return BackupInfo(path, path.stat().st_size, version)


async def backup_database(db: Database, target: Path) -> BackupInfo:
    """Copy the committed state of ``db`` to ``target`` (overwritten), checked, atomically."""
    target = Path(target)
    if db.path is not None and target.resolve() == db.path.resolve():
        raise StorageError(f"cannot back up {db.path} onto itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    _remove(partial)
    try:
        await db.backup_to(partial)
        await asyncio.to_thread(_seal, partial)
        info = await check_backup(partial)
        partial.replace(target)
    finally:
        for leftover in (partial, *(partial.with_name(partial.name + s) for s in _SIDECARS)):
            _remove(leftover)
    return BackupInfo(target, target.stat().st_size, info.schema_version)


async def backup_file(source: Path, target: Path) -> BackupInfo:
    """``backup_database`` of the database file ``source`` through a connection of its own
    (what ``chattrader db backup`` does beside a running bot)."""
    if not Path(source).is_file():
        raise StorageError(f"{source}: no such database file")
    db = await Database.open(source)
    try:
        return await backup_database(db, target)
    finally:
        await db.close()


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _seal(path: Path) -> None:
    """Make a fresh copy one self-contained file (rollback journal, no WAL beside it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _copy(source: Path, target: Path) -> None:
    """Online-backup ``source`` (opened read-only) into a new file ``target``."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _in_use(path: Path) -> bool:
    """True when another connection (any process) has ``path`` open."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        # In WAL mode an exclusive-mode connection needs every other connection gone.
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError:
        return True
    finally:
        conn.close()
    return False


async def restore_database(source: Path, target: Path, at: datetime) -> RestoreReport:
    """Replace the database ``target`` with the backup ``source`` (checked first).

    Refuses (``StorageError``) while ``target`` is open elsewhere: stop chattrader first. The
    current file and its WAL/SHM move to ``<name>.before-restore-<UTC time>`` beside it. The
    restored copy is migrated to this version's schema; a backup from a newer chattrader is
    refused before anything moves.
    """
    source, target = Path(source), Path(target)
    info = await check_backup(source)
    latest = available()[-1].version
    if info.schema_version > latest:
        raise StorageError(
            f"{source} has schema version {info.schema_version}; this chattrader knows up to "
            f"{latest}: upgrade chattrader first"
        )
    if target.exists() and source.resolve() == target.resolve():
        raise StorageError(f"{source} is the live database itself")
    moved: Path | None = None
    if target.exists():
        if await asyncio.to_thread(_in_use, target):
            raise StorageError(
                f"{target} is in use by another process: stop chattrader, then restore"
            )
        moved = target.with_name(f"{target.name}.before-restore-{at:%Y%m%d-%H%M%S}")
        target.replace(moved)
        for suffix in _SIDECARS:
            side = target.with_name(target.name + suffix)
            if side.exists():
                side.replace(moved.with_name(moved.name + suffix))
    target.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_copy, source, target)
    restored = await Database.open(target)
    try:
        before = await current_version(restored)
        await migrate(restored)
        after = await current_version(restored)
    finally:
        await restored.close()
    await check_backup(target)
    return RestoreReport(source, target, moved, before, after)


Sleep = Callable[[float], Awaitable[object]]


class BackupScheduler:
    """One checked backup of ``db`` per ``every`` (a day) into ``directory``, keeping
    ``keep_days`` days of them (the newest is never deleted).

    Due when the newest ``chattrader-*.db`` there is ``every`` old or more (or none exists), so
    a restart neither skips a day nor backs up twice. ``clock`` names and ages the files;
    ``sleep`` (real seconds) paces the loop. A failed backup is logged and tried again after
    ``retry``; it never stops the engine.
    """

    def __init__(
        self,
        db: Database,
        directory: Path,
        keep_days: int,
        clock: Clock,
        *,
        every: timedelta = timedelta(days=1),
        retry: timedelta = timedelta(minutes=15),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        self.db = db
        self.directory = Path(directory)
        self.keep = timedelta(days=keep_days)
        self.clock = clock
        self.every = every
        self.retry = retry
        self._sleep = sleep
        self.made: list[Path] = []

    def backups(self) -> list[tuple[datetime, Path]]:
        """Scheduler backups in the folder, oldest first."""
        if not self.directory.is_dir():
            return []
        found = [(backup_time(p), p) for p in self.directory.iterdir()]
        return sorted((t, p) for t, p in found if t is not None)

    def due_at(self) -> datetime:
        """When the next backup is due (now or earlier when overdue)."""
        existing = self.backups()
        return existing[-1][0] + self.every if existing else self.clock.now()

    async def run_once(self) -> Path | None:
        """Back up if due, then prune; the new file, or None when not due."""
        now = self.clock.now()
        if self.due_at() > now:
            return None
        info = await backup_database(self.db, self.directory / backup_name(now))
        self.made.append(info.path)
        log.info("backup %s (%d bytes, schema v%d)", info.path, info.size, info.schema_version)
        for old in self.prune(now):
            log.info("backup %s is older than %s: deleted", old.name, self.keep)
        return info.path

    def prune(self, now: datetime) -> list[Path]:
        """Delete backups older than the retention, except the newest; returns those deleted."""
        existing = self.backups()
        doomed = [p for t, p in existing[:-1] if t < now - self.keep]
        for path in doomed:
            _remove(path)
        return doomed

    async def run(self) -> None:
        """Back up whenever due, until cancelled."""
        while True:
            try:
                await self.run_once()
                wait = (self.due_at() - self.clock.now()).total_seconds()
            except (OSError, sqlite3.Error, StorageError) as exc:
                log.error("daily backup failed: %s; retrying in %s", exc, self.retry)
                wait = self.retry.total_seconds()
            await self._sleep(max(wait, 1.0))
