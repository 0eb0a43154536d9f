"""One backtest run, synchronous and CPU-bound: signals, trades, equity, metrics.

``run_backtest`` takes a bars frame (warm-up bars included) and the index where the tested
period starts; ``simulate`` does the same from arrays and precomputed signals (the optimiser
reuses one signal set for several windows). Both are pure functions of their inputs, safe to
run in a worker process. The conventions they follow are stated in ``engine.backtest``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.account import Ledger, take_trades
from engine.backtest.candidates import (
    EXIT_NAMES,
    EXIT_SIGNAL,
    Candidates,
    build_candidates,
    spread_prices,
)
from engine.backtest.config import BacktestConfig
from engine.backtest.equity import equity_curve, exposure_mask
from engine.backtest.intrabar import resolve_on_m1
from engine.backtest.market import DataLabels, MarketArrays, SignalArrays, ns_index
from engine.backtest.metrics import Metrics, compute_metrics
from engine.backtest.money import round_cents
from engine.errors import BadArguments
from engine.models import SymbolSpec, Timeframe
from engine.strategies.base import Strategy, StrategyParams

Check = Callable[[], None]
_REASON_NAMES = np.array(["", *(EXIT_NAMES[k] for k in sorted(EXIT_NAMES))], dtype=object)

TRADE_COLUMNS = (
    "entry_time",
    "exit_time",
    "side",
    "volume",
    "entry_price",
    "exit_price",
    "sl",
    "tp",
    "exit_reason",
    "profit",
    "commission",
    "net",
    "risk_money",
    "r_multiple",
    "bars_held",
)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What was run on what: enough to label every reply, file and chart honestly."""

    symbol: str
    timeframe: str
    strategy: str
    params: str  # "fast=20 slow=50 ..."
    sizing: str
    costs: str
    gates: tuple[str, ...]
    currency: str
    start: pd.Timestamp  # first tested bar's open
    end: pd.Timestamp  # last tested bar's close
    bars: int
    warmup_bars: int
    labels: DataLabels
    skipped: dict[str, int] = field(default_factory=dict)
    m1_resolved: int = 0
    ambiguous_exits: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """Trades table (``TRADE_COLUMNS``), equity (columns ``balance``, ``equity`` at each bar's
    close, first row the initial balance at the period's open), metrics and labels."""

    trades: pd.DataFrame
    equity: pd.DataFrame
    metrics: Metrics
    info: RunInfo


def check_lots(spec: SymbolSpec, lots: float | None) -> None:
    """BadArguments when fixed lots are off the symbol's volume grid."""
    if lots is not None and not spec.volume_ok(lots):
        msg = (
            f"lots {lots:g} for {spec.name} must lie in {spec.volume_min:g}..{spec.volume_max:g} "
            f"in steps of {spec.volume_step:g}"
        )
        raise BadArguments(msg, code="bad_lots", value=lots, min=spec.volume_min)


def simulate(
    m: MarketArrays,
    signals: SignalArrays,
    spec: SymbolSpec,
    config: BacktestConfig,
    *,
    lo: int,
    hi: int | None = None,
    meta: dict[str, Any] | None = None,
    m1: MarketArrays | None = None,
    check: Check | None = None,
) -> BacktestResult:
    """Trade bars [lo, hi) of ``m`` on ``signals`` (same length as ``m``)."""
    hi = len(m) if hi is None else hi
    if not 0 <= lo < hi <= len(m):
        msg = f"window [{lo}, {hi}) is not inside {len(m)} bars"
        raise ValueError(msg)
    check_lots(spec, config.fixed_lots)
    costs = config.costs
    sp = spread_prices(m, spec, costs)
    cands = build_candidates(m, signals, spec, costs, lo, hi)
    ambiguous = int(cands.ambiguous.sum())
    resolved = 0
    if m1 is not None:
        cands, resolved = resolve_on_m1(cands, m, m1, spec, costs)
    if check is not None:
        check()
    ledger = take_trades(m, cands, spec, config, sp, check)
    balance, equity = equity_curve(m, cands, ledger, spec, sp, config.initial_balance, lo, hi)
    rows = np.asarray(ledger.rows, dtype=np.int64)
    trades = _trades_frame(m, cands, ledger, rows, spec)
    stamps = np.concatenate((m.time_ns[lo : lo + 1], m.time_ns[lo:hi] + m.bar_ns))
    frame = pd.DataFrame(
        {
            "balance": np.concatenate(([config.initial_balance], balance)),
            "equity": np.concatenate(([config.initial_balance], equity)),
        },
        index=ns_index(stamps),
    )
    first = frame.index[0]
    exposed = exposure_mask(cands, rows, lo, hi)
    start, end = first, frame.index[-1]
    metrics = compute_metrics(
        trades,
        frame["equity"],
        initial=config.initial_balance,
        start=start.to_pydatetime(),
        end=end.to_pydatetime(),
        exposure_pct=float(exposed.mean() * 100) if exposed.size else 0.0,
    )
    meta = meta or {}
    info = RunInfo(
        symbol=meta.get("symbol", m.labels.symbol or spec.name),
        timeframe=meta.get("timeframe", m.labels.timeframe),
        strategy=meta.get("strategy", ""),
        params=meta.get("params", ""),
        sizing=config.sizing,
        costs=costs.describe(),
        gates=tuple(g.value for g in config.gates),
        currency=config.currency,
        start=start,
        end=end,
        bars=hi - lo,
        warmup_bars=lo,
        labels=m.labels,
        skipped=dict(sorted(ledger.skipped.items())),
        m1_resolved=resolved,
        ambiguous_exits=ambiguous,
    )
    return BacktestResult(trades, frame, metrics, info)


