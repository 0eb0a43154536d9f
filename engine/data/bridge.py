"""Simulated XAUUSD M15 bars: a seeded Brownian bridge through real daily gold closes.

No real intraday gold bars can be had offline, so the bundled M15 sample is built from the real
daily closes of the last two years in ``gold_price_data.csv``. Each trading day D runs from 22:00
UTC on D-1 to 21:00 on D (92 M15 bars, gold's hours in ``engine.data.sessions``); its one-minute
sub-path starts at the previous close, opens after a small reopen gap (bigger after a weekend or a
holiday) and ends exactly on D's real close, which becomes the close of D's 20:45 bar. Between
closes the path is a Brownian bridge in "activity time": each minute's variance follows the
session rhythm (quiet Asia, busier London, busiest London/NY overlap) and the day's variance is
0.5 x the EWMA (lambda 0.94) of real squared daily log returns up to D-1 plus 0.5 x D's own
squared return (floor 0.3% a day), so calm and wild periods look calm and wild. Bars take OHLC
from the 15 minutes inside them, so high and low always contain open and close.

The file fills holidays with the previous value. Christmas, New Year's Day and Good Friday with
such a value are closed (no bars, as at most brokers); other carried-forward days (UK bank
holidays, when gold still trades) get bars, but their stale value is not forced: the bridge runs
from the last fresh close to the next one across them. Prices are rounded to 0.01 (XAUUSD
digits 2); spreads follow ``sessions.spread_points``.

Generated at first use rather than committed: it takes about 0.15 s once per process, keeps the
package small, and the numbers come from ``noise.StableRandom``, whose output does not depend on
the numpy version, so the same seed always gives the same bars.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from engine.data import sessions
from engine.data.frames import bars_frame
from engine.data.noise import StableRandom

BRIDGE_SEED = 20200313
BRIDGE_YEARS = 2
BARS_PER_DAY = sessions.TRADING_MINUTES_PER_DAY // 15  # 92
STEPS_PER_BAR = 15  # one-minute sub-path inside each M15 bar
REOPEN_GAP_SHARE = 0.005  # variance of the 22:00 reopen after the daily break, in days
WEEKEND_GAP_SHARE = 0.08  # after a weekend or a closed holiday
EWMA_LAMBDA = 0.94
DAILY_VOL_FLOOR = 0.003
TICKS_PER_DAY = 100_000.0


def good_friday(year: int) -> date:
    """Good Friday of ``year``: Gregorian Easter Sunday (anonymous algorithm) minus two days."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1) - timedelta(days=2)


def _closed_holiday(day: date) -> bool:
    return (day.month, day.day) in ((12, 25), (1, 1)) or day == good_friday(day.year)


def _daily_variance(values: np.ndarray) -> np.ndarray:
    """Variance to give each day: half ex-ante EWMA of squared returns, half the day's own."""
    returns = np.diff(np.log(values), prepend=np.log(values[0]))
    ewma = np.empty_like(returns)
    level = float(np.mean(np.square(returns[1:61]))) if len(returns) > 2 else 1e-4
    for i, r in enumerate(returns):
        ewma[i] = level  # what was known before day i
        level = EWMA_LAMBDA * level + (1 - EWMA_LAMBDA) * r * r
    return np.maximum(0.5 * ewma + 0.5 * np.square(returns), DAILY_VOL_FLOOR**2)


def bridge_days(closes: pd.Series) -> pd.DataFrame:
    """The trading days the bridge covers, with ``close``, ``pinned``, ``variance``, ``gap``.

    ``closes`` is the real daily series (UTC-midnight index). The window is the last
    ``BRIDGE_YEARS`` years after the anchor day (the last day on or before the cut), whose close
    starts the path. ``pinned`` days end exactly on their close; carried-forward ones do not.
    """
    last = closes.index[-1]
    cut = last - pd.DateOffset(years=BRIDGE_YEARS)
    anchor_at = int(np.searchsorted(closes.index, cut, side="right")) - 1
    window = closes.iloc[anchor_at:]
    values = window.to_numpy(dtype=np.float64)
    variance = _daily_variance(closes.to_numpy(dtype=np.float64))[anchor_at:]
    carried = np.concatenate(([False], values[1:] == values[:-1]))
    days = [t.date() for t in window.index]
    closed = np.array([c and _closed_holiday(d) for c, d in zip(carried, days, strict=True)])
    frame = pd.DataFrame(
        {"close": values, "pinned": ~carried, "variance": variance, "closed": closed},
        index=window.index,
    )
    frame = frame.iloc[1:].loc[~frame["closed"].iloc[1:]]
    previous = np.concatenate(([window.index[0]], frame.index[:-1]))
    after_break = (frame.index - pd.DatetimeIndex(previous)) > pd.Timedelta(days=1)
    frame["gap"] = np.where(after_break, WEEKEND_GAP_SHARE, REOPEN_GAP_SHARE)
    frame.attrs["anchor_close"] = float(values[0])
    frame.attrs["anchor_day"] = window.index[0]
    return frame.drop(columns="closed")


