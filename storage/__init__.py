"""aiosqlite persistence of chattrader: one database, its migrations, one repository per aggregate.

``await open_storage(path)`` opens the file (or ":memory:"), applies pending migrations and
returns a ``Storage`` whose attributes implement the repository Protocols of ``engine.ports``;
``storage.db`` is the ``UnitOfWork`` (``async with storage.db.transaction(): ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.ports import Clock
from storage.db import Database
from storage.migrate import migrate as _migrate
from storage.repos.audit import SqliteAuditRepo
from storage.repos.bars import SqliteBarRepo
from storage.repos.calendar import SqliteCalendarRepo
from storage.repos.equity import SqliteEquityRepo
from storage.repos.orders import SqliteOrderRepo
from storage.repos.outbox import SqliteOutboxRepo
from storage.repos.paper import SqlitePaperLedger
from storage.repos.state import SqliteStateRepo
from storage.repos.trades import SqliteTradeRepo
from storage.repos.users import SqliteUserRepo


class UtcClock:
    """Wall-clock UTC, used when ``open_storage`` is given no clock (storage may read it)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Storage:
    db: Database
    orders: SqliteOrderRepo
    trades: SqliteTradeRepo
    paper: SqlitePaperLedger
    state: SqliteStateRepo
    audit: SqliteAuditRepo
    users: SqliteUserRepo
    outbox: SqliteOutboxRepo
    bars: SqliteBarRepo
    equity: SqliteEquityRepo
    calendar: SqliteCalendarRepo

    @classmethod
    def over(cls, db: Database, clock: Clock) -> Storage:
        """Repositories over an open, migrated database."""
        return cls(
            db=db,
            orders=SqliteOrderRepo(db),
            trades=SqliteTradeRepo(db),
            paper=SqlitePaperLedger(db),
            state=SqliteStateRepo(db),
            audit=SqliteAuditRepo(db),
            users=SqliteUserRepo(db),
            outbox=SqliteOutboxRepo(db, clock),
            bars=SqliteBarRepo(db),
            equity=SqliteEquityRepo(db),
            calendar=SqliteCalendarRepo(db),
        )

    async def close(self) -> None:
        await self.db.close()


async def open_storage(path: str | Path, clock: Clock | None = None) -> Storage:
    """Open ``path`` (":memory:" for a throwaway database), migrate it to the latest version.

    ``clock`` stamps outbox messages enqueued without a time; default wall-clock UTC.
    """
    db = await Database.open(path)
    try:
        await _migrate(db)
    except BaseException:
        await db.close()
        raise
    return Storage.over(db, clock or UtcClock())


__all__ = ["Database", "Storage", "UtcClock", "open_storage"]
