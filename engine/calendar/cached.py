"""``CachedCalendar``: the ``Calendar`` port read from memory, refreshed from sources into SQLite.

Gates call ``status()`` and ``events_between()``, which read an in-memory copy of the SQLite
cache and never wait on the network. ``refresh()`` asks every source in order, merges their
answers by (time, currency, title), stores them and reloads the copy; a source that fails is
logged and named in ``status().reason`` while the old data stays. The data is fresh while the
last refresh that read a *complete* source is at most ``stale_after`` old; after that the status
is not ok and the news gate applies its policy (block by default). ``run_refresher`` repeats
``refresh`` every ``interval``, retrying sooner (doubling from ``retry_min``) after a failure.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from engine.calendar.http_json import SourceError
from engine.calendar.sources import CalendarSource, first_seen, matches
from engine.models import CalendarStatus, EconomicEvent, Importance
from engine.ports import CalendarBatch, CalendarFetch, CalendarRepo, Clock

log = logging.getLogger(__name__)

_MS = timedelta(milliseconds=1)

Pause = Callable[[float, asyncio.Event], Awaitable[None]]


class CachedCalendar:
    """Implements ``engine.ports.Calendar`` (sync reads) plus ``refresh``/``run_refresher``.

    ``look_back``/``look_ahead`` set the span asked of sources around now; events older than
    ``keep`` are pruned. Build with ``await CachedCalendar.open(...)`` to load the cache first.
    """

    def __init__(
        self,
        repo: CalendarRepo,
        clock: Clock,
        sources: Sequence[CalendarSource] = (),
        *,
        stale_after: timedelta = timedelta(hours=6),
        look_back: timedelta = timedelta(days=1),
        look_ahead: timedelta = timedelta(days=8),
        keep: timedelta = timedelta(days=14),
    ) -> None:
        if stale_after <= timedelta(0) or look_back < timedelta(0) or look_ahead <= timedelta(0):
            msg = "stale_after and look_ahead must be positive and look_back not negative"
            raise ValueError(msg)
        self._repo = repo
        self._clock = clock
        self.sources = tuple(sources)
        self.stale_after = stale_after
        self.look_back = look_back
        self.look_ahead = look_ahead
        self.keep = max(keep, look_back)
        self._events: tuple[EconomicEvent, ...] = ()
        self._times: tuple[datetime, ...] = ()
        self._fetch: CalendarFetch | None = None
        self._problems: tuple[str, ...] = ()
        self._refreshed = False  # the last refresh stored a complete source's answer
        self._refreshing = asyncio.Lock()  # the refresher and a manual refresh take turns

    @classmethod
    async def open(
        cls,
        repo: CalendarRepo,
        clock: Clock,
        sources: Sequence[CalendarSource] = (),
        **options: timedelta,
    ) -> CachedCalendar:
        """A calendar with the stored cache loaded (no network call; ``refresh`` does that)."""
        calendar = cls(repo, clock, sources, **options)
        await calendar.load()
        return calendar

    async def load(self) -> None:
        """Replace the in-memory copy with the stored events and the last complete fetch."""
        events = await self._repo.events()
        self._fetch = await self._repo.last_fetch()
        self._events = tuple(events)
        self._times = tuple(e.time for e in events)

    # ----------------------------------------------------------------- Calendar port

    def status(self) -> CalendarStatus:
        """Configured; ok while the last complete fetch is at most ``stale_after`` old."""
        fetch = self._fetch
        problems = "; ".join(self._problems)
        if fetch is None:
            why = problems or ("no source configured" if not self.sources else "not fetched yet")
            return CalendarStatus(True, False, None, f"no calendar data yet: {why}")
        age = max(self._clock.now() - fetch.fetched_at, timedelta(0))
        if age > self.stale_after:
            reason = f"calendar data is {_span(age)} old (stale after {_span(self.stale_after)})"
            if problems:
                reason += f"; last refresh: {problems}"
            return CalendarStatus(True, False, fetch.fetched_at, reason, fetch.sources)
        reason = f"last refresh: {problems}" if problems else ""
        return CalendarStatus(True, True, fetch.fetched_at, reason, fetch.sources)

    def events_between(
        self, start: datetime, end: datetime, currencies: frozenset[str] | None = None
    ) -> list[EconomicEvent]:
        """Cached events with time in [start, end), for ``currencies`` (None = all); events for
        ``ALL`` currencies match any set."""
        times, events = self._times, self._events  # one consistent snapshot
        lo, hi = bisect.bisect_left(times, start), bisect.bisect_left(times, end)
        return [e for e in events[lo:hi] if matches(e, currencies)]

    # ----------------------------------------------------------------- refreshing

    async def refresh(self) -> CalendarStatus:
        """Ask every source, store what they answered, reload; never raises (except on cancel).

        A source's events replace its cached rows over the span they cover (first to last event
        time), so a release moved or withdrawn there disappears; rows outside it stay.
        """
        async with self._refreshing:
            return await self._refresh()

    async def _refresh(self) -> CalendarStatus:
        now = self._clock.now()
        start, end = now - self.look_back, now + self.look_ahead
        answers: list[tuple[CalendarSource, list[EconomicEvent]]] = []
        problems: list[str] = []
        for source in self.sources:
            try:
                answers.append((source, await source.fetch(start, end)))
            except SourceError as exc:
                problems.append(str(exc))
                log.warning("calendar: %s", exc)
            except Exception as exc:  # a bug in one source must not stop the others
                problems.append(f"{source.name}: failed ({type(exc).__name__})")
                log.error("calendar: %s failed with %s", source.name, type(exc).__name__)
        complete = [s.name for s, _ in answers if s.complete]
        if self.sources and not complete and not problems:
            problems.append("no complete source answered (a guest key gets a sample only)")
        fetched = CalendarFetch(now, ", ".join(complete)) if complete else None
        stored = False
        try:
            await self._store(answers, fetched)
            await self._repo.prune(now - self.keep)
            await self.load()
            stored = True
        except Exception as exc:  # the cache is unusable: keep the copy in memory
            problems.append(f"cache: {type(exc).__name__}: {exc}")
            log.error("calendar: storing the refresh failed: %s", exc)
        self._problems = tuple(problems)
        self._refreshed = stored and bool(complete)
        return self.status()

    async def _store(
        self,
        answers: list[tuple[CalendarSource, list[EconomicEvent]]],
        fetched: CalendarFetch | None,
    ) -> None:
        if not answers and fetched is None:
            return
        batches: list[CalendarBatch] = []
        for (source, events), mine in zip(answers, first_seen(e for _, e in answers), strict=True):
            if not events:
                continue
            # Rows are replaced by source name, so every row must carry the batch's name.
            own = tuple(
                e if e.source == source.name else replace(e, source=source.name) for e in mine
            )
            span = (min(e.time for e in events), max(e.time for e in events) + _MS)
            batches.append(CalendarBatch(source.name, *span, own))
        await self._repo.store(tuple(batches), fetched)

    async def run_refresher(
        self,
        interval: timedelta,
        stop: asyncio.Event,
        *,
        retry_min: timedelta = timedelta(minutes=1),
        pause: Pause | None = None,
    ) -> None:
        """Refresh now and then every ``interval`` until ``stop`` is set; after a refresh that
        read no complete source, retry after ``retry_min``, doubling up to ``interval``."""
        wait = pause or _pause_unless_stopped
        failures = 0
        while not stop.is_set():
            await self.refresh()
            failures = 0 if self._refreshed or not self.sources else failures + 1
            delay = interval if failures == 0 else min(interval, retry_min * 2 ** (failures - 1))
            await wait(delay.total_seconds(), stop)

    # ----------------------------------------------------------------- reminders

    async def due_reminders(
        self,
        now: datetime,
        lead: timedelta,
        *,
        currencies: frozenset[str] | None = None,
        min_importance: Importance = Importance.HIGH,
    ) -> list[EconomicEvent]:
        """Events starting in [now, now + lead] at or above ``min_importance`` that were never
        reminded about; each is recorded as reminded (in SQLite) before it is returned."""
        due: list[EconomicEvent] = []
        for event in self.events_between(now, now + lead + _MS, currencies):
            if event.importance.rank < min_importance.rank:
                continue
            if await self._repo.mark_reminded(event, now):
                due.append(event)
        return due


async def _pause_unless_stopped(seconds: float, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _span(delta: timedelta) -> str:
    """ "3 h 5 min" / "40 min" / "2 d 1 h": whole minutes, for reasons people read."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