def _minute_template() -> np.ndarray:
    """Variance share of each minute of a trading day, 22:00 on D-1 to 21:00 on D (sums to 1)."""
    hours = (sessions.SESSION_OPEN_HOUR + np.arange(sessions.TRADING_MINUTES_PER_DAY) // 60) % 24
    return sessions.minute_variance(hours)


def simulate_m15(closes: pd.Series, seed: int = BRIDGE_SEED) -> pd.DataFrame:
    """XAUUSD M15 bars bridged through ``closes`` (see the module docstring); unlabelled."""
    days = bridge_days(closes)
    n_days = len(days)
    template = _minute_template()
    steps = 1 + sessions.TRADING_MINUTES_PER_DAY
    var_day = days["variance"].to_numpy()
    weights = np.empty((n_days, steps))
    weights[:, 0] = days["gap"].to_numpy() * var_day
    weights[:, 1:] = template[None, :] * var_day[:, None]
    shocks = StableRandom(seed, 0).normals(n_days * steps).reshape(n_days, steps)
    shocks *= np.sqrt(weights)

    # Spans end on pinned days; each span's increments are shifted in proportion to their
    # variance so they add up to the real log move (the bridge); a trailing unpinned tail is free.
    pinned = days["pinned"].to_numpy()
    span = np.cumsum(pinned) - pinned
    log_close = np.log(days["close"].to_numpy())
    log_anchor = np.log(days.attrs["anchor_close"])
    span_target = np.diff(log_close[pinned], prepend=log_anchor)
    n_spans = int(pinned.sum())
    span_shock = np.bincount(span, weights=shocks.sum(axis=1), minlength=n_spans + 1)
    span_weight = np.bincount(span, weights=weights.sum(axis=1), minlength=n_spans + 1)
    correction = np.zeros(n_spans + 1)
    correction[:n_spans] = (span_shock[:n_spans] - span_target) / span_weight[:n_spans]
    shocks -= weights * correction[span][:, None]

    path = np.round(np.exp(log_anchor + np.cumsum(shocks.ravel())), 2).reshape(n_days, steps)
    path[pinned, -1] = days["close"].to_numpy()[pinned]
    windows = np.lib.stride_tricks.sliding_window_view(path, STEPS_PER_BAR + 1, axis=1)
    windows = windows[:, ::STEPS_PER_BAR]  # (days, 92, 16): open then 15 one-minute points
    opens, closes_ = windows[..., 0], windows[..., -1]
    highs, lows = windows.max(axis=2), windows.min(axis=2)

    first_bar = days.index - pd.Timedelta(hours=24 - sessions.SESSION_OPEN_HOUR)
    offsets = pd.to_timedelta(np.arange(BARS_PER_DAY) * 15, unit="min")
    times = (first_bar.as_unit("ns").asi8[:, None] + offsets.as_unit("ns").asi8[None, :]).ravel()
    index = pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC")

    bar_share = template.reshape(BARS_PER_DAY, STEPS_PER_BAR).sum(axis=1)
    activity = np.sqrt(var_day / np.median(var_day))[:, None] * bar_share[None, :]
    volume = sessions.tick_volume(activity.ravel(), StableRandom(seed, 2), TICKS_PER_DAY)
    spread = sessions.spread_points(np.asarray(index.hour), StableRandom(seed, 1))
    return bars_frame(
        index, opens.ravel(), highs.ravel(), lows.ravel(), closes_.ravel(), volume, spread
    )
