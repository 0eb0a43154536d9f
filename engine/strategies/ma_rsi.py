"""``ma_rsi``, the baseline trend follower: a fast/slow SMA cross filtered by RSI, ATR stops.

Buy when SMA(fast) closes above SMA(slow) after being below, if RSI(rsi_period) < rsi_buy_max.
Sell when SMA(fast) closes below SMA(slow) after being above, if RSI > rsi_sell_min.
Stop loss ``sl_atr`` x ATR(atr_period) and take profit ``tp_atr`` x ATR from the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from engine.errors import BadArguments
from engine.indicators import atr, rsi, sma
from engine.strategies.base import (
    ParamSpec,
    ReasonCode,
    Strategy,
    StrategyParams,
    crossings,
    fired_text,
    signal_frame,
)


@dataclass(frozen=True, slots=True)
class MaRsiParams(StrategyParams):
    SPECS: ClassVar[tuple[ParamSpec, ...]] = (
        ParamSpec("fast", int, 20, 2, 200, 2, "fast SMA period, bars"),
        ParamSpec("slow", int, 50, 5, 400, 5, "slow SMA period, bars (above fast)"),
        ParamSpec("rsi_period", int, 14, 2, 100, 1, "RSI period, bars"),
        ParamSpec("rsi_buy_max", float, 70.0, 50.0, 100.0, 5.0, "buy only if RSI below this"),
        ParamSpec("rsi_sell_min", float, 30.0, 0.0, 50.0, 5.0, "sell only if RSI above this"),
        ParamSpec("atr_period", int, 14, 2, 100, 1, "ATR period for stops, bars"),
        ParamSpec("sl_atr", float, 1.5, 0.25, 10.0, 0.25, "stop loss distance in ATRs"),
        ParamSpec("tp_atr", float, 3.0, 0.25, 20.0, 0.25, "take profit distance in ATRs"),
    )

    fast: int = 20
    slow: int = 50
    rsi_period: int = 14
    rsi_buy_max: float = 70.0
    rsi_sell_min: float = 30.0
    atr_period: int = 14
    sl_atr: float = 1.5
    tp_atr: float = 3.0

    def check_relations(self) -> None:
        if self.fast >= self.slow:
            raise BadArguments(
                f"fast must be less than slow, got fast={self.fast} slow={self.slow}",
                code="param_order",
                name="fast",
                other="slow",
                value=self.fast,
                other_value=self.slow,
            )


class MaRsi(Strategy[MaRsiParams]):
    name: ClassVar[str] = "ma_rsi"
    description: ClassVar[str] = (
        "Trend: buy when SMA fast crosses above SMA slow with RSI below 70, sell on the cross "
        "below with RSI above 30; stop 1.5 ATR, target 3 ATR."
    )
    params_type: ClassVar[type] = MaRsiParams
    indicator_columns: ClassVar[tuple[str, ...]] = ("sma_fast", "sma_slow", "rsi", "atr")

    def warmup(self, params: MaRsiParams) -> int:
        # A cross compares two defined bars of the slow SMA: the first is at slow - 1.
        return max(params.slow, params.rsi_period, params.atr_period) + 1

    def recursive_period(self, params: MaRsiParams) -> int:
        return max(params.rsi_period, params.atr_period)

    def signals(self, bars: pd.DataFrame, params: MaRsiParams) -> pd.DataFrame:
        close = bars["close"]
        fast = sma(close, params.fast).to_numpy()
        slow = sma(close, params.slow).to_numpy()
        strength = rsi(close, params.rsi_period).to_numpy()
        stop_unit = atr(bars, params.atr_period)
        up, down = crossings(fast - slow)
        # NaN (warm-up) RSI compares False, so no signal before the filter is defined.
        buy = up & (strength < params.rsi_buy_max)
        sell = down & (strength > params.rsi_sell_min)
        cross = "SMA{fast} crossed {way} SMA{slow}, RSI {rsi:.1f} {cmp} {limit:g}"
        values = {"fast": params.fast, "slow": params.slow, "rsi": strength}
        buy_text = fired_text(buy, cross, way="above", cmp="<", limit=params.rsi_buy_max, **values)
        sell_text = fired_text(
            sell, cross, way="below", cmp=">", limit=params.rsi_sell_min, **values
        )
        return signal_frame(
            buy=buy,
            sell=sell,
            stop_unit=stop_unit,
            sl_mult=params.sl_atr,
            tp_mult=params.tp_atr,
            codes=(ReasonCode.MA_CROSS_UP, ReasonCode.MA_CROSS_DOWN),
            reasons=(buy_text, sell_text),
            indicators={"sma_fast": fast, "sma_slow": slow, "rsi": strength, "atr": stop_unit},
        )
