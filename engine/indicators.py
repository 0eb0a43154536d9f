"""Vectorised technical indicators on bars DataFrames (see ``engine.ports`` for the convention).

Every function takes pandas Series/DataFrames and returns Series/DataFrames aligned to the
input index, float64, with NaN for the warm-up bars where the indicator is not yet defined.
Seeding follows TA-Lib: EMA starts with the simple mean of the first ``n`` values (first value
at position ``n - 1``); RSI and ATR use Wilder smoothing (``alpha = 1/n``) seeded with the simple
mean of the first ``n`` price changes / true ranges (first value at position ``n``). Every value
at position ``i`` depends on input positions ``<= i`` only, so a strategy sees no future bars.
Inputs may carry leading NaNs (an upstream indicator's warm-up); the seed then starts at the
first valid value. No Python loop runs over bars: the recursions use ``ewm(adjust=False)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def _seeded_recursion(values: pd.Series, n: int, alpha: float) -> pd.Series:
    """``y[s] = mean(x[s-n+1 .. s])``, then ``y[t] = alpha*x[t] + (1-alpha)*y[t-1]``.

    ``s`` is the ``n``-th valid value; everything before it is NaN. The tail runs through
    ``ewm(adjust=False)``, whose first output equals its first input: putting the seed there
    gives exactly the TA-Lib recursion.
    """
    x = values.to_numpy(dtype=np.float64, copy=False)
    out = np.full(x.shape[0], np.nan)
    valid = np.flatnonzero(~np.isnan(x))
    if valid.size < n:
        return pd.Series(out, index=values.index)
    first = int(valid[0])
    start = first + n - 1
    tail = x[start:].copy()
    tail[0] = x[first : start + 1].mean()
    out[start:] = pd.Series(tail).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return pd.Series(out, index=values.index)


def sma(values: pd.Series, n: int) -> pd.Series:
    """Simple moving average of the last ``n`` values; first value at position ``n - 1``."""
    _check_period(n)
    return values.astype(np.float64).rolling(n, min_periods=n).mean()


def ema(values: pd.Series, n: int) -> pd.Series:
    """Exponential moving average, ``alpha = 2/(n+1)``, seeded with the SMA of the first ``n``.

    TA-Lib's convention (and StockCharts'): the first value, at position ``n - 1``, is the
    simple mean of the first ``n`` values. pandas' plain ``ewm(span=n)`` would instead start
    from the first value and disagree with TA-Lib/MT5 for the first few dozen bars.
    """
    _check_period(n)
    return _seeded_recursion(values, n, 2.0 / (n + 1))


def wilder(values: pd.Series, n: int) -> pd.Series:
    """Wilder's smoothing (``alpha = 1/n``) seeded with the simple mean of the first ``n`` values.

    The first value is at the ``n``-th valid input (position ``n - 1`` without leading NaNs).
    """
    _check_period(n)
    return _seeded_recursion(values, n, 1.0 / n)


def rsi(close: pd.Series, n: int = 14) -> pd.Series:
    """Wilder's Relative Strength Index in 0..100; first value at position ``n``.

    Average gain and loss are seeded with the simple mean of the first ``n`` changes (TA-Lib,
    Wilder 1978), then Wilder-smoothed. RSI = 100 * avg_gain / (avg_gain + avg_loss), which
    is 100 when there are no losses; a perfectly flat window gives 50 (TA-Lib gives 0 there;
    neutral is the honest reading and keeps "RSI < 30" filters from firing on a dead market).
    """
    _check_period(n)
    change = close.astype(np.float64).diff()
    avg_gain = wilder(change.clip(lower=0.0), n)
    avg_loss = wilder((-change).clip(lower=0.0), n)
    total = avg_gain + avg_loss
    out = 100.0 * avg_gain / total.where(total > 0.0)
    return out.where(~(total == 0.0), 50.0)


def true_range(bars: pd.DataFrame) -> pd.Series:
    """True range per bar, price units: max(high-low, |high-prev close|, |low-prev close|).

    The first bar has no previous close, so its true range is ``high - low``.
    """
    high = bars["high"].to_numpy(dtype=np.float64)
    low = bars["low"].to_numpy(dtype=np.float64)
    close = bars["close"].to_numpy(dtype=np.float64)
    prev_close = np.concatenate(([np.nan], close[:-1]))
    # fmax skips the NaN gaps of the first bar, leaving high - low there.
    tr = np.fmax(high - low, np.fmax(np.abs(high - prev_close), np.abs(low - prev_close)))
    return pd.Series(tr, index=bars.index)


def atr(bars: pd.DataFrame, n: int = 14) -> pd.Series:
    """Wilder's Average True Range in price units; first value at position ``n``.

    As TA-Lib: the seed is the mean of the true ranges of bars ``1..n`` (those with a previous
    close; bar 0's plain high-low range is left out), then Wilder smoothing.
    """
    _check_period(n)
    tr = true_range(bars)
    tr.iloc[:1] = np.nan
    return wilder(tr, n)


def bollinger(close: pd.Series, n: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Bollinger Bands: columns ``mid`` (SMA n), ``upper``/``lower`` = mid ± k * stdev.

    The standard deviation is the population one (ddof=0), as Bollinger, StockCharts and
    TA-Lib define it; pandas' default sample deviation would put the bands ~2.6% too wide
    for n=20. First value at position ``n - 1``.
    """
    _check_period(n)
    values = close.astype(np.float64)
    mid = values.rolling(n, min_periods=n).mean()
    dev = values.rolling(n, min_periods=n).std(ddof=0)
    return pd.DataFrame({"mid": mid, "upper": mid + k * dev, "lower": mid - k * dev})


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
    values = close.astype(np.float64)
    valid = np.flatnonzero(values.notna().to_numpy())
    first = int(valid[0]) if valid.size else 0
    late = values.where(np.arange(len(values)) >= first + slow - fast)
    line = ema(late, fast) - ema(values, slow)
    sig = ema(line, signal)
    return pd.DataFrame({"macd": line, "signal": sig, "histogram": line - sig})


def donchian(bars: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """Donchian channel over the last ``n`` bars including the current one.

    Columns ``upper`` (highest high), ``lower`` (lowest low) and ``mid``; first value at
    position ``n - 1``. A breakout rule compares a close with the channel shifted by one bar.
    """
    _check_period(n)
    upper = bars["high"].astype(np.float64).rolling(n, min_periods=n).max()
    lower = bars["low"].astype(np.float64).rolling(n, min_periods=n).min()
    return pd.DataFrame({"upper": upper, "lower": lower, "mid": (upper + lower) / 2.0})
