"""``bb_reversion``, a counter-trend strategy: fade a close outside the Bollinger Bands.

Buy when the close comes back inside the bands from below (previous close below its lower band,
this close at or above this bar's lower band).
Sell when the close comes back inside from above (previous close above its upper band, this
close at or below this bar's upper band).
Stop loss ``sl_atr`` x ATR(atr_period) and take profit ``tp_atr`` x ATR from the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from engine.indicators import atr, bollinger
from engine.strategies.base import (
    ParamSpec,
    ReasonCode,
    Strategy,
    StrategyParams,
    fired_text,
    signal_frame,
)


@dataclass(frozen=True, slots=True)
class BbReversionParams(StrategyParams):
    SPECS: ClassVar[tuple[ParamSpec, ...]] = (
        ParamSpec("period", int, 20, 5, 200, 5, "Bollinger period, bars"),
        ParamSpec("k", float, 2.0, 1.0, 4.0, 0.25, "band width in standard deviations"),
        ParamSpec("atr_period", int, 14, 2, 100, 1, "ATR period for stops, bars"),
        ParamSpec("sl_atr", float, 1.5, 0.25, 10.0, 0.25, "stop loss distance in ATRs"),
        ParamSpec("tp_atr", float, 2.0, 0.25, 20.0, 0.25, "take profit distance in ATRs"),
    )

    period: int = 20
    k: float = 2.0
    atr_period: int = 14
    sl_atr: float = 1.5
    tp_atr: float = 2.0


class BbReversion(Strategy[BbReversionParams]):
    name: ClassVar[str] = "bb_reversion"
    description: ClassVar[str] = (
        "Mean reversion: buy when the close re-enters the Bollinger Bands (20, 2) from below, "
        "sell when it re-enters from above; stop 1.5 ATR, target 2 ATR."
    )
    params_type: ClassVar[type] = BbReversionParams
    indicator_columns: ClassVar[tuple[str, ...]] = ("close", "bb_lower", "bb_upper", "atr")

    def warmup(self, params: BbReversionParams) -> int:
        # A re-entry compares two defined bars of the bands: the first is at period - 1.
        return max(params.period, params.atr_period) + 1

    def recursive_period(self, params: BbReversionParams) -> int:
        return params.atr_period

    def signals(self, bars: pd.DataFrame, params: BbReversionParams) -> pd.DataFrame:
        closes = bars["close"]
        close = closes.to_numpy(dtype=np.float64)
        bands = bollinger(closes, params.period, params.k)
        lower, upper = bands["lower"].to_numpy(), bands["upper"].to_numpy()
        # Row i compares bar i - 1 with its own bands; row 0 has no previous bar. NaN bands
        # (warm-up) compare False.
        buy, sell = np.zeros(close.shape[0], dtype=bool), np.zeros(close.shape[0], dtype=bool)
        buy[1:] = (close[:-1] < lower[:-1]) & (close[1:] >= lower[1:])
        sell[1:] = (close[:-1] > upper[:-1]) & (close[1:] <= upper[1:])
        stop_unit = atr(bars, params.atr_period)
        text = "Close {close:.6g} back {way} BB({period}, {k:g}) {edge} band {band:.6g}"
        shared = {"period": params.period, "k": params.k, "close": close}
        buy_text = fired_text(buy, text, way="above", edge="lower", band=lower, **shared)
        sell_text = fired_text(sell, text, way="below", edge="upper", band=upper, **shared)
        return signal_frame(
            buy=buy,
            sell=sell,
            stop_unit=stop_unit,
            sl_mult=params.sl_atr,
            tp_mult=params.tp_atr,
            codes=(ReasonCode.BB_REENTRY_LOW, ReasonCode.BB_REENTRY_HIGH),
            reasons=(buy_text, sell_text),
            indicators={"close": close, "bb_lower": lower, "bb_upper": upper, "atr": stop_unit},
        )
