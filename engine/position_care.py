"""What the trader does to positions it already holds, besides the broker's SL and TP.

``holding``: the backtester's rule for a new signal while the strategy holds a position on the
symbol (same side: nothing; opposite: close it first). ``close_for_reversal`` closes those
positions, each under its own idempotency key, and raises ``NotClosed`` when the broker refuses
one (then no new entry either). ``tighten_stops``: break-even and ATR trailing, never loosening
a stop. Positions opened by hand (/force) are never closed by a signal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import pandas as pd

from engine.decide import Signal
from engine.events import EventBus, OrderRejected, StopMoved
from engine.indicators import atr
from engine.journal import Tracked
from engine.models import Position, RejectReason
from engine.ports import Broker
from engine.risk import RiskLimits, plan_stop

log = logging.getLogger("engine.trader")


class NotClosed(Exception):
    """The broker refused to close a position on an opposite signal: no new entry either."""


def holding(
    tracked: Iterable[Tracked],
    positions: Mapping[int, Position],
    strategy: str,
    symbol: str,
    signal: Signal,
) -> tuple[str | None, tuple[Position, ...]]:
    """``(summary, ())`` when the strategy already holds ``signal``'s side on ``symbol`` (the
    signal changes nothing); else ``(None, positions to close first)``, empty when flat."""
    mine = [
        positions[t.ticket]
        for t in tracked
        if t.symbol == symbol and t.strategy == strategy and t.ticket in positions
    ]
    same = next((p for p in mine if p.side is signal.side), None)
    if same is not None:
        side = signal.side.value
        return f"{side} signal: already holding {same.side.value} #{same.ticket}", ()
    return None, tuple(mine)


async def close_for_reversal(
    broker: Broker,
    bus: EventBus,
    signal: Signal,
    key: str,
    closing: Sequence[Position],
    now: datetime,
) -> None:
    """Close each of ``closing`` (client id ``KEY-xTICKET``); ``NotClosed`` on a refusal,
    published first as ``OrderRejected``."""
    for position in closing:
        exit_key = f"{key}-x{position.ticket}"
        result = await broker.close_position(position.ticket, client_id=exit_key)
        if not (result.ok or result.reject is RejectReason.DUPLICATE):
            log.warning("%s: reversal close refused: %s", exit_key, result.message)
            await bus.publish(
                OrderRejected(
                    now,
                    exit_key,
                    position.symbol,
                    signal.side,
                    position.volume,
                    result.reject,
                    result.message,
                )
            )
            msg = f"{signal.side.value} signal: #{position.ticket} could not be closed"
            raise NotClosed(msg)
        log.info("closed %s #%s on the opposite signal", position.symbol, position.ticket)


async def tighten_stops(
    broker: Broker,
    bus: EventBus,
    tracked: Mapping[int, Tracked],
    limits: RiskLimits,
    atr_period: int,
    symbol: str,
    frame: pd.DataFrame,
    now: datetime,
) -> None:
    """Break-even and trailing for our positions on ``symbol`` (off unless configured)."""
    if limits.breakeven_at_r is None and limits.trailing_atr_mult is None:
        return
    positions = [p for p in await broker.positions(symbol) if p.ticket in tracked]
    if not positions:
        return
    spec = await broker.symbol(symbol)
    tick = await broker.tick(symbol)
    last_atr = float(atr(frame, atr_period).iloc[-1])
    for position in positions:
        update = plan_stop(
            position,
            atr=last_atr,
            spec=spec,
            tick=tick,
            breakeven_at_r=limits.breakeven_at_r,
            trail_atr_mult=limits.trailing_atr_mult,
            initial_risk_dist=tracked[position.ticket].initial_risk_dist,
            breakeven_offset=limits.breakeven_offset_points * spec.point,
        )
        if update is None:
            continue
        result = await broker.modify(position.ticket, sl=update.sl)
        if result.ok:
            await bus.publish(
                StopMoved(now, position.ticket, symbol, position.sl, update.sl, update.why)
            )
