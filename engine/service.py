"""``TradingService``: the one façade the chat and the CLI call to read and steer the engine.

Every operation a person can ask for is one method here: status, positions, pause/resume and
breaker reset (through the governor, so they persist and emit events), a manual entry judged
without sending (``preview_force``) and then sent under the confirmation's key
(``execute_force``: the key is stored before sending, so a replayed Confirm never opens a
second trade), closing positions, the risk gates' verdicts now, trade history, charts, and the
risk limits a person may change. Views are frozen values of codes and numbers from
``engine.views``; the bot renders them. Bad user input raises ``BadArguments`` with a code and
the values; a lost broker raises ``BrokerUnavailable``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import datetime, timedelta

from engine.charting import MarketCharts
from engine.config import Settings
from engine.decide import Signal
from engine.errors import BadArguments, BrokerUnavailable, ConfigError, DataUnavailable
from engine.limit_edits import EDITABLE, limit_value, parse_limit, with_limit
from engine.models import Account, OrderResult, Position, Side
from engine.ports import MarketData, StateRepo, TradeRepo
from engine.risk import GateCode, RiskLimits, Verdict, next_session_open, session_now
from engine.risk.periods import day_start, local_day
from engine.trader import Trader
from engine.views import (
    ChartView,
    CloseOutcome,
    ControlOutcome,
    DayPnl,
    DecisionView,
    ForceOutcome,
    ForcePreview,
    ForceTicket,
    LimitChange,
    LimitValue,
    Number,
    PnlView,
    PositionsView,
    RiskView,
    SettingsView,
    StatusView,
    TradesView,
)

log = logging.getLogger("engine.service")

LIMITS_KEY = "risk.limits"  # StateRepo key of the limits changed from the chat
MAX_TRADES_LISTED = 500
MAX_PNL_DAYS = 90


def _bad(message: str, code: str, **params: object) -> BadArguments:
    return BadArguments(message, code=code, **params)


class TradingService:
    """The façade over a running ``Trader`` (paper or MT5) and the repositories it reads."""

    def __init__(
        self,
        trader: Trader,
        *,
        market: MarketData,
        trades: TradeRepo,
        state: StateRepo,
        settings: Settings,
        started_at: datetime,
    ) -> None:
        self.trader = trader
        self._market = market
        self._trades = trades
        self._state = state
        self._settings = settings
        self._base = trader.config.limits  # from the settings file
        self._charts = MarketCharts(trader, market)
        self.started_at = started_at

    @property
    def symbols(self) -> tuple[str, ...]:
        return self.trader.config.symbols

    @property
    def limits(self) -> RiskLimits:
        return self.trader.config.limits

    def _now(self) -> datetime:
        return self.trader.clock.now()

    def _symbol(self, text: str | None) -> str:
        """A configured symbol (case-insensitive); the first one when ``text`` is None."""
        if text is None:
            return self.symbols[0]
        for symbol in self.symbols:
            if symbol.upper() == text.strip().upper():
                return symbol
        known = ", ".join(self.symbols)
        raise _bad(f"unknown symbol {text!r}; trading {known}", "unknown_symbol", symbol=text)

    async def _account(self) -> Account | None:
        try:
            return await self.trader.broker.account()
        except BrokerUnavailable:
            return None

    async def _digits(self, symbols: set[str]) -> dict[str, int]:
        return {s: (await self.trader.broker.symbol(s)).digits for s in sorted(symbols)}

    # ------------------------------------------------------------------ reads

    async def status(self) -> StatusView:
        """Mode, link, account, pause/breaker, today's counters, sessions, last decisions."""
        t = self.trader
        now = self._now()
        account = await self._account()
        state = await t.governor.state()
        positions = await t.broker.positions() if account is not None else []
        floating = account.equity - account.balance if account is not None else 0.0
        pct = self.limits.max_daily_loss_pct
        start = account.balance - state.realised_today if account is not None else None
        decisions = [await self._decision(s) for s in self.symbols]
        return StatusView(
            broker=t.broker.name,
            live=t.broker.name != "paper",
            connected=t.broker.connected,
            account=account,
            state=state,
            limits=self.limits,
            open_positions=len(positions),
            realised_today=state.realised_today,
            floating=round(floating, 2),
            daily_loss_limit=round(pct * start, 2) if pct is not None and start else None,
            sessions_open=session_now(now, self.limits.sessions),
            next_session=next_session_open(now, self.limits.sessions),
            decisions=tuple(d for d in decisions if d is not None),
            symbols=self.symbols,
            timeframe=t.config.timeframe.value,
            strategy=t.config.strategy.name,
            started_at=self.started_at,
            now=now,
            cycles=t.heartbeat.cycles,
            failures=t.heartbeat.failures,
            calendar=t.calendar.status(),
        )

    async def _decision(self, symbol: str) -> DecisionView | None:
        record = await self.trader.last_decision(symbol)
        if not record:
            return None

        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(record[key]) if record.get(key) else None

        verdicts = tuple(
            Verdict(
                allowed=bool(v["allowed"]),
                code=GateCode(v["code"]),
                reason=str(v.get("reason", "")),
                detail=dict(v.get("detail") or {}),
            )
            for v in record.get("verdicts", ())
        )
        return DecisionView(
            symbol=symbol,
            at=when("at"),
            bar_time=when("bar_time"),
            action=str(record.get("action", "none")),
            side=Side(record["side"]) if record.get("side") else None,
            reason_code=str(record.get("reason_code", "")),
            reason=str(record.get("reason", "")),
            verdicts=verdicts,
        )

    async def positions(self) -> PositionsView:
        """Every open position on the account, marked to market; ``ours`` are this bot's."""
        broker = self.trader.broker
        positions = await broker.positions()
        tracked = await self.trader.journal.tracked()
        magic = self.trader.config.magic
        ours = {p.ticket for p in positions if p.ticket in tracked or (magic and p.magic == magic)}
        account = await broker.account()
        digits = await self._digits({p.symbol for p in positions})
        return PositionsView(tuple(positions), frozenset(ours), digits, account.currency)

    async def recent_trades(self, count: int = 10) -> TradesView:
        """The ``count`` (1..500) most recently closed trades, newest first."""
        if not 1 <= count <= MAX_TRADES_LISTED:
            raise _bad(
                f"number of trades must be 1..{MAX_TRADES_LISTED}, got {count}",
                "out_of_range",
                value=count,
                min=1,
                max=MAX_TRADES_LISTED,
            )
        trades = tuple(await self._trades.recent(count))
        account = await self.trader.broker.account()
        digits = await self._digits({t.symbol for t in trades} & set(self.symbols))
        return TradesView(trades, account.currency, digits)

    async def daily_pnl(self, days: int = 7) -> PnlView:
        """Net PnL per local day (display zone) for the last ``days`` (1..90) days, today too."""
        if not 1 <= days <= MAX_PNL_DAYS:
            raise _bad(
                f"number of days must be 1..{MAX_PNL_DAYS}, got {days}",
                "out_of_range",
                value=days,
                min=1,
                max=MAX_PNL_DAYS,
            )
        zone, now = self.trader.config.zone, self._now()
        first = local_day(now, zone) - timedelta(days=days - 1)
        start = day_start(datetime.combine(first, datetime.min.time(), tzinfo=zone), zone)
        trades = await self._trades.between(start, now + timedelta(milliseconds=1))
        table = {first + timedelta(days=i): [0, 0, 0.0] for i in range(days)}
        for trade in trades:
            row = table.get(local_day(trade.closed_at, zone))
            if row is not None:
                row[0] += 1
                row[1] += trade.net > 0
                row[2] += trade.net
        account = await self.trader.broker.account()
        rows = tuple(DayPnl(d, int(n), int(w), round(net, 2)) for d, (n, w, net) in table.items())
        return PnlView(rows, account.currency)

    async def risk(self, symbol: str | None = None) -> RiskView:
        """Every gate's verdict on a strategy-sized buy and sell of ``symbol`` right now."""
        name = self._symbol(symbol)
        sl_dist, tp_dist = self._distances(name)
        buy = await self.trader.judge(name, Signal(Side.BUY, sl_dist, tp_dist, "risk check"))
        sell = await self.trader.judge(name, Signal(Side.SELL, sl_dist, tp_dist, "risk check"))
        account = await self.trader.broker.account()
        state = await self.trader.governor.state()
        return RiskView(name, buy, sell, state, self.limits, account.currency)

    def _distances(self, symbol: str) -> tuple[float, float]:
        """The strategy's current stop and target distances (NaN during warm-up)."""
        frame = self.trader.bars(symbol)
        cfg = self.trader.config
        if frame is None or len(frame) < cfg.strategy.warmup(cfg.params):
            return math.nan, math.nan
        row = cfg.strategy.signals(frame, cfg.params).iloc[-1]
        return float(row["sl_dist"]), float(row["tp_dist"])

    # ------------------------------------------------------------------ control

    async def pause(self, who: str, reason: str) -> ControlOutcome:
        event = await self.trader.governor.pause(who, reason)
        return ControlOutcome(event is not None, await self.trader.governor.state())

    async def resume(self, who: str) -> ControlOutcome:
        event = await self.trader.governor.resume(who)
        return ControlOutcome(event is not None, await self.trader.governor.state())

    async def reset_breaker(self, who: str) -> ControlOutcome:
        event = await self.trader.governor.reset_breaker(who)
        return ControlOutcome(event is not None, await self.trader.governor.state())

    async def preview_force(
        self, side: Side, symbol: str | None = None, volume: float | None = None
    ) -> ForcePreview:
        """Judge a manual entry now without sending: size (or ``volume`` lots), SL/TP from the
        strategy's current ATR distances, and the verdicts of the gates manual trades obey."""
        name = self._symbol(symbol)
        spec = await self.trader.broker.symbol(name)
        if volume is not None and not spec.volume_ok(volume):
            raise _bad(
                f"{volume} lots is not a valid {name} volume: {spec.volume_min}..."
                f"{spec.volume_max} in steps of {spec.volume_step}",
                "bad_volume",
                value=volume,
                min=spec.volume_min,
                max=spec.volume_max,
                step=spec.volume_step,
            )
        sl_dist, tp_dist = self._distances(name)
        if not (sl_dist > 0 and tp_dist > 0):  # NaN while the strategy warms up
            raise DataUnavailable(
                f"{name}: no stop distance yet; the strategy is warming up",
                code="warming_up",
                symbol=name,
            )
        signal = Signal(side, sl_dist, tp_dist, "manual", "manual")
        decision = await self.trader.judge(name, signal, volume=volume, manual=True)
        ticket = None
        if decision.volume is not None and decision.blocked_by is None and decision.sl is not None:
            ticket = ForceTicket(name, side, decision.volume, sl_dist, tp_dist)
        account = await self.trader.broker.account()
        return ForcePreview(decision, ticket, account.equity, account.currency, spec.digits)

    async def execute_force(self, ticket: ForceTicket, key: str) -> ForceOutcome:
        """Send the confirmed entry under ``key`` (the confirmation nonce). The gates run again
        at this moment; the key is stored before sending, so a second call never trades."""
        signal = Signal(ticket.side, ticket.sl_dist, ticket.tp_dist, "manual", "manual")
        decision, result = await self.trader.force(
            ticket.symbol, signal, key=f"manual-{key}", volume=ticket.volume
        )
        account = await self.trader.broker.account()
        spec = await self.trader.broker.symbol(ticket.symbol)
        return ForceOutcome(decision, result, account.currency, spec.digits)

    async def closable(self, target: str) -> tuple[Position, ...]:
        """Positions ``/close`` would close: "all" of this bot's, or one ticket of ours."""
        view = await self.positions()
        if target.strip().lower() == "all":
            return tuple(p for p in view.positions if p.ticket in view.ours)
        try:
            ticket = int(target.strip().lstrip("#"))
        except ValueError:
            raise _bad(f"not a ticket: {target!r}", "bad_ticket", value=target) from None
        found = next((p for p in view.positions if p.ticket == ticket), None)
        if found is None:
            raise _bad(f"no open position #{ticket}", "unknown_ticket", ticket=ticket)
        if ticket not in view.ours:
            raise _bad(f"position #{ticket} is not this bot's", "not_ours", ticket=ticket)
        return (found,)

    async def close(self, tickets: tuple[int, ...], key: str) -> tuple[CloseOutcome, ...]:
        """Close each ticket fully (client id from ``key``), then record the round trips."""
        broker = self.trader.broker
        open_now = {p.ticket: p for p in await broker.positions()}
        done: list[tuple[int, OrderResult]] = []
        for ticket in tickets:
            done.append(
                (ticket, await broker.close_position(ticket, client_id=f"close-{key}-{ticket}"))
            )
        await self.trader.sync()
        recorded = {t.position_id: t for t in await self._trades.recent(len(tickets) + 20)}
        outcomes = []
        for ticket, result in done:
            position = open_now.get(ticket)
            trade = recorded.get(ticket) if result.ok else None
            outcomes.append(
                CloseOutcome(
                    ticket=ticket,
                    symbol=position.symbol if position else "",
                    side=position.side if position else Side.BUY,
                    volume=position.volume if position else 0.0,
                    ok=result.ok,
                    price=result.price,
                    profit=trade.net if trade is not None else None,
                    reject=result.reject,
                    message=result.message,
                    digits=(await broker.symbol(position.symbol)).digits if position else 2,
                )
            )
        return tuple(outcomes)

    # ------------------------------------------------------------------ charts

    async def chart(
        self, symbol: str | None = None, timeframe: str | None = None, bars: int | None = None
    ) -> ChartView:
        """Candles with SMA, Bollinger and RSI (see ``engine.charting.MarketCharts.chart``)."""
        return await self._charts.chart(symbol, timeframe, bars)

    async def position_chart(self, ticket: int) -> ChartView:
        """An open position's chart with its entry, SL and TP drawn."""
        found = next((p for p in await self.trader.broker.positions() if p.ticket == ticket), None)
        if found is None:
            raise _bad(f"no open position #{ticket}", "unknown_ticket", ticket=ticket)
        return await self._charts.position(found)

    # ------------------------------------------------------------------ settings

    async def settings_view(self) -> SettingsView:
        """Every setting as safe text (secrets hidden) and the editable limits in force."""
        stored = await self._state.get(LIMITS_KEY, {}) or {}
        limits = tuple(
            LimitValue(name, kind, limit_value(self.limits, name), name in stored)
            for name, (_, kind) in EDITABLE.items()
        )
        return SettingsView(tuple(self._settings.public_view().items()), limits)

    def parse_limit(self, name: str, text: str) -> LimitChange:
        """Validate a new value for an editable limit (``engine.limit_edits``); nothing changes
        yet. Fractions take ``0.02`` or ``2%``; counts and minutes whole numbers."""
        key, kind, value = parse_limit(name, text)
        try:
            with_limit(self.limits, key, value)
        except ConfigError as exc:  # RiskLimits states the rule with the value
            raise BadArguments(str(exc), code="bad_value", name=key, value=text) from None
        return LimitChange(key, kind, limit_value(self.limits, key), value)

    async def apply_limit(self, change: LimitChange) -> LimitChange:
        """Persist ``change`` and apply it to the running trader and governor at once;
        returns it with ``old`` as it was just before."""
        old = limit_value(self.limits, change.name)
        limits = with_limit(self.limits, change.name, change.new)
        stored = dict(await self._state.get(LIMITS_KEY, {}) or {})
        stored[change.name] = change.new
        await self._state.set(LIMITS_KEY, stored)
        self.trader.set_limits(limits)
        log.info("risk limit %s changed from %s to %s", change.name, old, change.new)
        return replace(change, old=old)

    async def restore_limits(self) -> dict[str, Number]:
        """Apply the limits changed from the chat over the settings file (call at startup).

        A stored value the current rules refuse is skipped and logged, never half-applied.
        """
        stored = await self._state.get(LIMITS_KEY, {}) or {}
        limits, applied = self._base, {}
        for name, value in stored.items():
            if name not in EDITABLE:
                continue
            try:
                limits = with_limit(limits, name, value)
            except (ConfigError, TypeError, ValueError):
                log.warning("stored risk limit %s=%r is not valid any more; ignored", name, value)
                continue
            applied[name] = value
        if applied:
            self.trader.set_limits(limits)
        return applied
