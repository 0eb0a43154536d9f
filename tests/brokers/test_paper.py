"""PaperBroker specifics: quotes from bars and ticks, spread, slippage, SL/TP on bar ranges,
stale quotes, trade modes, margin messages. Numbers are worked out in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.brokers.memory_ledger import MemoryPaperLedger
from engine.brokers.paper import PaperBroker
from engine.clock import SimClock
from engine.errors import BadArguments, BrokerUnavailable
from engine.models import (
    Bar,
    DealEntry,
    DealReason,
    OrderRequest,
    RejectReason,
    Side,
    SymbolSpec,
    Tick,
    Timeframe,
    TradeMode,
)
from engine.symbols import DEFAULT_SPECS, US500, XAUUSD

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)  # close time of the 13:00 H1 bar


def h1(open_: float, high: float, low: float, close: float, *, at: datetime, spread: int = 30,
       symbol: str = "XAUUSD") -> Bar:  # fmt: skip
    """The H1 bar that closes at ``at``."""
    return Bar(symbol, Timeframe.H1, at - timedelta(hours=1), open_, high, low, close, 0.0, spread)


def order(
    cid: str, side: Side, volume: float = 0.10, symbol: str = "XAUUSD", **kw: float
) -> OrderRequest:
    return OrderRequest(cid, symbol, side, volume, **kw)


async def paper(
    specs: dict[str, SymbolSpec] | None = None,
    ledger: MemoryPaperLedger | None = None,
    clock: SimClock | None = None,
    **options: Any,
) -> tuple[PaperBroker, SimClock, MemoryPaperLedger]:
    clock = clock or SimClock(T0)
    ledger = ledger or MemoryPaperLedger()
    broker = PaperBroker(ledger, clock, specs or dict(DEFAULT_SPECS), **options)
    await broker.connect()
    return broker, clock, ledger


async def test_bar_quotes_its_close_with_the_bars_spread() -> None:
    broker, _, _ = await paper()
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0, spread=35))
    tick = await broker.tick("XAUUSD")
    # bid = close 2000.00, ask = 2000.00 + 35 points * 0.01 = 2000.35, as of the bar's close.
    assert (tick.bid, tick.ask, tick.time) == (2000.00, 2000.35, T0)
    assert (await broker.send(order("b", Side.BUY))).price == 2000.35
    assert (await broker.send(order("s", Side.SELL))).price == 2000.00


async def test_configured_spread_overrides_bars_and_ticks() -> None:
    broker, _, _ = await paper(spread_points=20)
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0, spread=35))
    assert (await broker.tick("XAUUSD")).ask == 2000.20  # 2000.00 + 20 * 0.01
    await broker.on_tick(Tick("XAUUSD", T0, 2001.00, 2001.90))
    assert (await broker.tick("XAUUSD")).ask == 2001.20  # 2001.00 + 0.20, not 2001.90


async def test_slippage_goes_against_the_trader_both_ways() -> None:
    broker, _, _ = await paper(slippage_points=5)
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0, spread=30))
    # 5 points = 0.05: buy at 2000.30 + 0.05, sell at 2000.00 - 0.05.
    long = await broker.send(order("b", Side.BUY))
    short = await broker.send(order("s", Side.SELL))
    assert (long.price, short.price) == (2000.35, 1999.95)
    # Closing the long sells at 2000.00 - 0.05; the short buys back at 2000.30 + 0.05.
    assert (await broker.close_position(long.ticket)).price == 1999.95
    assert (await broker.close_position(short.ticket)).price == 2000.35


@pytest.mark.parametrize(
    ("side", "bar", "price", "reason"),
    [
        # Long 0.10 at 2000.30 (bid 2000.00 + 0.30), SL 1990, TP 2010: profit = (exit - 2000.30)
        # * 100 * 0.10. Short 0.10 at 2000.00, SL 2010, TP 1990: profit = (2000.00 - exit) * 10.
        (Side.BUY, (2000.0, 2005.0, 1989.0, 1995.0), 1990.00, DealReason.SL),  # -103.00
        (Side.BUY, (2000.0, 2012.0, 1995.0, 2011.0), 2010.00, DealReason.TP),  # +97.00
        (Side.BUY, (2000.0, 2012.0, 1985.0, 2000.0), 1990.00, DealReason.SL),  # both: SL first
        (Side.BUY, (1985.0, 1991.0, 1980.0, 1988.0), 1985.00, DealReason.SL),  # gap: the open
        (Side.BUY, (2000.0, 2005.0, 1990.0, 1999.0), 1990.00, DealReason.SL),  # touch counts
        (Side.SELL, (2000.0, 2009.70, 1995.0, 2001.0), 2010.00, DealReason.SL),  # ask high 2010
        (Side.SELL, (2000.0, 2009.69, 1995.0, 2001.0), None, None),  # ask high 2009.99
        (Side.SELL, (1990.0, 1995.0, 1985.0, 1990.0), 1990.00, DealReason.TP),  # ask open 1990.30
        (Side.SELL, (1985.0, 1995.0, 1980.0, 1990.0), 1985.30, DealReason.TP),  # gap: ask open
    ],
)
async def test_sl_tp_over_the_next_bars_range(
    side: Side, bar: tuple[float, float, float, float], price: float | None, reason: object
) -> None:
    broker, clock, _ = await paper()
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0, spread=30))
    levels = {"sl": 1990.0, "tp": 2010.0} if side is Side.BUY else {"sl": 2010.0, "tp": 1990.0}
    opened = await broker.send(order("x", side, **levels))
    clock.advance_to(T0 + timedelta(hours=1))
    deals = await broker.on_bar(h1(*bar, at=T0 + timedelta(hours=1), spread=30))
    if price is None:
        assert deals == [] and len(await broker.positions()) == 1
        return
    (deal,) = deals
    entry = opened.price
    expected = round((price - entry if side is Side.BUY else entry - price) * 100 * 0.10, 2)
    assert (deal.price, deal.reason, deal.entry) == (price, reason, DealEntry.OUT)
    assert deal.profit == pytest.approx(expected)
    assert deal.comment == f"[{reason.value} {price:.2f}]" and deal.time == clock.now()
    assert await broker.positions() == []
    assert (await broker.account()).balance == pytest.approx(10_000 + expected)


async def test_explicit_numbers_for_a_stop_and_a_gap() -> None:
    broker, clock, _ = await paper()
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0, spread=30))
    a = await broker.send(order("a", Side.BUY, sl=1990.0))
    b = await broker.send(order("b", Side.BUY, sl=1988.0))
    clock.advance_to(T0 + timedelta(hours=1))
    deals = await broker.on_bar(h1(1985.0, 1991.0, 1980.0, 1988.0, at=clock.now()))
    # Both stops sit above the 1985.00 open: both fill at the open, in ticket order.
    # (1985.00 - 2000.30) * 100 * 0.10 = -153.00 each.
    assert [(d.position_id, d.price, d.profit) for d in deals] == [
        (a.ticket, 1985.00, -153.00),
        (b.ticket, 1985.00, -153.00),
    ]
    assert (await broker.account()).balance == pytest.approx(10_000 - 306.00)


async def test_one_bar_closing_several_positions_is_one_commit() -> None:
    broker, clock, ledger = await paper()
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0))
    for cid in ("a", "b", "c"):
        await broker.send(order(cid, Side.BUY, sl=1990.0))
    before = ledger.commits
    clock.advance_to(T0 + timedelta(hours=1))
    deals = await broker.on_bar(h1(2000.0, 2001.0, 1980.0, 1985.0, at=clock.now()))
    assert len(deals) == 3 and ledger.commits == before + 1


async def test_positions_opened_after_a_bar_closed_are_not_judged_on_it() -> None:
    broker, clock, _ = await paper()
    clock.advance_to(T0 + timedelta(minutes=30))
    await broker.on_tick(Tick("XAUUSD", clock.now(), 2000.00, 2000.30))
    await broker.send(order("late", Side.BUY, sl=1990.0))
    # A late-delivered bar that closed at 14:00, before the 14:30 entry, dipped to 1980.
    assert await broker.on_bar(h1(2000.0, 2001.0, 1980.0, 1995.0, at=T0)) == []
    assert len(await broker.positions()) == 1
    # Nor does it roll the newer 14:30 quote back to its 14:00 close.
    tick = await broker.tick("XAUUSD")
    assert (tick.bid, tick.time) == (2000.00, clock.now())


async def test_tick_triggers_a_stop_at_the_tick_price() -> None:
    broker, clock, _ = await paper()
    await broker.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    await broker.send(order("a", Side.BUY, sl=1990.0, tp=2010.0))
    clock.advance_to(T0 + timedelta(seconds=5))
    assert await broker.on_tick(Tick("XAUUSD", clock.now(), 1990.01, 1990.31)) == []
    (deal,) = await broker.on_tick(Tick("XAUUSD", clock.now(), 1989.50, 1989.80))
    # The bid jumped past 1990: fills at 1989.50, (1989.50 - 2000.30) * 100 * 0.10 = -108.00.
    assert (deal.price, deal.reason, deal.profit) == (1989.50, DealReason.SL, -108.00)


async def test_no_quote_is_market_closed() -> None:
    broker, _, _ = await paper()
    refused = await broker.send(order("a", Side.BUY))
    assert refused.reject is RejectReason.MARKET_CLOSED and refused.retcode == 10018
    assert "no quote for XAUUSD" in refused.message


async def test_tick_quote_goes_stale_after_the_limit() -> None:
    broker, clock, _ = await paper(stale_quote_after=timedelta(minutes=10))
    await broker.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    opened = await broker.send(order("a", Side.BUY, sl=1990.0))
    clock.advance_to(T0 + timedelta(minutes=10))
    assert (await broker.send(order("b", Side.BUY))).ok  # exactly 10 minutes: still live
    clock.advance_to(T0 + timedelta(minutes=10, seconds=1))
    refused = await broker.send(order("c", Side.BUY))
    assert refused.reject is RejectReason.MARKET_CLOSED
    assert "0:10:01 old" in refused.message and "2024-03-05 14:00:00 UTC" in refused.message
    assert (await broker.close_position(opened.ticket)).reject is RejectReason.MARKET_CLOSED
    assert (await broker.modify(opened.ticket, sl=1995.0)).reject is RejectReason.MARKET_CLOSED
    assert (await broker.tick("XAUUSD")).bid == 2000.00  # the last tick is still readable


async def test_bar_quote_lives_one_bar_plus_the_limit() -> None:
    broker, clock, _ = await paper(stale_quote_after=timedelta(minutes=10))
    await broker.on_bar(h1(1995.0, 2003.0, 1994.0, 2000.00, at=T0))
    # Closed at 14:00; the next H1 bar is due at 15:00, so the quote holds until 15:10.
    clock.advance_to(T0 + timedelta(hours=1, minutes=10))
    assert (await broker.send(order("a", Side.BUY))).ok
    clock.advance_to(T0 + timedelta(hours=1, minutes=10, seconds=1))
    assert (await broker.send(order("b", Side.BUY))).reject is RejectReason.MARKET_CLOSED


async def test_trade_modes_follow_mt5() -> None:
    ledger, clock = MemoryPaperLedger(), SimClock(T0)
    full, _, _ = await paper(ledger=ledger, clock=clock)
    await full.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    kept = await full.send(order("a", Side.BUY))
    tick = Tick("XAUUSD", T0, 2000.00, 2000.30)

    def mode(m: TradeMode) -> dict[str, SymbolSpec]:
        return {"XAUUSD": replace(XAUUSD, trade_mode=m)}

    disabled, _, _ = await paper(mode(TradeMode.DISABLED), ledger, clock)
    await disabled.on_tick(tick)
    assert (await disabled.send(order("b", Side.BUY))).reject is RejectReason.TRADE_DISABLED
    assert (await disabled.close_position(kept.ticket)).reject is RejectReason.TRADE_DISABLED
    close_only, _, _ = await paper(mode(TradeMode.CLOSEONLY), ledger, clock)
    await close_only.on_tick(tick)
    assert (await close_only.send(order("b", Side.BUY))).reject is RejectReason.CLOSE_ONLY
    assert (await close_only.close_position(kept.ticket)).ok
    long_only, _, _ = await paper(mode(TradeMode.LONGONLY), ledger, clock)
    await long_only.on_tick(tick)
    assert (await long_only.send(order("s", Side.SELL))).reject is RejectReason.LONG_ONLY
    assert (await long_only.send(order("l", Side.BUY))).ok


async def test_no_money_message_states_the_numbers() -> None:
    broker, _, _ = await paper(initial_balance=1_000.0)
    await broker.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    refused = await broker.send(order("a", Side.BUY, 0.50))
    # 100 * 0.50 * 2000.30 / 100 = 1000.15 > free margin 1000.00.
    assert refused.reject is RejectReason.NO_MONEY and refused.retcode == 10019
    assert refused.message.startswith("free margin 1000.00 USD < required 1000.15 USD")
    assert (await broker.send(order("b", Side.BUY, 0.30))).ok
    refused = await broker.send(order("c", Side.BUY, 0.20))
    # Open: margin 100 * 0.30 * 2000.30 / 100 = 600.09, equity 1000 + (2000.00 - 2000.30) * 30
    # = 991.00, free 390.91; the new 0.20 lot needs 400.06.
    assert refused.message.startswith("free margin 390.91 USD < required 400.06 USD")


async def test_margin_check_counts_the_entry_commission() -> None:
    broker, _, _ = await paper(initial_balance=1_000.0, commission_per_lot=7.0)
    await broker.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    # 0.49 lot: margin 100 * 0.49 * 2000.30 / 100 = 980.147 plus commission 0.49 * 7 = 3.43
    # is 983.58 <= 1000: fills. 0.50 lot: 1000.15 + 3.50 = 1003.65 > 1000: refused.
    refused = await broker.send(order("a", Side.BUY, 0.50))
    assert refused.message.startswith("free margin 1000.00 USD < required 1003.65 USD")
    assert "commission 3.50 USD" in refused.message
    assert (await broker.send(order("b", Side.BUY, 0.49))).ok


async def test_commission_on_both_sides() -> None:
    broker, _, ledger = await paper(commission_per_lot=7.0)
    await broker.on_tick(Tick("XAUUSD", T0, 2000.00, 2000.30))
    opened = await broker.send(order("a", Side.BUY, 0.30))
    # Entry: 0.30 lot * 7.00 = 2.10 charged at once: balance 9997.90.
    assert (await broker.account()).balance == pytest.approx(9997.90)
    await broker.on_tick(Tick("XAUUSD", T0, 2010.00, 2010.30))
    await broker.close_position(opened.ticket)
    # Exit: (2010.00 - 2000.30) * 100 * 0.30 = 291.00 profit, 2.10 commission:
    # 9997.90 + 291.00 - 2.10 = 10286.80.
    deals = await ledger.deals(T0, T0 + timedelta(seconds=1))
    assert [(d.profit, d.commission) for d in deals] == [(0.0, -2.10), (291.00, -2.10)]
    assert (await broker.account()).balance == pytest.approx(10_286.80)


async def test_stops_level_on_an_index() -> None:
    broker, _, _ = await paper()
    await broker.on_bar(h1(4990.0, 5001.0, 4989.0, 5000.00, at=T0, spread=50, symbol="US500"))
    # US500 stops level 10 points = 0.10; bid 5000.00: a long's SL must be <= 4999.90.
    near = await broker.send(order("a", Side.BUY, 1.0, "US500", sl=4999.91))
    assert near.reject is RejectReason.INVALID_STOPS and near.retcode == 10016
    assert near.message == "SL 4999.91 must be below bid 5000.00 by at least 10 points (0.10)"
    ok = await broker.send(order("b", Side.BUY, 1.0, "US500", sl=4999.90))
    assert ok.ok and ok.price == 5000.50
    # US500: 1 * 1.0 * 5000.50 / 100 = 50.005 margin.
    assert (await broker.account()).margin == pytest.approx(50.0, abs=0.01)
    assert (await broker.modify(ok.ticket, tp=5000.05)).reject is RejectReason.INVALID_STOPS


async def test_unknown_symbols_and_disconnected_use() -> None:
    broker, _, _ = await paper({"XAUUSD": XAUUSD})
    assert (await broker.send(order("a", Side.BUY, symbol="BTCUSD"))).reject is (
        RejectReason.INVALID
    )
    with pytest.raises(BadArguments):
        await broker.symbol("US500")
    with pytest.raises(BadArguments):
        await broker.on_bar(h1(1.0, 1.0, 1.0, 1.0, at=T0, symbol="US500"))
    assert await broker.symbol("XAUUSD") == XAUUSD
    await broker.close()
    assert not broker.connected
    with pytest.raises(BrokerUnavailable):
        await broker.send(order("a", Side.BUY))
    with pytest.raises(BrokerUnavailable):
        await broker.account()
    fresh = PaperBroker(MemoryPaperLedger(), SimClock(T0), {"XAUUSD": US500})
    with pytest.raises(BrokerUnavailable):
        await fresh.positions()
