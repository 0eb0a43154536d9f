"""PaperBroker state: restart, idempotency, atomic commits, and a seeded run of random trades
whose deals must add up to the balance and match profits recomputed by plain arithmetic."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.brokers.memory_ledger import MemoryPaperLedger
from engine.brokers.paper import PaperBroker
from engine.clock import SimClock
from engine.errors import ConfigError
from engine.models import (
    Deal,
    DealEntry,
    DealReason,
    OrderRequest,
    Position,
    RejectReason,
    Side,
    Tick,
)
from engine.ports import PaperChange, PaperLedger
from engine.symbols import DEFAULT_SPECS, XAUUSD
from storage import open_storage

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
GOLD = {"XAUUSD": XAUUSD}


def buy(cid: str, volume: float = 0.10, **levels: float) -> OrderRequest:
    return OrderRequest(cid, "XAUUSD", Side.BUY, volume, **levels)


async def started(ledger: PaperLedger, clock: SimClock, **options: Any) -> PaperBroker:
    broker = PaperBroker(ledger, clock, GOLD, **options)
    await broker.connect()
    await broker.on_tick(Tick("XAUUSD", clock.now(), 2000.00, 2000.30))
    return broker


class FlakyLedger(MemoryPaperLedger):
    """Refuses commits while ``fail`` is set, like a full disk."""

    def __init__(self) -> None:
        super().__init__()
        self.fail = False

    async def commit(self, change: PaperChange) -> None:
        if self.fail:
            msg = "disk I/O error"
            raise OSError(msg)
        await super().commit(change)


@pytest.fixture(params=["memory", "sqlite"])
async def any_ledger(request: pytest.FixtureRequest) -> AsyncIterator[PaperLedger]:
    """The in-memory ledger and the SQLite one must behave the same under the broker."""
    if request.param == "memory":
        yield MemoryPaperLedger()
        return
    storage = await open_storage(":memory:", SimClock(T0))
    yield storage.paper
    await storage.close()


async def test_restart_on_a_sqlite_file_resumes_everything(tmp_path: Path) -> None:
    clock, path = SimClock(T0), tmp_path / "paper.db"
    storage = await open_storage(path, clock)
    broker = await started(storage.paper, clock, commission_per_lot=7.0)
    kept = await broker.send(buy("keep", 0.30, sl=1990.0, tp=2010.0))
    cut = await broker.send(buy("cut", 0.20))
    await broker.on_tick(Tick("XAUUSD", T0, 2005.00, 2005.30))
    assert (await broker.close_position(cut.ticket, 0.05, client_id="cut-1")).ok
    # Entries pay 0.30 * 7 = 2.10 and 0.20 * 7 = 1.40; the 0.05 cut earns
    # (2005.00 - 2000.30) * 100 * 0.05 = 23.50 and pays 0.35: 10000 - 3.50 + 23.15 = 10019.65.
    assert (await broker.account()).balance == pytest.approx(10_019.65)
    await broker.close()
    await storage.close()

    storage = await open_storage(path, clock)
    again = await started(storage.paper, clock, commission_per_lot=7.0)
    assert [(p.ticket, p.volume, p.sl, p.tp) for p in await again.positions()] == [
        (kept.ticket, 0.30, 1990.0, 2010.0),
        (cut.ticket, pytest.approx(0.15), None, None),
    ]
    assert (await again.account()).balance == pytest.approx(10_019.65)
    assert (await again.send(buy("keep"))).reject is RejectReason.DUPLICATE
    retry = await again.close_position(cut.ticket, 0.05, client_id="cut-1")
    assert retry.reject is RejectReason.DUPLICATE
    # Tickets 1-2 keep, 3-4 cut, 5-6 the partial close: the next order is 7.
    assert (await again.send(buy("next"))).ticket == 7
    await storage.close()


async def test_restart_resumes_the_ticket_counter() -> None:
    ledger, clock = MemoryPaperLedger(), SimClock(T0)
    broker = await started(ledger, clock)
    first = await broker.send(buy("a"))
    closed = await broker.close_position(first.ticket)
    # Fresh ledger starts at 1: order 1 + deal 2 open, order 3 + deal 4 close.
    assert (first.ticket, first.deal, closed.order, closed.deal) == (1, 2, 3, 4)
    again = await started(ledger, clock)
    assert (await again.send(buy("b"))).ticket == 5


async def test_restart_without_a_quote_shows_stored_positions() -> None:
    ledger, clock = MemoryPaperLedger(), SimClock(T0)
    broker = await started(ledger, clock)
    opened = await broker.send(buy("a", sl=1990.0))
    again = PaperBroker(ledger, clock, GOLD)
    await again.connect()
    (position,) = await again.positions()
    assert (position.ticket, position.price_open, position.sl) == (opened.ticket, 2000.30, 1990.0)
    assert (await again.account()).balance == 10_000.0


async def test_ledger_positions_in_an_unconfigured_symbol_refuse_to_load() -> None:
    ledger, clock = MemoryPaperLedger(), SimClock(T0)
    broker = PaperBroker(ledger, clock, DEFAULT_SPECS)
    await broker.connect()
    await broker.on_tick(Tick("US500", T0, 5000.00, 5000.50))
    assert (await broker.send(OrderRequest("i", "US500", Side.BUY, 1.0))).ok
    with pytest.raises(ConfigError, match="US500"):
        await PaperBroker(ledger, clock, GOLD).connect()


async def test_concurrent_sends_with_one_client_id_fill_once(any_ledger: PaperLedger) -> None:
    broker = await started(any_ledger, SimClock(T0))
    results = await asyncio.gather(*(broker.send(buy("same")) for _ in range(5)))
    assert sum(r.ok for r in results) == 1
    assert {r.reject for r in results if not r.ok} == {RejectReason.DUPLICATE}
    assert len(await broker.positions()) == 1


async def test_client_id_of_a_closed_position_is_still_a_duplicate(
    any_ledger: PaperLedger,
) -> None:
    broker = await started(any_ledger, SimClock(T0))
    first = await broker.send(buy("a"))
    await broker.close_position(first.ticket, client_id="close-a")
    again = await broker.send(buy("a"))
    assert again.reject is RejectReason.DUPLICATE and again.ticket == first.ticket
    assert await broker.positions() == []
    out = await broker.find("close-a")
    assert isinstance(out, Deal) and out.entry is DealEntry.OUT
    assert out.position_id == first.ticket


async def test_a_refused_order_does_not_use_up_its_client_id() -> None:
    broker = await started(MemoryPaperLedger(), SimClock(T0))
    assert (await broker.send(buy("a", 0.005))).reject is RejectReason.INVALID_VOLUME
    assert (await broker.send(buy("a", 0.01))).ok


async def test_a_failed_commit_changes_nothing() -> None:
    ledger, clock = FlakyLedger(), SimClock(T0)
    broker = await started(ledger, clock)
    kept = await broker.send(buy("kept", sl=1990.0))
    ledger.fail = True
    with pytest.raises(OSError, match="disk"):
        await broker.send(buy("b"))
    with pytest.raises(OSError, match="disk"):
        await broker.on_tick(Tick("XAUUSD", T0, 1980.00, 1980.30))  # would stop out "kept"
    with pytest.raises(OSError, match="disk"):
        await broker.modify(kept.ticket, sl=1995.0)
    assert [(p.ticket, p.sl) for p in await broker.positions()] == [(kept.ticket, 1990.0)]
    assert (await broker.account()).balance == 10_000.0
    assert len(await broker.deals(*EVER)) == 1
    ledger.fail = False
    retry = await broker.send(buy("b"))
    assert retry.ok and retry.ticket == kept.ticket + 2  # the failed attempt used no ticket


async def test_reset_starts_again(any_ledger: PaperLedger) -> None:
    broker = await started(any_ledger, SimClock(T0))
    await broker.send(buy("a"))
    await broker.reset(5_000.0)
    assert await broker.positions() == [] and await broker.deals(*EVER) == []
    assert (await broker.account()).balance == 5_000.0
    assert (await broker.send(buy("a"))).ok  # the wiped deal no longer blocks its client id


async def test_find_open_position_after_a_partial_close() -> None:
    broker = await started(MemoryPaperLedger(), SimClock(T0))
    opened = await broker.send(buy("a", 0.10))
    await broker.close_position(opened.ticket, 0.03)
    found = await broker.find("a")
    assert isinstance(found, Position) and found.volume == pytest.approx(0.07)


async def test_random_trades_add_up(any_ledger: PaperLedger) -> None:
    """300 seeded steps of price moves, entries with stops, full and partial closes and one
    restart; then every deal is checked against plain arithmetic."""
    rng = random.Random(1234)
    ledger, clock = any_ledger, SimClock(T0)
    options: dict[str, Any] = {"commission_per_lot": 3.0, "slippage_points": 2, "leverage": 500}
    broker = await started(ledger, clock, **options)
    price = 2000.00
    for step in range(300):
        if step == 150:
            await broker.close()
            broker = await started(ledger, clock, **options)
        clock.advance_to(clock.now() + timedelta(seconds=30))
        price = round(price + rng.randint(-150, 150) * 0.01, 2)
        await broker.on_tick(Tick("XAUUSD", clock.now(), price, round(price + 0.25, 2)))
        positions = await broker.positions()
        roll = rng.random()
        if roll < 0.45 or not positions:
            side = rng.choice((Side.BUY, Side.SELL))
            away = rng.randint(100, 800) * 0.01 * side.sign
            levels = {"sl": round(price - away, 2), "tp": round(price + away, 2)}
            request = OrderRequest(f"r{step}", "XAUUSD", side, rng.randint(1, 50) / 100, **levels)
            assert (await broker.send(request)).ok
        elif roll < 0.75:
            target = rng.choice(positions)
            cut = rng.randint(1, round(target.volume * 100)) / 100
            result = await broker.close_position(target.ticket, cut, client_id=f"c{step}")
            leaves = round(target.volume - cut, 2)
            assert result.ok == (leaves == 0 or leaves >= 0.01)

    deals = await broker.deals(*EVER)
    ins = {d.position_id: d for d in deals if d.entry is DealEntry.IN}
    outs = [d for d in deals if d.entry is DealEntry.OUT]
    expected = 10_000.0
    for d in deals:
        # Commission 3.00 per lot per side, charged on every deal.
        assert d.commission == pytest.approx(-round(3.0 * d.volume, 2), abs=1e-9)
        expected += d.commission
    for d in outs:
        entry = ins[d.position_id]
        sign = 1 if entry.side is Side.BUY else -1
        # XAUUSD: 100 oz per lot, so profit = sign * (exit - entry) * 100 * volume.
        assert d.profit == pytest.approx(sign * (d.price - entry.price) * 100 * d.volume, abs=1e-6)
        assert d.side is entry.side.opposite
        expected += d.profit
    balance = (await broker.account()).balance
    assert sum(d.net for d in deals) == pytest.approx(balance - 10_000.0, abs=1e-6)
    assert balance == pytest.approx(expected, abs=1e-6)
    # Volumes: what is still open is what went in minus what came out, per position.
    open_volume = {p.ticket: p.volume for p in await broker.positions()}
    for ticket, entry in ins.items():
        left = entry.volume - sum(d.volume for d in outs if d.position_id == ticket)
        assert left == pytest.approx(open_volume.get(ticket, 0.0), abs=1e-9)
    assert len(outs) > 100
    reasons = {d.reason for d in outs}
    assert {DealReason.SL, DealReason.TP, DealReason.EXPERT} <= reasons  # all paths exercised
    assert any(d.volume < ins[d.position_id].volume for d in outs)  # partial closes happened
