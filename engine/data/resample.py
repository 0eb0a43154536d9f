"""Build higher-timeframe bars from lower ones (M15 -> H1, H4, D1, W1 ...).

Bars are labelled by their open time on the UTC grid of ``Timeframe.floor``: intraday and daily
periods count from the Unix epoch (D1 starts at 00:00 UTC), weeks start on Monday 00:00 UTC,
months on the 1st. Open is the first bar's open, high the max, low the min, close the last close,
volume the sum, spread the mean rounded to whole points (or the max). Periods without any source
bar produce no row. Upsampling would invent prices and is refused.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from engine.models import Timeframe

_CALENDAR = (Timeframe.W1, Timeframe.MN1)


class SpreadAgg(StrEnum):
    MEAN = "mean"  # typical cost over the period
    MAX = "max"  # worst case over the period


def can_resample(source: Timeframe, target: Timeframe) -> bool:
    """True when whole ``source`` bars tile every ``target`` period (same or higher timeframe)."""
    if source == target:
        return True
    if source in _CALENDAR:
        return False
    if target in _CALENDAR:
        return 1440 % source.minutes == 0
    return target.minutes > source.minutes and target.minutes % source.minutes == 0


def check_resample(source: Timeframe, target: Timeframe) -> None:
    """Raise ``ValueError`` with the reason when ``source`` bars cannot make ``target`` bars."""
    if can_resample(source, target):
        return
    if source in _CALENDAR or (target not in _CALENDAR and target.minutes < source.minutes):
        msg = (
            f"cannot resample {source.value} bars to {target.value}: {target.value} is shorter "
            "than the source and upsampling would invent prices"
        )
    else:
        msg = (
            f"cannot resample {source.value} bars to {target.value}: {target.value} is not a "
            f"whole number of {source.value} bars"
        )
    raise ValueError(msg)


def period_labels(index: pd.DatetimeIndex, target: Timeframe) -> pd.DatetimeIndex:
    """Open time of the ``target`` bar that contains each time in ``index`` (UTC)."""
    if target is Timeframe.MN1:
        naive = index.tz_localize(None).to_period("M").to_timestamp()
        return pd.DatetimeIndex(naive).tz_localize("UTC").as_unit(index.unit)
    days = index.floor("D")
    if target is Timeframe.W1:
        return days - pd.to_timedelta(np.asarray(index.day_of_week), unit="D")
    if target is Timeframe.D1:
        return days
    return index.floor(f"{target.minutes}min")


def resample_bars(
    frame: pd.DataFrame,
    source: Timeframe,
    target: Timeframe,
    *,
    spread: SpreadAgg = SpreadAgg.MEAN,
) -> pd.DataFrame:
    """``target`` bars from ``source`` bars; attrs are kept plus ``resampled_from``.

    Raises ``ValueError`` when ``target`` is lower than ``source`` or not a multiple of it. A
    last period that the data only partly covers still yields a bar (from what exists).
    """
    check_resample(source, target)
    if source == target:
        out = frame.copy()
        out.attrs = dict(frame.attrs)
        return out
    labels = period_labels(pd.DatetimeIndex(frame.index), target)
    grouped = frame.groupby(labels, sort=True)
    spreads = grouped["spread"].max() if spread is SpreadAgg.MAX else grouped["spread"].mean()
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum().astype(np.float64),
            "spread": np.rint(spreads.to_numpy(dtype=np.float64)).astype(np.int64),
        }
    )
    out.index.name = "time"
    out.attrs = dict(frame.attrs)
    out.attrs["resampled_from"] = source.value
    return out
