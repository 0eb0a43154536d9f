"""Which candidate entries really trade, in time order, and what each trade earns.

One pass over the signal bars (not over every bar). At the close of signal bar ``i``: a
position that a level or the end already closed is booked first; a same-side signal while a
position is open changes nothing; otherwise the account decides, exactly as live ``decide``
does: size by risk on the running equity (balance plus the open position marked at the close)
or take the fixed lots, then run the configured live gates with the state of the risk counters
(``record_entry``/``record_close``). An opposite position closes at the next open whether or not
the new entry passes. The entry then needs valid levels and, with ``check_margin``, the margin
the paper broker would ask. Money follows the paper broker: each deal's profit and commission
are rounded to cents (``round_money``) and the entry commission is paid at the fill.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from engine.backtest.candidates import EXIT_SIGNAL, Candidates
from engine.backtest.config import BacktestConfig
from engine.backtest.lots import LotRule
from engine.backtest.market import MarketArrays, ns_time
from engine.backtest.money import cents
from engine.calendar.unconfigured import UnconfiguredCalendar
from engine.models import Account, Side, SymbolSpec, Tick
from engine.risk import RiskContext, RiskState, record_close, record_entry

# Why a signal did not trade; gate refusals are "gate:<code>", sizing ones "size:<code>".
SKIP_SAME_SIDE = "same_side"  # a position on the same side was already open
SKIP_BAD_STOPS = "invalid_stops"  # no usable stop/target, or levels on the wrong side
SKIP_NO_MONEY = "no_money"  # not enough free margin at the fill
_CALENDAR = UnconfiguredCalendar()


@dataclass(slots=True)
class Ledger:
    """Taken trades as parallel lists (candidate row, lots, money) plus the final balance."""

    rows: list[int] = field(default_factory=list)
    volume: list[float] = field(default_factory=list)
    profit: list[float] = field(default_factory=list)
    fee_in: list[float] = field(default_factory=list)  # entry commission, paid at the fill
    fee_out: list[float] = field(default_factory=list)  # exit commission
    balance: float = 0.0
    skipped: Counter[str] = field(default_factory=Counter)


def exit_time_ns(m: MarketArrays, bar: int, reason: int) -> int:
    """When an exit happened: a signal exit at its bar's open, level and end exits at the bar's
    close (the moment the bar, and with it the touch, is known; the paper broker books bar
    exits then too)."""
    t = int(m.time_ns[bar])
    return t if reason == EXIT_SIGNAL else t + m.bar_ns


def take_trades(
    m: MarketArrays,
    c: Candidates,
    spec: SymbolSpec,
    config: BacktestConfig,
    sp: np.ndarray,
    check: Callable[[], None] | None = None,
) -> Ledger:
    """Decide every candidate in time order; ``check`` (optional) is called every 4096
    candidates and may raise (``JobCancelled``) to stop the run. Money is kept in cents."""
    costs, limits = config.costs, config.limits
    judge = _Gates(m, spec, config, sp) if config.gates else None
    rule = LotRule.of(spec, allow_min_lot=limits.allow_min_lot)
    per_lot, risk_pct, fixed = costs.commission_per_lot, limits.risk_pct, config.fixed_lots
    tick_size, tick_value, loss_value = spec.tick_size, spec.tick_value, spec.loss_tick_value
    margin = _MarginRule(spec, config) if config.check_margin else None
    need_equity = fixed is None or judge is not None
    ledger = Ledger(balance=config.initial_balance)
    skipped = ledger.skipped
    side_, sig_bar, tradable = c.side.tolist(), c.signal_bar.tolist(), c.tradable.tolist()
    entry_px, exit_bar = c.entry_price.tolist(), c.exit_bar.tolist()
    exit_px, sl_dist = c.exit_price.tolist(), c.sl_dist.tolist()
    close = m.close
    add_row, add_lots, add_fee = ledger.rows.append, ledger.volume.append, ledger.fee_in.append
    add_profit, add_fee_out = ledger.profit.append, ledger.fee_out.append
    fee_of: dict[float, int] = {}
    bal = cents(config.initial_balance)
    open_row, open_lots, open_side, open_fee = -1, 0.0, 0, 0

    def book_close() -> int:
        """The exit deal of the open position: profit and commission, in cents."""
        move = (exit_px[open_row] - entry_px[open_row]) * open_side
        profit = cents(move / tick_size * (tick_value if move >= 0 else loss_value) * open_lots)
        add_profit(profit / 100)
        add_fee_out(open_fee / 100)
        if judge is not None:
            net = (profit + 2 * open_fee) / 100
            judge.closed(net, exit_bar[open_row], int(c.exit_reason[open_row]))
        return profit + open_fee

    for row in range(len(side_)):
        if check is not None and not row & 4095:
            check()
        i = sig_bar[row]
        if open_row >= 0 and exit_bar[open_row] <= i:
            bal += book_close()
            open_row = -1
        side = side_[row]
        if open_row >= 0 and open_side == side:
            skipped[SKIP_SAME_SIDE] += 1
            continue
        reversing = open_row >= 0
        why = ""
        lots: float | None = fixed
        if not tradable[row]:
            why = SKIP_BAD_STOPS
        elif need_equity:
            equity = bal
            if reversing:
                bid = float(close[i])
                mark = bid if open_side > 0 else spec.normalize_price(bid + float(sp[i]))
                move = (mark - entry_px[open_row]) * open_side
                value = tick_value if move >= 0 else loss_value
                equity += cents(move / tick_size * value * open_lots)
            if fixed is None:
                lots, code = rule.lots(equity / 100 * risk_pct, sl_dist[row])
                if lots is None:
                    why = f"size:{code.value}"
            if judge is not None:
                stop = sl_dist[row]
                why = judge.check(i, side, bal / 100, equity / 100, reversing, lots, stop) or why
        if reversing:
            bal += book_close()
            open_row = -1
        if why:
            skipped[why] += 1
            continue
        assert lots is not None
        fee = fee_of.get(lots)
        if fee is None:
            fee = fee_of[lots] = cents(-per_lot * lots)
        if margin is not None and bal / 100 - margin.need(lots, entry_px[row]) + fee / 100 < 0:
            skipped[SKIP_NO_MONEY] += 1
            continue
        bal += fee
        add_row(row)
        add_lots(lots)
        add_fee(fee / 100)
        open_row, open_lots, open_side, open_fee = row, lots, side, fee
        if judge is not None:
            judge.entered(i)
    if open_row >= 0:
        bal += book_close()
    ledger.balance = bal / 100
    return ledger


class _MarginRule:
    """``sim.required_margin`` with the spec's constants read once."""

    def __init__(self, spec: SymbolSpec, config: BacktestConfig) -> None:
        self.by_price = not (spec.currency_margin == config.currency != spec.currency_profit)
        self.contract = spec.contract_size
        self.leverage = config.leverage
        self.rate = spec.margin_rate

    def need(self, lots: float, price: float) -> float:
        notional = self.contract * lots * price if self.by_price else self.contract * lots
        return notional / self.leverage * self.rate


