"""The live trader loop, the same for paper and MT5: one cycle per closed bar and symbol.

A cycle: let the market hook price the bar (the paper broker judges SL/TP over it), record
positions that closed, mark equity for the breaker, tighten stops, then run the strategy on the
closed-bar window and pass its last row through ``decide``. While the strategy holds a position
on the symbol, the backtester's rule applies: a signal on the same side changes nothing; an
opposite one closes the position whatever the gates say of the new entry, which is judged as the
backtest judges it (before that close is booked); positions opened by hand are left alone. An
order is written before it is sent under an idempotency key (strategy, symbol, timeframe, bar
time, side), so a restart on the same bar never trades twice. A failing cycle is logged and
published as ``CycleFailed``; the loop keeps running. Cycles are serialised so risk counters
never race between symbols.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from engine.decide import Action, Decision, Signal, decide
from engine.errors import BrokerUnavailable, DataUnavailable
from engine.events import (
    CycleFailed,
    EventBus,
    GateBlocked,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    SignalSkipped,
)
from engine.journal import Journal
from engine.models import (
    Bar,
    EquitySnapshot,
    Order,
    OrderRequest,
    OrderResult,
    Position,
    RejectReason,
    Side,
    Timeframe,
)
from engine.ports import BarFeed, Broker, Calendar, Clock, EquityRepo, StateRepo, UnitOfWork
from engine.position_care import NotClosed, close_for_reversal, holding, tighten_stops
from engine.risk import GateCode, RiskGate, RiskGovernor, RiskLimits, default_gates
from engine.strategies.base import Strategy, StrategyParams
from engine.window import BarWindow

log = logging.getLogger("engine.trader")

MarketHook = Callable[[Bar], Awaitable[object]]
DECISION_KEY = "decision."
# A person's /force skips the strategy's timing rules; every hard limit (pause, breaker, open
# positions, loss limits, market closed, spread, margin) still applies.
MANUAL_SKIPS = frozenset({GateCode.SESSION, GateCode.NEWS, GateCode.MAX_TRADES, GateCode.COOLDOWN})


@dataclass(frozen=True, slots=True)
class TraderConfig:
    symbols: tuple[str, ...]
    timeframe: Timeframe
    strategy: Strategy[Any]
    params: StrategyParams
    limits: RiskLimits
    zone: ZoneInfo
    magic: int = 0
    atr_period: int = 14
    # Currencies whose releases open a news window per symbol; missing = the gate's defaults.
    currencies: Mapping[str, frozenset[str] | None] = field(default_factory=dict)


def client_id(
    strategy: str, symbol: str, timeframe: Timeframe, bar_time: datetime, side: Side
) -> str:
    """Idempotency key of a strategy entry: one per strategy, symbol, bar and side."""
    return f"{strategy}-{symbol}-{timeframe.value}-{int(bar_time.timestamp())}-{side.value[0]}"


@dataclass(slots=True)
class Heartbeat:
    last_cycle: dict[str, datetime] = field(default_factory=dict)
    last_bar: dict[str, datetime] = field(default_factory=dict)
    cycles: int = 0
    failures: int = 0


class Trader:
    def __init__(
        self,
        *,
        config: TraderConfig,
        broker: Broker,
        journal: Journal,
        governor: RiskGovernor,
        state: StateRepo,
        equity: EquityRepo,
        uow: UnitOfWork,
        calendar: Calendar,
        clock: Clock,
        bus: EventBus,
        gates: Sequence[RiskGate] | None = None,
        market_hook: MarketHook | None = None,
    ) -> None:
        self.config = config
        self.broker = broker
        self.journal = journal
        self.governor = governor
        self._state = state
        self._equity = equity
        self._uow = uow
        self.calendar = calendar
        self.clock = clock
        self.bus = bus
        self._custom_gates = gates is not None
        self.gates = tuple(gates) if gates is not None else default_gates(config.limits)
        self._hook = market_hook
        self._lock = asyncio.Lock()
        self._windows: dict[str, BarWindow] = {}
        self.heartbeat = Heartbeat()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, history: dict[str, pd.DataFrame]) -> None:
        """Seed each symbol's closed-bar window and settle what a previous run left open."""
        size = self.config.strategy.lookback(self.config.params) + 1
        for symbol in self.config.symbols:
            frame = history.get(symbol)
            self._windows[symbol] = (
                BarWindow.from_frame(frame, size) if frame is not None else (BarWindow(size))
            )
        now = self.clock.now()
        for line in await self.journal.reconcile(now):
            log.info("reconcile: %s", line)
        await self._record_closed(now)

    async def run(self, feed: BarFeed, *, max_bars: int | None = None) -> None:
        """Consume closed bars of every symbol until cancelled (or ``max_bars`` each)."""
        async with asyncio.TaskGroup() as group:
            for symbol in self.config.symbols:
                group.create_task(self._consume(feed, symbol, max_bars))

    async def _consume(self, feed: BarFeed, symbol: str, max_bars: int | None) -> None:
        count = 0
        async for bar in feed.closed_bars(symbol, self.config.timeframe):
            await self.on_bar(bar)
            count += 1
            if max_bars is not None and count >= max_bars:
                return

    async def on_bar(self, bar: Bar) -> Decision | None:
        """One cycle; never raises (a failure is logged and published)."""
        async with self._lock:
            try:
                return await self._cycle(bar)
            except Exception as exc:
                self.heartbeat.failures += 1
                log.exception("cycle failed for %s %s", bar.symbol, bar.time.isoformat())
                text = f"{type(exc).__name__}: {exc}"
                await self.bus.publish(
                    CycleFailed(self.clock.now(), bar.symbol, bar.timeframe, text)
                )
                return None

    async def sync(self) -> None:
        """Record positions closed outside a cycle (a manual close from the chat or the CLI)."""
        async with self._lock:
            await self._record_closed(self.clock.now())

    @contextlib.asynccontextmanager
    async def idle(self) -> AsyncIterator[None]:
        """Hold the cycle lock: inside the block no cycle runs or is half done (clean stop)."""
        async with self._lock:
            yield

    def bars(self, symbol: str) -> pd.DataFrame | None:
        """The closed-bar window the strategy sees for ``symbol`` (None before ``start``)."""
        window = self._windows.get(symbol)
        return window.frame() if window is not None and len(window) else None

    def set_limits(self, limits: RiskLimits) -> None:
        """Trade under new risk limits from the next decision on (gates and governor too)."""
        self.config = replace(self.config, limits=limits)
        if not self._custom_gates:
            self.gates = default_gates(limits)
        self.governor.set_limits(limits)

    @property
    def manual_gates(self) -> tuple[RiskGate, ...]:
        return tuple(g for g in self.gates if g.code not in MANUAL_SKIPS)

    async def force(
        self, symbol: str, signal: Signal, *, key: str, volume: float | None = None
    ) -> tuple[Decision, OrderResult | None]:
        """A person's entry (/force): ``execute`` with ``manual=True``, serialised with the
        cycles so the risk counters never race; ``key`` is stored before sending."""
        async with self._lock:
            return await self.execute(symbol, signal, key=key, volume=volume, manual=True)

    # ------------------------------------------------------------------ one cycle

    async def _cycle(self, bar: Bar) -> Decision | None:
        now = self.clock.now()
        if self._hook is not None:
            await self._hook(bar)
        window = self._windows.setdefault(
            bar.symbol, BarWindow(self.config.strategy.lookback(self.config.params) + 1)
        )
        window.append(bar)
        self.heartbeat.last_bar[bar.symbol] = bar.time
        self.heartbeat.last_cycle[bar.symbol] = now
        self.heartbeat.cycles += 1
        await self._record_closed(now)
        account = await self.broker.account()
        await self.governor.on_equity(account.equity)  # a drawdown trip must precede any entry
        frame = window.frame()
        decision: Decision | None = None
        if len(frame) < self.config.strategy.warmup(self.config.params):
            summary = f"warming up: {len(frame)} bars"
        else:
            row = self.config.strategy.signals(frame, self.config.params).iloc[-1]
            await self._manage_stops(bar.symbol, frame)
            summary = "no signal"
            if int(row["side"]) != 0:
                signal = Signal(
                    side=Side.from_sign(int(row["side"])),
                    sl_dist=float(row["sl_dist"]),
                    tp_dist=float(row["tp_dist"]),
                    reason=str(row["reason"]),
                    reason_code=str(row["reason_code"]),
                )
                key = client_id(
                    self.config.strategy.name, bar.symbol, bar.timeframe, bar.time, signal.side
                )
                held, opposite = await self._holding(bar.symbol, signal)
                if held is not None:
                    summary = held
                else:
                    try:
                        decision, _ = await self.execute(
                            bar.symbol, signal, key=key, closing=opposite
                        )
                        summary = decision.summary
                    except NotClosed as exc:
                        summary = str(exc)
        # Bookkeeping after the order, in one transaction: it is not on the bar-to-order path.
        async with self._uow.transaction():
            snap = EquitySnapshot(now, account.balance, account.equity, account.margin)
            await self._equity.add(snap)
            await self._remember(bar, decision, summary)
        return decision

    async def _holding(
        self, symbol: str, signal: Signal
    ) -> tuple[str | None, tuple[Position, ...]]:
        """``position_care.holding`` on our tracked positions (no broker call when flat)."""
        name = self.config.strategy.name
        tracked = (await self.journal.tracked()).values()
        if not any(t.symbol == symbol and t.strategy == name for t in tracked):
            return None, ()  # flat: the usual case, no broker call on the bar-to-order path
        positions = {p.ticket: p for p in await self.broker.positions()}
        return holding(tracked, positions, name, symbol, signal)

    async def execute(
        self,
        symbol: str,
        signal: Signal,
        *,
        key: str,
        volume: float | None = None,
        manual: bool = False,
        closing: Sequence[Position] = (),
    ) -> tuple[Decision, OrderResult | None]:
        """Judge and, when every gate allows, send one entry. Used by the loop and by /force
        (``manual``: the gates in ``manual_gates``). ``closing`` (a reversal) are closed
        whatever the verdict; the entry is judged as the backtest judges it, before they
        close: without them in the position count and with their profit still floating."""
        now = self.clock.now()
        decision = await self._judge(now, symbol, signal, volume, manual, len(closing))
        if closing:
            await close_for_reversal(self.broker, self.bus, signal, key, closing, now)
            await self._record_closed(now, frozenset(p.ticket for p in closing))
        if decision.action is Action.BLOCKED and (v := decision.blocked_by) is not None:
            log.info("%s %s blocked by %s: %s", symbol, signal.side, v.code.value, v.reason)
            await self.bus.publish(GateBlocked(now, symbol, signal.side, v.code.value, v.reason))
            return decision, None
        if decision.action is not Action.ORDER:
            log.info("%s: %s", symbol, decision.summary)
            await self.bus.publish(SignalSkipped(now, symbol, signal.side, decision.summary))
            return decision, None
        return decision, await self._send(symbol, signal, decision, key, manual, now)

    async def judge(
        self, symbol: str, signal: Signal, *, volume: float | None = None, manual: bool = False
    ) -> Decision:
        """What ``execute`` would decide now, without sending or publishing anything."""
        return await self._judge(self.clock.now(), symbol, signal, volume, manual)

    async def _judge(
        self,
        now: datetime,
        symbol: str,
        signal: Signal,
        volume: float | None,
        manual: bool,
        closing: int = 0,
    ) -> Decision:
        spec = await self.broker.symbol(symbol)
        try:
            tick = await self.broker.tick(symbol)
        except DataUnavailable:  # no quote yet: the market-closed gate says so
            tick = None
        account = await self.broker.account()
        positions = await self.broker.positions()
        state = await self.governor.state()
        return decide(
            signal,
            now=now,
            zone=self.config.zone,
            symbol=symbol,
            spec=spec,
            tick=tick,
            account=account,
            open_positions=len(positions) - closing,
            state=state,
            limits=self.config.limits,
            gates=self.manual_gates if manual else self.gates,
            calendar=self.calendar,
            volume=volume,
            currencies=self.config.currencies.get(symbol),
        )

    async def _send(
        self,
        symbol: str,
        signal: Signal,
        decision: Decision,
        key: str,
        manual: bool,
        now: datetime,
    ) -> OrderResult | None:
        assert decision.volume is not None
        order = Order(
            client_id=key,
            symbol=symbol,
            side=signal.side,
            volume=decision.volume,
            created_at=now,
            sl=decision.sl,
            tp=decision.tp,
            price=decision.price,
            strategy="manual" if manual else self.config.strategy.name,
        )
        if not await self.journal.begin(order):
            log.info("%s already handled (idempotency key in storage): not sent again", key)
            return None
        request = OrderRequest(
            client_id=key,
            symbol=symbol,
            side=signal.side,
            volume=decision.volume,
            sl=decision.sl,
            tp=decision.tp,
            magic=self.config.magic,
        )
        try:
            result = await self.broker.send(request)
        except BrokerUnavailable:
            # Outcome unknown: the order stays PENDING and is reconciled by its key.
            log.warning("%s: broker unavailable while sending; will reconcile", key)
            raise
        if result.ok or result.reject is RejectReason.DUPLICATE:
            tracked = await self.journal.filled(order, result, now, decision.risk_money)
            await self.governor.on_entry(now)
            log.info(
                "filled %s %s %s lots at %s (SL %s, TP %s) #%s",
                symbol,
                signal.side.value,
                decision.volume,
                tracked.price_open,
                decision.sl,
                decision.tp,
                tracked.ticket,
            )
            await self.bus.publish(
                OrderFilled(
                    at=now,
                    client_id=key,
                    symbol=symbol,
                    side=signal.side,
                    volume=decision.volume,
                    price=tracked.price_open,
                    ticket=tracked.ticket,
                    sl=decision.sl,
                    tp=decision.tp,
                    strategy=order.strategy,
                    reason=signal.reason,
                    risk_money=decision.risk_money,
                    manual=manual,
                )
            )
            return result
        await self.journal.refused(order, result, now)
        log.warning("order %s rejected: %s %s", key, result.reject, result.message)
        await self.bus.publish(
            OrderRejected(
                now, key, symbol, signal.side, decision.volume, result.reject, result.message
            )
        )
        return result

    # ------------------------------------------------------------------ bookkeeping

    async def _record_closed(self, now: datetime, on_signal: frozenset[int] = frozenset()) -> None:
        """Book the round trips the broker closed; ``on_signal``: tickets a reversal closed."""
        for trade in await self.journal.sync_closed(now):
            account = await self.broker.account()
            await self.governor.on_trade_closed(
                trade.net, balance=account.balance, at=trade.closed_at
            )
            log.info(
                "closed %s %s #%s at %s: %.2f (%s)",
                trade.symbol,
                trade.side.value,
                trade.position_id,
                trade.price_close,
                trade.net,
                trade.reason.value,
            )
            reversed_ = trade.position_id in on_signal
            await self.bus.publish(PositionClosed.of(trade, on_signal=reversed_))

    async def _manage_stops(self, symbol: str, frame: pd.DataFrame) -> None:
        tracked = await self.journal.tracked()
        limits, period = self.config.limits, self.config.atr_period
        now = self.clock.now()
        await tighten_stops(self.broker, self.bus, tracked, limits, period, symbol, frame, now)

    async def _remember(self, bar: Bar, decision: Decision | None, summary: str) -> None:
        """Store the last decision per symbol for /status (with each gate's verdict)."""
        record: dict[str, Any] = {
            "at": self.clock.now().isoformat(),
            "bar_time": bar.time.isoformat(),
            "summary": summary,
            "action": decision.action.value if decision else "none",
            "verdicts": [
                {"code": v.code.value, "allowed": v.allowed, "reason": v.reason}
                for v in (decision.verdicts if decision else ())
            ],
        }
        if decision is not None:
            record["side"] = decision.signal.side.value
            record["reason"] = decision.signal.reason
            record["reason_code"] = decision.signal.reason_code
        await self._state.set(DECISION_KEY + bar.symbol, record)

    async def last_decision(self, symbol: str) -> dict[str, Any] | None:
        return await self._state.get(DECISION_KEY + symbol)
