"""MT5Broker connection: attach/login failures in plain words, algo-trading switches, secrets,
timeouts, disconnect -> down event -> reconnect with backoff -> up event, diagnose."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.brokers.mt5 import MT5Broker
from engine.brokers.mt5_session import CallTimedOut, Worker
from engine.clock import SimClock
from engine.errors import BrokerUnavailable
from engine.models import OrderRequest, RejectReason, Side
from tests.fakes.fake_mt5 import FakeMT5, gold_terminal

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)
PASSWORD = "correct horse"


class Recorder:
    """Collects emitted events and requested sleeps (no real waiting)."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self.sleeps: list[float] = []

    async def emit(self, event: object) -> None:
        self.events.append(event)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
def fake(clock: SimClock) -> FakeMT5:
    return gold_terminal(clock.now)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def make(fake: FakeMT5, clock: SimClock, rec: Recorder, **kw: object) -> MT5Broker:
    kw.setdefault("call_timeout_s", 2.0)
    return MT5Broker(fake, clock, emit=rec.emit, sleep=rec.sleep, symbols=("XAUUSD",), **kw)  # type: ignore[arg-type]


def buy(client_id: str) -> OrderRequest:
    return OrderRequest(client_id, "XAUUSD", Side.BUY, 0.10)


async def test_attach_without_a_terminal_says_so(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    fake.installed = False
    broker = make(fake, clock, rec)
    with pytest.raises(BrokerUnavailable) as err:
        await broker.connect()
    text = str(err.value)
    assert text.startswith("could not start or reach the MetaTrader 5 terminal")
    assert "(MT5 error -10003: IPC initialize failed, MetaTrader 5 x64 not found)" in text
    assert err.value.code == "mt5_init_failed" and not broker.connected
    await broker.close()


async def test_attach_with_a_wrong_path(fake: FakeMT5, clock: SimClock, rec: Recorder) -> None:
    broker = make(fake, clock, rec, path=r"D:\nowhere\terminal64.exe")
    with pytest.raises(BrokerUnavailable, match=r"Process create failed 'D:\\nowhere"):
        await broker.connect()
    await broker.close()


async def test_attach_with_the_right_path(fake: FakeMT5, clock: SimClock, rec: Recorder) -> None:
    broker = make(fake, clock, rec, path=r"C:\Program Files\MetaTrader 5\terminal64.exe")
    await broker.connect()
    assert broker.connected and broker.hedging
    await broker.close()


async def test_login_failure_names_the_account_but_never_the_password(
    fake: FakeMT5, clock: SimClock, rec: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    broker = make(fake, clock, rec, login=51234567, password="hunter2", server="FakeBroker-Demo")
    with pytest.raises(BrokerUnavailable) as err:
        await broker.connect()
    text = str(err.value)
    assert text.startswith("login failed: check the account number, password and server name")
    assert "(MT5 error -6: Terminal: Authorization failed) for account 51234567" in text
    assert err.value.params == {"mt5_code": -6}
    assert "hunter2" not in text + repr(broker) + caplog.text + repr(err.value.params)
    await broker.close()


async def test_login_mode_passes_credentials_as_keywords(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec, login=51234567, password=PASSWORD, server="FakeBroker-Demo")
    await broker.connect()
    assert broker.connected and fake.calls[0] == "initialize"
    assert PASSWORD not in repr(broker)
    await broker.close()


async def test_terminal_without_trade_server(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    fake.terminal.connected = False
    broker = make(fake, clock, rec)
    with pytest.raises(BrokerUnavailable, match="running but not connected to the broker's trade"):
        await broker.connect()
    await broker.close()


@pytest.mark.parametrize(
    ("switch", "reason", "words"),
    [
        ("algo", RejectReason.AUTOTRADING_DISABLED,
         "Algo Trading is off in the terminal: press the Algo Trading button"),
        ("api", RejectReason.AUTOTRADING_DISABLED,
         "untick 'Disable algorithmic trading via external Python API'"),
        ("expert", RejectReason.AUTOTRADING_DISABLED,
         "the broker forbids algo trading on account 51234567"),
        ("account", RejectReason.TRADE_DISABLED, "the broker forbids trading on account 51234567"),
    ],
)  # fmt: skip
async def test_blocked_trading_is_refused_in_plain_words(
    fake: FakeMT5, clock: SimClock, rec: Recorder, switch: str, reason: RejectReason, words: str
) -> None:
    broker = make(fake, clock, rec)
    await broker.connect()
    if switch == "algo":
        fake.terminal.trade_allowed = False
    elif switch == "api":
        fake.terminal.tradeapi_disabled = True
    elif switch == "expert":
        fake.account.trade_expert = False
    else:
        fake.account.trade_allowed = False
    refused = await broker.send(buy("b1"))
    assert (refused.ok, refused.reject) == (False, reason)
    assert words in refused.message
    assert fake.sends == 0
    report = await broker.diagnose()
    assert not report.ok and any(words in p for p in report.problems)
    await broker.close()


async def test_diagnose_lists_facts_when_all_is_well(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec)
    report = await broker.diagnose()  # connects on its own
    assert report.ok and report.problems == ()
    facts = dict(report.facts)
    assert facts["account"] == "51234567 on FakeBroker-Demo (demo, hedging)"
    assert facts["server time"] == "UTC+2.0 h"
    assert facts["XAUUSD"].startswith("bid 2000.00 ask 2000.30, full, filling FOK/IOC")
    await broker.close()


async def test_diagnose_without_a_terminal(fake: FakeMT5, clock: SimClock, rec: Recorder) -> None:
    fake.installed = False
    report = await make(fake, clock, rec).diagnose()
    assert not report.ok and "MetaTrader 5 x64 not found" in report.problems[0]


async def test_disconnect_then_reconnect_with_backoff(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec)
    await broker.connect()
    opened = await broker.send(buy("before"))
    fake.kill_terminal()
    with pytest.raises(BrokerUnavailable, match="lost contact with the MetaTrader 5 terminal"):
        await broker.positions()
    assert not broker.connected
    assert rec.events == [
        BrokerDisconnected(
            "lost contact with the MetaTrader 5 terminal (receiving failed) "
            "(MT5 error -10002: IPC recv failed)"
        )
    ]
    calls = len(fake.calls)
    with pytest.raises(BrokerUnavailable, match="MT5 is unavailable"):
        await broker.send(buy("while-down"))
    assert len(fake.calls) == calls  # nothing reached the module while down
    fake.refuse_initialize(times=3)
    assert await broker.reconnect()
    assert rec.sleeps == [1.0, 2.0, 4.0]  # three failures, doubling
    assert rec.events[-1] == BrokerReconnected(attempts=4)
    assert [p.ticket for p in await broker.positions()] == [opened.ticket]
    await broker.close()


async def test_backoff_is_capped_and_attempts_bounded(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec)
    await broker.connect()
    fake.kill_terminal()
    fake.refuse_initialize(times=20)
    assert not await broker.check_health()
    assert not await broker.reconnect(max_attempts=9)
    # 1, 2, 4, 8, 16, 32, then capped at 60; no sleep after the last attempt.
    assert rec.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert [type(e) for e in rec.events] == [BrokerDisconnected]
    await broker.close()


async def test_health_check_sees_a_lost_trade_server(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec)
    await broker.connect()
    assert await broker.check_health()
    fake.terminal.connected = False
    assert not await broker.check_health()
    assert rec.events == [BrokerDisconnected("the terminal lost the trade server")]
    fake.terminal.connected = True
    assert await broker.reconnect(max_attempts=1)
    await broker.close()


async def test_supervise_reconnects_by_itself(fake: FakeMT5, clock: SimClock) -> None:
    events: list[object] = []
    naps: list[float] = []

    async def emit(event: object) -> None:
        events.append(event)

    async def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 1:
            fake.kill_terminal()  # dies during the first pause
        if len(naps) == 3:
            raise asyncio.CancelledError

    broker = MT5Broker(fake, clock, emit=emit, sleep=nap, call_timeout_s=2.0)
    await broker.connect()
    with pytest.raises(asyncio.CancelledError):
        await broker.supervise(interval_s=5.0)
    assert naps == [5.0, 5.0, 5.0]  # probe, pause; probe fails -> reconnect at once; pause
    assert [type(e) for e in events] == [BrokerDisconnected, BrokerReconnected]
    assert broker.connected
    await broker.close()


async def test_a_hung_call_times_out_and_marks_the_link_down(
    fake: FakeMT5, clock: SimClock, rec: Recorder
) -> None:
    broker = make(fake, clock, rec, call_timeout_s=0.2)
    await broker.connect()
    fake.hang_next("account_info", seconds=5.0)
    with pytest.raises(BrokerUnavailable, match="no answer to account_info within 0.2 s") as err:
        await broker.account()
    assert err.value.code == "mt5_timeout"
    assert rec.events == [
        BrokerDisconnected("the terminal gave no answer to account_info within 0.2 s")
    ]
    fake.release()
    assert await broker.reconnect(max_attempts=3)
    assert (await broker.account()).balance == 10_000.0
    await broker.close()


async def test_a_timed_out_job_that_never_started_never_runs(fake: FakeMT5) -> None:
    fake.initialize()
    worker = Worker(fake)
    fake.hang_next("account_info", seconds=5.0)
    with pytest.raises(CallTimedOut) as first:
        await worker.run("account_info", (), {}, 0.1)
    request = {"action": 1, "symbol": "XAUUSD", "volume": 0.1, "type": 0}
    with pytest.raises(CallTimedOut) as queued:
        await worker.run("order_send", (request,), {}, 0.1)
    assert first.value.started and not queued.value.started
    fake.release()
    assert (await worker.run("account_info", (), {}, 2.0)).value.login == 51234567
    assert "order_send" not in fake.calls and fake.sends == 0
    worker.shutdown()


async def test_a_failing_subscriber_does_not_break_the_broker(
    fake: FakeMT5, clock: SimClock
) -> None:
    async def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    broker = MT5Broker(fake, clock, emit=broken, call_timeout_s=2.0)
    await broker.connect()
    fake.kill_terminal()
    with pytest.raises(BrokerUnavailable):
        await broker.account()
    assert not broker.connected
    await broker.close()


async def test_closed_adapter_refuses_calls(fake: FakeMT5, clock: SimClock, rec: Recorder) -> None:
    broker = make(fake, clock, rec)
    await broker.connect()
    await broker.close()
    assert "shutdown" in fake.calls
    with pytest.raises(BrokerUnavailable, match="closed"):
        await broker.account()
