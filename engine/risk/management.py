"""Stop management of an open position: breakeven after +N R and an ATR trailing stop.

Both are off unless asked for. ``manage_stop`` proposes a new stop-loss only when it is tighter
than the current one (a stop never loosens), never proposes a take-profit (the caller modifies
with ``tp=None``, which keeps the current level), keeps at least ``stops_level`` points (and
one tick) from the price the position would close at, does nothing while the stop or target is
inside ``freeze_level``, and puts the price on the tick grid rounding toward safety (down for a
buy's stop, up for a sell's) so rounding can never break the distance rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from engine.models import Position, Side, SymbolSpec, Tick

# Prices compared in ticks: anything closer than this fraction of a tick is the same level.
_TICK_EPS = 1e-6


class StopWhy(StrEnum):
    BREAKEVEN = "breakeven"
    TRAILING = "trailing"


@dataclass(frozen=True, slots=True)
class StopUpdate:
    sl: float  # new stop-loss price, on the tick grid
    why: StopWhy


def _snap(price: float, spec: SymbolSpec, *, down: bool) -> float:
    ticks = price / spec.tick_size
    whole = math.floor(ticks + _TICK_EPS) if down else math.ceil(ticks - _TICK_EPS)
    return round(whole * spec.tick_size, spec.digits)


def plan_stop(
    position: Position,
    *,
    atr: float | None,
    spec: SymbolSpec,
    tick: Tick | None,
    breakeven_at_r: float | None,
    trail_atr_mult: float | None,
    initial_risk_dist: float | None,
    breakeven_offset: float = 0.0,
) -> StopUpdate | None:
    """Like ``manage_stop`` but also says which rule moved the stop."""
    if tick is None:
        return None
    buy = position.side is Side.BUY
    sign = position.side.sign
    price = tick.close_price_for(position.side)  # a buy closes at bid, a sell at ask
    if not math.isfinite(price) or price <= 0:
        return None
    freeze = spec.freeze_level * spec.point
    if freeze > 0 and any(
        level is not None and abs(price - level) <= freeze for level in (position.sl, position.tp)
    ):
        return None  # MT5 refuses to modify inside the freeze level (retcode 10029)

    candidates: list[tuple[float, StopWhy]] = []
    if breakeven_at_r is not None and initial_risk_dist is not None and initial_risk_dist > 0:
        gain = sign * (price - position.price_open)
        if gain >= breakeven_at_r * initial_risk_dist:
            level = position.price_open + sign * max(breakeven_offset, 0.0)
            candidates.append((level, StopWhy.BREAKEVEN))
    if trail_atr_mult is not None and atr is not None and math.isfinite(atr) and atr > 0:
        candidates.append((price - sign * trail_atr_mult * atr, StopWhy.TRAILING))
    if not candidates:
        return None
    target, why = max(candidates, key=lambda c: sign * c[0])  # the tightest proposal

    gap = max(spec.stops_level * spec.point, spec.tick_size)
    limit = price - sign * gap
    target = min(target, limit) if buy else max(target, limit)
    new_sl = _snap(target, spec, down=buy)
    if sign * (price - new_sl) < gap - spec.tick_size * _TICK_EPS:
        return None
    if position.sl is not None and sign * (new_sl - position.sl) <= spec.tick_size * _TICK_EPS:
        return None  # not tighter: a stop never loosens
    return StopUpdate(new_sl, why)


def manage_stop(
    position: Position,
    *,
    atr: float | None,
    spec: SymbolSpec,
    tick: Tick | None,
    breakeven_at_r: float | None,
    trail_atr_mult: float | None,
    initial_risk_dist: float | None,
    breakeven_offset: float = 0.0,
) -> float | None:
    """A tighter stop-loss for ``position``, or None to leave it as it is.

    ``atr`` and ``initial_risk_dist`` (entry to first stop, the 1R) are price distances;
    ``breakeven_at_r`` (e.g. 1.0) moves the stop to entry plus ``breakeven_offset`` (price, e.g.
    the spread) once the position gains that many R; ``trail_atr_mult`` keeps the stop that many
    ATRs behind the closing price. ``None`` turns a rule off. The take-profit is never touched.
    """
    update = plan_stop(
        position,
        atr=atr,
        spec=spec,
        tick=tick,
        breakeven_at_r=breakeven_at_r,
        trail_atr_mult=trail_atr_mult,
        initial_risk_dist=initial_risk_dist,
        breakeven_offset=breakeven_offset,
    )
    return None if update is None else update.sl
