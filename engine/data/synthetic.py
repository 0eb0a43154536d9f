"""Seeded synthetic gold-like bars for tests, demos and the live-looking paper feed.

Prices follow a driftless geometric random walk at one-minute-ish resolution: about 1% a day
(``daily_vol``) spread over gold's hours with the session rhythm of ``engine.data.sessions``, no
bars on weekends or in the daily break, and a price gap at each reopen (bigger after a weekend).
Each bar's OHLC comes from a sub-path inside it, so high and low always contain open and close;
the spread is mean-reverting around the hour's typical XAUUSD value; tick volume follows
activity. The same seed, spec and window always give the identical frame (``noise``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from engine.data import sessions
from engine.data.frames import bars_frame, clip, empty_bars, label
from engine.data.noise import StableRandom
from engine.data.resample import period_labels, resample_bars
from engine.models import Timeframe

MAX_STEPS = 20_000_000  # about 160 MB of floats: refuse bigger requests


@dataclass(frozen=True, slots=True)
class SyntheticSpec:
    """Shape of the synthetic market; defaults are gold-like (XAUUSD, 2 digits)."""

    start_price: float = 2000.0
    daily_vol: float = 0.01  # standard deviation of daily log returns
    digits: int = 2
    weekend_gap_share: float = 0.08  # variance of the Sunday reopen gap, in trading days
    reopen_gap_share: float = 0.005  # variance of the gap after the daily break
    ticks_per_day: float = 100_000.0


def base_timeframe(timeframe: Timeframe) -> Timeframe:
    """The resolution bars are generated at before resampling (M15 or finer, tiling the target)."""
    if timeframe not in (Timeframe.W1, Timeframe.MN1) and timeframe.minutes <= 15:
        return timeframe
    for base in (Timeframe.M15, Timeframe.M10, Timeframe.M5):
        if timeframe in (Timeframe.W1, Timeframe.MN1) or timeframe.minutes % base.minutes == 0:
            return base
    return Timeframe.M1


def _base_times(base: Timeframe, start: datetime, end: datetime) -> pd.DatetimeIndex:
    grid = pd.date_range(start, end, freq=f"{base.minutes}min", inclusive="left", unit="ns")
    return grid[sessions.open_mask(grid)]


def generate_bars(
    timeframe: Timeframe,
    start: datetime,
    end: datetime,
    *,
    seed: int = 0,
    spec: SyntheticSpec | None = None,
) -> pd.DataFrame:
    """Synthetic bars with open time in [start, end) (UTC), labelled ``simulated=True``.

    The path starts at ``spec.start_price`` at the first open bar of the period containing
    ``start``. Raises ``ValueError`` for naive times or a window needing more than 20 million
    sub-steps (e.g. M1 over decades).
    """
    spec = spec or SyntheticSpec()
    if start.tzinfo is None or end.tzinfo is None:
        msg = "synthetic bars need tz-aware UTC start and end"
        raise ValueError(msg)
    base = base_timeframe(timeframe)
    lo = period_labels(pd.DatetimeIndex([start]), timeframe)[0]
    hi = period_labels(pd.DatetimeIndex([end - timedelta(microseconds=1)]), timeframe)[0]
    hi_end = hi + (pd.DateOffset(months=1) if timeframe is Timeframe.MN1 else timeframe.delta)
    times = _base_times(base, lo, hi_end) if end > start else pd.DatetimeIndex([], tz="UTC")
    sub = min(15, max(4, base.minutes))
    if len(times) * (sub + 1) > MAX_STEPS:
        msg = f"{len(times)} {base.value} bars is too many to generate; ask for a shorter window"
        raise ValueError(msg)
    if len(times) == 0:
        frame = empty_bars()
    else:
        frame = _walk(times, base, sub, seed, spec)
        frame = resample_bars(frame, base, timeframe) if base != timeframe else frame
        frame = clip(frame, start, end)
    frame.attrs.pop("resampled_from", None)
    note = f"synthetic gold-like bars (seed {seed}, {spec.daily_vol:.2%} a day)"
    return label(frame, source="synthetic", simulated=True, note=note)


def _walk(
    times: pd.DatetimeIndex, base: Timeframe, sub: int, seed: int, spec: SyntheticSpec
) -> pd.DataFrame:
    n = len(times)
    hours = np.asarray(times.hour)
    step_var = sessions.minute_variance(hours) * base.minutes / sub * spec.daily_vol**2
    seconds = times.as_unit("s").asi8
    jump = np.diff(seconds, prepend=seconds[0])  # seconds since the previous bar
    gap_share = np.where(jump > 86_400, spec.weekend_gap_share, spec.reopen_gap_share)
    gap_var = np.where(jump > base.minutes * 60, gap_share * spec.daily_vol**2, 0.0)
    shocks = StableRandom(seed, 0).normals(n * (sub + 1)).reshape(n, sub + 1)
    shocks[:, 0] *= np.sqrt(gap_var)
    shocks[:, 1:] *= np.sqrt(step_var)[:, None]
    log_path = np.log(spec.start_price) + np.cumsum(shocks.ravel())
    path = np.round(np.exp(log_path), spec.digits).reshape(n, sub + 1)
    volume = sessions.tick_volume(
        sessions.minute_variance(hours) * base.minutes, StableRandom(seed, 2), spec.ticks_per_day
    )
    spread = sessions.spread_points(hours, StableRandom(seed, 1))
    return bars_frame(
        times, path[:, 0], path.max(axis=1), path.min(axis=1), path[:, -1], volume, spread
    )
