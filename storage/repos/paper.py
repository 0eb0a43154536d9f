"""Paper broker ledger: the account row (balance, next ticket), open positions and deals.

Every change of balance, positions and deals lands through ``commit`` in one transaction, so a
crash never leaves money moved without the matching position or deal.
"""

from __future__ import annotations

from datetime import datetime

from engine.models import Deal, DealEntry, DealReason, Position, Side
from engine.ports import PaperChange, PaperSnapshot
from storage.columns import from_ms, to_ms
from storage.db import Database, Row, StorageError

FIRST_TICKET = 1

_POSITION_COLUMNS = (
    "ticket, symbol, side, volume, price_open, time_ms, sl, tp, price_current, profit, swap, "
    "magic, comment, client_id, identifier"
)
_DEAL_COLUMNS = (
    "ticket, order_ticket, position_id, symbol, side, entry, volume, price, time_ms, profit, "
    "commission, swap, fee, reason, magic, comment, client_id"
)


class SqlitePaperLedger:
    """``engine.ports.PaperLedger`` on ``paper_account``, ``paper_positions``, ``paper_deals``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self, initial_balance: float) -> PaperSnapshot:
        """Current state; creates the account with ``initial_balance`` on first use."""
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO paper_account (id, balance, next_ticket) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (initial_balance, FIRST_TICKET),
            )
            account = await self._db.fetchone(
                "SELECT balance, next_ticket FROM paper_account WHERE id = 1"
            )
            rows = await self._db.fetchall(
                f"SELECT {_POSITION_COLUMNS} FROM paper_positions ORDER BY ticket"
            )
        assert account is not None
        return PaperSnapshot(
            balance=account[0],
            next_ticket=account[1],
            positions=tuple(_position(r) for r in rows),
        )

    async def commit(self, change: PaperChange) -> None:
        """Apply ``change`` in one transaction: balance, next ticket, positions, deals.

        Raises ``StorageError`` (and writes nothing) when the account does not exist yet,
        ``next_ticket`` would go backwards, a removed ticket is not open, or a ticket is both
        upserted and removed; a repeated deal ticket raises ``sqlite3.IntegrityError`` likewise.
        """
        clash = {p.ticket for p in change.upsert} & set(change.remove)
        if clash:
            msg = f"tickets {sorted(clash)} are both upserted and removed in one paper change"
            raise StorageError(msg)
        async with self._db.transaction():
            account = await self._db.fetchone("SELECT next_ticket FROM paper_account WHERE id = 1")
            if account is None:
                msg = "the paper account does not exist yet: load() creates it"
                raise StorageError(msg)
            if change.next_ticket < account[0]:
                msg = f"next_ticket may not go back from {account[0]} to {change.next_ticket}"
                raise StorageError(msg)
            await self._db.execute(
                "UPDATE paper_account SET balance = ?, next_ticket = ? WHERE id = 1",
                (change.balance, change.next_ticket),
            )
            for ticket in change.remove:
                gone = await self._db.execute(
                    "DELETE FROM paper_positions WHERE ticket = ?", (ticket,)
                )
                if gone.rowcount != 1:
                    msg = f"paper position {ticket} is not open, so it cannot be removed"
                    raise StorageError(msg)
            if change.upsert:
                await self._db.executemany(
                    f"INSERT OR REPLACE INTO paper_positions ({_POSITION_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_position_params(p) for p in change.upsert],
                )
            if change.deals:
                await self._db.executemany(
                    f"INSERT INTO paper_deals ({_DEAL_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_deal_params(d) for d in change.deals],
                )

    async def deal_by_client_id(self, client_id: str) -> Deal | None:
        """The first deal (lowest ticket) carrying ``client_id``; None for "" or no match."""
        if not client_id:
            return None
        row = await self._db.fetchone(
            f"SELECT {_DEAL_COLUMNS} FROM paper_deals WHERE client_id = ? ORDER BY ticket LIMIT 1",
            (client_id,),
        )
        return None if row is None else _deal(row)

    async def deals(self, start: datetime, end: datetime, symbol: str | None = None) -> list[Deal]:
        """Deals with time in [start, end), optionally one symbol, in time then ticket order."""
        sql = f"SELECT {_DEAL_COLUMNS} FROM paper_deals WHERE time_ms >= ? AND time_ms < ?"
        params: list[object] = [to_ms(start), to_ms(end)]
        if symbol is not None:
            sql += " AND symbol = ?"
            params.append(symbol)
        rows = await self._db.fetchall(sql + " ORDER BY time_ms, ticket", params)
        return [_deal(r) for r in rows]

    async def reset(self, balance: float) -> None:
        """Wipe positions and deals and start again with ``balance``.

        ``next_ticket`` is kept so tickets never repeat: stored orders and closed trades keep
        pointing at exactly one position.
        """
        async with self._db.transaction():
            await self._db.execute("DELETE FROM paper_positions")
            await self._db.execute("DELETE FROM paper_deals")
            await self._db.execute(
                "INSERT INTO paper_account (id, balance, next_ticket) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET balance = excluded.balance",
                (balance, FIRST_TICKET),
            )


def _position_params(p: Position) -> tuple[object, ...]:
    return (
        p.ticket, p.symbol, p.side.value, p.volume, p.price_open, to_ms(p.time), p.sl, p.tp,
        p.price_current, p.profit, p.swap, p.magic, p.comment, p.client_id, p.identifier,
    )  # fmt: skip


def _position(row: Row) -> Position:
    (ticket, symbol, side, volume, price_open, time_ms, sl, tp, price_current, profit, swap,
     magic, comment, client_id, identifier) = row  # fmt: skip
    return Position(
        ticket=ticket,
        symbol=symbol,
        side=Side(side),
        volume=volume,
        price_open=price_open,
        time=from_ms(time_ms),
        sl=sl,
        tp=tp,
        price_current=price_current,
        profit=profit,
        swap=swap,
        magic=magic,
        comment=comment,
        client_id=client_id,
        identifier=identifier,
    )


def _deal_params(d: Deal) -> tuple[object, ...]:
    return (
        d.ticket, d.order, d.position_id, d.symbol, d.side.value, int(d.entry), d.volume,
        d.price, to_ms(d.time), d.profit, d.commission, d.swap, d.fee, d.reason.value, d.magic,
        d.comment, d.client_id,
    )  # fmt: skip


def _deal(row: Row) -> Deal:
    (ticket, order, position_id, symbol, side, entry, volume, price, time_ms, profit, commission,
     swap, fee, reason, magic, comment, client_id) = row  # fmt: skip
    return Deal(
        ticket=ticket,
        order=order,
        position_id=position_id,
        symbol=symbol,
        side=Side(side),
        entry=DealEntry(entry),
        volume=volume,
        price=price,
        time=from_ms(time_ms),
        profit=profit,
        commission=commission,
        swap=swap,
        fee=fee,
        reason=DealReason(reason),
        magic=magic,
        comment=comment,
        client_id=client_id,
    )
