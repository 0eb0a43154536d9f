"""MemoryPaperLedger: the in-memory PaperLedger (first load, atomic commits, deal queries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.brokers.memory_ledger import MemoryPaperLedger
from engine.models import Deal, DealEntry, Position, Side
from engine.ports import PaperChange

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


def position(ticket: int, volume: float = 0.10) -> Position:
    return Position(ticket, "XAUUSD", Side.BUY, volume, 2000.30, T0)


def deal(ticket: int, minutes: int = 0, symbol: str = "XAUUSD", client_id: str = "") -> Deal:
    return Deal(
        ticket=ticket,
        order=ticket - 1,
        position_id=1,
        symbol=symbol,
        side=Side.BUY,
        entry=DealEntry.IN,
        volume=0.10,
        price=2000.30,
        time=T0 + timedelta(minutes=minutes),
        client_id=client_id,
    )


async def test_first_load_creates_the_account_once() -> None:
    ledger = MemoryPaperLedger()
    first = await ledger.load(10_000.0)
    assert (first.balance, first.next_ticket, first.positions) == (10_000.0, 1, ())
    await ledger.commit(PaperChange(9_000.0, 3))
    again = await ledger.load(50_000.0)  # the argument only seeds a new account
    assert (again.balance, again.next_ticket) == (9_000.0, 3)


async def test_commit_before_load_is_refused() -> None:
    with pytest.raises(ValueError, match="load"):
        await MemoryPaperLedger().commit(PaperChange(1.0, 1))


async def test_commit_applies_positions_and_deals() -> None:
    ledger = MemoryPaperLedger()
    await ledger.load(10_000.0)
    await ledger.commit(PaperChange(10_000.0, 5, upsert=(position(3), position(1))))
    await ledger.commit(
        PaperChange(9_990.0, 7, upsert=(position(1, 0.04),), remove=(3,), deals=(deal(6),))
    )
    snapshot = await ledger.load(0.0)
    assert (snapshot.balance, snapshot.next_ticket) == (9_990.0, 7)
    assert [(p.ticket, p.volume) for p in snapshot.positions] == [(1, 0.04)]
    assert [d.ticket for d in await ledger.deals(T0, T0 + timedelta(days=1))] == [6]
    assert ledger.commits == 2


@pytest.mark.parametrize(
    "bad",
    [
        PaperChange(1.0, 9, upsert=(position(4),), deals=(deal(2),)),  # deal 2 already booked
        PaperChange(1.0, 9, deals=(deal(8), deal(8))),  # one ticket twice
        PaperChange(1.0, 2, upsert=(position(4),)),  # counter going back from 3
        PaperChange(1.0, 9, upsert=(position(4),), remove=(5,)),  # ticket 5 is not open
        PaperChange(1.0, 9, upsert=(position(1, 0.05),), remove=(1,)),  # both on ticket 1
    ],
)
async def test_a_refused_commit_applies_nothing(bad: PaperChange) -> None:
    ledger = MemoryPaperLedger()
    await ledger.load(10_000.0)
    await ledger.commit(PaperChange(9_999.0, 3, upsert=(position(1),), deals=(deal(2),)))
    with pytest.raises(ValueError, match="ticket"):
        await ledger.commit(bad)
    assert ledger.commits == 1
    snapshot = await ledger.load(0.0)
    assert (snapshot.balance, snapshot.next_ticket) == (9_999.0, 3)
    assert [p.ticket for p in snapshot.positions] == [1]
    assert [d.ticket for d in await ledger.deals(T0, T0 + timedelta(days=1))] == [2]


async def test_deals_window_symbol_and_order() -> None:
    ledger = MemoryPaperLedger()
    await ledger.load(0.0)
    # Committed out of time order on purpose: queries come back by (time, ticket).
    await ledger.commit(PaperChange(0.0, 20, deals=(deal(10, 30), deal(12, 0, "EURUSD"))))
    await ledger.commit(PaperChange(0.0, 20, deals=(deal(14, 10), deal(16, 30), deal(18, 60))))
    everything = await ledger.deals(T0, T0 + timedelta(hours=2))
    assert [d.ticket for d in everything] == [12, 14, 10, 16, 18]
    # [start, end): 10:00 is in, 60 minutes is out.
    window = await ledger.deals(T0 + timedelta(minutes=10), T0 + timedelta(minutes=60))
    assert [d.ticket for d in window] == [14, 10, 16]
    assert [d.ticket for d in await ledger.deals(T0, T0 + timedelta(hours=2), "EURUSD")] == [12]
    assert await ledger.deals(T0 - timedelta(hours=1), T0) == []


async def test_deal_by_client_id() -> None:
    ledger = MemoryPaperLedger()
    await ledger.load(0.0)
    await ledger.commit(PaperChange(0.0, 9, deals=(deal(4, client_id="a"), deal(6))))
    await ledger.commit(PaperChange(0.0, 9, deals=(deal(2, 5, client_id="a"),)))
    found = await ledger.deal_by_client_id("a")
    assert found is not None and found.ticket == 2  # the lowest ticket under that id
    assert await ledger.deal_by_client_id("") is None  # SL/TP deals carry no client id
    assert await ledger.deal_by_client_id("b") is None


async def test_reset_wipes_but_keeps_counting_tickets() -> None:
    ledger = MemoryPaperLedger()
    await ledger.load(10_000.0)
    await ledger.commit(PaperChange(9_000.0, 11, (position(9),), (), (deal(10, client_id="x"),)))
    await ledger.reset(2_500.0)
    snapshot = await ledger.load(10_000.0)
    assert (snapshot.balance, snapshot.next_ticket, snapshot.positions) == (2_500.0, 11, ())
    assert await ledger.deals(T0, T0 + timedelta(days=1)) == []
    assert await ledger.deal_by_client_id("x") is None
