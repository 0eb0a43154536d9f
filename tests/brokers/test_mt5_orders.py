"""MT5Broker orders over the fake terminal: filling modes, normalisation, stops level, requotes,
rejections, unknown outcomes, restart reconciliation, hedging vs netting, closed-trade results.

Market unless a test says otherwise: XAUUSD bid 2000.00 / ask 2000.30, 2 digits, 100 oz per lot
(0.01 move = 1.00 USD per lot), account USD 10 000.00, 1:100.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from engine.brokers.mt5 import MT5Broker
from engine.brokers.mt5_requests import client_tag, filling_modes
from engine.brokers.mt5_retcodes import RETCODES, rejection
from engine.clock import SimClock
from engine.errors import BrokerUnavailable
from engine.models import Deal, DealEntry, DealReason, OrderRequest, Position, RejectReason, Side
from tests.fakes.fake_mt5 import FakeMT5, gold_terminal

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
FOK, IOC, RETURN = 0, 1, 2


def buy(cid: str, volume: float = 0.10, **levels: float) -> OrderRequest:
    return OrderRequest(cid, "XAUUSD", Side.BUY, volume, **levels)


def sell(cid: str, volume: float = 0.10, **levels: float) -> OrderRequest:
    return OrderRequest(cid, "XAUUSD", Side.SELL, volume, **levels)


class Market:
    def __init__(self, margin_mode: int = 2, **symbol: object) -> None:
        self.clock = SimClock(T0)
        self.fake: FakeMT5 = gold_terminal(self.clock.now, margin_mode=margin_mode, **symbol)
        self.broker = self.new_broker()

    def new_broker(self, **kw: object) -> MT5Broker:
        kw.setdefault("call_timeout_s", 2.0)
        return MT5Broker(self.fake, self.clock, symbols=("XAUUSD",), **kw)  # type: ignore[arg-type]

    def quote(self, bid: float, ask: float) -> None:
        self.clock.advance_to(self.clock.now() + timedelta(seconds=1))
        self.fake.set_price("XAUUSD", bid, ask)

    def last_order(self) -> object:
        return self.fake.server.orders[-1]


@pytest.fixture
async def market() -> AsyncIterator[Market]:
    m = Market()
    await m.broker.connect()
    yield m
    m.fake.release()
    await m.broker.close()


async def connected(**kw: object) -> Market:
    m = Market(**kw)  # type: ignore[arg-type]
    await m.broker.connect()
    return m


# ------------------------------------------------------------------ request building


@pytest.mark.parametrize(
    ("mask", "exemode", "expected"),
    [
        (1, 2, (FOK,)),  # market execution, FOK bit
        (2, 2, (IOC,)),
        (3, 2, (FOK, IOC)),  # both: FOK first, as MQL5's CTrade
        (0, 2, ()),  # market execution refuses RETURN: nothing fits
        (0, 1, (RETURN,)),  # instant execution
        (2, 3, (IOC, RETURN)),  # exchange execution
        (0, 0, (RETURN,)),  # request execution
    ],
)
def test_filling_mode_table(mask: int, exemode: int, expected: tuple[int, ...]) -> None:
    assert filling_modes(mask, exemode) == expected


def test_client_tag_is_a_short_ascii_hash() -> None:
    digest = hashlib.blake2b(b"order-2024-03-05-0001", digest_size=10).digest()
    expected = "ct" + base64.b32encode(digest).decode().lower()
    tag = client_tag("order-2024-03-05-0001")
    assert tag == expected and len(tag) == 18 and tag.isascii() and tag.isalnum()
    assert client_tag("order-2024-03-05-0002") != tag
    assert len(client_tag("x" * 500)) == 18


async def test_ioc_only_symbol_sends_ioc() -> None:
    m = await connected(filling_mode=2)
    assert (await m.broker.send(buy("i1"))).ok
    assert m.last_order().type_filling == IOC
    await m.broker.close()


async def test_refused_filling_switches_once_to_the_next_mode() -> None:
    m = await connected(refused_fillings=(FOK,))
    assert (await m.broker.send(buy("f1"))).ok
    assert m.last_order().type_filling == IOC
    assert m.fake.calls.count("order_check") == 2  # FOK refused at check, IOC passed
    await m.broker.close()


async def test_no_filling_mode_left_is_refused() -> None:
    m = await connected(refused_fillings=(FOK, IOC))
    refused = await m.broker.send(buy("f2"))
    assert refused.reject is RejectReason.INVALID_FILL and m.fake.sends == 0
    assert "(MT5 retcode 10030: Unsupported filling mode)" in refused.message
    m.fake.server.symbols["XAUUSD"].filling_mode = 0  # market execution with no bit set
    refused = await m.broker.send(buy("f3"))
    assert refused.reject is RejectReason.INVALID_FILL
    assert refused.message == (
        "XAUUSD allows no filling mode for market orders (filling_mode 0, market execution)"
    )
    await m.broker.close()


async def test_prices_snap_to_the_tick_and_volume_loses_float_noise() -> None:
    m = await connected(tick_size=0.05)
    sent = await m.broker.send(buy("n1", 0.1 + 0.2, sl=1990.02, tp=2010.08))
    assert sent.ok
    order = m.last_order()
    # 0.1 + 0.2 = 0.30000000000000004 -> 0.3; 1990.02 -> 1990.00 and 2010.08 -> 2010.10 (0.05 grid)
    assert (order.volume_initial, order.sl, order.tp) == (0.3, 1990.00, 2010.10)
    await m.broker.close()


async def test_magic_and_comment_are_sent(market: Market) -> None:
    await market.broker.send(buy("tagged"))
    order = market.last_order()
    assert order.magic == market.broker.magic and order.comment == client_tag("tagged")


# ------------------------------------------------------------------ stops level


async def test_stops_too_close_are_refused_with_numbers() -> None:
    m = await connected(stops_level=50)
    refused = await m.broker.send(buy("s1", sl=1999.60))
    assert refused.reject is RejectReason.INVALID_STOPS and m.fake.sends == 0
    assert refused.message == (
        "SL 1999.60 is 40 points from the bid 2000.00; XAUUSD needs at least 50 points (0.50) "
        "(broker stops level)"
    )
    refused = await m.broker.send(sell("s2", tp=1999.90))  # 40 points under the ask 2000.30
    assert "TP 1999.90 is 40 points from the ask 2000.30" in refused.message
    assert (await m.broker.send(buy("s3", sl=1999.50, tp=2000.50))).ok  # exactly 50 points
    await m.broker.close()


async def test_modify_inside_the_freeze_level_is_refused() -> None:
    m = await connected(freeze_level=30)
    opened = await m.broker.send(buy("z1", sl=1999.80))
    refused = await m.broker.modify(opened.ticket, tp=2010.00)
    assert refused.reject is RejectReason.FROZEN
    assert refused.message.startswith("the SL 1999.80 is within 30 points (0.30) of the price")
    await m.broker.close()


# ------------------------------------------------------------------ retries and rejections


async def test_requote_is_retried_with_a_fresh_price(market: Market) -> None:
    market.fake.requote_next(2, move=0.10)
    sent = await market.broker.send(buy("r1"))
    # two requotes move the ask 2000.30 -> 2000.40 -> 2000.50; the third send fills there
    assert sent.ok and sent.price == 2000.50 and market.fake.sends == 3
    assert [o.price_open for o in market.fake.server.orders] == [2000.50]


async def test_requotes_are_retried_a_bounded_number_of_times(market: Market) -> None:
    market.fake.requote_next(10)
    refused = await market.broker.send(buy("r2"))
    assert refused.reject is RejectReason.REQUOTE and market.fake.sends == 4  # 1 + 3 retries
    assert refused.message == (
        "the broker requoted the price after 3 retries with fresh prices "
        "(MT5 retcode 10004: Requote)"
    )
    assert await market.broker.positions() == []


@pytest.mark.parametrize(
    ("setup", "reason", "retcode"),
    [
        ("closed", RejectReason.MARKET_CLOSED, 10018),
        ("money", RejectReason.NO_MONEY, 10019),
        ("noquote", RejectReason.PRICE_OFF, 10021),
    ],
)
async def test_server_rejections_are_mapped(
    market: Market, setup: str, reason: RejectReason, retcode: int
) -> None:
    volume = 0.10
    if setup == "closed":
        market.fake.server.symbols["XAUUSD"].market_open = False
    elif setup == "money":
        volume = 5.00  # 5 * 100 * 2000.30 / 100 = 10001.50 > 10000.00 free
    else:
        market.fake.set_price("XAUUSD", 0.0, 0.0)
    refused = await market.broker.send(buy("x", volume))
    assert (refused.ok, refused.reject, refused.retcode) == (False, reason, retcode)
    assert f"(MT5 retcode {retcode}: " in refused.message
    assert market.fake.sends == 0  # order_check already refused: nothing was sent


def test_every_retcode_has_a_reason_and_a_sentence() -> None:
    for code, (reason, text) in RETCODES.items():
        result = rejection(code, "server words")
        assert result.reject is reason and result.retcode == code
        assert result.message == f"{text} (MT5 retcode {code}: server words)"
    assert rejection(10027).message.startswith("Algo Trading is off in the terminal: press")
    unknown = rejection(10099, "odd")
    assert (unknown.reject, unknown.message) == (
        RejectReason.ERROR, "the broker answered retcode 10099 (MT5 retcode 10099: odd)",
    )  # fmt: skip


async def test_close_only_symbol_refuses_new_positions(market: Market) -> None:
    market.fake.server.symbols["XAUUSD"].trade_mode = 3
    refused = await market.broker.send(buy("c1"))
    assert refused.reject is RejectReason.CLOSE_ONLY and market.fake.sends == 0


# ------------------------------------------------------------------ unknown outcomes


async def test_no_answer_but_filled_is_found_by_key(market: Market) -> None:
    market.fake.execute_then_fail()
    sent = await market.broker.send(buy("u1"))
    assert sent.ok and sent.message == "filled (confirmed after no answer)"
    (position,) = await market.broker.positions()
    assert sent.ticket == position.ticket and position.client_id == "u1"
    again = await market.broker.send(buy("u1"))
    assert again.reject is RejectReason.DUPLICATE and again.ticket == position.ticket
    assert market.fake.sends == 1


async def test_no_answer_and_not_filled_is_not_resent_blindly(market: Market) -> None:
    market.fake.fail_next("order_send")
    first = await market.broker.send(buy("u2"))
    assert first.reject is RejectReason.TIMEOUT
    assert "nothing has appeared for this order yet, so it may still fill" in first.message
    assert await market.broker.positions() == []
    second = await market.broker.send(buy("u2"))  # looked up again first, then sent
    assert second.ok and len(await market.broker.positions()) == 1


async def test_timeout_with_unknown_outcome_never_fills_twice() -> None:
    m = Market()
    m.broker = m.new_broker(call_timeout_s=0.3)
    await m.broker.connect()
    m.fake.hang_next("order_send", seconds=5.0)
    with pytest.raises(BrokerUnavailable) as err:
        await m.broker.send(buy("u3"))
    assert err.value.code == "mt5_outcome_unknown" and not m.broker.connected
    assert "looked up by its key before anything is sent again" in str(err.value)
    m.fake.release()  # the terminal answers late: the order did execute
    for _ in range(100):
        if m.fake.server.positions:
            break
        await asyncio.sleep(0.01)
    assert await m.broker.reconnect(max_attempts=3)
    again = await m.broker.send(buy("u3"))
    assert again.reject is RejectReason.DUPLICATE
    assert m.fake.sends == 1 and len(await m.broker.positions()) == 1
    await m.broker.close()


async def test_restart_finds_the_position_by_client_id(market: Market) -> None:
    first = await market.broker.send(buy("keep-me", sl=1990.00))
    await market.broker.close()
    market.broker = market.new_broker()
    await market.broker.connect()
    assert [p.client_id for p in await market.broker.positions()] == [""]  # unknown until asked
    found = await market.broker.find("keep-me")
    assert isinstance(found, Position)
    assert (found.ticket, found.client_id, found.sl) == (first.ticket, "keep-me", 1990.00)
    again = await market.broker.send(buy("keep-me"))
    assert again.reject is RejectReason.DUPLICATE and market.fake.sends == 1


async def test_other_magic_numbers_are_not_ours(market: Market) -> None:
    other = market.new_broker(magic=99)
    await other.connect()
    await other.send(buy("theirs"))
    assert await market.broker.positions() == []
    assert await market.broker.find("theirs") is None
    await other.close()


# ------------------------------------------------------------------ hedging and netting


async def test_hedging_keeps_one_position_per_entry(market: Market) -> None:
    a = await market.broker.send(buy("h1", 0.10))
    b = await market.broker.send(buy("h2", 0.20))
    assert a.ticket != b.ticket
    assert (await market.broker.close_position(a.ticket)).ok
    (left,) = await market.broker.positions()
    assert (left.ticket, left.volume) == (b.ticket, 0.20)


async def test_netting_merges_entries_into_one_position() -> None:
    m = await connected(margin_mode=0)
    a = await m.broker.send(buy("n1", 0.10))
    m.quote(2001.00, 2001.30)
    b = await m.broker.send(buy("n2", 0.10))
    assert a.ticket == b.ticket  # the same position
    (position,) = await m.broker.positions()
    # volume-weighted entry: (2000.30 * 0.10 + 2001.30 * 0.10) / 0.20 = 2000.80
    assert position.volume == 0.20 and position.price_open == pytest.approx(2000.80)
    found = await m.broker.find("n2")  # its comment lives on the deal, not the position
    assert isinstance(found, Deal) and found.position_id == a.ticket
    part = await m.broker.close_position(a.ticket, 0.05)
    assert part.ok and (await m.broker.positions())[0].volume == 0.15
    closed = await m.broker.send(sell("n3", 0.15))  # an opposite deal closes on netting
    assert closed.ok and closed.ticket is None and await m.broker.positions() == []
    entries = [d.entry for d in await m.broker.deals(*EVER)]
    assert entries == [DealEntry.IN, DealEntry.IN, DealEntry.OUT, DealEntry.OUT]
    await m.broker.close()


async def test_netting_reversal() -> None:
    m = await connected(margin_mode=0)
    a = await m.broker.send(buy("v1", 0.10))
    b = await m.broker.send(sell("v2", 0.30))
    (position,) = await m.broker.positions()
    assert (position.ticket, position.side, position.volume) == (a.ticket, Side.SELL, 0.20)
    assert b.ticket == a.ticket
    deals = await m.broker.deals(*EVER)
    assert [d.entry for d in deals] == [DealEntry.IN, DealEntry.INOUT]
    # the closed 0.10 long: (2000.00 - 2000.30) * 100 * 0.10 = -3.00
    assert deals[1].profit == pytest.approx(-3.00)
    await m.broker.close()


# ------------------------------------------------------------------ modify and results


async def test_modify_sends_both_levels(market: Market) -> None:
    opened = await market.broker.send(buy("m1", sl=1990.00, tp=2010.00))
    assert (await market.broker.modify(opened.ticket, tp=2015.004)).ok
    (position,) = await market.broker.positions()
    assert (position.sl, position.tp) == (1990.00, 2015.00)


async def test_modify_with_no_answer_is_confirmed_by_reading(market: Market) -> None:
    opened = await market.broker.send(buy("m2", sl=1990.00))
    market.fake.execute_then_fail()
    done = await market.broker.modify(opened.ticket, sl=1995.00)
    assert done.ok and done.message == "SL/TP set (confirmed after no answer)"


async def test_closed_trade_from_deal_history(market: Market) -> None:
    market.fake.server.commission_per_lot = 7.0
    opened = await market.broker.send(buy("t1", 0.10))
    assert await market.broker.closed_trade(opened.ticket) is None  # still open
    market.fake.server.positions[opened.ticket].swap = -1.25  # one night's swap
    market.quote(2010.00, 2010.30)
    await market.broker.close_position(opened.ticket)
    trade = await market.broker.closed_trade(opened.ticket)
    assert trade is not None
    # profit (2010.00 - 2000.30) * 100 * 0.10 = 97.00; commission 7.00 * 0.10 per deal, twice
    assert (trade.profit, trade.commission, trade.swap) == (97.00, -1.40, -1.25)
    assert trade.net == pytest.approx(94.35)
    assert (trade.price_open, trade.price_close, trade.volume) == (2000.30, 2010.00, 0.10)
    assert (trade.opened_at, trade.closed_at) == (T0, T0 + timedelta(seconds=1))
    assert (trade.client_id, trade.reason) == ("t1", DealReason.EXPERT)
    assert (await market.broker.account()).balance == pytest.approx(10_000 + 94.35)


async def test_stop_loss_close_is_reported_with_its_reason(market: Market) -> None:
    opened = await market.broker.send(sell("t2", 0.20, sl=2005.00))
    market.quote(2004.80, 2005.10)  # the ask reaches the short's SL
    assert await market.broker.positions() == []
    trade = await market.broker.closed_trade(opened.ticket)
    # filled at the ask 2005.10: (2000.00 - 2005.10) * 100 * 0.20 = -102.00
    assert trade is not None and trade.reason is DealReason.SL
    assert (trade.price_close, trade.profit) == (2005.10, -102.00)


async def test_partial_close_leaving_less_than_the_minimum_is_refused(market: Market) -> None:
    opened = await market.broker.send(buy("p1", 0.10))
    market.fake.server.symbols["XAUUSD"].volume_min = 0.05
    refused = await market.broker.close_position(opened.ticket, 0.06)
    assert refused.reject is RejectReason.INVALID_VOLUME
    assert refused.message == "closing 0.06 of 0.1 lots would leave 0.04, below the minimum 0.05"


async def test_closed_trades_in_a_window(market: Market) -> None:
    a = await market.broker.send(buy("w1", 0.10, tp=2005.00))
    b = await market.broker.send(sell("w2", 0.10))
    market.quote(2005.00, 2005.30)  # the long's TP: (2005.00 - 2000.30) * 100 * 0.10 = 47.00
    market.quote(2006.00, 2006.30)
    await market.broker.close_position(b.ticket)  # (2000.00 - 2006.30) * 100 * 0.10 = -63.00
    trades = await market.broker.closed_trades(*EVER)
    assert [(t.position_id, t.reason, t.profit) for t in trades] == [
        (a.ticket, DealReason.TP, 47.00),
        (b.ticket, DealReason.EXPERT, -63.00),
    ]
    assert [t.client_id for t in trades] == ["w1", "w2"]
    late = await market.broker.closed_trades(T0 + timedelta(seconds=2), EVER[1])
    assert [t.position_id for t in late] == [b.ticket]  # the TP exit was at T0 + 1 s
