"""Economic calendar cache: events keyed by (time, currency, title), the last fetch, reminders."""

from __future__ import annotations

from datetime import datetime

from engine.models import EconomicEvent, Importance
from engine.ports import CalendarBatch, CalendarFetch
from storage.columns import from_ms, to_ms
from storage.db import Database, Row

_COLUMNS = "time_ms, currency, title, country, importance, actual, forecast, previous, source"


class SqliteCalendarRepo:
    """``engine.ports.CalendarRepo`` on ``calendar_events``, ``calendar_fetch`` and
    ``calendar_reminders``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def store(
        self, batches: tuple[CalendarBatch, ...], fetched: CalendarFetch | None = None
    ) -> int:
        """In one transaction, per batch: drop that source's events in [start, end), insert its
        events (same key replaces); then record ``fetched`` when given. Returns events written."""
        written = 0
        async with self._db.transaction():
            for batch in batches:
                await self._db.execute(
                    "DELETE FROM calendar_events "
                    "WHERE source = ? AND time_ms >= ? AND time_ms < ?",
                    (batch.source, to_ms(batch.start), to_ms(batch.end)),
                )
                if batch.events:
                    await self._db.executemany(
                        f"INSERT OR REPLACE INTO calendar_events ({_COLUMNS}) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [_row(e) for e in batch.events],
                    )
                written += len(batch.events)
            if fetched is not None:
                await self._db.execute(
                    "INSERT OR REPLACE INTO calendar_fetch (id, fetched_ms, sources) "
                    "VALUES (1, ?, ?)",
                    (to_ms(fetched.fetched_at), fetched.sources),
                )
        return written

    async def events(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[EconomicEvent]:
        """Cached events with time in [start, end) (None = unbounded), by time."""
        low = -(2**62) if start is None else to_ms(start)
        high = 2**62 if end is None else to_ms(end)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM calendar_events WHERE time_ms >= ? AND time_ms < ? "
            "ORDER BY time_ms, currency, title",
            (low, high),
        )
        return [_event(r) for r in rows]

    async def last_fetch(self) -> CalendarFetch | None:
        row = await self._db.fetchone("SELECT fetched_ms, sources FROM calendar_fetch")
        return None if row is None else CalendarFetch(from_ms(row[0]), row[1])

    async def prune(self, before: datetime) -> int:
        """Forget events (and their reminders) older than ``before``; returns events removed."""
        cut = to_ms(before)
        async with self._db.transaction():
            gone = await self._db.execute("DELETE FROM calendar_events WHERE time_ms < ?", (cut,))
            await self._db.execute("DELETE FROM calendar_reminders WHERE time_ms < ?", (cut,))
        return gone.rowcount

    async def mark_reminded(self, event: EconomicEvent, at: datetime) -> bool:
        """Record a reminder for ``event``; False when one was already recorded (send none).

        Atomic in SQL, so two tasks asking at once get one True between them.
        """
        written = await self._db.execute(
            "INSERT INTO calendar_reminders (time_ms, currency, title, reminded_ms) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (to_ms(event.time), event.currency, event.title, to_ms(at)),
        )
        return written.rowcount == 1


def _row(e: EconomicEvent) -> tuple[object, ...]:
    return (
        to_ms(e.time),
        e.currency,
        e.title,
        e.country,
        e.importance.value,
        e.actual,
        e.forecast,
        e.previous,
        e.source,
    )


def _event(row: Row) -> EconomicEvent:
    time_ms, currency, title, country, importance, actual, forecast, previous, source = row
    return EconomicEvent(
        time=from_ms(time_ms),
        currency=currency,
        country=country,
        title=title,
        importance=Importance(importance),
        actual=actual,
        forecast=forecast,
        previous=previous,
        source=source,
    )
