"""One aiosqlite connection with explicit, task-serialised transactions (the ``UnitOfWork`` port).

The connection runs in autocommit mode (``isolation_level=None``) so that ``transaction()`` alone
decides where a transaction begins and ends: ``BEGIN IMMEDIATE`` takes SQLite's write lock up
front (no upgrade deadlocks between processes), ``COMMIT`` on success, ``ROLLBACK`` on any
exception. An ``asyncio.Lock`` serialises transactions across tasks, because every task shares
this one connection and would otherwise see or commit another task's half-written rows. Inside a
task, nested ``transaction()`` blocks join the outer one (tracked with a ``ContextVar``; tasks
started inside a transaction inherit it and join too while it is open). The ``execute``/``fetch*``
helpers join the current transaction, or else run atomically on their own under the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

MEMORY = ":memory:"
BUSY_TIMEOUT_MS = 5_000

Params = Sequence[object] | Mapping[str, object]
Row = tuple[Any, ...]


class StorageError(RuntimeError):
    """A storage invariant was broken (unknown row, schema from a newer version, ...)."""


class TransactionRolledBack(StorageError):
    """An inner block failed, was caught, and the outer block tried to commit anyway."""


@dataclass(frozen=True, slots=True)
class Written:
    """What a write statement did: rows changed and the rowid of the last insert."""

    rowcount: int
    lastrowid: int | None


@dataclass(slots=True)
class _TxState:
    active: bool = True
    failed: bool = False


class Database:
    """An open SQLite database. Create with ``await Database.open(path)``; ``await close()``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | None, journal_mode: str) -> None:
        self._conn: aiosqlite.Connection | None = conn
        self.path = path  # None for ":memory:"
        self.journal_mode = journal_mode  # "wal" for files, "memory" for ":memory:"
        self._lock = asyncio.Lock()
        # One variable per database: a task may hold transactions on two databases at once.
        self._tx: ContextVar[_TxState | None] = ContextVar(f"storage_tx_{id(self)}", default=None)

    @classmethod
    async def open(cls, path: str | Path) -> Database:
        """Open (creating parent folders) with WAL, foreign keys on and a 5 s busy timeout."""
        file: Path | None = None if str(path) == MEMORY else Path(path)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(MEMORY if file is None else file, isolation_level=None)
        try:
            # The timeout first: switching to WAL needs a lock another process may hold.
            await _pragma(conn, f"busy_timeout={BUSY_TIMEOUT_MS}")
            journal = await _pragma(conn, "journal_mode=WAL" if file else "journal_mode")
            await _pragma(conn, "foreign_keys=ON")
            # NORMAL is durable against application crashes in WAL mode; only an OS crash or
            # power loss can lose the last commits, never corrupt the file.
            await _pragma(conn, "synchronous=NORMAL")
            if await _pragma(conn, "foreign_keys") != 1:
                msg = "this SQLite build cannot enforce foreign keys"
                raise StorageError(msg)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, file, str(journal))

    @property
    def closed(self) -> bool:
        return self._conn is None

    async def close(self) -> None:
        """Close the connection (idempotent). Waits for a running transaction to finish."""
        if self._conn is None:
            return
        if self.in_transaction():
            msg = "cannot close the database inside its own transaction"
            raise StorageError(msg)
        async with self._lock:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """One SQLite transaction for everything awaited inside; nested blocks join it.

        Commits when the outermost block exits normally, rolls back on any exception. If a
        nested block raised and the exception was caught, the outer block rolls back and
        raises ``TransactionRolledBack`` rather than commit a half-applied inner step.
        """
        return _Transaction(self)

    def in_transaction(self) -> bool:
        """True when the current task runs inside an open ``transaction()`` of this database."""
        state = self._tx.get()
        return state is not None and state.active

    async def execute(self, sql: str, params: Params = ()) -> Written:
        """Run one statement; joins the current transaction, else is atomic on its own."""
        if self.in_transaction():
            return await self._execute(sql, params)
        async with self._lock:
            return await self._execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per parameter row, all in one transaction; returns rows changed."""
        async with self.transaction():
            cursor = await self._connection().executemany(sql, rows)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """First row of a query as a tuple, or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query as tuples (one round trip to the connection's thread)."""
        if self.in_transaction():
            return await self._fetchall(sql, params)
        async with self._lock:
            return await self._fetchall(sql, params)

    async def backup_to(self, path: str | Path) -> None:
        """Copy the committed database to ``path`` with SQLite's online backup API.

        Overwrites ``path``. Not allowed inside a transaction (it would copy uncommitted rows).
        """
        target = Path(path)
        if self.path is not None and target.resolve() == self.path.resolve():
            msg = f"cannot back up {self.path} onto itself"
            raise ValueError(msg)
        if self.in_transaction():
            msg = "backup_to inside a transaction would copy uncommitted rows"
            raise StorageError(msg)
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            conn = self._connection()
            # The backup runs on this connection's worker thread and writes through the
            # target's sqlite3 handle, so that handle must accept calls from another thread.
            dest = await aiosqlite.connect(target, isolation_level=None, check_same_thread=False)
            try:
                await conn.backup(dest)
            finally:
                await dest.close()

    # ----------------------------------------------------------------- internals

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            msg = "the database is closed"
            raise StorageError(msg)
        return self._conn

    async def _execute(self, sql: str, params: Params) -> Written:
        cursor = await self._connection().execute(sql, params)
        written = Written(cursor.rowcount, cursor.lastrowid)
        await cursor.close()
        return written

    async def _fetchall(self, sql: str, params: Params) -> list[Row]:
        rows = await self._connection().execute_fetchall(sql, params)
        return list(rows)  # type: ignore[arg-type]

    async def _rollback(self, conn: aiosqlite.Connection) -> None:
        # Statements run in FIFO order on the connection's thread, so a ROLLBACK queued here
        # runs before anything a later transaction queues, even if this await is cancelled.
        with contextlib.suppress(sqlite3.OperationalError):  # BEGIN never ran or COMMIT did
            await conn.execute("ROLLBACK")


class _Transaction(AbstractAsyncContextManager[None]):
    """Async context manager behind ``Database.transaction()``."""

    __slots__ = ("_db", "_joined", "_state", "_token")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._state: _TxState | None = None
        self._token: Token[_TxState | None] | None = None
        self._joined = False

    async def __aenter__(self) -> None:
        db = self._db
        current = db._tx.get()
        if current is not None and current.active:
            self._state, self._joined = current, True
            return
        await db._lock.acquire()
        try:
            conn = db._connection()
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                await db._rollback(conn)  # a cancelled BEGIN still runs on the worker thread
                raise
        except BaseException:
            db._lock.release()
            raise
        self._state = _TxState()
        self._token = db._tx.set(self._state)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state = self._state
        assert state is not None
        if self._joined:
            if exc_type is not None:
                state.failed = True
            return
        db = self._db
        assert self._token is not None
        db._tx.reset(self._token)
        state.active = False
        try:
            conn = db._connection()
            if exc_type is None and not state.failed:
                try:
                    await conn.execute("COMMIT")
                except BaseException:
                    await db._rollback(conn)
                    raise
            else:
                await db._rollback(conn)
        finally:
            db._lock.release()
        if exc_type is None and state.failed:
            msg = "a nested transaction block failed; the whole transaction was rolled back"
            raise TransactionRolledBack(msg)


async def _pragma(conn: aiosqlite.Connection, pragma: str) -> object:
    rows = list(await conn.execute_fetchall(f"PRAGMA {pragma}"))
    return rows[0][0] if rows else None
