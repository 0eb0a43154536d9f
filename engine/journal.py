"""The trade journal: which broker positions are ours, and what happened to them.

Every order is written PENDING before it is sent (``begin``); its outcome is recorded together
with the open-position bookkeeping in one transaction (``filled``/``refused``). Closed positions
are found by comparing the tracked tickets with the broker's open positions and read back from
the broker's deal history, so a close that happened while we were down (SL/TP at the broker) is
still recorded, exactly once (``TradeRepo.add`` is unique on the position id). On start,
``reconcile`` asks the broker about every order whose outcome was never confirmed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engine.models import (
    ClosedTrade,
    Deal,
    DealEntry,
    Order,
    OrderResult,
    OrderStatus,
    Position,
    Side,
)
from engine.ports import Broker, OrderRepo, StateRepo, TradeRepo, UnitOfWork

log = logging.getLogger("engine.journal")

OPEN_KEY = "journal.open"
HISTORY_SLACK = timedelta(days=2)  # deal-history window padding (broker server-time rounding)


@dataclass(frozen=True, slots=True)
class Tracked:
    """What we remember about an open position that the broker does not keep."""

    ticket: int
    client_id: str
    symbol: str
    side: Side
    strategy: str
    opened_at: datetime
    price_open: float
    initial_sl: float | None
    risk_money: float | None

    @property
    def initial_risk_dist(self) -> float | None:
        return abs(self.price_open - self.initial_sl) if self.initial_sl else None

    def to_json(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "client_id": self.client_id,
            "symbol": self.symbol,
            "side": self.side.value,
            "strategy": self.strategy,
            "opened_at": self.opened_at.isoformat(),
            "price_open": self.price_open,
            "initial_sl": self.initial_sl,
            "risk_money": self.risk_money,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tracked:
        return cls(
            ticket=int(data["ticket"]),
            client_id=str(data["client_id"]),
            symbol=str(data["symbol"]),
            side=Side(data["side"]),
            strategy=str(data.get("strategy", "")),
            opened_at=datetime.fromisoformat(data["opened_at"]),
            price_open=float(data["price_open"]),
            initial_sl=data.get("initial_sl"),
            risk_money=data.get("risk_money"),
        )


class Journal:
    def __init__(
        self,
        broker: Broker,
        uow: UnitOfWork,
        orders: OrderRepo,
        trades: TradeRepo,
        state: StateRepo,
    ) -> None:
        self._broker = broker
        self._uow = uow
        self._orders = orders
        self._trades = trades
        self._state = state
        self._tracked: dict[int, Tracked] | None = None

    async def tracked(self) -> dict[int, Tracked]:
        """Our open positions by ticket (a copy; the journal is the only writer of the key)."""
        if self._tracked is None:
            raw = await self._state.get(OPEN_KEY, {}) or {}
            self._tracked = {int(k): Tracked.from_json(v) for k, v in raw.items()}
        return dict(self._tracked)

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[None]:
        """One transaction; a rollback also forgets the cached copy of the tracked set."""
        try:
            async with self._uow.transaction():
                yield
        except BaseException:
            self._tracked = None
            raise

    async def _save(self, tracked: dict[int, Tracked]) -> None:
        # Dropped first: if the write fails (the transaction rolls back) the next read reloads.
        self._tracked = None
        await self._state.set(OPEN_KEY, {str(k): v.to_json() for k, v in tracked.items()})
        self._tracked = dict(tracked)

    async def begin(self, order: Order) -> bool:
        """Write the order before it is sent; False when this client id was already used."""
        return await self._orders.add(order)

    async def filled(
        self, order: Order, result: OrderResult, at: datetime, risk_money: float | None
    ) -> Tracked:
        """Record a fill and start tracking its position, in one transaction."""
        ticket = int(result.ticket or 0)
        price = float(result.price if result.price is not None else order.price or 0.0)
        entry = Tracked(
            ticket=ticket,
            client_id=order.client_id,
            symbol=order.symbol,
            side=order.side,
            strategy=order.strategy,
            opened_at=at,
            price_open=price,
            initial_sl=order.sl,
            risk_money=risk_money,
        )
        async with self._tx():
            await self._orders.set_result(
                order.client_id, OrderStatus.FILLED, at=at, ticket=ticket, price=price
            )
            tracked = await self.tracked()
            tracked[ticket] = entry
            await self._save(tracked)
        return entry

    async def refused(self, order: Order, result: OrderResult, at: datetime) -> None:
        await self._orders.set_result(
            order.client_id,
            OrderStatus.REJECTED,
            at=at,
            reject=result.reject,
            message=result.message,
        )

    async def cancelled(self, client_id: str, at: datetime, message: str) -> None:
        await self._orders.set_result(client_id, OrderStatus.CANCELLED, at=at, message=message)

    async def reconcile(self, now: datetime) -> list[str]:
        """Settle every order whose outcome is unknown by asking the broker for its client id.

        Found open → filled and tracked; found as a deal of a position already closed → filled
        and tracked (the next ``sync_closed`` records the round trip); not found → cancelled.
        Returns one line per order settled, for the log.
        """
        lines: list[str] = []
        for order in await self._orders.pending():
            found = await self._broker.find(order.client_id)
            if isinstance(found, Position):
                result = OrderResult(ok=True, ticket=found.ticket, price=found.price_open)
                await self.filled(order, result, found.time, None)
                lines.append(f"{order.client_id}: filled as position {found.ticket}")
            elif isinstance(found, Deal):
                result = OrderResult(ok=True, ticket=found.position_id, price=found.price)
                await self.filled(order, result, found.time, None)
                lines.append(f"{order.client_id}: filled, position {found.position_id} closed")
            else:
                await self.cancelled(order.client_id, now, "not found at the broker on restart")
                lines.append(f"{order.client_id}: never reached the broker, cancelled")
        return lines

    async def sync_closed(self, now: datetime) -> list[ClosedTrade]:
        """Record every tracked position the broker no longer holds; returns the new trades."""
        tracked = await self.tracked()
        if not tracked:
            return []
        open_now = {p.ticket for p in await self._broker.positions()}
        gone = [t for ticket, t in tracked.items() if ticket not in open_now]
        if not gone:
            return []
        start = min(t.opened_at for t in gone) - HISTORY_SLACK
        deals = await self._broker.deals(start, now + HISTORY_SLACK)
        closed: list[ClosedTrade] = []
        for entry in gone:
            trade = _round_trip(entry, [d for d in deals if d.position_id == entry.ticket])
            if trade is None:
                # History can lag the position list for a moment on MT5: try again next cycle.
                log.warning(
                    "position %s closed but its deals are not in history yet", entry.ticket
                )
                continue
            async with self._tx():
                recorded = await self._trades.add(trade)
                current = await self.tracked()
                current.pop(entry.ticket, None)
                await self._save(current)
            if recorded:
                closed.append(trade)
        return closed


def _round_trip(entry: Tracked, deals: list[Deal]) -> ClosedTrade | None:
    outs = [d for d in deals if d.entry in (DealEntry.OUT, DealEntry.OUT_BY, DealEntry.INOUT)]
    if not outs:
        return None
    ins = [d for d in deals if d.entry is DealEntry.IN]
    volume = sum(d.volume for d in outs)
    price_close = sum(d.price * d.volume for d in outs) / volume
    last = max(outs, key=lambda d: d.time)
    opened = min((d.time for d in ins), default=entry.opened_at)
    price_open = ins[0].price if ins else entry.price_open
    return ClosedTrade(
        position_id=entry.ticket,
        symbol=entry.symbol,
        side=entry.side,
        volume=round(volume, 8),
        price_open=price_open,
        price_close=price_close,
        opened_at=opened,
        closed_at=last.time,
        profit=round(sum(d.profit for d in outs), 2),
        commission=round(sum(d.commission + d.fee for d in [*ins, *outs]), 2),
        swap=round(sum(d.swap for d in [*ins, *outs]), 2),
        sl=entry.initial_sl,
        reason=last.reason,
        client_id=entry.client_id,
        strategy=entry.strategy,
        risk_money=entry.risk_money,
    )
