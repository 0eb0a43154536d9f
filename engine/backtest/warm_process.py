"""One spawned process that imports the heavy modules now and runs one call at a time later.

A one-shot command (``chattrader backtest``) starts it first thing: while this process loads
its own modules, the data and runs the backtest, the helper imports matplotlib and mplfinance
on the other core, so the charts start the moment the result exists. It is a plain
``multiprocessing.Process`` on a ``Pipe`` rather than a pool: the caller decides when it dies
(``close`` terminates it, the interpreter's teardown included), and it ends by itself when the
caller's end of the pipe closes, so it never outlives a crashed parent.

``call`` raises ``HelperUnavailable`` when the process is gone (it could not start, crashed,
or was killed); the caller then does the work itself. An exception raised by the function is
re-raised here as itself when it pickles, else as ``HelperUnavailable`` with its text.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import multiprocessing as mp
import pickle
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def imports_without_gc() -> Iterator[None]:
    """Import a lot quickly: no cyclic collection while modules load (module objects are not
    garbage; CPython 3.11 runs several full collections over them during a pandas plus
    matplotlib import, about 15% of it), then freeze what was loaded so later collections
    skip it. For processes that then run one job, not for a long-lived server."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


class HelperUnavailable(RuntimeError):
    """The helper process cannot run the call (not started, died, or failed oddly)."""


def _serve(conn: Connection, preload: Sequence[str]) -> None:
    """The helper's main loop: import, then answer ``(fn, args)`` messages until EOF."""
    with imports_without_gc():
        for module in preload:
            importlib.import_module(module)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except Exception as exc:  # noqa: BLE001 - the caller decides what an error means
            reply = ("error", exc)
        try:
            conn.send(reply)
        except Exception:  # noqa: BLE001 - an unpicklable exception or result
            conn.send(("error", HelperUnavailable(traceback.format_exc(limit=3))))


class WarmProcess:
    """A helper process that has imported ``preload`` (in the background) before any call."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        ctx = mp.get_context("spawn")  # safe next to threads and asyncio; Windows' only one
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve, args=(child, tuple(preload)), name="warm-helper", daemon=True
        )
        self._process.start()
        child.close()  # the helper holds the only other end: our close means EOF there
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            # Pickled whole before anything is written: a refusal leaves the pipe clean.
            self._conn.send((fn, args))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            msg = f"the call cannot be sent to the helper: {exc}"
            raise HelperUnavailable(msg) from exc
        except (OSError, BrokenPipeError) as exc:
            msg = f"the helper process ended ({self._process.exitcode})"
            raise HelperUnavailable(msg) from exc
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            msg = f"the helper process ended ({self._process.exitcode})"
            raise HelperUnavailable(msg) from exc
        if status == "error":
            raise value
        return value

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the helper; waits for its imports first. ``fn`` and ``args``
        must pickle (``fn`` by reference: a module-level function)."""
        if self._conn.closed:
            msg = "the helper process is closed"
            raise HelperUnavailable(msg)
        async with self._lock:  # one message in flight: replies match requests
            return await asyncio.to_thread(self._call, fn, args)

    def close(self) -> None:
        """Stop the helper now, without waiting for its interpreter's teardown."""
        with contextlib.suppress(OSError):
            self._conn.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=1)

    def __enter__(self) -> WarmProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
