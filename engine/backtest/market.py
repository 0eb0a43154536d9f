"""Bars and signals as plain numpy arrays: what the simulation reads, cheap to send to a worker.

A bars DataFrame (``engine.ports`` convention) becomes ``MarketArrays``: open times in int64
nanoseconds since the epoch (UTC), bid OHLC and the spread in points, plus the frame's labels
(``source``, ``simulated``, ``note``) so a result can say where its prices came from. A signals
frame (``engine.strategies.base``) becomes ``SignalArrays``. Both are frozen values that pickle
as a handful of arrays, so a process pool moves them without pandas' attrs or index overhead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from engine.errors import DataValidationError
from engine.models import Timeframe

NS_PER_MINUTE = 60 * 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_index(ns: np.ndarray, name: str = "time") -> pd.DatetimeIndex:
    """Nanoseconds since the epoch as a UTC DatetimeIndex (no per-element conversion)."""
    return pd.DatetimeIndex(
        np.asarray(ns, dtype=np.int64).view("datetime64[ns]"), name=name
    ).tz_localize(UTC)


def ns_time(ns: int) -> datetime:
    """Nanoseconds since the epoch as an aware UTC datetime (exact to the microsecond)."""
    return EPOCH + timedelta(microseconds=ns // 1000)


@dataclass(frozen=True, slots=True)
class DataLabels:
    """Where bars came from, carried into every result so replies can be honest about it."""

    symbol: str = ""
    timeframe: str = ""
    source: str = ""
    simulated: bool = False
    note: str = ""

    @classmethod
    def of(cls, bars: pd.DataFrame, symbol: str = "", timeframe: str = "") -> DataLabels:
        attrs = bars.attrs
        return cls(
            symbol=str(attrs.get("symbol", symbol) or symbol),
            timeframe=str(attrs.get("timeframe", timeframe) or timeframe),
            source=str(attrs.get("source", "")),
            simulated=bool(attrs.get("simulated", False)),
            note=str(attrs.get("note", "")),
        )


@dataclass(frozen=True, slots=True, eq=False)
class MarketArrays:
    """Bid bars as arrays; ``time_ns`` are bar open times (UTC ns), ascending and unique.

    ``bar_ns`` is the nominal bar length (the timeframe), used to stamp bar close times.
    """

    time_ns: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    spread: np.ndarray  # points, float64
    bar_ns: int
    labels: DataLabels = field(default_factory=DataLabels)

    def __len__(self) -> int:
        return int(self.time_ns.shape[0])

    @classmethod
    def from_frame(
        cls, bars: pd.DataFrame, timeframe: Timeframe, labels: DataLabels | None = None
    ) -> MarketArrays:
        """Arrays of a bars frame; ``DataValidationError`` on an unsorted or naive index."""
        index = bars.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            msg = "bars need a tz-aware DatetimeIndex (UTC open times)"
            raise DataValidationError(msg, code="bad_index")
        times = index.tz_convert(UTC).as_unit("ns").asi8
        if len(times) > 1 and not bool(np.all(np.diff(times) > 0)):
            msg = "bar times must be strictly ascending (sorted, no duplicates)"
            raise DataValidationError(msg, code="unsorted")
        spread = (
            bars["spread"].to_numpy(np.float64)
            if "spread" in bars
            else np.zeros(len(bars), np.float64)
        )
        return cls(
            time_ns=np.ascontiguousarray(times, dtype=np.int64),
            open=bars["open"].to_numpy(np.float64),
            high=bars["high"].to_numpy(np.float64),
            low=bars["low"].to_numpy(np.float64),
            close=bars["close"].to_numpy(np.float64),
            spread=spread,
            bar_ns=timeframe.minutes * NS_PER_MINUTE,
            labels=labels or DataLabels.of(bars, timeframe=timeframe.value),
        )

    def to_frame(self) -> pd.DataFrame:
        """The bars frame again (index ``time``), for strategies and charts."""
        index = ns_index(self.time_ns)
        frame = pd.DataFrame(
            {
                "open": self.open,
                "high": self.high,
                "low": self.low,
                "close": self.close,
                "volume": np.zeros(len(self)),
                "spread": self.spread.astype(np.int64),
            },
            index=index,
        )
        frame.attrs.update(
            source=self.labels.source, simulated=self.labels.simulated, note=self.labels.note
        )
        return frame

    def time(self, i: int) -> datetime:
        """Open time of bar ``i`` as an aware UTC datetime."""
        return ns_time(int(self.time_ns[i]))

    def close_time(self, i: int) -> datetime:
        """Close time of bar ``i`` (open time + the timeframe), when its close is known."""
        return ns_time(int(self.time_ns[i]) + self.bar_ns)


@dataclass(frozen=True, slots=True, eq=False)
class SignalArrays:
    """A strategy's decisions per bar: ``side`` +1/-1/0, stop and target distances (price)."""

    side: np.ndarray  # int8
    sl_dist: np.ndarray
    tp_dist: np.ndarray

    @classmethod
    def from_frame(cls, signals: pd.DataFrame) -> SignalArrays:
        return cls(
            side=np.sign(signals["side"].to_numpy()).astype(np.int8),
            sl_dist=signals["sl_dist"].to_numpy(np.float64),
            tp_dist=signals["tp_dist"].to_numpy(np.float64),
        )

    def __len__(self) -> int:
        return int(self.side.shape[0])
