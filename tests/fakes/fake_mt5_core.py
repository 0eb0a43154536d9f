"""Plumbing of the fake MetaTrader5 module: state, fault-injection hooks, the call wrapper.

``api`` wraps each module function the way the C extension behaves: arguments are bound first
(so keywords given to a positional-only function raise ``TypeError``), then injected faults
apply, then the IPC check (``(-10004, 'No IPC connection')`` before ``initialize``), then the
function runs and ``last_error`` becomes ``(1, 'Success')`` or the failure's code and text.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.fake_mt5_server import FakeAccount, FakeSymbol, FakeTerminal, TradeServer

NOT_FOUND = (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")
NO_IPC = (-10004, "No IPC connection")
AUTH_FAILED = (-6, "Terminal: Authorization failed")
CALL_FAILED = (-1, "Terminal: Call failed")


class Failed(Exception):  # noqa: N818 - internal signal, becomes last_error
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.error = (code, text)


@dataclass
class _Fault:
    function: str | None  # None = the next call of any function
    error: tuple[int, str] | None = None  # fail with this last_error
    hang_s: float = 0.0  # block this long (or until release()) before answering
    after: bool = False  # do the work first, then report the error
    times: int = 1


def api(failure: object = None, *, ipc: bool = True) -> Callable[[Callable[..., Any]], Any]:
    """Wrap a module function: binding errors raise TypeError first (as a C function would),
    then injected faults, the IPC check, and the last_error bookkeeping."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(self: FakeCore, *args: Any, **kwargs: Any) -> Any:
            sig.bind(self, *args, **kwargs)
            return self._dispatch(fn, failure, ipc, args, kwargs)  # noqa: SLF001

        return wrapper

    return deco


@dataclass
class FakeCore:
    """State and hooks shared by every fake module function (see ``FakeMT5``)."""

    now: Callable[[], datetime]
    server_offset: timedelta = timedelta(hours=2)
    password: str = "correct horse"
    installed: bool = True  # a 64-bit terminal exists on this machine
    server: TradeServer = field(default_factory=TradeServer)
    calls: list[str] = field(default_factory=list)
    sends: int = 0  # order_send calls that reached the trade server
    initialized: bool = False
    _error: tuple[int, str] = field(default=(1, "Success"), init=False, repr=False)
    _faults: list[_Fault] = field(default_factory=list, init=False, repr=False)
    _release: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _bars: dict[tuple[str, int], list[tuple[Any, ...]]] = field(
        default_factory=dict, init=False, repr=False
    )
    _ticks: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict, init=False, repr=False)
    _books: set[str] = field(default_factory=set, init=False, repr=False)

    # ------------------------------------------------------------------ test hooks

    @property
    def account(self) -> FakeAccount:
        return self.server.account

    @property
    def terminal(self) -> FakeTerminal:
        return self.server.terminal

    def add_symbol(self, sym: FakeSymbol, bid: float, ask: float) -> FakeSymbol:
        self.server.symbols[sym.name] = sym
        self.set_price(sym.name, bid, ask)
        return sym

    def server_msc(self, t: datetime | None = None) -> int:
        t = self.now() if t is None else t
        return round((t + self.server_offset).timestamp() * 1000)

    def set_price(self, symbol: str, bid: float, ask: float) -> None:
        """New quote now; positions whose SL/TP it touches are closed as the server would."""
        with self._lock:
            sym = self.server.symbols[symbol]
            sym.bid, sym.ask, sym.tick_time_msc = bid, ask, self.server_msc()
            ms = sym.tick_time_msc
            self._ticks.setdefault(symbol, []).append((ms // 1000, bid, ask, 0.0, 0, ms, 6, 0.0))
            self.server.trigger_stops(sym, ms)

    def set_bars(self, symbol: str, timeframe: int, rows: Iterable[tuple[Any, ...]]) -> None:
        """Rows of (utc open datetime, open, high, low, close, tick_volume, spread), any order."""
        off = int(self.server_offset.total_seconds())
        bars = [(int(r[0].timestamp()) + off, *r[1:], 0) for r in rows]
        self._bars[(symbol, timeframe)] = sorted(bars)

    def fail_next(
        self,
        function: str | None = None,
        error: tuple[int, str] = (-10005, "IPC timeout"),
        *,
        times: int = 1,
    ) -> None:
        self._faults.append(_Fault(function, error=error, times=times))

    def hang_next(self, function: str | None = None, seconds: float = 5.0) -> None:
        """The next matching call blocks ``seconds`` (or until ``release()``), then completes."""
        self._release.clear()
        self._faults.append(_Fault(function, hang_s=seconds))

    def release(self) -> None:
        self._release.set()

    def execute_then_fail(self, error: tuple[int, str] = (-10005, "IPC timeout")) -> None:
        """The next order_send reaches the server and fills, but the call reports failure."""
        self._faults.append(_Fault("order_send", error=error, after=True))

    def requote_next(self, times: int, move: float = 0.0) -> None:
        """The next ``times`` order_send get 10004 REQUOTE; each requote moves prices by move."""
        self.server.requotes_left, self.server.requote_move = times, move

    def refuse_initialize(self, times: int, error: tuple[int, str] = NOT_FOUND) -> None:
        self._faults.append(_Fault("initialize", error=error, times=times))

    def kill_terminal(self, error: tuple[int, str] = (-10002, "IPC recv failed")) -> None:
        """The terminal process dies: the next call fails with ``error``, later ones -10004."""
        self.initialized = False
        self._faults.append(_Fault(None, error=error))

    # ------------------------------------------------------------------ plumbing

    def _take_fault(self, name: str) -> _Fault | None:
        for fault in self._faults:
            if fault.function in (None, name):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _dispatch(
        self,
        fn: Callable[..., Any],
        failure: object,
        ipc: bool,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        with self._lock:
            self.calls.append(fn.__name__)
            fault = self._take_fault(fn.__name__)
        if fault and fault.hang_s:
            self._release.wait(fault.hang_s)
        with self._lock:
            if fault and fault.error and not fault.after:
                self._error = fault.error
                return failure
            if ipc and not self.initialized:
                self._error = NO_IPC
                return failure
            try:
                result = fn(self, *args, **kwargs)
            except Failed as exc:
                self._error = exc.error
                return failure
            self._error = fault.error if fault and fault.error else (1, "Success")
            return failure if fault and fault.error else result

    def _symbol(self, name: object, *, selected: bool = False) -> FakeSymbol:
        sym = self.server.symbols.get(name) if isinstance(name, str) else None
        if sym is None:
            raise Failed(-4, "Terminal: Not found")
        if selected and not sym.select:
            raise Failed(*CALL_FAILED)
        return sym

    @staticmethod
    def _epoch(value: object, position: str) -> int:
        if isinstance(value, datetime):
            return int(value.timestamp())  # naive datetimes read as local time, like the wheel
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise Failed(-2, f"Invalid {position} unnamed argument")
