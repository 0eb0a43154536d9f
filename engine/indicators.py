"""Vectorised technical indicators on bars DataFrames (see ``engine.ports`` for the convention).

Every function takes pandas Series/DataFrames and returns Series/DataFrames aligned to the
input index, float64, with NaN for the warm-up bars where the indicator is not yet defined.
Seeding follows TA-Lib: EMA starts with the simple mean of the first ``n`` values (first value
at position ``n - 1``); RSI and ATR use Wilder smoothing (``alpha = 1/n``) seeded with the simple
mean of the first ``n`` price changes / true ranges (first value at position ``n``). Every value
at position ``i`` depends on input positions ``<= i`` only, so a strategy sees no future bars.
Inputs may carry leading NaNs (an upstream indicator's warm-up); the seed then starts at the
first valid value. No Python loop runs over bars. The same functions serve a 1M-bar backtest
and the live loop's ~300-bar window, where pandas' fixed cost per operation dominates: so the
element-wise arithmetic runs on numpy arrays, pandas is called once per recursion
(``ewm(adjust=False)``) or rolling window (``rolling``, whose compensated running sums a
cumulative-sum shortcut would not reproduce bit for bit), and a pandas object is built only for
the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pandas.api.typing import Rolling

__all__ = [
    "atr",
    "bollinger",
    "donchian",
    "ema",
    "macd",
    "rsi",
    "sma",
    "true_range",
    "wilder",
]


def _check_period(n: int, name: str = "period") -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        msg = f"{name} must be a positive integer, got {n!r}"
        raise ValueError(msg)


def _floats(values: pd.Series) -> np.ndarray:
    """The values as a float64 array (no copy when they already are; treat as read-only)."""
    return values.to_numpy(dtype=np.float64, copy=False)


def _series(fresh: np.ndarray, index: pd.Index) -> pd.Series:
    """Wrap an array this module just computed (nobody else holds it), without a copy."""
    return pd.Series(fresh, index=index, copy=False)


def _rolling(values: pd.Series, n: int) -> Rolling:
    """A full-window rolling view of ``values`` as float64, keeping its index and name."""
    if values.dtype != np.float64:
        values = values.astype(np.float64)
    return values.rolling(n, min_periods=n)


def _seeded(x: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """``y[s] = mean(x[s-n+1 .. s])``, then ``y[t] = alpha*x[t] + (1-alpha)*y[t-1]``.

    ``s`` is the ``n``-th valid value; everything before it is NaN. The tail runs through
    ``ewm(adjust=False)``, whose first output equals its first input: putting the seed there
    gives exactly the TA-Lib recursion.
    """
    out = np.full(x.shape[0], np.nan)
    valid = ~np.isnan(x)
    if np.count_nonzero(valid) < n:
        return out
    first = int(valid.argmax())
    start = first + n - 1
    tail = x[start:].copy()
    tail[0] = x[first : start + 1].mean()
    smooth = pd.Series(tail, copy=False).ewm(alpha=alpha, adjust=False).mean()
    out[start:] = smooth.to_numpy()
    return out


def _rsi(close: np.ndarray, n: int) -> np.ndarray:
    change = np.diff(close, prepend=np.nan)
    # ``x < 0`` and ``x > 0`` are False on NaN, so the gaps stay NaN for the seed to skip.
    avg_gain = _seeded(np.where(change < 0.0, 0.0, change), n, 1.0 / n)
    avg_loss = _seeded(np.where(change > 0.0, 0.0, -change), n, 1.0 / n)
    total = avg_gain + avg_loss
    out = 100.0 * avg_gain / np.where(total > 0.0, total, np.nan)
    out[total == 0.0] = 50.0
    return out


def _true_range(bars: pd.DataFrame) -> np.ndarray:
    high = _floats(bars["high"])
    low = _floats(bars["low"])
    close = _floats(bars["close"])
    prev_close = np.concatenate(([np.nan], close[:-1]))
    # fmax skips the NaN gaps of the first bar, leaving high - low there.
    return np.fmax(high - low, np.fmax(np.abs(high - prev_close), np.abs(low - prev_close)))


def sma(values: pd.Series, n: int) -> pd.Series:
    """Simple moving average of the last ``n`` values; first value at position ``n - 1``."""
    _check_period(n)
    return _rolling(values, n).mean()


def ema(values: pd.Series, n: int) -> pd.Series:
    """Exponential moving average, ``alpha = 2/(n+1)``, seeded with the SMA of the first ``n``.

    TA-Lib's convention (and StockCharts'): the first value, at position ``n - 1``, is the
    simple mean of the first ``n`` values. pandas' plain ``ewm(span=n)`` would instead start
    from the first value and disagree with TA-Lib/MT5 for the first few dozen bars.
    """
    _check_period(n)
    return _series(_seeded(_floats(values), n, 2.0 / (n + 1)), values.index)


def wilder(values: pd.Series, n: int) -> pd.Series:
    """Wilder's smoothing (``alpha = 1/n``) seeded with the simple mean of the first ``n`` values.

    The first value is at the ``n``-th valid input (position ``n - 1`` without leading NaNs).
    """
    _check_period(n)
    return _series(_seeded(_floats(values), n, 1.0 / n), values.index)


def rsi(close: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's Relative Strength Index in 0..100; first value at position ``n``.

    Average gain and loss are seeded with the simple mean of the first ``n`` changes (TA-Lib,
    Wilder 1978), then Wilder-smoothed. RSI = 100 * avg_gain / (avg_gain + avg_loss), which
    is 100 when there are no losses; a perfectly flat window gives 50 (TA-Lib gives 0 there;
    neutral is the honest reading and keeps "RSI < 30" filters from firing on a dead market).
    """
    _check_period(n)
    return _series(_rsi(_floats(close), n), close.index)


