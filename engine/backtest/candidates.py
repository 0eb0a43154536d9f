"""Every entry a signal could make, with its fill, levels and exit, computed for all at once.

When and where a position leaves does not depend on its size or on the account: only on the
bars, its side, its fill and its levels. So each signal bar ``i`` (inside the trading window)
gets a *candidate* trade: filled at bar ``i + 1``'s open, levels from that fill and the signal
bar's distances, exited at the first bar whose range touches a level (``engine.brokers.sim``
rules, vectorised here), else at the open after the first opposite signal, else at the last
close. Which candidates really trade (flat or opposite position, gates, sizing, margin) is
decided afterwards, in time order, by :mod:`engine.backtest.account`.

The exit search scans every candidate's bars in rounds of doubling width (8, 16, 32 ... bars)
with numpy gathers, so its cost is about twice the bars positions live in, not bars x trades.
Prices are normalised to the tick grid exactly as ``SymbolSpec.normalize_price`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.backtest.config import Costs
from engine.backtest.market import MarketArrays, SignalArrays
from engine.brokers.sim import LEVEL_EPS
from engine.models import SymbolSpec

# Exit reasons, as small ints in arrays; names in ``EXIT_NAMES``.
EXIT_SL, EXIT_TP, EXIT_SIGNAL, EXIT_END = 1, 2, 3, 4
EXIT_NAMES = {EXIT_SL: "sl", EXIT_TP: "tp", EXIT_SIGNAL: "signal", EXIT_END: "end"}
_NONE = np.iinfo(np.int64).max
_FIRST_WIDTH = 8


def normalize(prices: np.ndarray, spec: SymbolSpec) -> np.ndarray:
    """``SymbolSpec.normalize_price`` on an array: round to ticks, then to ``digits``."""
    return np.round(np.round(prices / spec.tick_size) * spec.tick_size, spec.digits)


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Column arrays, one row per signal bar in the window, in time order."""

    signal_bar: np.ndarray  # int64, the bar whose close decided
    side: np.ndarray  # int8, +1 buy / -1 sell
    entry_price: np.ndarray  # fill at the next open, normalised
    sl: np.ndarray
    tp: np.ndarray
    sl_dist: np.ndarray  # the signal bar's stop distance (sizing reads it)
    tradable: np.ndarray  # bool: stop/target distances usable and levels valid at the fill
    exit_bar: np.ndarray  # int64
    exit_price: np.ndarray
    exit_reason: np.ndarray  # int8, EXIT_*
    ambiguous: np.ndarray  # bool: SL and TP both touched inside the exit bar, SL taken

    def __len__(self) -> int:
        return int(self.signal_bar.shape[0])


def spread_prices(m: MarketArrays, spec: SymbolSpec, costs: Costs) -> np.ndarray:
    """Spread of every bar in price units (points x point), fixed or from the data."""
    if costs.spread_points is not None:
        return np.full(len(m), costs.spread_points * spec.point)
    return m.spread * spec.point


def next_signal(side: np.ndarray, want: int, lo: int, last: int) -> np.ndarray:
    """For every bar k, the first bar j >= k in [lo, last] whose signal is ``want`` (else a
    huge sentinel); bars after ``last`` cannot act (no next open)."""
    n = side.shape[0]
    idx = np.arange(n, dtype=np.int64)
    marks = np.where((side == want) & (idx >= lo) & (idx <= last), idx, _NONE)
    return np.minimum.accumulate(marks[::-1])[::-1]


def first_touch(
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray,
    stop: np.ndarray,
    below: np.ndarray,
    above: np.ndarray,
) -> np.ndarray:
    """First bar k in [start, stop] with ``low[k] <= below`` or ``high[k] >= above``, per row;
    -1 where none. Comparisons with NaN thresholds never hit."""
    out = np.full(start.shape[0], -1, dtype=np.int64)
    pending = np.flatnonzero(stop >= start)
    offset, width, last = 0, _FIRST_WIDTH, low.shape[0] - 1
    while pending.size:
        first = start[pending] + offset
        idx = first[:, None] + np.arange(width, dtype=np.int64)
        inside = idx <= stop[pending][:, None]
        np.minimum(idx, last, out=idx)
        hit = (low[idx] <= below[pending][:, None]) | (high[idx] >= above[pending][:, None])
        hit &= inside
        found = hit.any(axis=1)
        out[pending[found]] = first[found] + hit[found].argmax(axis=1)
        done = found | (first + width > stop[pending])
        pending = pending[~done]
        offset += width
        width *= 2
    return out


