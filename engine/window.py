"""``BarWindow``: the last N closed bars of one symbol, kept in numpy rings for the live loop.

Appending is O(1) and building the strategy's DataFrame copies only N rows, so a cycle's cost
does not grow with how long the engine has been running.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd

from engine.data.frames import bars_frame
from engine.models import Bar


class BarWindow:
    def __init__(self, size: int) -> None:
        if size < 1:
            msg = f"a bar window needs room for at least one bar, got {size}"
            raise ValueError(msg)
        self.size = size
        self._rows: deque[tuple[float, float, float, float, float, float, float]] = deque(
            maxlen=size
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, size: int) -> BarWindow:
        window = cls(size)
        tail = frame.iloc[-size:]
        seconds = tail.index.as_unit("us").asi8 / 1e6
        cols = [tail[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close")]
        volume = tail["volume"].to_numpy(dtype=float)
        spread = tail["spread"].to_numpy(dtype=float)
        for i in range(len(tail)):
            window._rows.append(
                (seconds[i], cols[0][i], cols[1][i], cols[2][i], cols[3][i], volume[i], spread[i])
            )
        return window

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def last_time(self) -> float | None:
        return self._rows[-1][0] if self._rows else None

    def append(self, bar: Bar) -> bool:
        """Add a closed bar; a bar not newer than the last one is ignored (returns False)."""
        t = bar.time.timestamp()
        if self._rows and t <= self._rows[-1][0]:
            return False
        self._rows.append((t, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.spread))
        return True

    def frame(self) -> pd.DataFrame:
        data = np.array(self._rows, dtype=float).reshape(-1, 7)
        times = pd.to_datetime(data[:, 0], unit="s", utc=True)
        return bars_frame(
            times,
            data[:, 1],
            data[:, 2],
            data[:, 3],
            data[:, 4],
            data[:, 5],
            data[:, 6].astype(int),
        )
