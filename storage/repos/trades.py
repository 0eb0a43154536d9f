"""Closed trades (round trips), recorded once per position id."""

from __future__ import annotations

from datetime import datetime

from engine.models import ClosedTrade, DealReason, Side
from storage.columns import from_ms, to_ms
from storage.db import Database, Row

_COLUMNS = (
    "position_id, symbol, side, volume, price_open, price_close, opened_ms, closed_ms, profit, "
    "commission, swap, sl, tp, reason, client_id, strategy, risk_money"
)


class SqliteTradeRepo:
    """``engine.ports.TradeRepo`` on the ``closed_trades`` table (``position_id`` unique)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, trade: ClosedTrade) -> bool:
        """Record a round trip once; False when ``position_id`` is already recorded."""
        written = await self._db.execute(
            f"INSERT INTO closed_trades ({_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (position_id) DO NOTHING",
            (
                trade.position_id,
                trade.symbol,
                trade.side.value,
                trade.volume,
                trade.price_open,
                trade.price_close,
                to_ms(trade.opened_at),
                to_ms(trade.closed_at),
                trade.profit,
                trade.commission,
                trade.swap,
                trade.sl,
                trade.tp,
                trade.reason.value,
                trade.client_id,
                trade.strategy,
                trade.risk_money,
            ),
        )
        return written.rowcount == 1

    async def recent(self, limit: int = 20) -> list[ClosedTrade]:
        """The ``limit`` most recently closed trades, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM closed_trades ORDER BY closed_ms DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [_trade(r) for r in rows]

    async def between(self, start: datetime, end: datetime) -> list[ClosedTrade]:
        """Trades closed in [start, end), oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM closed_trades WHERE closed_ms >= ? AND closed_ms < ? "
            "ORDER BY closed_ms, id",
            (to_ms(start), to_ms(end)),
        )
        return [_trade(r) for r in rows]


def _trade(row: Row) -> ClosedTrade:
    (position_id, symbol, side, volume, price_open, price_close, opened_ms, closed_ms, profit,
     commission, swap, sl, tp, reason, client_id, strategy, risk_money) = row  # fmt: skip
    return ClosedTrade(
        position_id=position_id,
        symbol=symbol,
        side=Side(side),
        volume=volume,
        price_open=price_open,
        price_close=price_close,
        opened_at=from_ms(opened_ms),
        closed_at=from_ms(closed_ms),
        profit=profit,
        commission=commission,
        swap=swap,
        sl=sl,
        tp=tp,
        reason=DealReason(reason),
        client_id=client_id,
        strategy=strategy,
        risk_money=risk_money,
    )
