"""``PaperBroker``: an MT5-like hedging account simulated on the shared fill model, persisted.

Quotes arrive from the feed through ``on_bar`` (bid = close, ask = bid + spread) or ``on_tick``;
each first judges the open positions' SL/TP over that bar or tick with ``engine.brokers.sim``
(whose docstring states the intrabar policy), then becomes the current quote. Orders fill at
that quote like MT5 market execution (``deviation_points`` is not used), with the configured
slippage and a per-lot commission charged on each side. Every state change is one
``PaperLedger.commit`` so balance, positions and deals move together, and a new broker on the
same ledger resumes them; a client id that ever produced a deal never fills again.

Freshness: a quote from a bar is good for one bar period plus ``stale_quote_after`` (the next
bar is due by then), a tick quote for ``stale_quote_after``; after that the market counts as
closed. Margin is held per position at its opening price, hedged legs in full.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from engine.brokers import sim
from engine.errors import BadArguments, BrokerUnavailable, ConfigError, DataUnavailable
from engine.models import (
    Account,
    Bar,
    Deal,
    DealEntry,
    DealReason,
    MarginMode,
    OrderRequest,
    OrderResult,
    Position,
    RejectReason,
    SymbolSpec,
    Tick,
)
from engine.ports import Clock, PaperChange, PaperLedger

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Quote:
    """The current price of one symbol and until when it counts as live."""

    bid: float
    ask: float
    time: datetime
    fresh_until: datetime


class PaperBroker:
    """The default ``Broker``: simulated fills on live or replayed quotes, state in a ledger."""

    name = "paper"

    def __init__(
        self,
        ledger: PaperLedger,
        clock: Clock,
        specs: Mapping[str, SymbolSpec],
        *,
        initial_balance: float = 10_000.0,
        currency: str = "USD",
        leverage: int = 100,
        spread_points: int | None = None,
        slippage_points: int = 0,
        commission_per_lot: float = 0.0,
        stale_quote_after: timedelta = timedelta(minutes=10),
        login: int = 1,
    ) -> None:
        """``spread_points=None`` uses each bar's spread (ticks: their own ask); a number
        overrides both. ``commission_per_lot`` is charged per lot on each side of a trade."""
        if leverage <= 0 or slippage_points < 0 or commission_per_lot < 0 or initial_balance < 0:
            msg = (
                "paper broker needs leverage > 0 and non-negative slippage, commission and "
                f"balance (got leverage {leverage}, slippage {slippage_points} points, "
                f"commission {commission_per_lot}, balance {initial_balance})"
            )
            raise ConfigError(msg)
        if spread_points is not None and spread_points < 0:
            msg = f"spread_points must be >= 0 or None (bar spread), got {spread_points}"
            raise ConfigError(msg)
        self._ledger = ledger
        self._clock = clock
        self._specs = dict(specs)
        self._initial_balance = initial_balance
        self._currency = currency
        self._leverage = leverage
        self._spread_points = spread_points
        self._slippage_points = slippage_points
        self._commission_per_lot = commission_per_lot
        self._stale = stale_quote_after
        self._login = login
        self._lock = asyncio.Lock()
        self._connected = False
        self._balance = initial_balance
        self._next_ticket = 0
        self._positions: dict[int, Position] = {}
        self._quotes: dict[str, Quote] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def connected(self) -> bool:
        return self._connected

    async def connect(self) -> None:
        """Load balance, positions and the ticket counter from the ledger."""
        async with self._lock:
            await self._load()
            self._connected = True

    async def close(self) -> None:
        self._connected = False

    async def reset(self, balance: float | None = None) -> None:
        """Wipe positions and deals in the ledger and start again with ``balance``."""
        async with self._lock:
            self._require()
            await self._ledger.reset(self._initial_balance if balance is None else balance)
            await self._load()

    async def _load(self) -> None:
        snapshot = await self._ledger.load(self._initial_balance)
        unknown = sorted({p.symbol for p in snapshot.positions} - self._specs.keys())
        if unknown:
            msg = f"paper ledger holds positions in {', '.join(unknown)} but no spec is configured"
            raise ConfigError(msg, symbols=unknown)
        self._balance = snapshot.balance
        self._next_ticket = snapshot.next_ticket
        self._positions = {p.ticket: p for p in snapshot.positions}

    def _require(self) -> None:
        if not self._connected:
            msg = "paper broker is not connected; call connect() first"
            raise BrokerUnavailable(msg, broker=self.name)

    # ------------------------------------------------------------------ reads

    async def account(self) -> Account:
        self._require()
        floating = sum(self._mark(p).profit for p in self._positions.values())
        margin = sum(self._margin(p) for p in self._positions.values())
        equity = sim.round_money(self._balance + floating)
        return Account(
            login=self._login,
            currency=self._currency,
            balance=self._balance,
            equity=equity,
            margin=sim.round_money(margin),
            free_margin=sim.round_money(equity - margin),
            leverage=self._leverage,
            margin_mode=MarginMode.HEDGING,
            server="paper",
            name="Paper account",
        )

    async def symbol(self, name: str) -> SymbolSpec:
        return self._spec(name)

    async def tick(self, symbol: str) -> Tick:
        """The latest quote (even a stale one, as MT5 keeps Friday's tick over the weekend)."""
        self._require()
        quote = self._quotes.get(self._spec(symbol).name)
        if quote is None:
            msg = f"no quote for {symbol} yet: no bar or tick has arrived"
            raise DataUnavailable(msg, symbol=symbol)
        return Tick(symbol, quote.time, quote.bid, quote.ask)

    async def positions(self, symbol: str | None = None) -> list[Position]:
        """Open positions by ticket, marked to the current quote (floating profit)."""
        self._require()
        # Tickets only grow and a partial close replaces in place, so dict order is ticket order.
        return [self._mark(p) for p in self._positions.values() if symbol in (None, p.symbol)]

    async def deals(self, start: datetime, end: datetime, symbol: str | None = None) -> list[Deal]:
        self._require()
        return await self._ledger.deals(start, end, symbol)

    async def find(self, client_id: str) -> Position | Deal | None:
        """The open position this client id opened, else the deal it produced, else None."""
        self._require()
        deal = await self._ledger.deal_by_client_id(client_id)
        if deal is None:
            return None
        position = self._positions.get(deal.position_id)
        if deal.entry is DealEntry.IN and position is not None:
            return self._mark(position)
        return deal

    # ------------------------------------------------------------------ quotes

    async def on_bar(self, bar: Bar) -> list[Deal]:
        """Judge SL/TP of positions opened before the bar closed over its range, then quote its
        close (unless a newer quote is in). Returns the closing deals, booked in one commit."""
        async with self._lock:
            self._require()
            spec = self._spec(bar.symbol)
            points = bar.spread if self._spread_points is None else self._spread_points
            spread = points * spec.point
            slip = self._slippage_points * spec.point
            o, h, lo = bar.open, bar.high, bar.low
            hits = [
                (p, *hit)
                for p in self._open_in(spec.name)
                if p.time < bar.close_time
                and (hit := sim.bar_exit(p.side, p.sl, p.tp, o, h, lo, spread, slip))
            ]
            deals = await self._book_exits(spec, hits)
            fresh_until = bar.close_time + bar.timeframe.delta + self._stale
            ask = spec.normalize_price(bar.close + spread)
            self._set_quote(spec.name, Quote(bar.close, ask, bar.close_time, fresh_until))
            return deals

    async def on_tick(self, tick: Tick) -> list[Deal]:
        """Judge SL/TP of open positions at this bid/ask, then make it the current quote."""
        async with self._lock:
            self._require()
            spec = self._spec(tick.symbol)
            ask = tick.ask
            if self._spread_points is not None:
                ask = spec.normalize_price(tick.bid + self._spread_points * spec.point)
            slip = self._slippage_points * spec.point
            hits = [
                (p, *hit)
                for p in self._open_in(spec.name)
                if (hit := sim.tick_exit(p.side, p.sl, p.tp, tick.bid, ask, slip))
            ]
            deals = await self._book_exits(spec, hits)
            self._set_quote(spec.name, Quote(tick.bid, ask, tick.time, tick.time + self._stale))
            return deals

    # ------------------------------------------------------------------ trading

    async def send(self, request: OrderRequest) -> OrderResult:
        """Market order with optional SL/TP at the current quote; see the module docstring."""
        async with self._lock:
            self._require()
            duplicate = await self._duplicate(request.client_id)
            if duplicate is not None:
                return duplicate
            spec = self._specs.get(request.symbol)
            if spec is None:
                msg = f"unknown symbol {request.symbol!r}; known: {', '.join(sorted(self._specs))}"
                return sim.refusal(RejectReason.INVALID, msg)
            side, volume = request.side, request.volume
            refused = (
                sim.volume_refusal(spec, volume)
                or sim.trade_mode_refusal(spec, side)
                or self._quote_refusal(spec)
            )
            if refused is not None:
                return refused
            volume = spec.normalize_volume(volume)  # 0.30000000000000004 -> 0.3 once valid
            quote = self._quotes[spec.name]
            slip = self._slippage_points * spec.point
            price = spec.normalize_price(sim.entry_price(side, quote.bid, quote.ask, slip))
            sl = None if request.sl is None else spec.normalize_price(request.sl)
            tp = None if request.tp is None else spec.normalize_price(request.tp)
            fee = sim.round_money(sim.commission(volume, self._commission_per_lot))
            refused = sim.stops_refusal(
                spec, side, quote.bid, quote.ask, sl, tp
            ) or sim.margin_refusal(
                spec, volume, price, self._leverage, (await self.account()).free_margin, fee,
                self._currency,
            )  # fmt: skip
            if refused is not None:
                return refused
            now = self._clock.now()
            order = self._next_ticket
            position = Position(
                ticket=order, symbol=spec.name, side=side, volume=volume, price_open=price,
                time=now, sl=sl, tp=tp, price_current=price, magic=request.magic,
                comment=request.comment, client_id=request.client_id, identifier=order,
            )  # fmt: skip
            deal = Deal(
                ticket=order + 1, order=order, position_id=order, symbol=spec.name, side=side,
                entry=DealEntry.IN, volume=volume, price=price, time=now, commission=fee,
                reason=request.reason, magic=request.magic, comment=request.comment,
                client_id=request.client_id,
            )  # fmt: skip
            balance = sim.round_money(self._balance + fee)
            await self._ledger.commit(PaperChange(balance, order + 2, (position,), (), (deal,)))
            self._balance, self._next_ticket = balance, order + 2
            self._positions[order] = position
            log.info("paper fill %s %g %s @ %s -> #%d", side, volume, spec.name, price, order)
            return OrderResult(True, order, order, order + 1, price, volume, retcode=sim.DONE)

    async def close_position(
        self, ticket: int, volume: float | None = None, *, client_id: str = ""
    ) -> OrderResult:
        """Close fully (``volume=None``) or partly at the current quote; a partial close is a
        valid volume and leaves at least ``volume_min``."""
        async with self._lock:
            self._require()
            duplicate = await self._duplicate(client_id)
            if duplicate is not None:
                return duplicate
            position = self._positions.get(ticket)
            if position is None:
                return self._unknown(ticket)
            spec = self._specs[position.symbol]
            amount = position.volume if volume is None else volume
            refused = (
                sim.close_volume_refusal(spec, position, amount)
                or sim.trade_mode_refusal(spec, None)
                or self._quote_refusal(spec)
            )
            if refused is not None:
                return refused
            if abs(amount - position.volume) > 1e-9:  # a partial: settle float noise
                amount = spec.normalize_volume(amount)
            else:
                amount = position.volume
            quote = self._quotes[spec.name]
            slip = self._slippage_points * spec.point
            price = sim.exit_price(position.side, quote.bid, quote.ask, slip)
            hit = [(position, price, DealReason.EXPERT)]
            (deal,) = await self._book_exits(spec, hit, amount, client_id)
            return OrderResult(
                True, ticket, deal.order, deal.ticket, deal.price, amount, retcode=sim.DONE
            )

    async def modify(
        self, ticket: int, *, sl: float | None = None, tp: float | None = None
    ) -> OrderResult:
        """Change SL and/or TP (``None`` keeps a level); a changed level is validated like an
        entry's against the current quote, an unchanged one is left alone."""
        async with self._lock:
            self._require()
            position = self._positions.get(ticket)
            if position is None:
                return self._unknown(ticket)
            spec = self._specs[position.symbol]
            new_sl = position.sl if sl is None else spec.normalize_price(sl)
            new_tp = position.tp if tp is None else spec.normalize_price(tp)
            if new_sl == position.sl and new_tp == position.tp:
                msg = f"SL {position.sl} and TP {position.tp} of #{ticket} are unchanged"
                return sim.refusal(RejectReason.NO_CHANGES, msg)
            refused = sim.trade_mode_refusal(spec, None) or self._quote_refusal(spec)
            if refused is not None:
                return refused
            quote = self._quotes[spec.name]
            refused = sim.stops_refusal(
                spec, position.side, quote.bid, quote.ask,
                None if new_sl == position.sl else new_sl,
                None if new_tp == position.tp else new_tp,
            )  # fmt: skip
            if refused is not None:
                return refused
            changed = replace(position, sl=new_sl, tp=new_tp)
            change = PaperChange(self._balance, self._next_ticket, upsert=(changed,))
            await self._ledger.commit(change)
            self._positions[ticket] = changed
            return OrderResult(True, ticket, retcode=sim.DONE)

    # ------------------------------------------------------------------ internals

    def _spec(self, name: str) -> SymbolSpec:
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(sorted(self._specs))
            msg = f"unknown symbol {name!r}; the paper broker knows {known}"
            raise BadArguments(msg, code="unknown_symbol", symbol=name, known=known)
        return spec

    def _open_in(self, symbol: str) -> list[Position]:
        return [p for p in self._positions.values() if p.symbol == symbol]

    def _mark(self, position: Position) -> Position:
        quote = self._quotes.get(position.symbol)
        if quote is None:
            return position
        price = sim.exit_price(position.side, quote.bid, quote.ask)
        spec = self._specs[position.symbol]
        pnl = sim.profit(spec, position.side, position.volume, position.price_open, price)
        return replace(position, price_current=price, profit=sim.round_money(pnl))

    def _margin(self, position: Position) -> float:
        spec = self._specs[position.symbol]
        args = (position.volume, position.price_open, self._leverage, self._currency)
        return sim.required_margin(spec, *args)

    async def _duplicate(self, client_id: str) -> OrderResult | None:
        deal = await self._ledger.deal_by_client_id(client_id) if client_id else None
        if deal is None:
            return None
        msg = (
            f"client id {client_id!r} already filled: deal #{deal.ticket} of position "
            f"#{deal.position_id}, {deal.volume:g} lots at {deal.price}"
        )
        return OrderResult(
            ok=False, ticket=deal.position_id, order=deal.order, deal=deal.ticket,
            price=deal.price, volume=deal.volume, reject=RejectReason.DUPLICATE, message=msg,
        )  # fmt: skip

    async def _book_exits(
        self,
        spec: SymbolSpec,
        hits: list[tuple[Position, float, DealReason]],
        volume: float | None = None,
        client_id: str = "",
    ) -> list[Deal]:
        """Close each (position, raw price, reason) in one commit; ``volume`` for a partial."""
        if not hits:
            return []
        now = self._clock.now()
        ticket, balance = self._next_ticket, self._balance
        deals: list[Deal] = []
        upsert: list[Position] = []
        remove: list[int] = []
        for position, raw_price, reason in hits:
            price = spec.normalize_price(raw_price)
            amount = position.volume if volume is None else volume
            pnl = sim.profit(spec, position.side, amount, position.price_open, price)
            fee = sim.commission(amount, self._commission_per_lot)
            comment = f"[{reason.value} {price:.{spec.digits}f}]" if reason in _LEVELS else ""
            deal = Deal(
                ticket=ticket + 1, order=ticket, position_id=position.ticket, symbol=spec.name,
                side=position.side.opposite, entry=DealEntry.OUT, volume=amount, price=price,
                time=now, profit=sim.round_money(pnl), commission=sim.round_money(fee),
                reason=reason, magic=position.magic, comment=comment, client_id=client_id,
            )  # fmt: skip
            deals.append(deal)
            ticket += 2
            balance = sim.round_money(balance + deal.net)
            rest = spec.normalize_volume(position.volume - amount)
            if rest > 0:
                upsert.append(replace(position, volume=rest))
            else:
                remove.append(position.ticket)
        change = PaperChange(balance, ticket, tuple(upsert), tuple(remove), tuple(deals))
        await self._ledger.commit(change)
        self._balance, self._next_ticket = balance, ticket
        for position in upsert:
            self._positions[position.ticket] = position
        for gone in remove:
            del self._positions[gone]
        for d in deals:
            log.info("paper close #%d %s @ %s net %.2f", d.position_id, d.reason, d.price, d.net)
        return deals

    def _unknown(self, ticket: int) -> OrderResult:
        msg = f"no open position #{ticket} (closed already or never opened)"
        return sim.refusal(RejectReason.UNKNOWN_POSITION, msg)

    def _set_quote(self, symbol: str, quote: Quote) -> None:
        current = self._quotes.get(symbol)
        if current is None or quote.time >= current.time:  # a late bar never rolls prices back
            self._quotes[symbol] = quote

    def _quote_refusal(self, spec: SymbolSpec) -> OrderResult | None:
        quote = self._quotes.get(spec.name)
        if quote is None:
            msg = f"no quote for {spec.name} yet: market closed or no data has arrived"
            return sim.refusal(RejectReason.MARKET_CLOSED, msg)
        now = self._clock.now()
        if now > quote.fresh_until:
            msg = (
                f"last {spec.name} quote is from {quote.time:%Y-%m-%d %H:%M:%S} UTC, "
                f"{now - quote.time} old, past its freshness limit "
                f"{quote.fresh_until - quote.time}: market closed"
            )
            return sim.refusal(RejectReason.MARKET_CLOSED, msg)
        return None


_LEVELS = frozenset({DealReason.SL, DealReason.TP})
