"""A plain bar-by-bar backtest loop, written from the rules and not from the fast engine.

It walks every bar in order and uses only the textbook pieces the live system uses: the paper
broker's fill model (``sim.entry_price``, ``sim.exit_price``, ``sim.bar_exit``, ``sim.profit``,
``sim.commission``, ``sim.round_money``, ``sim.stops_refusal``, ``sim.margin_refusal``), the live
decision path (``engine.decide.decide`` for sizing and gates, ``levels`` for SL/TP) and the risk
counters (``record_entry``/``record_close``). Slow and obvious on purpose: the fast engine must
produce the identical trade list.

At each bar: (1) at its open, the order decided at the previous close executes (an opposite
position closes first, at the market); (2) the open position is judged over the bar's range
(M1 bars settle a bar touching both levels); (3) at its close, equity is marked and a signal is
decided for the next open.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from engine.backtest.config import BacktestConfig
from engine.brokers import sim
from engine.calendar import UnconfiguredCalendar
from engine.decide import Action, Signal, decide, levels
from engine.models import Account, DealReason, Side, SymbolSpec, Tick
from engine.risk import RiskState, record_close, record_entry


@dataclass
class Position:
    side: Side
    volume: float
    entry: float
    sl: float
    tp: float
    fee_in: float
    entry_time: datetime


@dataclass
class Order:
    side: Side
    sl_dist: float
    tp_dist: float
    volume: float | None  # None: decided not to enter
    decided_at: datetime


def _t(ts: pd.Timestamp) -> datetime:
    return ts.to_pydatetime()


def reference_backtest(
    bars: pd.DataFrame,
    side: np.ndarray,
    sl_dist: np.ndarray,
    tp_dist: np.ndarray,
    spec: SymbolSpec,
    config: BacktestConfig,
    *,
    start: int = 0,
    bar_minutes: int,
    m1: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[float]]:
    """(trades, equity at each bar's close) trading bars[start:] on the given signals."""
    costs = config.costs
    point = spec.point
    slip = costs.slippage_points * point
    bar_len = pd.Timedelta(minutes=bar_minutes)
    gates = config.gate_objects()
    calendar = UnconfiguredCalendar()
    balance = config.initial_balance
    state = RiskState()
    pos: Position | None = None
    order: Order | None = None
    trades: list[dict[str, object]] = []
    equity: list[float] = []
    times = bars.index
    o, h, lo, c = (bars[k].to_numpy(float) for k in ("open", "high", "low", "close"))
    points = bars["spread"].to_numpy(float)

    def spread(k: int) -> float:
        return (points[k] if costs.spread_points is None else costs.spread_points) * point

    def close_position(price: float, reason: str, at: datetime) -> None:
        nonlocal balance, pos, state
        assert pos is not None
        price = spec.normalize_price(price)
        profit = sim.round_money(sim.profit(spec, pos.side, pos.volume, pos.entry, price))
        fee = sim.round_money(sim.commission(pos.volume, costs.commission_per_lot))
        balance = sim.round_money(balance + (profit + fee))
        net = sim.round_money(profit + fee + pos.fee_in)
        trades.append(
            {
                "entry_time": pos.entry_time,
                "exit_time": at,
                "side": pos.side.value,
                "volume": pos.volume,
                "entry_price": pos.entry,
                "exit_price": price,
                "sl": pos.sl,
                "tp": pos.tp,
                "exit_reason": reason,
                "profit": profit,
                "commission": sim.round_money(fee + pos.fee_in),
                "net": net,
            }
        )
        state = record_close(state, net, at, config.zone)
        pos = None

    def mark(k: int) -> float:
        if pos is None:
            return balance
        ask = spec.normalize_price(c[k] + spread(k))
        price = sim.exit_price(pos.side, c[k], ask)
        floating = sim.round_money(sim.profit(spec, pos.side, pos.volume, pos.entry, price))
        return sim.round_money(balance + floating)

    for k in range(start, len(bars)):
        opened = _t(times[k])
        # (1) the open: execute what the previous close decided
        if order is not None:
            ask = spec.normalize_price(o[k] + spread(k))
            if pos is not None and pos.side is not order.side:
                close_position(sim.exit_price(pos.side, o[k], ask, slip), "signal", opened)
            if order.volume is not None and pos is None:
                entered = _enter(order, o[k], ask, slip, spec, config, balance, opened)
                if entered is not None:
                    pos = entered
                    balance = sim.round_money(balance + pos.fee_in)
                    state = record_entry(state, order.decided_at, config.zone)
            order = None
        # (2) the bar's range
        if pos is not None:
            hit = _judge(
                pos, o[k], h[k], lo[k], spread(k), slip, times[k], bar_len, m1, spec, costs
            )
            if hit is not None:
                close_position(hit[0], hit[1], _t(times[k] + bar_len))
        # (3) the close
        equity.append(mark(k))
        if k < len(bars) - 1 and side[k] != 0:
            s = Side.BUY if side[k] > 0 else Side.SELL
            if pos is not None and pos.side is s:
                continue
            now = _t(times[k] + bar_len)
            order = Order(s, float(sl_dist[k]), float(tp_dist[k]), None, now)
            usable = all(math.isfinite(d) and d > 0 for d in (order.sl_dist, order.tp_dist))
            if not usable:
                order.volume = None
                continue
            eq = mark(k)
            ask = spec.normalize_price(c[k] + spread(k))
            account = Account(1, config.currency, balance, eq, 0.0, eq, config.leverage)
            decision = decide(
                Signal(s, order.sl_dist, order.tp_dist, "reference"),
                now=now,
                zone=config.zone,
                symbol=spec.name,
                spec=spec,
                tick=Tick(spec.name, now, float(c[k]), ask),
                account=account,
                open_positions=0 if pos is None else 1,
                state=state,
                limits=config.limits,
                gates=gates,
                calendar=calendar,
                volume=config.fixed_lots,
            )
            order.volume = decision.volume if decision.action is Action.ORDER else None
    if pos is not None:
        last = len(bars) - 1
        ask = spec.normalize_price(c[last] + spread(last))
        close_position(
            sim.exit_price(pos.side, c[last], ask, slip), "end", _t(times[last] + bar_len)
        )
        equity[-1] = balance
    return pd.DataFrame(trades), equity


def _enter(
    order: Order,
    bid: float,
    ask: float,
    slip: float,
    spec: SymbolSpec,
    config: BacktestConfig,
    balance: float,
    at: datetime,
) -> Position | None:
    """The paper broker's checks at the fill: valid stops, enough free margin."""
    assert order.volume is not None
    fill = spec.normalize_price(sim.entry_price(order.side, bid, ask, slip))
    sl, tp = levels(Signal(order.side, order.sl_dist, order.tp_dist, ""), fill, spec)
    if sim.stops_refusal(spec, order.side, bid, ask, sl, tp) is not None:
        return None
    fee = sim.round_money(sim.commission(order.volume, config.costs.commission_per_lot))
    if config.check_margin:
        refused = sim.margin_refusal(
            spec, order.volume, fill, config.leverage, balance, fee, config.currency
        )
        if refused is not None:
            return None
    return Position(order.side, order.volume, fill, sl, tp, fee, at)


def _judge(
    pos: Position,
    o: float,
    h: float,
    lo: float,
    spread: float,
    slip: float,
    opened: pd.Timestamp,
    bar_len: pd.Timedelta,
    m1: pd.DataFrame | None,
    spec: SymbolSpec,
    costs: object,
) -> tuple[float, str] | None:
    hit = sim.bar_exit(pos.side, pos.sl, pos.tp, o, h, lo, spread, slip)
    if hit is None:
        return None
    both = _touches_both(pos, o, h, lo, spread)
    if both and m1 is not None:
        inside = m1[(m1.index >= opened) & (m1.index < opened + bar_len)]
        for _, row in inside.iterrows():
            points = row["spread"] if costs.spread_points is None else costs.spread_points  # type: ignore[attr-defined]
            sub = sim.bar_exit(
                pos.side, pos.sl, pos.tp, row["open"], row["high"], row["low"],
                float(points) * spec.point, slip,
            )  # fmt: skip
            if sub is not None:
                return sub[0], "sl" if sub[1] is DealReason.SL else "tp"
    return hit[0], "sl" if hit[1] is DealReason.SL else "tp"


def _touches_both(pos: Position, o: float, h: float, lo: float, spread: float) -> bool:
    """Both levels inside the bar's range and the open through neither (no gap)."""
    eps = sim.LEVEL_EPS
    if pos.side is Side.BUY:
        return o > pos.sl + eps and o < pos.tp - eps and lo <= pos.sl + eps and h >= pos.tp - eps
    a_o, a_h, a_l = o + spread, h + spread, lo + spread
    return (
        a_o < pos.sl - eps and a_o > pos.tp + eps and a_h >= pos.sl - eps and a_l <= pos.tp + eps
    )
