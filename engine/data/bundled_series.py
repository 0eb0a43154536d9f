"""The market data shipped inside the package (``engine/data/bundled``, see SOURCES.md there).

Three series, loaded on first use and kept in memory (callers get copies):
- EURUSD H1: real ask bars of 2017 (Dukascopy-style export); the file has no spread, so
  ``spread`` is 0 and the note says so.
- XAUUSD D1: real daily gold closes from 1979-01-01 (the quarterly 1970-1978 rows are left out);
  close only, so open = high = low = close, no volume, no spread.
- XAUUSD M15: simulated intraday from the real daily closes of the last two years
  (``engine.data.bridge``), labelled ``simulated=True`` everywhere.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from engine.data.bridge import simulate_m15
from engine.data.csv_import import parse_bars_csv
from engine.data.frames import bars_frame, label
from engine.models import Timeframe

EURUSD_FILE = "FOREX_EURUSD_1H_ASK.csv.gz"
GOLD_FILE = "gold_price_data.csv.gz"
GOLD_DAILY_FROM = pd.Timestamp("1979-01-01", tz="UTC")
SIMULATED_NOTE = "simulated intraday from real daily closes"


@dataclass(frozen=True, slots=True)
class BundledSeries:
    symbol: str
    timeframe: Timeframe
    source: str
    simulated: bool
    note: str
    build: Callable[[], pd.DataFrame]


def bundled_bytes(name: str) -> bytes:
    """The original (uncompressed) bytes of a bundled file, e.g. ``gold_price_data.csv.gz``."""
    return gzip.decompress((resources.files("engine.data") / "bundled" / name).read_bytes())


@functools.cache
def gold_closes() -> pd.Series:
    """Every row of the gold file: close in USD/oz by UTC-midnight date (quarterly pre-1979)."""
    text = bundled_bytes(GOLD_FILE).decode("utf-8")
    rows = [line.split(",") for line in text.splitlines()[1:] if line]
    index = pd.DatetimeIndex([r[0] for r in rows], name="time").tz_localize("UTC")
    return pd.Series([float(r[1]) for r in rows], index=index, name="close")


def _eurusd_h1() -> pd.DataFrame:
    text = bundled_bytes(EURUSD_FILE).decode("utf-8")
    frame, _ = parse_bars_csv(text, Timeframe.H1)
    return frame


def _gold_d1() -> pd.DataFrame:
    closes = gold_closes()
    daily = closes.loc[closes.index >= GOLD_DAILY_FROM].to_numpy()
    index = closes.index[closes.index >= GOLD_DAILY_FROM]
    return bars_frame(index, daily, daily, daily, daily, np.zeros(len(daily)))


def _xauusd_m15() -> pd.DataFrame:
    return simulate_m15(gold_closes())


SERIES: tuple[BundledSeries, ...] = (
    BundledSeries(
        "XAUUSD",
        Timeframe.M15,
        "bundled: Brownian bridge through gold_price_data.csv",
        True,
        SIMULATED_NOTE,
        _xauusd_m15,
    ),
    BundledSeries(
        "XAUUSD",
        Timeframe.D1,
        "bundled: gold_price_data.csv",
        False,
        "real daily closes, close only: open = high = low = close, no volume or spread",
        _gold_d1,
    ),
    BundledSeries(
        "EURUSD",
        Timeframe.H1,
        "bundled: FOREX_EURUSD_1H_ASK.csv",
        False,
        "real ask bars; the file has no spread (0)",
        _eurusd_h1,
    ),
)


@functools.cache
def _loaded(symbol: str, timeframe: Timeframe) -> pd.DataFrame:
    series = next(s for s in SERIES if (s.symbol, s.timeframe) == (symbol, timeframe))
    frame = series.build()
    return label(frame, source=series.source, simulated=series.simulated, note=series.note)


def load_bundled(symbol: str, timeframe: Timeframe) -> pd.DataFrame:
    """A labelled copy of one bundled series; ``KeyError`` when it is not bundled."""
    if not any((s.symbol, s.timeframe) == (symbol, timeframe) for s in SERIES):
        msg = f"{symbol} {timeframe.value} is not bundled"
        raise KeyError(msg)
    cached = _loaded(symbol, timeframe)
    frame = cached.copy()
    frame.attrs = dict(cached.attrs)
    return frame
