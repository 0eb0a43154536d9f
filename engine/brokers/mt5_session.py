"""The link to a MetaTrader 5 terminal: one worker thread, timeouts, down/up, reconnect.

The ``MetaTrader5`` module is blocking, undocumented about threads, and keeps ``last_error`` in one
process-global slot (shared/reference/mt5_api.md §4.5). So every call runs on one
``ThreadPoolExecutor(max_workers=1)`` and reads ``last_error()`` inside the same job; the event
loop only awaits. A call that exceeds its timeout, or an IPC error (-10000 .. -10005), marks the
link down, emits ``BrokerDisconnected`` once and raises ``BrokerUnavailable``; nothing is sent
while down. ``reconnect`` re-initialises with exponential backoff and emits ``BrokerReconnected``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.brokers.mt5_retcodes import IPC_ERRORS, explain
from engine.errors import BrokerUnavailable
from engine.models import RejectReason

log = logging.getLogger(__name__)

OK = (1, "Success")
RETURNS_NONE = frozenset({"shutdown"})  # None is their success value, not a failure
Emit = Callable[[object], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Answer:
    """A module call's return value with the ``last_error()`` read right after it."""

    value: Any
    error: tuple[int, str] = OK

    @property
    def failed(self) -> bool:
        return self.value is None or self.value is False


class CallTimedOut(Exception):  # noqa: N818 - a signal between the worker and the session
    def __init__(self, name: str, timeout_s: float, *, started: bool) -> None:
        super().__init__(f"{name} gave no answer within {timeout_s:g} s")
        self.started = started  # False: the job never reached the module (nothing was sent)


class _Job:
    """One call's hand-off state, so a timed-out job that has not started never starts."""

    __slots__ = ("abandoned", "lock", "started")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = False
        self.abandoned = False


