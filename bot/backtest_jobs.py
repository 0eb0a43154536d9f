"""Backtests started from the chat: one process pool, one job per user, the last trades CSV.

``BacktestJobs`` is the workflow data ``backtests``. It builds the process's ``BacktestPool``
on the first job (so a bot nobody backtests with never starts worker processes) and closes it
when the dispatcher shuts down; it reads history through a ``HistoryChain`` (the MT5 terminal
first when BROKER=mt5, then the bars cache with the bundled data behind it, as the CLI does) and
takes symbol specs from the broker. A user has at most one job at a time: ``reserve`` is
synchronous, so two commands handled at once cannot both start one. A job runs as a task beside
polling, so the bot keeps answering; its ``cancel`` event stops the engine's job at its next
checkpoint (or before it starts). The trades CSV of each user's last report is kept in memory
for ``keep_csv`` (an hour): after that, or after a restart, the button answers that the file is
gone and asks for a new run.

``ProgressMessage`` edits one message with the job's stage, at most once per ``every`` seconds
(Telegram limits edits per chat), and always shows the final text last.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardMarkup, Message

from bot import replies
from engine.backtest.history import HistoryChain
from engine.backtest.jobs import Progress
from engine.backtest.pool import BacktestPool
from engine.backtest.service import BacktestDefaults
from engine.config import Settings
from engine.errors import BadArguments, BrokerUnavailable, DataUnavailable
from engine.models import SymbolSpec
from engine.ports import Broker, MarketData
from engine.symbols import default_spec

if TYPE_CHECKING:
    from bot.wiring import Core

log = logging.getLogger("chattrader.bot")

KEEP_CSV = timedelta(hours=1)
EDIT_EVERY_S = 1.0  # Telegram allows about one edit a second in a chat
WORKERS = 2


@dataclass(eq=False)
class Job:
    """One running chat job; ``cancel`` set = stop as soon as the engine can."""

    id: str
    owner: int
    chat_id: int
    kind: str  # "backtest", "optimize", "compare"
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class TradesFile:
    """The trades CSV of one finished report, kept until ``expires`` (monotonic seconds)."""

    job: str
    owner: int
    chat_id: int
    filename: str
    data: bytes
    rows: int
    expires: float


class BacktestJobs:
    """Chat backtests of this process: the pool, the running jobs, the last CSV per user."""

    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        data: MarketData,
        *,
        workers: int = WORKERS,
        keep_csv: timedelta = KEEP_CSV,
        edit_every: float = EDIT_EVERY_S,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.data = data
        self.workers = workers
        self.keep_csv = keep_csv.total_seconds()
        self.edit_every = edit_every
        self._now = now
        self._pool: BacktestPool | None = None
        self._jobs: dict[str, Job] = {}
        self._files: dict[int, TradesFile] = {}  # owner -> their last report's trades

    @classmethod
    def from_core(cls, core: Core) -> BacktestJobs:
        """History from the MT5 terminal when BROKER=mt5, then the cache, then bundled bars."""
        sources: list[MarketData] = [core.data]
        if core.settings.broker.kind == "mt5":
            sources.insert(0, core.broker)  # type: ignore[arg-type]  # MT5Broker has history()
        return cls(core.settings, core.broker, HistoryChain(sources, core.clock))

    # ------------------------------------------------------------------ engine inputs

    def pool(self) -> BacktestPool:
        """The process's worker pool, started on first use."""
        if self._pool is None:
            self._pool = BacktestPool(self.workers)
        return self._pool

    def drop_pool(self) -> None:
        """Forget a broken pool (a worker died): the next job starts a fresh one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(wait=False)

    def defaults(self) -> BacktestDefaults:
        """The paper account, costs, risk limits and timeframe from the settings (the same
        numbers ``chattrader backtest`` uses)."""
        return BacktestDefaults.from_settings(self.settings)

    def strategy_token(self, args: str | None) -> str:
        """``args`` with ``strategy=`` set to the configured strategy when it names none."""
        words = (args or "").split()
        if any(w.lower().startswith("strategy=") for w in words):
            return " ".join(words)
        return " ".join([*words, f"strategy={self.settings.trading.strategy}"])

    async def spec(self, symbol: str) -> SymbolSpec:
        """The broker's spec of ``symbol``; the paper defaults when the broker does not know it
        or cannot be reached (``BadArguments`` ``unknown_symbol`` when nobody does)."""
        try:
            return await self.broker.symbol(symbol)
        except (BadArguments, DataUnavailable, BrokerUnavailable):
            return default_spec(symbol)

    # ------------------------------------------------------------------ jobs

    def running(self, owner: int) -> Job | None:
        return next((j for j in self._jobs.values() if j.owner == owner), None)

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def reserve(self, owner: int, chat_id: int, kind: str) -> Job | None:
        """A new job for ``owner``, or None while they have one running (no await: atomic)."""
        if self.running(owner) is not None:
            return None
        job = Job(secrets.token_hex(4), owner, chat_id, kind)
        self._jobs[job.id] = job
        return job

    def release(self, job: Job) -> None:
        """Forget ``job`` (it ended, or never started)."""
        self._jobs.pop(job.id, None)

    def launch(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` as ``job``'s task; the job is released when it ends."""
        task = asyncio.create_task(work, name=f"{job.kind}-{job.id}")
        job.task = task
        task.add_done_callback(lambda _: self.release(job))

    async def idle(self) -> None:
        """Wait until every running job has ended."""
        tasks = [j.task for j in list(self._jobs.values()) if j.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Cancel running jobs and stop the worker processes (dispatcher shutdown)."""
        for job in list(self._jobs.values()):
            job.cancel.set()
            if job.task is not None:
                job.task.cancel()
        await self.idle()
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.close)

    # ------------------------------------------------------------------ trades files

    def keep_trades(self, job: Job, filename: str, data: bytes, rows: int) -> None:
        """Keep ``job``'s trades CSV as its owner's last one (replacing the one before)."""
        expires = self._now() + self.keep_csv
        self._files[job.owner] = TradesFile(
            job.id, job.owner, job.chat_id, filename, data, rows, expires
        )

    def trades(self, job_id: str, chat_id: int) -> TradesFile | None:
        """The kept CSV of ``job_id`` if it is still kept and belongs to ``chat_id``."""
        now = self._now()
        for owner, kept in list(self._files.items()):
            if kept.expires <= now:
                del self._files[owner]
        found = next((f for f in self._files.values() if f.job == job_id), None)
        return found if found is not None and found.chat_id == chat_id else None


Sleep = Callable[[float], Coroutine[Any, Any, None]]


class ProgressMessage:
    """One message that follows a job: edited at most once per ``every`` seconds with the
    latest stage, then replaced by the final text (``finish``), which no late edit overwrites.
    ``now``/``sleep`` are injectable so tests control time."""

    def __init__(
        self,
        message: Message,
        render: Callable[[Progress], str],
        markup: InlineKeyboardMarkup | None,
        *,
        every: float = EDIT_EVERY_S,
        now: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.message = message
        self._render = render
        self._markup = markup
        self.every = every
        self._now, self._sleep = now, sleep
        self._latest: Progress | None = None
        self._shown = message.text or ""
        self._last = -float("inf")
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.edits = 0
        # Progress arrives through the pool's reader thread, outside the update's context:
        # edits run in the context (language) the message was created in.
        self._context = contextvars.copy_context()

    def update(self, progress: Progress) -> None:
        """Record ``progress`` (called on the event loop, never blocks); an edit follows."""
        if self._closed:
            return
        self._latest = progress
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush(), context=self._context)

    async def _flush(self) -> None:
        while not self._closed and self._latest is not None:
            text = self._render(self._latest)
            if text == self._shown:
                return
            wait = self._last + self.every - self._now()
            if wait > 0:
                await self._sleep(wait)
                continue  # a newer stage may have arrived meanwhile
            self._shown, self._last = text, self._now()
            self.edits += 1
            await replies.edit(self.message, text, self._markup)

    async def finish(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Stop following the job and show ``text`` (with ``markup``, else no buttons)."""
        self._closed = True
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._shown = text
        await replies.edit(self.message, text, markup)
