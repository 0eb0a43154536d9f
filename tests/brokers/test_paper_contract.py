"""Broker contract: behaviour every ``Broker`` adapter must show, run here on ``PaperBroker``.

Another adapter reuses it by subclassing ``BrokerContract`` (a name pytest does not collect on
its own) in a ``Test*`` class that provides an async ``harness`` fixture yielding an object
with:

* ``broker`` - a connected ``Broker`` trading an account in USD with balance 10 000.00,
  leverage 1:100, hedging, no commission, no slippage, and ``XAUUSD`` as in
  ``engine.symbols.XAUUSD`` (digits 2, 100 oz, tick value 1.00, volume 0.01..100 step 0.01,
  stops level 0);
* ``async quote(bid, ask)`` - makes (bid, ask) the current XAUUSD price, a moment later than
  the previous one;
* ``async restart() -> Broker`` - a new connected broker over the same storage or terminal,
  with the last quote still current (set as ``harness.broker`` too).

Every number below is computed by hand in the comment next to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest

from engine.brokers.memory_ledger import MemoryPaperLedger
from engine.brokers.paper import PaperBroker
from engine.clock import SimClock
from engine.models import (
    Deal,
    DealEntry,
    MarginMode,
    OrderRequest,
    Position,
    RejectReason,
    Side,
    Tick,
)
from engine.ports import Broker
from engine.symbols import XAUUSD

EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
BID, ASK = 2000.00, 2000.30


class Harness(Protocol):
    broker: Broker

    async def quote(self, bid: float, ask: float) -> None: ...

    async def restart(self) -> Broker: ...


def buy(client_id: str, volume: float = 0.10, **levels: float) -> OrderRequest:
    return OrderRequest(client_id, "XAUUSD", Side.BUY, volume, **levels)


def sell(client_id: str, volume: float = 0.10, **levels: float) -> OrderRequest:
    return OrderRequest(client_id, "XAUUSD", Side.SELL, volume, **levels)


class BrokerContract:
    async def test_buy_fills_at_ask_and_sell_at_bid_as_separate_positions(
        self, harness: Harness
    ) -> None:
        broker = harness.broker
        long = await broker.send(buy("c-buy", 0.10))
        short = await broker.send(sell("c-sell", 0.20))
        assert long.ok and short.ok
        assert (long.price, long.volume, short.price, short.volume) == (ASK, 0.10, BID, 0.20)
        assert long.ticket is not None and long.ticket == long.order != short.ticket
        positions = {p.ticket: p for p in await broker.positions()}
        assert set(positions) == {long.ticket, short.ticket}  # hedging: both stay open
        assert positions[long.ticket].side is Side.BUY
        assert positions[long.ticket].price_open == ASK
        assert positions[short.ticket].client_id == "c-sell"
        assert await broker.positions("EURUSD") == []

    async def test_positions_are_marked_to_the_closing_side(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("c1"))
        await harness.quote(2005.00, 2005.30)
        (position,) = await harness.broker.positions("XAUUSD")
        # A long is worth the bid: (2005.00 - 2000.30) * 100 oz * 0.10 lot = 47.00 USD.
        assert position.ticket == opened.ticket
        assert position.price_current == 2005.00
        assert position.profit == pytest.approx(47.00)

    async def test_account_margin_equity_free_margin(self, harness: Harness) -> None:
        await harness.broker.send(buy("c1"))
        account = await harness.broker.account()
        # margin 100 * 0.10 * 2000.30 / 100 = 200.03; the long is marked at the bid:
        # equity 10000 + (2000.00 - 2000.30) * 100 * 0.10 = 9997.00; free 9997.00 - 200.03.
        assert account.balance == pytest.approx(10_000.00)
        assert account.margin == pytest.approx(200.03)
        assert account.equity == pytest.approx(9997.00)
        assert account.free_margin == pytest.approx(9796.97)
        assert (account.currency, account.leverage) == ("USD", 100)
        assert account.margin_mode is MarginMode.HEDGING

    async def test_no_money(self, harness: Harness) -> None:
        # 5.00 lots need 100 * 5 * 2000.30 / 100 = 10001.50 > free margin 10000.00.
        refused = await harness.broker.send(buy("big", 5.00))
        assert not refused.ok and refused.reject is RejectReason.NO_MONEY
        assert await harness.broker.positions() == []
        assert (await harness.broker.account()).balance == pytest.approx(10_000.00)
        # 4.99 lots need 100 * 4.99 * 2000.30 / 100 = 9981.50 <= 10000.00.
        assert (await harness.broker.send(buy("fits", 4.99))).ok

    @pytest.mark.parametrize("volume", [0.0, 0.005, 0.015, 100.01])
    async def test_invalid_volume(self, harness: Harness, volume: float) -> None:
        refused = await harness.broker.send(buy("v", volume))
        assert not refused.ok and refused.reject is RejectReason.INVALID_VOLUME
        assert await harness.broker.positions() == []

    @pytest.mark.parametrize(
        "request_",
        [
            buy("s", sl=2000.10),  # a long's SL above the bid 2000.00
            buy("s", tp=1999.90),  # a long's TP below the bid
            sell("s", sl=2000.20),  # a short's SL below the ask 2000.30
            sell("s", tp=2000.50),  # a short's TP above the ask
        ],
    )
    async def test_invalid_stops(self, harness: Harness, request_: OrderRequest) -> None:
        refused = await harness.broker.send(request_)
        assert not refused.ok and refused.reject is RejectReason.INVALID_STOPS
        assert await harness.broker.positions() == []

    async def test_valid_stops_are_kept(self, harness: Harness) -> None:
        assert (await harness.broker.send(buy("ok", sl=1990.00, tp=2010.00))).ok
        (position,) = await harness.broker.positions()
        assert (position.sl, position.tp) == (1990.00, 2010.00)

    async def test_same_client_id_never_fills_twice(self, harness: Harness) -> None:
        first = await harness.broker.send(buy("once"))
        again = await harness.broker.send(buy("once", 0.50))
        assert first.ok and not again.ok
        assert again.reject is RejectReason.DUPLICATE and again.ticket == first.ticket
        assert len(await harness.broker.positions()) == 1

    async def test_same_client_id_never_fills_twice_across_a_restart(
        self, harness: Harness
    ) -> None:
        first = await harness.broker.send(buy("once"))
        broker = await harness.restart()
        again = await broker.send(buy("once"))
        assert again.reject is RejectReason.DUPLICATE and again.ticket == first.ticket
        assert [p.ticket for p in await broker.positions()] == [first.ticket]

    async def test_restart_resumes_positions_and_balance(self, harness: Harness) -> None:
        kept = await harness.broker.send(buy("keep", 0.30, sl=1990.00, tp=2010.00))
        gone = await harness.broker.send(sell("gone", 0.10))
        await harness.quote(1995.00, 1995.30)
        await harness.broker.close_position(gone.ticket)
        before = (await harness.broker.account()).balance
        # The short closes at the ask: (2000.00 - 1995.30) * 100 * 0.10 = 47.00.
        assert before == pytest.approx(10_047.00)
        broker = await harness.restart()
        (position,) = await broker.positions()
        assert (position.ticket, position.volume, position.price_open) == (kept.ticket, 0.30, ASK)
        assert (position.sl, position.tp) == (1990.00, 2010.00)
        assert (await broker.account()).balance == pytest.approx(before)
        later = await broker.send(buy("later"))
        assert later.ok and later.ticket > max(kept.ticket, gone.ticket, gone.deal or 0)

    async def test_full_close_realises_profit(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("c1"))
        await harness.quote(2010.00, 2010.30)
        closed = await harness.broker.close_position(opened.ticket)
        # A long closes at the bid: (2010.00 - 2000.30) * 100 * 0.10 = 97.00.
        assert closed.ok and closed.price == 2010.00 and closed.volume == 0.10
        assert closed.ticket == opened.ticket
        assert await harness.broker.positions() == []
        assert (await harness.broker.account()).balance == pytest.approx(10_097.00)
        deals = await harness.broker.deals(*EVER)
        assert [d.entry for d in deals] == [DealEntry.IN, DealEntry.OUT]
        out = deals[1]
        assert (out.position_id, out.side, out.price) == (opened.ticket, Side.SELL, 2010.00)
        assert out.profit == pytest.approx(97.00)

    async def test_short_closes_at_the_ask(self, harness: Harness) -> None:
        opened = await harness.broker.send(sell("s1"))
        await harness.quote(1995.00, 1995.30)
        closed = await harness.broker.close_position(opened.ticket)
        # (2000.00 - 1995.30) * 100 * 0.10 = 47.00.
        assert closed.ok and closed.price == 1995.30
        assert (await harness.broker.account()).balance == pytest.approx(10_047.00)

    async def test_partial_close(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("p1"))
        await harness.quote(2010.00, 2010.30)
        part = await harness.broker.close_position(opened.ticket, 0.04)
        # 0.04 of 0.10 lot: (2010.00 - 2000.30) * 100 * 0.04 = 38.80; 0.06 lot stays open.
        assert part.ok and part.volume == 0.04 and part.ticket == opened.ticket
        (rest,) = await harness.broker.positions()
        assert rest.ticket == opened.ticket and rest.volume == pytest.approx(0.06)
        assert (await harness.broker.account()).balance == pytest.approx(10_038.80)
        # The rest: (2010.00 - 2000.30) * 100 * 0.06 = 58.20; total 97.00.
        assert (await harness.broker.close_position(opened.ticket)).ok
        assert (await harness.broker.account()).balance == pytest.approx(10_097.00)

    async def test_partial_close_with_a_client_id_happens_once(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("p1"))
        first = await harness.broker.close_position(opened.ticket, 0.04, client_id="cut-1")
        retry = await harness.broker.close_position(opened.ticket, 0.04, client_id="cut-1")
        assert first.ok and not retry.ok and retry.reject is RejectReason.DUPLICATE
        (rest,) = await harness.broker.positions()
        assert rest.volume == pytest.approx(0.06)

    async def test_close_volume_rules(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("p1"))
        too_much = await harness.broker.close_position(opened.ticket, 0.11)
        off_step = await harness.broker.close_position(opened.ticket, 0.045)
        assert too_much.reject is RejectReason.INVALID_CLOSE_VOLUME
        assert off_step.reject is RejectReason.INVALID_VOLUME
        (position,) = await harness.broker.positions()
        assert position.volume == 0.10

    async def test_close_unknown_or_closed_position(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("c1"))
        assert (await harness.broker.close_position(opened.ticket)).ok
        gone = {RejectReason.UNKNOWN_POSITION, RejectReason.POSITION_CLOSED}
        assert (await harness.broker.close_position(opened.ticket)).reject in gone
        assert (await harness.broker.close_position(987_654_321)).reject in gone

    async def test_modify_keeps_the_level_not_given(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("m1", sl=1990.00, tp=2010.00))
        assert (await harness.broker.modify(opened.ticket, sl=1995.00)).ok
        (position,) = await harness.broker.positions()
        assert (position.sl, position.tp) == (1995.00, 2010.00)
        assert (await harness.broker.modify(opened.ticket, tp=2020.00)).ok
        (position,) = await harness.broker.positions()
        assert (position.sl, position.tp) == (1995.00, 2020.00)

    async def test_modify_refusals(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("m1", sl=1990.00, tp=2010.00))
        wrong = await harness.broker.modify(opened.ticket, sl=2000.10)  # above the bid
        assert wrong.reject is RejectReason.INVALID_STOPS
        same = await harness.broker.modify(opened.ticket, sl=1990.00, tp=2010.00)
        assert same.reject is RejectReason.NO_CHANGES
        (position,) = await harness.broker.positions()
        assert (position.sl, position.tp) == (1990.00, 2010.00)
        missing = await harness.broker.modify(987_654_321, sl=1990.00)
        assert missing.reject in {RejectReason.UNKNOWN_POSITION, RejectReason.POSITION_CLOSED}

    async def test_find_by_client_id(self, harness: Harness) -> None:
        opened = await harness.broker.send(buy("f1"))
        found = await harness.broker.find("f1")
        assert isinstance(found, Position) and found.ticket == opened.ticket
        await harness.broker.close_position(opened.ticket)
        found = await harness.broker.find("f1")
        assert isinstance(found, Deal) and found.position_id == opened.ticket
        assert await harness.broker.find("never-sent") is None

    async def test_deals_add_up_to_the_balance(self, harness: Harness) -> None:
        a = await harness.broker.send(buy("a", 0.20))
        b = await harness.broker.send(sell("b", 0.10))
        await harness.quote(2003.00, 2003.30)
        await harness.broker.close_position(a.ticket)
        await harness.broker.close_position(b.ticket)
        deals = await harness.broker.deals(*EVER)
        # a: (2003.00 - 2000.30) * 100 * 0.20 = 54.00; b: (2000.00 - 2003.30) * 100 * 0.10
        # = -33.00; net +21.00.
        assert len(deals) == 4
        assert sum(d.net for d in deals) == pytest.approx(21.00)
        assert (await harness.broker.account()).balance == pytest.approx(10_021.00)
        assert await harness.broker.deals(*EVER, symbol="EURUSD") == []


# --------------------------------------------------------------------------- paper harness

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


class PaperHarness:
    def __init__(self) -> None:
        self.clock = SimClock(T0)
        self.ledger = MemoryPaperLedger()
        self.broker: PaperBroker = self._broker()
        self._last = (BID, ASK)

    def _broker(self) -> PaperBroker:
        return PaperBroker(self.ledger, self.clock, {"XAUUSD": XAUUSD})

    async def quote(self, bid: float, ask: float) -> None:
        self.clock.advance_to(self.clock.now() + timedelta(seconds=1))
        await self.broker.on_tick(Tick("XAUUSD", self.clock.now(), bid, ask))
        self._last = (bid, ask)

    async def restart(self) -> PaperBroker:
        await self.broker.close()
        self.broker = self._broker()
        await self.broker.connect()
        await self.quote(*self._last)
        return self.broker


class TestPaperContract(BrokerContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[PaperHarness]:
        harness = PaperHarness()
        await harness.broker.connect()
        await harness.quote(BID, ASK)
        yield harness
        await harness.broker.close()
