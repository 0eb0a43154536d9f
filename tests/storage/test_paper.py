"""Paper ledger: created on first load, atomic commits, deal lookup, reset."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from engine.models import Deal, DealEntry, DealReason, Position, Side
from engine.ports import PaperChange
from storage import Storage
from storage.db import StorageError
from tests.storage.conftest import T0

HOUR = timedelta(hours=1)
OPEN = Position(1, "XAUUSD", Side.BUY, 0.1, 2001.8, T0, sl=1990.0, tp=2010.0, client_id="a")
OPEN_DEAL = Deal(2, 1, 1, "XAUUSD", Side.BUY, DealEntry.IN, 0.1, 2001.8, T0, client_id="a")
# Closing 0.1 lot bought at 2001.8 at 2010.0: 8.2 USD/oz * 100 oz/lot * 0.1 lot = 82.0 USD.
CLOSE_DEAL = Deal(
    4, 3, 1, "XAUUSD", Side.SELL, DealEntry.OUT, 0.1, 2010.0, T0 + HOUR,
    profit=82.0, commission=-0.7, reason=DealReason.TP,
)  # fmt: skip


async def open_one(storage: Storage) -> None:
    await storage.paper.load(10_000.0)
    await storage.paper.commit(PaperChange(10_000.0, 3, upsert=(OPEN,), deals=(OPEN_DEAL,)))


async def test_load_creates_the_account_once(storage: Storage) -> None:
    first = await storage.paper.load(10_000.0)
    assert (first.balance, first.next_ticket, first.positions) == (10_000.0, 1, ())
    second = await storage.paper.load(500.0)  # already exists: the argument is ignored
    assert second.balance == 10_000.0


async def test_commit_open_then_close(storage: Storage) -> None:
    await open_one(storage)
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.next_ticket, snap.positions) == (10_000.0, 3, (OPEN,))
    moved = Position(1, "XAUUSD", Side.BUY, 0.1, 2001.8, T0, sl=2001.8, tp=2010.0, client_id="a")
    await storage.paper.commit(PaperChange(10_000.0, 3, upsert=(moved,)))
    assert (await storage.paper.load(0.0)).positions == (moved,)
    await storage.paper.commit(
        PaperChange(10_000.0 + 82.0 - 0.7, 5, remove=(1,), deals=(CLOSE_DEAL,))
    )
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.next_ticket, snap.positions) == (10_081.3, 5, ())
    assert await storage.paper.deals(T0, T0 + 2 * HOUR) == [OPEN_DEAL, CLOSE_DEAL]
    assert CLOSE_DEAL.net == pytest.approx(81.3)


async def test_deal_lookup_by_client_id_and_time_range(storage: Storage) -> None:
    await open_one(storage)
    gold_b = Deal(5, 5, 5, "XAUUSD", Side.SELL, DealEntry.IN, 0.2, 2003.0, T0 + HOUR)
    euro = Deal(6, 6, 6, "EURUSD", Side.BUY, DealEntry.IN, 1.0, 1.1, T0 + HOUR, client_id="e")
    await storage.paper.commit(PaperChange(10_000.0, 7, deals=(gold_b, euro)))
    assert await storage.paper.deal_by_client_id("a") == OPEN_DEAL
    assert await storage.paper.deal_by_client_id("e") == euro
    assert await storage.paper.deal_by_client_id("zzz") is None
    assert await storage.paper.deal_by_client_id("") is None  # many deals carry no client id
    assert await storage.paper.deals(T0 + HOUR, T0 + 2 * HOUR) == [gold_b, euro]
    assert await storage.paper.deals(T0, T0 + HOUR) == [OPEN_DEAL]  # end excluded
    assert await storage.paper.deals(T0, T0 + 2 * HOUR, "XAUUSD") == [OPEN_DEAL, gold_b]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (PaperChange(1.0, 9, remove=(42,), deals=(CLOSE_DEAL,)), "42 is not open"),
        (PaperChange(1.0, 2, deals=(CLOSE_DEAL,)), "may not go back from 3 to 2"),
        (PaperChange(1.0, 9, upsert=(OPEN,), remove=(1,)), r"\[1\] are both"),
    ],
)
async def test_refused_commit_changes_nothing(
    storage: Storage, change: PaperChange, error: str
) -> None:
    await open_one(storage)
    with pytest.raises(StorageError, match=error):
        await storage.paper.commit(change)
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.next_ticket, snap.positions) == (10_000.0, 3, (OPEN,))
    assert await storage.paper.deals(T0, T0 + 2 * HOUR) == [OPEN_DEAL]


async def test_repeated_deal_ticket_rolls_back_balance_and_positions(storage: Storage) -> None:
    await open_one(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await storage.paper.commit(PaperChange(5.0, 9, remove=(1,), deals=(OPEN_DEAL,)))
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.next_ticket, snap.positions) == (10_000.0, 3, (OPEN,))


async def test_commit_before_load_is_an_error(storage: Storage) -> None:
    with pytest.raises(StorageError, match="load"):
        await storage.paper.commit(PaperChange(1.0, 1))


async def test_commit_inside_a_failed_use_case_is_rolled_back(storage: Storage) -> None:
    await storage.paper.load(10_000.0)
    with pytest.raises(RuntimeError):
        async with storage.db.transaction():
            await storage.paper.commit(PaperChange(9_000.0, 3, upsert=(OPEN,)))
            raise RuntimeError("broker call failed after the ledger step")
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.positions) == (10_000.0, ())


async def test_reset_wipes_positions_and_deals_but_never_reuses_tickets(
    storage: Storage,
) -> None:
    await open_one(storage)
    await storage.paper.reset(2_500.0)
    snap = await storage.paper.load(0.0)
    assert (snap.balance, snap.next_ticket, snap.positions) == (2_500.0, 3, ())
    assert await storage.paper.deals(T0, T0 + 2 * HOUR) == []
    assert await storage.paper.deal_by_client_id("a") is None
