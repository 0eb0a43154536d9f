"""Gold's trading week and intraday rhythm, in UTC, for the simulated and synthetic data.

The model: XAUUSD trades from Sunday 22:00 to Friday 21:00 UTC with a daily break from 21:00 to
22:00 UTC, so a trading day D runs from 22:00 on D-1 to 21:00 on D (the day an MT5 server at
UTC+2 calls D). Volatility follows the sessions: quiet Asia, busier London, busiest during the
London/New York overlap; the spread (in points, XAUUSD point 0.01) is wider when it is quiet.
Real brokers shift these hours by an hour with daylight saving; the gap report
(``engine.data.gaps``) is tolerant of that, this model is not meant to be.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engine.data.noise import StableRandom

SESSION_OPEN_HOUR = 22  # UTC: Sunday reopen and the end of the daily break
SESSION_CLOSE_HOUR = 21  # UTC: Friday close and the start of the daily break
TRADING_MINUTES_PER_DAY = 23 * 60

# Volatility multiplier per UTC hour (relative, 1.0 = an average hour); variance goes as square.
# 22-00 reopen and early Asia, 00-07 Tokyo/Shanghai, 07-12 London, 12-16 London/NY overlap
# (US data at 12:30/13:30), 16-19 NY afternoon, 19-21 late NY. Hour 21 is the break.
VOL_BY_HOUR: tuple[float, ...] = (
    (0.65, 0.7, 0.7, 0.7, 0.7, 0.7, 0.75)  # 00-06
    + (1.05, 1.1, 1.1, 1.05, 1.0)  # 07-11
    + (1.45, 1.7, 1.6, 1.4)  # 12-15
    + (1.0, 0.9, 0.8)  # 16-18
    + (0.6, 0.55)  # 19-20
    + (0.0,)  # 21: closed
    + (0.55, 0.6)  # 22-23
)

# Typical XAUUSD spread in points per UTC hour: 20-40 in liquid hours, wider after the reopen.
SPREAD_BY_HOUR: tuple[int, ...] = (
    (40, 38, 36, 34, 34, 33, 32)  # 00-06
    + (26, 24, 24, 24, 24)  # 07-11
    + (22, 21, 21, 22)  # 12-15
    + (25, 27, 29)  # 16-18
    + (33, 38)  # 19-20
    + (60,)  # 21: closed
    + (55, 45)  # 22-23
)
SPREAD_MIN_POINTS = 15
SPREAD_MAX_POINTS = 90

# Mean variance weight of one trading minute: a full trading day has variance 1 in these units.
DAY_VARIANCE_UNITS = float(np.sum(np.square(VOL_BY_HOUR)) * 60)


def is_open(t: datetime) -> bool:
    """True when gold trades at ``t`` (UTC) in this model; holidays are not modelled."""
    weekday, hour = t.weekday(), t.hour
    if weekday == 5:
        return False
    if weekday == 6:
        return hour >= SESSION_OPEN_HOUR
    if weekday == 4 and hour >= SESSION_CLOSE_HOUR:
        return False
    return hour != SESSION_CLOSE_HOUR


def open_mask(index: pd.DatetimeIndex) -> np.ndarray:
    """Vectorised ``is_open`` for bar open times (UTC)."""
    weekday = np.asarray(index.day_of_week)
    hour = np.asarray(index.hour)
    closed = (weekday == 5) | ((weekday == 6) & (hour < SESSION_OPEN_HOUR))
    closed |= (weekday == 4) & (hour >= SESSION_CLOSE_HOUR)
    closed |= hour == SESSION_CLOSE_HOUR
    return ~closed


def next_open(t: datetime) -> datetime:
    """The first moment at or after ``t`` when the market is open (whole hours are enough)."""
    if is_open(t):
        return t
    candidate = t.replace(minute=0, second=0, microsecond=0)
    while not is_open(candidate):
        candidate += timedelta(hours=1)
    return candidate


def minute_variance(hours: np.ndarray) -> np.ndarray:
    """Share of a trading day's variance that one minute in each UTC hour carries."""
    vol = np.asarray(VOL_BY_HOUR)[hours]
    return vol * vol / DAY_VARIANCE_UNITS


def spread_points(hours: np.ndarray, rng: StableRandom) -> np.ndarray:
    """Mean-reverting spread in points, one per bar opening in ``hours`` (UTC).

    Each bar's spread is the hour's typical value plus an AR(1) deviation (coefficient 0.9,
    stationary spread of about 4 points), clipped to [15, 90] and rounded to whole points.
    """
    n = hours.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    phi = 0.9
    kernel = phi ** np.arange(64)
    shocks = rng.normals(n) * 4.0 * np.sqrt(1 - phi * phi)
    deviation = np.convolve(shocks, kernel)[:n]
    base = np.asarray(SPREAD_BY_HOUR, dtype=np.float64)[hours]
    return np.clip(np.rint(base + deviation), SPREAD_MIN_POINTS, SPREAD_MAX_POINTS).astype(
        np.int64
    )


def tick_volume(variance_share: np.ndarray, rng: StableRandom, per_day: float) -> np.ndarray:
    """Tick counts that follow activity: ``per_day`` ticks over a full day, +-30% noise."""
    noise = np.exp(0.3 * rng.normals(variance_share.size) - 0.045)
    return np.maximum(1.0, np.rint(per_day * variance_share * noise))
