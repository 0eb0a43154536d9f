"""Settle bars where a position's SL and TP were both touched, using M1 bars when there are any.

Without finer data the rule is SL first (the path inside a bar is unknown). When M1 bars cover
such a bar, they are walked in order with the same ``sim.bar_exit`` rule (gap at the M1 open,
then SL, then TP on each M1 range), so the level reached first wins; an M1 bar touching both
again takes the SL. Bars the M1 data does not cover keep the SL-first answer.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from engine.backtest.candidates import EXIT_SL, EXIT_TP, Candidates
from engine.backtest.config import Costs
from engine.backtest.market import MarketArrays
from engine.brokers import sim
from engine.models import DealReason, Side, SymbolSpec


def resolve_on_m1(
    c: Candidates,
    m: MarketArrays,
    m1: MarketArrays,
    spec: SymbolSpec,
    costs: Costs,
) -> tuple[Candidates, int]:
    """Candidates with ambiguous exits re-judged on ``m1``; also how many were covered."""
    rows = np.flatnonzero(c.ambiguous)
    if rows.size == 0 or len(m1) == 0:
        return c, 0
    price, reason = c.exit_price.copy(), c.exit_reason.copy()
    slip = costs.slippage_points * spec.point
    covered = 0
    for row in rows.tolist():
        bar = int(c.exit_bar[row])
        lo = int(np.searchsorted(m1.time_ns, m.time_ns[bar], side="left"))
        hi = int(np.searchsorted(m1.time_ns, m.time_ns[bar] + m.bar_ns, side="left"))
        if hi <= lo:
            continue
        covered += 1
        side = Side.BUY if c.side[row] > 0 else Side.SELL
        sl, tp = float(c.sl[row]), float(c.tp[row])
        for k in range(lo, hi):
            points = m1.spread[k] if costs.spread_points is None else costs.spread_points
            hit = sim.bar_exit(
                side,
                sl,
                tp,
                float(m1.open[k]),
                float(m1.high[k]),
                float(m1.low[k]),
                float(points) * spec.point,
                slip,
            )
            if hit is not None:
                price[row] = spec.normalize_price(hit[0])
                reason[row] = EXIT_SL if hit[1] is DealReason.SL else EXIT_TP
                break
    return replace(c, exit_price=price, exit_reason=reason), covered
