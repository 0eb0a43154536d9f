"""Run backtest jobs off the event loop: in a process pool, or in a thread, with progress and
cancellation.

``BacktestPool`` owns a ``ProcessPoolExecutor`` (spawn start method: safe next to asyncio and
threads, and the only one on Windows, where MT5 runs) plus one queue that carries progress
from the workers and a small shared array of cancel flags, one slot per running job. A reader
thread hands progress to each job's callback on the event loop. ``run_job`` awaits one job; with
no pool it runs in a thread of this process instead (the CLI's choice: no worker start-up).

Cancelling (an ``asyncio.Event`` set, or the awaiting task cancelled) raises the job's flag;
the job stops at its next ``checkpoint()`` and the caller gets ``JobCancelled`` (or its own
``CancelledError``) at once, without waiting for the worker. The pool's ``executor`` is a plain
``concurrent.futures.Executor`` for grids (``engine.backtest.optimize``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

from engine.backtest.jobs import JobCancelled, Progress, ProgressCallback, run_controlled

log = logging.getLogger(__name__)
T = TypeVar("T")
SLOTS = 256  # jobs in flight per pool; a flag byte each

# Worker-process globals, set once by the pool's initializer.
_queue: Any = None
_flags: Any = None


def _init_worker(progress_queue: Any, flags: Any) -> None:
    global _queue, _flags  # noqa: PLW0603 - per-process state of a pool worker
    _queue, _flags = progress_queue, flags


class _WorkerControl:
    def __init__(self, slot: int) -> None:
        self.slot = slot

    def report(self, progress: Progress) -> None:
        _queue.put((self.slot, progress.stage, progress.done, progress.total))

    def cancelled(self) -> bool:
        return bool(_flags[self.slot])


_END = "\x00end"  # last message of every job: its progress is all delivered


def _call_in_worker(slot: int, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    try:
        return run_controlled(_WorkerControl(slot), fn, args)
    finally:
        _queue.put((slot, _END, 0, 0))


class _ThreadControl:
    def __init__(self, loop: asyncio.AbstractEventLoop, callback: ProgressCallback | None) -> None:
        self.loop, self.callback = loop, callback
        self.flag = threading.Event()

    def report(self, progress: Progress) -> None:
        if self.callback is not None:
            self.loop.call_soon_threadsafe(self.callback, progress)

    def cancelled(self) -> bool:
        return self.flag.is_set()


DRAIN_TIMEOUT_S = 5.0


class _Listener:
    """Where one job's progress goes, and whether its last report has arrived."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: ProgressCallback | None) -> None:
        self.loop, self.callback = loop, callback
        self.drained = asyncio.Event()

    def call(self, fn: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            self.loop.call_soon_threadsafe(fn, *args)


class BacktestPool:
    """A process pool for backtests with progress and cancellation; close it when done."""

    def __init__(self, workers: int | None = None, *, start_method: str = "spawn") -> None:
        ctx = mp.get_context(start_method)
        self._queue = ctx.Queue()
        self._flags = ctx.RawArray("b", SLOTS)
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.executor: Executor = ProcessPoolExecutor(
            self.workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self._queue, self._flags),
        )
        self._free = list(range(SLOTS))
        self._listeners: dict[int, _Listener] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="backtest-progress", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            slot, stage, done, total = item
            with self._lock:
                listener = self._listeners.get(slot)
            if stage == _END:
                self._release(slot)
                if listener is not None:
                    listener.call(listener.drained.set)
            elif listener is not None and listener.callback is not None:
                listener.call(listener.callback, Progress(stage, done, total))

    def _take_slot(self) -> int:
        with self._lock:
            if not self._free:
                msg = f"more than {SLOTS} backtests in flight"
                raise RuntimeError(msg)
            slot = self._free.pop()
        self._flags[slot] = 0
        return slot

    def _release(self, slot: int) -> None:
        """Free ``slot`` once its job can send nothing more (it ended, or never started)."""
        with self._lock:
            self._listeners.pop(slot, None)
            self._free.append(slot)

    async def warm(self) -> None:
        """Start every worker now (each imports the engine once, about a second)."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self.executor, os.getpid) for _ in range(self.workers)]
        await asyncio.gather(*futures)

    async def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        progress: ProgressCallback | None = None,
        cancel: asyncio.Event | None = None,
    ) -> T:
        """``fn(*args)`` in a worker process; ``fn`` and ``args`` must pickle."""
        _refuse_if_cancelled(cancel)
        slot = self._take_slot()
        listener = _Listener(asyncio.get_running_loop(), progress)
        with self._lock:
            self._listeners[slot] = listener
        future: Future[T] = self.executor.submit(_call_in_worker, slot, fn, args)
        # A job cancelled before it started sends no end message: free its slot here.
        future.add_done_callback(lambda f: self._release(slot) if f.cancelled() else None)

        def stop() -> None:
            self._flags[slot] = 1
            future.cancel()

        result = await _await(asyncio.wrap_future(future), cancel, stop)
        # Progress travels apart from the result: wait until the last report is delivered.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(listener.drained.wait(), DRAIN_TIMEOUT_S)
        return result

    def close(self, *, wait: bool = True) -> None:
        """Cancel queued jobs and stop the workers and the progress reader. ``wait=False``
        returns at once and lets the workers exit while this process goes on (a CLI about to
        exit saves the workers' interpreter teardown)."""
        for slot in range(SLOTS):
            self._flags[slot] = 1
        self.executor.shutdown(wait=wait, cancel_futures=True)
        self._queue.put(None)
        if wait:
            self._reader.join(timeout=5)
            self._queue.close()

    def __enter__(self) -> BacktestPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _refuse_if_cancelled(cancel: asyncio.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        msg = "backtest cancelled before it started"
        raise JobCancelled(msg)


async def _await(
    job: asyncio.Future[T], cancel: asyncio.Event | None, stop: Callable[[], None]
) -> T:
    """The job's result, or ``JobCancelled`` as soon as ``cancel`` is set."""
    waiter = asyncio.ensure_future(cancel.wait()) if cancel is not None else None
    try:
        if waiter is None:
            return await job
        done, _ = await asyncio.wait({job, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if job in done:
            return job.result()
        stop()
        job.cancel()
        msg = "backtest cancelled"
        raise JobCancelled(msg)
    except asyncio.CancelledError:
        stop()
        raise
    finally:
        if waiter is not None:
            waiter.cancel()


async def run_job(
    fn: Callable[..., T],
    *args: Any,
    pool: BacktestPool | None = None,
    progress: ProgressCallback | None = None,
    cancel: asyncio.Event | None = None,
) -> T:
    """``fn(*args)`` in ``pool``'s worker processes, or in a thread when ``pool`` is None."""
    if pool is not None:
        return await pool.run(fn, *args, progress=progress, cancel=cancel)
    _refuse_if_cancelled(cancel)
    loop = asyncio.get_running_loop()
    control = _ThreadControl(loop, progress)
    job = loop.run_in_executor(None, run_controlled, control, fn, args)
    return await _await(job, cancel, control.flag.set)