class _Gates:
    """The configured live gates judged at a signal bar's close, with the risk counters."""

    def __init__(
        self, m: MarketArrays, spec: SymbolSpec, config: BacktestConfig, sp: np.ndarray
    ) -> None:
        self.m, self.spec, self.config, self.sp = m, spec, config, sp
        self.gates = config.gate_objects()
        self.state = RiskState()

    def _now(self, i: int) -> datetime:
        return ns_time(int(self.m.time_ns[i]) + self.m.bar_ns)

    def check(
        self,
        i: int,
        side: int,
        balance: float,
        equity: float,
        reversing: bool,
        lots: float | None,
        stop: float,
    ) -> str:
        """ "gate:<code>" of the first gate that blocks, else ""."""
        config, spec = self.config, self.spec
        now = self._now(i)
        bid = float(self.m.close[i])
        tick = Tick(spec.name, now, bid, spec.normalize_price(bid + float(self.sp[i])))
        account = Account(0, config.currency, balance, equity, 0.0, equity, config.leverage)
        ctx = RiskContext(
            now=now,
            zone=config.zone,
            symbol=spec.name,
            side=Side.BUY if side > 0 else Side.SELL,
            spec=spec,
            tick=tick,
            account=account,
            open_positions=int(reversing),
            state=self.state,
            limits=config.limits,
            calendar=_CALENDAR,
            volume=lots,
            stop_dist=stop,
        )
        for gate in self.gates:
            verdict = gate.check(ctx)
            if not verdict.allowed:
                return f"gate:{verdict.code.value}"
        return ""

    def entered(self, i: int) -> None:
        self.state = record_entry(self.state, self._now(i), self.config.zone)

    def closed(self, net: float, bar: int, reason: int) -> None:
        at = ns_time(exit_time_ns(self.m, bar, reason))
        self.state = record_close(self.state, net, at, self.config.zone)