def _trades_frame(
    m: MarketArrays, c: Candidates, ledger: Ledger, rows: np.ndarray, spec: SymbolSpec
) -> pd.DataFrame:
    entry_bar = c.signal_bar[rows] + 1
    exit_bar = c.exit_bar[rows]
    reason = c.exit_reason[rows]
    exit_ns = m.time_ns[exit_bar] + np.where(reason == EXIT_SIGNAL, 0, m.bar_ns)
    profit = np.asarray(ledger.profit, dtype=np.float64)
    commission = round_cents(np.asarray(ledger.fee_in) + np.asarray(ledger.fee_out))
    net = round_cents(profit + commission)
    volume = np.asarray(ledger.volume, dtype=np.float64)
    distance = np.abs(c.entry_price[rows] - c.sl[rows])
    risk = round_cents(distance / spec.tick_size * spec.loss_tick_value * volume)
    r_multiple = np.divide(net, risk, out=np.full(net.shape, np.nan), where=risk > 0)
    return pd.DataFrame(
        {
            "entry_time": ns_index(m.time_ns[entry_bar], "entry_time"),
            "exit_time": ns_index(exit_ns, "exit_time"),
            "side": np.where(c.side[rows] > 0, "buy", "sell"),
            "volume": volume,
            "entry_price": c.entry_price[rows],
            "exit_price": c.exit_price[rows],
            "sl": c.sl[rows],
            "tp": c.tp[rows],
            "exit_reason": _REASON_NAMES[reason],
            "profit": profit,
            "commission": commission,
            "net": net,
            "risk_money": risk,
            "r_multiple": r_multiple,
            "bars_held": exit_bar - entry_bar + 1,
        },
        columns=list(TRADE_COLUMNS),
    )


def run_backtest(
    bars: pd.DataFrame,
    strategy: Strategy[Any],
    params: StrategyParams,
    spec: SymbolSpec,
    config: BacktestConfig,
    *,
    start_index: int = 0,
    timeframe: Timeframe | None = None,
    m1: pd.DataFrame | None = None,
    check: Check | None = None,
) -> BacktestResult:
    """Run ``strategy`` on ``bars``, trading from row ``start_index`` (earlier rows only warm
    the indicators up) to the last row. ``timeframe`` defaults to ``bars.attrs["timeframe"]``;
    ``m1`` (M1 bars of the same symbol) settles bars where SL and TP were both touched."""
    tf = timeframe or Timeframe.parse(str(bars.attrs.get("timeframe", "")))
    m = MarketArrays.from_frame(bars, tf, DataLabels.of(bars, spec.name, tf.value))
    signals = SignalArrays.from_frame(strategy.signals(bars, params))
    m1_arrays = None if m1 is None or m1.empty else MarketArrays.from_frame(m1, Timeframe.M1)
    meta = {"strategy": strategy.name, "params": params.as_tokens(), "timeframe": tf.value}
    return simulate(m, signals, spec, config, lo=start_index, meta=meta, m1=m1_arrays, check=check)
