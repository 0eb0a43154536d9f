"""One Broker contract for every adapter: PaperBroker and MT5Broker over the fake terminal.

The behaviour tests live in ``test_paper_contract.BrokerContract`` (hand-checked numbers in its
comments); here they run against a fixture parametrised over both adapters, plus the checks of
the port itself: the Protocol, account fields, the XAUUSD spec, deals with IN and OUT entries.
Both markets start as documented there: USD 10 000.00, 1:100, hedging, XAUUSD 2000.00 / 2000.30.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from engine.brokers.mt5 import MT5Broker
from engine.clock import SimClock
from engine.models import DealEntry, MarginMode, Side
from engine.ports import Broker
from engine.symbols import XAUUSD
from tests.brokers.test_paper_contract import (
    ASK,
    BID,
    EVER,
    T0,
    BrokerContract,
    Harness,
    PaperHarness,
    buy,
)
from tests.fakes.fake_mt5 import gold_terminal


class MT5Harness:
    """MT5Broker attached to a fake terminal; a restart is a new adapter on the same terminal."""

    def __init__(self) -> None:
        self.clock = SimClock(T0)
        self.fake = gold_terminal(self.clock.now)
        self.broker: MT5Broker = self._broker()

    def _broker(self) -> MT5Broker:
        return MT5Broker(self.fake, self.clock, symbols=("XAUUSD",), call_timeout_s=5.0)

    async def quote(self, bid: float, ask: float) -> None:
        self.clock.advance_to(self.clock.now() + timedelta(seconds=1))
        self.fake.set_price("XAUUSD", bid, ask)

    async def restart(self) -> MT5Broker:
        await self.broker.close()
        self.broker = self._broker()
        await self.broker.connect()
        return self.broker


@pytest.fixture(params=["paper", "mt5"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    made: PaperHarness | MT5Harness = PaperHarness() if request.param == "paper" else MT5Harness()
    await made.broker.connect()
    await made.quote(BID, ASK)
    yield made
    await made.broker.close()


class TestBrokerContract(BrokerContract):
    async def test_is_a_broker(self, harness: Harness) -> None:
        assert isinstance(harness.broker, Broker)
        assert harness.broker.connected
        assert harness.broker.name in {"paper", "mt5"}

    async def test_account_fields_are_sane(self, harness: Harness) -> None:
        account = await harness.broker.account()
        assert account.login > 0 and account.currency == "USD"
        assert (account.balance, account.equity, account.margin) == (10_000.0, 10_000.0, 0.0)
        assert account.free_margin == 10_000.0 and account.margin_level is None
        assert account.margin_mode is MarginMode.HEDGING and account.trade_allowed

    async def test_symbol_spec(self, harness: Harness) -> None:
        spec = await harness.broker.symbol("XAUUSD")
        fields = (
            "name", "digits", "point", "tick_size", "tick_value", "contract_size",
            "volume_min", "volume_max", "volume_step", "stops_level", "filling_mode",
            "trade_mode",
        )  # fmt: skip
        assert {f: getattr(spec, f) for f in fields} == {f: getattr(XAUUSD, f) for f in fields}

    async def test_tick_is_the_last_quote(self, harness: Harness) -> None:
        await harness.quote(2001.00, 2001.25)
        tick = await harness.broker.tick("XAUUSD")
        assert (tick.bid, tick.ask) == (2001.00, 2001.25)
        assert tick.time == T0 + timedelta(seconds=2)  # two quotes, one second apart

    async def test_buy_with_sl_tp_then_close_gives_in_and_out(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("io", 0.10, sl=1990.00, tp=2010.00))
        (position,) = await harness.broker.positions()
        assert (position.side, position.sl, position.tp) == (Side.BUY, 1990.00, 2010.00)
        await harness.quote(2004.00, 2004.30)
        closed = await harness.broker.close_position(opened.ticket)
        deals = await harness.broker.deals(*EVER)
        assert [(d.entry, d.side) for d in deals] == [
            (DealEntry.IN, Side.BUY),
            (DealEntry.OUT, Side.SELL),
        ]
        # (2004.00 - 2000.30) * 100 oz * 0.10 lot = 37.00 USD on the OUT deal.
        assert deals[1].profit == pytest.approx(37.00)
        assert closed.price == 2004.00
        assert {d.position_id for d in deals} == {opened.ticket}
        assert deals[0].client_id == "io"
