"""MT5Broker: the ``Broker`` port over the MetaTrader5 module, careful as a professional EA.

The module is passed in: ``import MetaTrader5`` on Windows, ``tests/fakes/fake_mt5.FakeMT5`` in
tests, or any object with the same functions. Every call goes through ``MT5Session`` (one worker
thread, timeouts, down/up events). Orders are normalised to the symbol (price to tick, volume to
step), stops are checked against the stops level and refused with numbers rather than moved,
the filling mode comes from the symbol's allowed modes, ``order_check`` (success retcode 0)
precedes ``order_send``, and the comment carries a short hash of the client id with the magic
number, so ``find`` recognises the order after a crash. Only requotes and price changes are
retried, with a fresh price; when an outcome is unknown the order is looked up by its key before
anything is sent again, so a client id never fills twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from pydantic import SecretStr

from engine.brokers import mt5_mapping as mp
from engine.brokers.mt5_orders import OrderDesk
from engine.brokers.mt5_requests import TAG_LENGTH, client_tag
from engine.brokers.mt5_retcodes import explain
from engine.brokers.mt5_session import Emit, MT5Session, Sleep
from engine.brokers.mt5_terminal import TerminalReport, diagnose
from engine.errors import BrokerUnavailable, DataUnavailable
from engine.models import (
    Account,
    ClosedTrade,
    Deal,
    DealEntry,
    OrderRequest,
    OrderResult,
    Position,
    SymbolSpec,
    Tick,
    Timeframe,
)
from engine.ports import Clock

log = logging.getLogger(__name__)

DEFAULT_MAGIC = 240_611  # strategy tag on every order; set per deployment to tell bots apart


class MT5Broker:
    """``Broker`` over a MetaTrader 5 terminal.

    Attach mode: no ``login`` (a running terminal, or the one at ``path`` to terminal64.exe).
    Login mode: ``login``, ``password`` (kept as ``SecretStr``, never logged) and ``server``.
    ``magic`` marks every order of this bot (``OrderRequest.magic`` is not used, so lookups
    after a restart always know it); with ``own_positions_only`` positions and deals of other
    magics (manual trades, other EAs) are left out. ``server_utc_offset`` None means detect it
    from a fresh tick. ``call_timeout_s`` bounds every module call; ``max_retries`` bounds
    requote retries; ``emit`` receives ``BrokerDisconnected`` / ``BrokerReconnected``; ``sleep``
    is the backoff sleep (injectable for tests); ``lookback`` is how far back ``find`` searches
    deal history; ``symbols`` are selected (and used to detect the offset) on connect.
    """

    name = "mt5"

    def __init__(
        self,
        mt5_module: Any,
        clock: Clock,
        *,
        path: str | None = None,
        login: int | None = None,
        password: SecretStr | str | None = None,
        server: str | None = None,
        magic: int = DEFAULT_MAGIC,
        deviation_points: int = 20,
        call_timeout_s: float = 10.0,
        connect_timeout_s: float = 60.0,
        server_utc_offset: timedelta | None = None,
        max_retries: int = 3,
        emit: Emit | None = None,
        sleep: Sleep = asyncio.sleep,
        symbols: Sequence[str] = (),
        lookback: timedelta = timedelta(days=30),
        own_positions_only: bool = True,
    ) -> None:
        self.session = MT5Session(
            mt5_module,
            path=path,
            login=login,
            password=password,
            server=server,
            call_timeout_s=call_timeout_s,
            connect_timeout_s=connect_timeout_s,
            emit=emit,
            sleep=sleep,
        )
        self.clock = clock
        self.magic = magic
        self.deviation_points = deviation_points
        self.max_retries = max_retries
        self.lookback = lookback
        self.own_positions_only = own_positions_only
        self._symbols = tuple(symbols)
        self._offset_fixed = server_utc_offset is not None
        self._offset = server_utc_offset
        self._selected: set[str] = set()
        self._tags: dict[str, str] = {}  # comment tag -> client id, for what this process sent
        self.hedging = True
        self.desk = OrderDesk(self)

    def __repr__(self) -> str:
        return f"MT5Broker({self.session!r}, magic={self.magic})"

    # ------------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        return self.session.up

    @property
    def server_offset(self) -> timedelta | None:
        """Server clock minus UTC; None until configured or detected from a fresh tick."""
        return self._offset

    @property
    def time(self) -> mp.ServerTime:
        return mp.ServerTime(self._offset or timedelta(0))

    async def connect(self) -> None:
        """Initialise, require a connected terminal, learn the margin mode, select symbols.

        Raises ``BrokerUnavailable`` in plain words (terminal not found, login failed, not
        connected to the trade server). Algo-trading switches do not fail the connection:
        ``send`` refuses while they are off and ``diagnose`` reports them.
        """
        await self.session.connect()
        acc = await self.session.value("account_info")
        self.hedging = int(acc.margin_mode) == 2
        for name in self._symbols:
            await self.select(name)
            if self._offset is None:
                await self.raw_tick(name)
        if blocked := await self.session.blocked_reason():
            log.warning("MT5 connected but orders are blocked: %s", blocked[1])

    async def close(self) -> None:
        await self.session.close()

    async def reconnect(self, max_attempts: int | None = None) -> bool:
        return await self.session.reconnect(max_attempts)

    async def check_health(self) -> bool:
        return await self.session.check_health()

    async def supervise(self, interval_s: float = 5.0) -> None:
        await self.session.supervise(interval_s)

    async def diagnose(self, symbols: Sequence[str] = ()) -> TerminalReport:
        """Everything ``chattrader diag`` should print; never raises, problems in plain words."""
        return await diagnose(self, tuple(symbols) or self._symbols)

    # ------------------------------------------------------------------ symbols and prices

    async def select(self, name: str) -> None:
        """Put ``name`` in Market Watch (positional call, as the module requires)."""
        if name in self._selected:
            return
        ans = await self.session.answer("symbol_select", name, True)
        if ans.failed:
            msg = f"symbol {name!r} cannot be selected: {explain(*ans.error)}"
            raise DataUnavailable(msg, code="unknown_symbol", symbol=name)
        self._selected.add(name)

    async def symbol_info(self, name: str) -> Any:
        await self.select(name)
        ans = await self.session.answer("symbol_info", name)
        if ans.failed:
            msg = f"symbol {name!r} is unknown to the broker: {explain(*ans.error)}"
            raise DataUnavailable(msg, code="unknown_symbol", symbol=name)
        return ans.value

    async def symbol(self, name: str) -> SymbolSpec:
        return mp.spec_from_info(await self.symbol_info(name))

    async def raw_tick(self, symbol: str) -> Any:
        await self.select(symbol)
        ans = await self.session.answer("symbol_info_tick", symbol)
        if ans.failed:
            msg = f"no price for {symbol}: {explain(*ans.error)}"
            raise DataUnavailable(msg, code="no_tick", symbol=symbol)
        tick = ans.value
        self._learn_offset(tick)
        return tick

    def _learn_offset(self, tick: Any) -> None:
        if self._offset_fixed:
            return
        found = mp.detect_offset(float(tick.time), self.clock.now())
        if found is not None and found != self._offset:
            log.info("MT5 server time is UTC%+.1f h", found.total_seconds() / 3600)
            self._offset = found

    async def tick(self, symbol: str) -> Tick:
        return mp.tick_from(symbol, await self.raw_tick(symbol), self.time)

    # ------------------------------------------------------------------ account and positions

    async def account(self) -> Account:
        acc = mp.account_from(await self.session.value("account_info"))
        self.hedging = acc.hedging
        return acc

    def client_id_of(self, comment: str) -> str:
        return self._tags.get(comment[:TAG_LENGTH], "")

    def remember(self, client_id: str) -> str:
        tag = client_tag(client_id)
        self._tags[tag] = client_id
        return tag

    def owned(self, magic: int) -> bool:
        return not self.own_positions_only or int(magic) == self.magic

    async def raw_positions(self, symbol: str | None = None, ticket: int | None = None) -> Any:
        if ticket is not None:
            return await self.session.value("positions_get", ticket=int(ticket))
        if symbol is not None:
            return await self.session.value("positions_get", symbol=symbol)
        return await self.session.value("positions_get")

    async def positions(self, symbol: str | None = None) -> list[Position]:
        rows = await self.raw_positions(symbol)
        clock = self.time
        return [
            mp.position_from(p, clock, self.client_id_of(p.comment))
            for p in rows
            if self.owned(p.magic)
        ]

    # ------------------------------------------------------------------ orders

    async def send(self, request: OrderRequest) -> OrderResult:
        """Market order with SL/TP; idempotent on ``client_id`` (DUPLICATE on a resend)."""
        return await self.desk.send(request)

    async def close_position(
        self, ticket: int, volume: float | None = None, *, client_id: str = ""
    ) -> OrderResult:
        return await self.desk.close(ticket, volume, client_id=client_id)

    async def modify(
        self, ticket: int, *, sl: float | None = None, tp: float | None = None
    ) -> OrderResult:
        return await self.desk.modify(ticket, sl=sl, tp=tp)

    # ------------------------------------------------------------------ history

    async def raw_deals(self, start: datetime, end: datetime, group: str | None = None) -> Any:
        """Deals in a server-time window widened by a day each side (§4.9)."""
        lo = self.time.server_bound(start - timedelta(days=1))
        hi = self.time.server_bound(end + timedelta(days=1))
        if group:
            return await self.session.value("history_deals_get", lo, hi, group=group)
        return await self.session.value("history_deals_get", lo, hi)

    async def deals(self, start: datetime, end: datetime, symbol: str | None = None) -> list[Deal]:
        """Buy/sell deals with UTC time in [start, end), oldest first."""
        clock = self.time
        out = [
            mp.deal_from(d, clock, self.client_id_of(d.comment))
            for d in await self.raw_deals(start, end, symbol)
            if mp.is_trade_deal(d) and self.owned(d.magic)
        ]
        return sorted((d for d in out if start <= d.time < end), key=lambda d: (d.time, d.ticket))

    async def find(self, client_id: str) -> Position | Deal | None:
        """What the order with this client id produced: its open position (matched by the
        comment tag and magic), else its entry deal within ``lookback``, else None."""
        return await self.find_tag(self.remember(client_id), client_id)

    async def find_tag(self, tag: str, client_id: str, symbol: str | None = None) -> Any:
        clock = self.time
        for p in await self.raw_positions(symbol):
            if p.comment.startswith(tag) and self.owned(p.magic):
                return mp.position_from(p, clock, client_id)
        now = self.clock.now()
        for d in await self.raw_deals(now - self.lookback, now, symbol):
            entry = int(d.entry) in (DealEntry.IN, DealEntry.INOUT)
            if entry and d.comment.startswith(tag) and self.owned(d.magic):
                return mp.deal_from(d, clock, client_id)
        return None

    async def closed_trade(self, position_id: int) -> ClosedTrade | None:
        """The round trip of a position from deal history (profit, commission, swap), or None
        while the position is still open."""
        rows = await self.session.value("history_deals_get", position=int(position_id))
        clock = self.time
        deals = [mp.deal_from(d, clock) for d in rows if mp.is_trade_deal(d)]
        first_in = next((d for d in deals if d.entry is DealEntry.IN), None)
        return mp.closed_trade_from(deals, self.client_id_of(first_in.comment) if first_in else "")

    async def closed_trades(self, start: datetime, end: datetime) -> list[ClosedTrade]:
        """Round trips whose last exit falls in [start, end) (UTC), oldest first: what a
        restart uses to record trades closed while the bot was away (SL/TP, manual)."""
        exits = [
            d for d in await self.deals(start, end) if d.entry is not DealEntry.IN
        ]  # fmt: skip
        trades = []
        for position_id in dict.fromkeys(d.position_id for d in exits):
            trade = await self.closed_trade(position_id)
            if trade is not None and start <= trade.closed_at < end:
                trades.append(trade)
        return sorted(trades, key=lambda t: (t.closed_at, t.position_id))

    # ------------------------------------------------------------------ bars

    async def bars(self, symbol: str, timeframe: Timeframe, count: int) -> pd.DataFrame:
        """The last ``count`` closed bars (the forming bar, position 0, is left out)."""
        await self._ensure_offset(symbol)
        ans = await self.session.answer("copy_rates_from_pos", symbol, timeframe.mt5, 1, count)
        return self._frame(ans, symbol, timeframe)

    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """Closed bars with open time in [start, end) (UTC); without ``start``, the terminal's
        whole chart history (``terminal_info().maxbars``)."""
        now = self.clock.now()
        if start is None:
            maxbars = (await self.session.value("terminal_info")).maxbars
            frame = await self.bars(symbol, timeframe, int(maxbars))
        else:
            await self._ensure_offset(symbol)
            lo, hi = self.time.server_bound(start), self.time.server_bound(end or now)
            ans = await self.session.answer("copy_rates_range", symbol, timeframe.mt5, lo, hi)
            frame = self._frame(ans, symbol, timeframe)
        keep = frame.index + timeframe.delta <= now
        if start is not None:
            keep &= frame.index >= start
        if end is not None:
            keep &= frame.index < end
        out = frame[keep]
        out.attrs.update(frame.attrs)
        return out

    async def _ensure_offset(self, symbol: str) -> None:
        """Bar times are only as right as the offset: refuse to guess it."""
        if self._offset is None:
            await self.raw_tick(symbol)
        if self._offset is None:
            raise BrokerUnavailable(
                "the broker's server time offset is unknown (market closed?): configure it "
                "or retry while the market trades",
                code="mt5_offset_unknown",
            )

    def _frame(self, ans: Any, symbol: str, timeframe: Timeframe) -> pd.DataFrame:
        if ans.failed:
            msg = f"MT5 has no {timeframe.value} bars for {symbol}: {explain(*ans.error)}"
            raise DataUnavailable(msg, code="no_bars", symbol=symbol)
        return mp.bars_frame(ans.value, self.time)
