"""Orders by client id: written PENDING before the broker is called, then given their outcome."""

from __future__ import annotations

from datetime import datetime

from engine.models import Order, OrderStatus, OrderType, RejectReason, Side
from storage.columns import from_ms, opt_from_ms, opt_to_ms, to_ms
from storage.db import Database, Row, StorageError

_COLUMNS = (
    "client_id, symbol, side, type, volume, sl, tp, status, ticket, price, reject, message, "
    "strategy, created_ms, updated_ms"
)


class SqliteOrderRepo:
    """``engine.ports.OrderRepo`` on the ``orders`` table (``client_id`` unique)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, order: Order) -> bool:
        """Insert before sending; False when the client id already exists (nothing written)."""
        written = await self._db.execute(
            f"INSERT INTO orders ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (client_id) DO NOTHING",
            (
                order.client_id,
                order.symbol,
                order.side.value,
                order.type.value,
                order.volume,
                order.sl,
                order.tp,
                order.status.value,
                order.ticket,
                order.price,
                None if order.reject is None else order.reject.value,
                order.message,
                order.strategy,
                to_ms(order.created_at),
                opt_to_ms(order.updated_at),
            ),
        )
        return written.rowcount == 1

    async def get(self, client_id: str) -> Order | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM orders WHERE client_id = ?", (client_id,)
        )
        return None if row is None else _order(row)

    async def set_result(
        self,
        client_id: str,
        status: OrderStatus,
        *,
        at: datetime,
        ticket: int | None = None,
        price: float | None = None,
        reject: RejectReason | None = None,
        message: str = "",
    ) -> None:
        """Record the broker's answer at ``at``; a None ticket/price keeps the stored one.

        Raises ``StorageError`` for an unknown client id: every order is written before sending.
        """
        written = await self._db.execute(
            "UPDATE orders SET status = ?, updated_ms = ?, ticket = COALESCE(?, ticket), "
            "price = COALESCE(?, price), reject = ?, message = ? WHERE client_id = ?",
            (
                status.value,
                to_ms(at),
                ticket,
                price,
                None if reject is None else reject.value,
                message,
                client_id,
            ),
        )
        if written.rowcount != 1:
            msg = f"no order with client id {client_id!r} to record a {status.value} result on"
            raise StorageError(msg)

    async def pending(self) -> list[Order]:
        """Orders whose outcome is unknown (written, never confirmed), oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM orders WHERE status = 'pending' ORDER BY created_ms, id"
        )
        return [_order(r) for r in rows]

    async def recent(self, limit: int = 20) -> list[Order]:
        """The ``limit`` newest orders, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM orders ORDER BY created_ms DESC, id DESC LIMIT ?", (limit,)
        )
        return [_order(r) for r in rows]


def _order(row: Row) -> Order:
    (client_id, symbol, side, type_, volume, sl, tp, status, ticket, price, reject, message,
     strategy, created_ms, updated_ms) = row  # fmt: skip
    return Order(
        client_id=client_id,
        symbol=symbol,
        side=Side(side),
        volume=volume,
        created_at=from_ms(created_ms),
        status=OrderStatus(status),
        type=OrderType(type_),
        sl=sl,
        tp=tp,
        ticket=ticket,
        price=price,
        reject=None if reject is None else RejectReason(reject),
        message=message,
        strategy=strategy,
        updated_at=opt_from_ms(updated_ms),
    )
