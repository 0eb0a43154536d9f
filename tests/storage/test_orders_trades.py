"""Orders (unique client id, outcome, pending) and closed trades (unique position id)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from engine.models import (
    ClosedTrade,
    DealReason,
    Order,
    OrderStatus,
    OrderType,
    RejectReason,
    Side,
)
from storage import Storage
from storage.db import StorageError
from tests.storage.conftest import T0

MINUTE = timedelta(minutes=1)


def order(client_id: str, minutes: int = 0, **changes: object) -> Order:
    base = Order(client_id, "XAUUSD", Side.BUY, 0.1, created_at=T0 + minutes * MINUTE)
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_order_round_trips_every_field(storage: Storage) -> None:
    full = Order(
        client_id="ct-1",
        symbol="XAUUSD",
        side=Side.SELL,
        volume=0.37,
        created_at=T0,
        status=OrderStatus.REJECTED,
        type=OrderType.LIMIT,
        sl=2031.25,
        tp=1990.5,
        ticket=123456789012,
        price=2020.11,
        reject=RejectReason.NO_MONEY,
        message="free margin 120.00 < 250.00",
        strategy="ema_atr",
        updated_at=T0 + MINUTE,
    )
    assert await storage.orders.add(full)
    assert await storage.orders.get("ct-1") == full
    assert await storage.orders.get("missing") is None


async def test_duplicate_client_id_is_refused_and_writes_nothing(storage: Storage) -> None:
    assert await storage.orders.add(order("ct-1"))
    assert not await storage.orders.add(order("ct-1", 5, symbol="EURUSD", volume=2.0))
    assert await storage.orders.get("ct-1") == order("ct-1")
    assert await storage.orders.recent() == [order("ct-1")]


async def test_set_result_records_outcome_and_keeps_known_ticket(storage: Storage) -> None:
    assert await storage.orders.add(order("ct-1"))
    await storage.orders.set_result(
        "ct-1", OrderStatus.FILLED, at=T0 + MINUTE, ticket=77, price=2001.8
    )
    await storage.orders.set_result("ct-1", OrderStatus.CANCELLED, at=T0 + 2 * MINUTE)
    got = await storage.orders.get("ct-1")
    assert got == order(
        "ct-1", status=OrderStatus.CANCELLED, ticket=77, price=2001.8, updated_at=T0 + 2 * MINUTE
    )
    await storage.orders.set_result(
        "ct-1",
        OrderStatus.REJECTED,
        at=T0 + 3 * MINUTE,
        reject=RejectReason.MARKET_CLOSED,
        message="market closed",
    )
    got = await storage.orders.get("ct-1")
    assert got is not None
    assert (got.status, got.reject, got.message) == (
        OrderStatus.REJECTED,
        RejectReason.MARKET_CLOSED,
        "market closed",
    )


async def test_set_result_on_unknown_order_raises(storage: Storage) -> None:
    with pytest.raises(StorageError, match="'nope'"):
        await storage.orders.set_result("nope", OrderStatus.FILLED, at=T0)


async def test_pending_lists_unconfirmed_orders_oldest_first(storage: Storage) -> None:
    for client_id, minutes in (("c", 3), ("a", 1), ("b", 2), ("d", 0)):
        assert await storage.orders.add(order(client_id, minutes))
    await storage.orders.set_result("b", OrderStatus.FILLED, at=T0 + 9 * MINUTE, ticket=1)
    assert [o.client_id for o in await storage.orders.pending()] == ["d", "a", "c"]
    assert [o.client_id for o in await storage.orders.recent()] == ["c", "b", "a", "d"]
    assert [o.client_id for o in await storage.orders.recent(limit=2)] == ["c", "b"]


def trade(position_id: int, closed_minutes: int, **changes: object) -> ClosedTrade:
    base = ClosedTrade(
        position_id=position_id,
        symbol="XAUUSD",
        side=Side.BUY,
        volume=0.1,
        price_open=2000.0,
        price_close=2010.0,
        opened_at=T0,
        closed_at=T0 + closed_minutes * MINUTE,
        profit=100.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_trade_round_trips_and_is_recorded_once(storage: Storage) -> None:
    full = trade(
        9,
        30,
        side=Side.SELL,
        commission=-7.0,
        swap=-1.5,
        sl=2015.0,
        tp=1980.0,
        reason=DealReason.TP,
        client_id="ct-9",
        strategy="ema_atr",
        risk_money=50.0,
        profit=-100.0,
    )
    assert await storage.trades.add(full)
    assert not await storage.trades.add(trade(9, 45, profit=999.0))
    [got] = await storage.trades.recent()
    assert got == full
    assert got.r_multiple == pytest.approx((-100.0 - 7.0 - 1.5) / 50.0)


async def test_trades_between_is_half_open_and_ordered(storage: Storage) -> None:
    for position_id, minutes in ((1, 10), (2, 0), (3, 20), (4, 5)):
        assert await storage.trades.add(trade(position_id, minutes))
    got = await storage.trades.between(T0 + 5 * MINUTE, T0 + 20 * MINUTE)
    assert [t.position_id for t in got] == [4, 1]  # 5 included, 20 excluded
    assert [t.position_id for t in await storage.trades.recent(limit=3)] == [3, 1, 4]
