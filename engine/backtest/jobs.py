"""Progress reports and cancellation checks from inside a running job, wherever it runs.

A job (a backtest, a chunk of an optimisation grid) calls ``report(stage, done, total)`` now
and then and ``checkpoint()`` between steps. Whoever started it installs a ``JobControl`` for
the duration: the process pool's worker (progress over a queue, cancel flags in shared memory)
or a thread in this process. With no control installed both calls do nothing, so the same
functions also run plainly, e.g. in tests or the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from engine.errors import EngineError

T = TypeVar("T")


class JobCancelled(EngineError):
    """The job was cancelled before it finished; nothing it produced is kept."""

    code = "cancelled"

    def __reduce__(self) -> tuple[Any, ...]:  # keep the message across processes
        return (type(self), (str(self),))


@dataclass(frozen=True, slots=True)
class Progress:
    """``stage`` names the step ("signals", "simulate", "charts", "grid" ...); ``done`` of
    ``total`` counts units inside it when it has any (both 0 otherwise)."""

    stage: str
    done: int = 0
    total: int = 0

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None


ProgressCallback = Callable[[Progress], None]


class JobControl(Protocol):
    def report(self, progress: Progress) -> None: ...

    def cancelled(self) -> bool: ...


_CONTROL: ContextVar[JobControl | None] = ContextVar("backtest_job_control", default=None)


def report(stage: str, done: int = 0, total: int = 0) -> None:
    """Tell whoever waits for this job how far it got (no-op outside a controlled job)."""
    control = _CONTROL.get()
    if control is not None:
        control.report(Progress(stage, done, total))


def checkpoint() -> None:
    """Raise ``JobCancelled`` if this job was cancelled (no-op outside a controlled job)."""
    control = _CONTROL.get()
    if control is not None and control.cancelled():
        msg = "backtest cancelled"
        raise JobCancelled(msg)


def run_controlled(control: JobControl, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    """Call ``fn(*args)`` with ``control`` installed for ``report``/``checkpoint``."""
    token = _CONTROL.set(control)
    try:
        checkpoint()
        return fn(*args)
    finally:
        _CONTROL.reset(token)
