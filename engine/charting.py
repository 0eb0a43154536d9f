"""The charts the chat asks for: which bars to draw and how the request is checked.

For the symbol and timeframe the trader runs on, the chart draws the trader's own closed-bar
window (what the strategy saw); otherwise stored history up to now from ``MarketData``. Any
symbol with data may be charted; a request outside the rules raises ``BadArguments`` with a
code (``bad_symbol``, ``bad_timeframe``, ``out_of_range``), missing data ``DataUnavailable``.
"""

from __future__ import annotations

import pandas as pd

from engine.charts import TradeLevels, TradeMarker, render_market_chart_async
from engine.errors import BadArguments
from engine.models import Position, Timeframe
from engine.ports import MarketData
from engine.trader import Trader
from engine.views import ChartView

CHART_BARS = (20, 120, 500)  # min, default, max bars on a chart
SETTLE_BARS = 60  # extra history so the indicators are defined from the first drawn bar


class MarketCharts:
    def __init__(self, trader: Trader, market: MarketData) -> None:
        self._trader = trader
        self._market = market

    async def chart(
        self, symbol: str | None = None, timeframe: str | None = None, bars: int | None = None
    ) -> ChartView:
        """``symbol`` (default the first traded) on ``timeframe`` (default the trading one),
        the last ``bars`` (20..500, default 120)."""
        name = self._symbol(symbol)
        tf = self._trader.config.timeframe
        if timeframe is not None:
            try:
                tf = Timeframe.parse(timeframe)
            except ValueError:
                msg = f"unknown timeframe {timeframe!r}"
                raise BadArguments(msg, code="bad_timeframe", value=timeframe) from None
        low, default, high = CHART_BARS
        count = default if bars is None else bars
        if not low <= count <= high:
            msg = f"bars must be {low}..{high}, got {count}"
            raise BadArguments(msg, code="out_of_range", value=count, min=low, max=high)
        return await self._render(await self._frame(name, tf, count), name, tf, count)

    async def position(self, position: Position) -> ChartView:
        """The trading timeframe's chart of ``position``'s symbol with entry, SL and TP."""
        tf, count = self._trader.config.timeframe, CHART_BARS[1]
        frame = await self._frame(position.symbol, tf, count)
        levels = TradeLevels(position.price_open, position.sl, position.tp, position.side)
        marker = TradeMarker(
            position.time, position.price_open, position.side, f"#{position.ticket}"
        )
        return await self._render(frame, position.symbol, tf, count, levels, (marker,))

    def _symbol(self, text: str | None) -> str:
        symbols = self._trader.config.symbols
        if text is None:
            return symbols[0]
        name = text.strip()
        if not name or len(name) > 20 or not all(c.isalnum() or c in "._-#" for c in name):
            raise BadArguments(f"not a symbol: {text!r}", code="bad_symbol", symbol=text)
        # A traded symbol keeps the broker's spelling ("XAUUSDm"); others are upper-cased.
        return next((s for s in symbols if s.upper() == name.upper()), name.upper())

    async def _frame(self, symbol: str, tf: Timeframe, count: int) -> pd.DataFrame:
        live = self._trader.bars(symbol) if tf == self._trader.config.timeframe else None
        if live is not None and len(live) >= count:
            return live
        frame = await self._market.history(symbol, tf, end=self._trader.clock.now())
        return frame.iloc[-(count + SETTLE_BARS) :]

    async def _render(
        self,
        frame: pd.DataFrame,
        symbol: str,
        tf: Timeframe,
        count: int,
        levels: TradeLevels | None = None,
        markers: tuple[TradeMarker, ...] = (),
    ) -> ChartView:
        png = await render_market_chart_async(
            frame, symbol=symbol, timeframe=tf.value, levels=levels, markers=markers, last=count
        )
        source = str(frame.attrs.get("note") or frame.attrs.get("source") or "")
        simulated = bool(frame.attrs.get("simulated", False))
        return ChartView(png, symbol, tf.value, min(count, len(frame)), source, simulated)
