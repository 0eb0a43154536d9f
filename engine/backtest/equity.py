"""Bar-by-bar mark-to-market equity of a finished run, and the bars a position was exposed to.

Equity at the close of bar k is the balance after every deal up to that moment (an entry's
commission at its fill, a close's profit and commission when it happens) plus the open
position marked at that close: a long at the bid, a short at the ask (bid + spread, on the tick
grid), without slippage, its profit rounded to cents, as the paper broker marks positions. A
position that closes inside bar k (level, signal at its open, or the last close) adds nothing
floating at k: its result is in the balance.
"""

from __future__ import annotations

import numpy as np

from engine.backtest.account import Ledger
from engine.backtest.candidates import EXIT_SIGNAL, Candidates, normalize
from engine.backtest.market import MarketArrays
from engine.backtest.money import round_cents
from engine.models import SymbolSpec


def exposure_mask(c: Candidates, rows: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Bars of [lo, hi) whose range an open position lived through (entry bar included; a
    signal exit at a bar's open is not exposed to that bar)."""
    mask = np.zeros(hi - lo, dtype=bool)
    if rows.size == 0:
        return mask
    start = c.signal_bar[rows] + 1
    stop = c.exit_bar[rows] + np.where(c.exit_reason[rows] == EXIT_SIGNAL, 0, 1)
    delta = np.zeros(hi - lo + 1, dtype=np.int64)
    np.add.at(delta, start - lo, 1)
    np.add.at(delta, stop - lo, -1)
    return np.cumsum(delta[:-1]) > 0


def equity_curve(
    m: MarketArrays,
    c: Candidates,
    ledger: Ledger,
    spec: SymbolSpec,
    sp: np.ndarray,
    initial: float,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(balance, equity) at the close of every bar in [lo, hi), account money."""
    size = hi - lo
    rows = np.asarray(ledger.rows, dtype=np.int64)
    delta = np.zeros(size, dtype=np.float64)
    if rows.size:
        fee_in, fee_out = np.asarray(ledger.fee_in), np.asarray(ledger.fee_out)
        entry_bar = c.signal_bar[rows] + 1
        exit_bar = c.exit_bar[rows]
        np.add.at(delta, entry_bar - lo, fee_in)
        np.add.at(delta, exit_bar - lo, np.asarray(ledger.profit) + fee_out)
    balance = round_cents(initial + np.cumsum(delta))
    floating = np.zeros(size, dtype=np.float64)
    if rows.size:
        entry_bar = c.signal_bar[rows] + 1
        length = c.exit_bar[rows] - entry_bar  # bars open at their close
        bars = np.repeat(entry_bar, length) + _ramp(length)
        trade = np.repeat(np.arange(rows.size), length)
        side = c.side[rows][trade]
        bid = m.close[bars]
        ask = normalize(bid + sp[bars], spec)
        entry = c.entry_price[rows][trade]
        move = np.where(side > 0, bid - entry, entry - ask)
        value = np.where(move >= 0, spec.tick_value, spec.loss_tick_value)
        pnl = round_cents(move / spec.tick_size * value * np.asarray(ledger.volume)[trade])
        floating[bars - lo] = pnl
    return balance, round_cents(balance + floating)


def _ramp(length: np.ndarray) -> np.ndarray:
    """0, 1, ..., length[0]-1, 0, 1, ..., length[1]-1, ... (concatenated aranges)."""
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.cumsum(length) - length
    return np.arange(total, dtype=np.int64) - np.repeat(starts, length)
