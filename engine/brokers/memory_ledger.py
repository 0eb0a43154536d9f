"""In-memory ``PaperLedger`` for tests and backtests, with the SQLite ledger's semantics.

Each ``commit`` is validated in full before anything is touched, and the apply step cannot
fail, so a refused change leaves nothing half-applied, just as a rolled-back transaction would.
Like ``storage.repos.paper.SqlitePaperLedger`` it refuses (here with ``ValueError``) a commit
before the first ``load``, a ticket counter going back, removing a ticket that is not open, a
ticket both upserted and removed, and a deal ticket booked twice. ``deals`` returns deals with
time in [start, end) ordered by (time, ticket); ``deal_by_client_id`` the lowest-ticket deal
with that id. A fresh account starts at ticket 1; ``reset`` keeps the ticket counter running so
tickets are never reused. Commits cost O(log n) in the deal count when deals arrive in time
order, so a long backtest stays linear.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from datetime import datetime

from engine.models import Deal, Position
from engine.ports import PaperChange, PaperSnapshot

FIRST_TICKET = 1


def _deal_key(deal: Deal) -> tuple[datetime, int]:
    return deal.time, deal.ticket


class MemoryPaperLedger:
    """A ``PaperLedger`` kept in process memory; it forgets everything when the process ends."""

    def __init__(self) -> None:
        self._loaded = False
        self._balance = 0.0
        self._next_ticket = FIRST_TICKET
        self._positions: dict[int, Position] = {}
        self._deals: list[Deal] = []
        self._deal_tickets: set[int] = set()
        self._by_client_id: dict[str, Deal] = {}
        self.commits = 0  # successful commits, for tests that count state changes

    async def load(self, initial_balance: float) -> PaperSnapshot:
        """Current state; creates the account with ``initial_balance`` on first use."""
        if not self._loaded:
            self._loaded = True
            self._balance = initial_balance
        positions = tuple(self._positions[t] for t in sorted(self._positions))
        return PaperSnapshot(self._balance, self._next_ticket, positions)

    async def commit(self, change: PaperChange) -> None:
        """Apply ``change`` atomically; ``ValueError`` (nothing applied) on a broken invariant."""
        if not self._loaded:
            msg = "paper ledger not loaded: call load() before commit()"
            raise ValueError(msg)
        if change.next_ticket < self._next_ticket:
            msg = f"ticket counter must not go back: {change.next_ticket} < {self._next_ticket}"
            raise ValueError(msg)
        both = sorted({p.ticket for p in change.upsert}.intersection(change.remove))
        if both:
            msg = f"tickets {both} are both upserted and removed in one paper change"
            raise ValueError(msg)
        missing = sorted(set(change.remove) - self._positions.keys())
        if missing or len(set(change.remove)) != len(change.remove):
            msg = f"paper position tickets {missing or list(change.remove)} cannot be removed"
            raise ValueError(msg)
        fresh = [d.ticket for d in change.deals]
        clash = sorted(self._deal_tickets.intersection(fresh))
        if clash or len(set(fresh)) != len(fresh):
            msg = f"deal tickets already booked: {clash or fresh}"
            raise ValueError(msg)
        # Nothing below can raise: the change is applied whole.
        self._balance = change.balance
        self._next_ticket = change.next_ticket
        for ticket in change.remove:
            del self._positions[ticket]
        for position in change.upsert:
            self._positions[position.ticket] = position
        for deal in change.deals:
            insort(self._deals, deal, key=_deal_key)
            self._deal_tickets.add(deal.ticket)
            known = self._by_client_id.get(deal.client_id)
            if deal.client_id and (known is None or deal.ticket < known.ticket):
                self._by_client_id[deal.client_id] = deal
        self.commits += 1

    async def deal_by_client_id(self, client_id: str) -> Deal | None:
        """The lowest-ticket deal booked under ``client_id``; None for "" or an unknown id."""
        if not client_id:
            return None
        return self._by_client_id.get(client_id)

    async def deals(self, start: datetime, end: datetime, symbol: str | None = None) -> list[Deal]:
        """Deals with ``start <= time < end`` (optionally one symbol), by (time, ticket)."""
        out: list[Deal] = []
        for deal in self._deals[bisect_left(self._deals, start, key=lambda d: d.time) :]:
            if deal.time >= end:
                break
            if symbol is None or deal.symbol == symbol:
                out.append(deal)
        return out

    async def reset(self, balance: float) -> None:
        """Wipe positions and deals and start again with ``balance`` (tickets keep counting)."""
        self._loaded = True
        self._balance = balance
        self._positions.clear()
        self._deals.clear()
        self._deal_tickets.clear()
        self._by_client_id.clear()
        self.commits += 1