class Worker:
    """Runs module calls one at a time on a dedicated thread, each under a timeout."""

    def __init__(self, module: Any) -> None:
        self._mt5 = module
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mt5")

    async def run(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout_s: float
    ) -> Answer:
        fn = getattr(self._mt5, name)
        job = _Job()

        def work() -> Answer | None:
            with job.lock:
                if job.abandoned:
                    return None
                job.started = True
            value = fn(*args, **kwargs)
            if name in RETURNS_NONE:
                return Answer(True)
            failed = value is None or value is False
            return Answer(value, tuple(self._mt5.last_error()) if failed else OK)

        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, work)
        except RuntimeError as exc:  # the pool was shut down by close()
            raise BrokerUnavailable("the MT5 adapter is closed", code="mt5_closed") from exc
        try:
            answer = await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            with job.lock:
                job.abandoned = True
                started = job.started
            raise CallTimedOut(name, timeout_s, started=started) from None
        assert answer is not None  # only abandoned jobs return None, and those time out
        return answer

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class MT5Session:
    """Connection state and guarded calls; ``MT5Broker`` builds trading on top of it."""

    def __init__(
        self,
        module: Any,
        *,
        path: str | None = None,
        login: int | None = None,
        password: SecretStr | str | None = None,
        server: str | None = None,
        call_timeout_s: float = 10.0,
        connect_timeout_s: float = 60.0,
        emit: Emit | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff_s: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self.module = module
        self._worker = Worker(module)
        self._path = path
        self._login = login
        self._password = SecretStr(password) if isinstance(password, str) else password
        self._server = server
        self.call_timeout_s = call_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._emit_fn = emit
        self._sleep = sleep
        self._backoff = backoff_s
        self._up = False
        self._down_reason = "not connected yet: call connect() first"

    def __repr__(self) -> str:
        return f"MT5Session(login={self._login}, server={self._server!r}, path={self._path!r})"

    @property
    def up(self) -> bool:
        return self._up

    # ------------------------------------------------------------------ calls

    async def answer(self, name: str, *args: Any, **kwargs: Any) -> Answer:
        """Call ``name``; IPC errors and timeouts mark the link down and raise."""
        if not self._up:
            raise BrokerUnavailable(f"MT5 is unavailable: {self._down_reason}", code="mt5_down")
        return await self.raw(name, *args, **kwargs)

    async def raw(self, name: str, *args: Any, **kwargs: Any) -> Answer:
        """Like ``answer`` but also while down (used by connect and reconnect)."""
        try:
            ans = await self._worker.run(name, args, kwargs, self.call_timeout_s)
        except CallTimedOut as exc:
            reason = f"the terminal gave no answer to {name} within {self.call_timeout_s:g} s"
            await self.mark_down(reason)
            raise BrokerUnavailable(reason, code="mt5_timeout") from exc
        if ans.failed and ans.error[0] in IPC_ERRORS:
            reason = explain(*ans.error)
            await self.mark_down(reason)
            raise BrokerUnavailable(reason, code="mt5_ipc", mt5_code=ans.error[0])
        return ans

    async def value(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """The call's value; any failure raises ``BrokerUnavailable`` with a plain reason."""
        ans = await self.answer(name, *args, **kwargs)
        if ans.failed:
            msg = f"{name} failed: {explain(*ans.error)}"
            raise BrokerUnavailable(msg, code="mt5_call_failed", mt5_code=ans.error[0])
        return ans.value

    async def unsettled(self, name: str, *args: Any) -> Answer | CallTimedOut:
        """For order_send: a timeout comes back as a value instead of marking the link down,
        because the caller must first find out whether the order executed."""
        if not self._up:
            raise BrokerUnavailable(f"MT5 is unavailable: {self._down_reason}", code="mt5_down")
        try:
            return await self._worker.run(name, args, {}, self.call_timeout_s)
        except CallTimedOut as exc:
            if not exc.started:  # never reached the terminal: nothing can have executed
                reason = f"the terminal was busy; {name} was not sent"
                await self.mark_down(reason)
                raise BrokerUnavailable(reason, code="mt5_timeout") from exc
            return exc

    # ------------------------------------------------------------------ connection

    async def initialize(self) -> None:
        """``initialize`` in attach mode (running terminal, optional path) or login mode."""
        args: tuple[Any, ...] = (self._path,) if self._path else ()
        kwargs: dict[str, Any] = {}
        if self._login is not None:
            kwargs = {"login": int(self._login), "timeout": int(self._connect_timeout_s * 1000)}
            if self._password is not None:
                kwargs["password"] = self._password.get_secret_value()
            if self._server:
                kwargs["server"] = self._server
        try:
            ans = await self._worker.run("initialize", args, kwargs, self._connect_timeout_s + 5)
        except CallTimedOut as exc:
            msg = f"the terminal did not start or answer within {self._connect_timeout_s:g} s"
            raise BrokerUnavailable(msg, code="mt5_init_failed") from exc
        if ans.failed:
            code, text = ans.error
            who = f" for account {self._login} on {self._server or 'the saved server'}"
            msg = explain(code, text) + (who if code == -6 else "")
            raise BrokerUnavailable(msg, code="mt5_init_failed", mt5_code=code)

    async def connect(self) -> Any:
        """Initialise and require a terminal connected to its trade server; returns
        ``terminal_info``. Algo-trading switches are reported by ``blocked_reason``."""
        await self.initialize()
        info = await self._terminal_info()
        if not info.connected:
            msg = (
                "the MetaTrader 5 terminal is running but not connected to the broker's trade "
                "server: check the internet connection and the login in the terminal"
            )
            raise BrokerUnavailable(msg, code="mt5_no_server")
        self._up = True
        return info

    async def _terminal_info(self) -> Any:
        ans = await self.raw("terminal_info")
        if ans.failed:
            msg = f"terminal_info failed: {explain(*ans.error)}"
            raise BrokerUnavailable(msg, code="mt5_call_failed", mt5_code=ans.error[0])
        return ans.value

    async def blocked_reason(self) -> tuple[RejectReason, str] | None:
        """Why orders cannot be sent right now (reason, plain words), or None when they can."""
        term = await self.value("terminal_info")
        if not term.connected:
            why = "the terminal has no connection to the broker's trade server"
            return RejectReason.CONNECTION, why
        if term.tradeapi_disabled:
            why = explain(-8, "Auto-Trading using Python API disabled in Terminal")
            return RejectReason.AUTOTRADING_DISABLED, why
        if not term.trade_allowed:
            why = "Algo Trading is off in the terminal: press the Algo Trading button"
            return RejectReason.AUTOTRADING_DISABLED, why
        acc = await self.value("account_info")
        if not acc.trade_allowed:
            return (
                RejectReason.TRADE_DISABLED,
                f"the broker forbids trading on account {acc.login}",
            )
        if not acc.trade_expert:
            why = f"the broker forbids algo trading on account {acc.login}"
            return RejectReason.AUTOTRADING_DISABLED, why
        return None

    async def emit(self, event: object) -> None:
        if self._emit_fn is None:
            return
        try:
            await self._emit_fn(event)
        except Exception:  # a broken subscriber must not break the broker
            log.exception("broker event subscriber failed on %r", event)

    async def mark_down(self, reason: str) -> None:
        """Stop trading and announce it once; later failures only log."""
        if not self._up:
            log.debug("MT5 still down: %s", reason)
            return
        self._up = False
        self._down_reason = reason
        log.warning("MT5 link down: %s", reason)
        await self.emit(BrokerDisconnected(reason))

    async def check_health(self) -> bool:
        """One probe (terminal_info); marks the link down when it fails. Returns ``up``."""
        if not self._up:
            return False
        try:
            info = await self.raw("terminal_info")
        except BrokerUnavailable:
            return False
        if info.failed or not info.value.connected:
            why = explain(*info.error) if info.failed else "the terminal lost the trade server"
            await self.mark_down(why)
        return self._up

    async def reconnect(self, max_attempts: int | None = None) -> bool:
        """Re-initialise until the terminal is connected again, sleeping 1, 2, 4 ... s (capped)
        between attempts. Emits ``BrokerReconnected`` and returns True on success; False when
        ``max_attempts`` ran out."""
        delay, cap = self._backoff
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.raw("shutdown")
                await self.connect()
            except BrokerUnavailable as exc:
                log.info("MT5 reconnect attempt %d failed: %s", attempt, exc)
            else:
                log.warning("MT5 link up again after %d attempt(s)", attempt)
                await self.emit(BrokerReconnected(attempts=attempt))
                return True
            if max_attempts is not None and attempt >= max_attempts:
                return False
            await self._sleep(delay)
            delay = min(delay * 2, cap)

    async def supervise(self, interval_s: float = 5.0) -> None:
        """Probe every ``interval_s`` seconds and reconnect when down; run it as a task."""
        while True:
            if not await self.check_health():
                await self.reconnect()
            await self._sleep(interval_s)

    async def close(self) -> None:
        if self._up:
            try:
                await self.raw("shutdown")
            except BrokerUnavailable:
                log.info("MT5 shutdown got no answer; closing anyway")
        self._up = False
        self._down_reason = "the adapter was closed"
        self._worker.shutdown()