def true_range(bars: pd.DataFrame) -> pd.Series:
    """True range per bar, price units: max(high-low, |high-prev close|, |low-prev close|).

    The first bar has no previous close, so its true range is ``high - low``.
    """
    return _series(_true_range(bars), bars.index)


def atr(bars: pd.DataFrame, n: int = 14) -> pd.Series:
    """Wilder's Average True Range in price units; first value at position ``n``.

    As TA-Lib: the seed is the mean of the true ranges of bars ``1..n`` (those with a previous
    close; bar 0's plain high-low range is left out), then Wilder smoothing.
    """
    _check_period(n)
    tr = _true_range(bars)
    tr[:1] = np.nan
    return _series(_seeded(tr, n, 1.0 / n), bars.index)


def bollinger(close: pd.Series, n: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Bollinger Bands: columns ``mid`` (SMA n), ``upper``/``lower`` = mid ± k * stdev.

    The standard deviation is the population one (ddof=0), as Bollinger, StockCharts and
    TA-Lib define it; pandas' default sample deviation would put the bands ~2.6% too wide
    for n=20. First value at position ``n - 1``.
    """
    _check_period(n)
    window = _rolling(close, n)
    mid = window.mean().to_numpy()
    width = k * window.std(ddof=0).to_numpy()
    return pd.DataFrame(
        {"mid": mid, "upper": mid + width, "lower": mid - width}, index=close.index
    )


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD columns: ``macd`` = EMA(fast) - EMA(slow), ``signal`` = EMA(macd), ``histogram``.

    Each EMA is SMA-seeded as in :func:`ema`. As in TA-Lib, the fast EMA is seeded on the same
    bar as the slow one (from the ``fast`` values ending there), so ``macd`` starts at position
    ``slow - 1``, ``signal``/``histogram`` at ``slow + signal - 2``, all three equal to TA-Lib's.
    """
    _check_period(fast, "fast")
    _check_period(slow, "slow")
    _check_period(signal, "signal")
    if fast >= slow:
        msg = f"MACD fast period must be below slow, got fast={fast} slow={slow}"
        raise ValueError(msg)
    x = _floats(close)
    valid = np.flatnonzero(~np.isnan(x))
    first = int(valid[0]) if valid.size else 0
    late = np.where(np.arange(x.shape[0]) >= first + slow - fast, x, np.nan)
    line = _seeded(late, fast, 2.0 / (fast + 1)) - _seeded(x, slow, 2.0 / (slow + 1))
    sig = _seeded(line, signal, 2.0 / (signal + 1))
    return pd.DataFrame({"macd": line, "signal": sig, "histogram": line - sig}, index=close.index)


def donchian(bars: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """Donchian channel over the last ``n`` bars including the current one.

    Columns ``upper`` (highest high), ``lower`` (lowest low) and ``mid``; first value at
    position ``n - 1``. A breakout rule compares a close with the channel shifted by one bar.
    """
    _check_period(n)
    upper = _rolling(bars["high"], n).max().to_numpy()
    lower = _rolling(bars["low"], n).min().to_numpy()
    return pd.DataFrame(
        {"upper": upper, "lower": lower, "mid": (upper + lower) / 2.0},
        index=bars.index,
    )