def build_candidates(
    m: MarketArrays,
    s: SignalArrays,
    spec: SymbolSpec,
    costs: Costs,
    lo: int,
    hi: int,
) -> Candidates:
    """Candidates for signals on bars [lo, hi - 2] of a window of bars [lo, hi)."""
    sp = spread_prices(m, spec, costs)
    slip = costs.slippage_points * spec.point
    last_signal = hi - 2
    bars = np.flatnonzero(s.side[lo : max(last_signal + 1, lo)]) + lo
    side = s.side[bars].astype(np.int8)
    sign = side.astype(np.float64)
    entry = bars + 1
    buy = side > 0
    bid_open = m.open[entry]
    ask_open = normalize(bid_open + sp[entry], spec)
    fill = normalize(np.where(buy, ask_open + slip, bid_open - slip), spec)
    sl_dist, tp_dist = s.sl_dist[bars], s.tp_dist[bars]
    usable = np.isfinite(sl_dist) & np.isfinite(tp_dist) & (sl_dist > 0) & (tp_dist > 0)
    sl = normalize(fill - sign * sl_dist, spec)
    tp = normalize(fill + sign * tp_dist, spec)
    tradable = usable & _levels_valid(buy, sl, tp, bid_open, ask_open, spec)

    nxt_buy = next_signal(s.side, 1, lo, last_signal)
    nxt_sell = next_signal(s.side, -1, lo, last_signal)
    opposite = np.where(buy, nxt_sell[entry], nxt_buy[entry])
    stop = np.minimum(opposite, hi - 1)
    # Longs are judged on bid lows/highs, shorts on ask (bid + spread): one search per side.
    below = np.where(buy, sl + LEVEL_EPS, tp + LEVEL_EPS)
    above = np.where(buy, tp - LEVEL_EPS, sl - LEVEL_EPS)
    hit = np.full(bars.shape[0], -1, dtype=np.int64)
    ask_low, ask_high = m.low + sp, m.high + sp
    for mask, lows, highs in ((buy, m.low, m.high), (~buy, ask_low, ask_high)):
        rows = np.flatnonzero(mask & tradable)
        hit[rows] = first_touch(lows, highs, entry[rows], stop[rows], below[rows], above[rows])

    exit_bar, exit_price, reason, ambiguous = _exits(
        m, sp, slip, spec, buy, sl, tp, hit, opposite, hi
    )
    return Candidates(
        signal_bar=bars.astype(np.int64),
        side=side,
        entry_price=fill,
        sl=sl,
        tp=tp,
        sl_dist=sl_dist,
        tradable=tradable,
        exit_bar=exit_bar,
        exit_price=exit_price,
        exit_reason=reason,
        ambiguous=ambiguous,
    )


def _levels_valid(
    buy: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    spec: SymbolSpec,
) -> np.ndarray:
    """``sim.stops_refusal`` as a mask: each level beyond the closing price (bid for longs,
    ask for shorts) by more than zero and by at least ``stops_level`` points, and positive."""
    gap = spec.stops_level * spec.point
    ref = np.where(buy, bid, ask)
    sl_room = np.where(buy, ref - sl, sl - ref)
    tp_room = np.where(buy, tp - ref, ref - tp)
    ok = (sl > 0) & (tp > 0)
    for room in (sl_room, tp_room):
        ok &= (room > LEVEL_EPS) & (room >= gap - LEVEL_EPS)
    return ok


def _exits(
    m: MarketArrays,
    sp: np.ndarray,
    slip: float,
    spec: SymbolSpec,
    buy: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    hit: np.ndarray,
    opposite: np.ndarray,
    hi: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exit bar, price, reason and the ambiguity flag of every candidate."""
    count = hit.shape[0]
    exit_bar = np.where(hit >= 0, hit, np.where(opposite < _NONE, opposite + 1, hi - 1))
    k = np.minimum(exit_bar, len(m) - 1)
    price = np.zeros(count)
    reason = np.full(count, EXIT_END, dtype=np.int8)
    ambiguous = np.zeros(count, dtype=bool)

    by_level = hit >= 0
    o, h, lo_, spk = m.open[k], m.high[k], m.low[k], sp[k]
    long_ = by_level & buy
    short = by_level & ~buy
    # sim.bar_exit for longs (bid prices): gap SL, gap TP, SL touched, TP touched.
    gap_sl = o <= sl + LEVEL_EPS
    gap_tp = o >= tp - LEVEL_EPS
    sl_hit = lo_ <= sl + LEVEL_EPS
    tp_hit = h >= tp - LEVEL_EPS
    long_price = np.select(
        [gap_sl, gap_tp, sl_hit, tp_hit], [o - slip, o, sl - slip, tp], default=np.nan
    )
    long_reason = np.select([gap_sl, gap_tp, sl_hit], [EXIT_SL, EXIT_TP, EXIT_SL], EXIT_TP)
    long_both = ~gap_sl & ~gap_tp & sl_hit & tp_hit
    # ... and for shorts on ask prices (bid + spread).
    ask_o = o + spk
    s_gap_sl = ask_o >= sl - LEVEL_EPS
    s_gap_tp = ask_o <= tp + LEVEL_EPS
    s_sl_hit = h + spk >= sl - LEVEL_EPS
    s_tp_hit = lo_ + spk <= tp + LEVEL_EPS
    short_price = np.select(
        [s_gap_sl, s_gap_tp, s_sl_hit, s_tp_hit],
        [ask_o + slip, ask_o, sl + slip, tp],
        default=np.nan,
    )
    short_reason = np.select([s_gap_sl, s_gap_tp, s_sl_hit], [EXIT_SL, EXIT_TP, EXIT_SL], EXIT_TP)
    short_both = ~s_gap_sl & ~s_gap_tp & s_sl_hit & s_tp_hit
    price = np.where(long_, long_price, np.where(short, short_price, price))
    reason = np.where(long_, long_reason, np.where(short, short_reason, reason)).astype(np.int8)
    ambiguous = (long_ & long_both) | (short & short_both)

    # Market closes: at the open after an opposite signal, or at the last close.
    market = ~by_level
    at_open = market & (opposite < _NONE)
    bid = np.where(at_open, o, m.close[k])
    ask = normalize(bid + spk, spec)
    market_price = np.where(buy, bid - slip, ask + slip)
    price = np.where(market, market_price, price)
    reason = np.where(at_open, EXIT_SIGNAL, reason).astype(np.int8)
    return exit_bar.astype(np.int64), normalize(price, spec), reason, ambiguous
