"""Chart photos for trade notifications: the trading timeframe's candles with the entry, stop
loss and take profit drawn, and the entry (and exit) marked.

The bars are the trader's own closed-bar window (what the strategy saw when it traded). A
closed trade's SL/TP and entry time come from the stored round trip. Rendering runs in a
worker thread; any failure (too few bars, no window yet, a plotting error) gives no photo and
the notification goes out as text, so a chart can never cost a trade its message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pandas as pd

from engine.charting import CHART_BARS
from engine.charts import MIN_BARS, TradeLevels, TradeMarker, render_market_chart_async
from engine.events import OrderFilled, PositionClosed
from engine.models import ClosedTrade, Side
from engine.ports import TradeRepo
from engine.trader import Trader

log = logging.getLogger("chattrader.notify")

Render = Callable[..., Awaitable[bytes]]
Chart = Callable[[], Awaitable[bytes | None]]
LOOKUP = 50  # recent round trips searched for the one a PositionClosed reports


class TradeCharts:
    """Charts for ``OrderFilled`` and ``PositionClosed``: each call returns a coroutine
    function that draws PNG bytes (or None when no chart can be drawn)."""

    def __init__(
        self,
        trader: Trader,
        trades: TradeRepo,
        *,
        render: Render = render_market_chart_async,
        bars: int = CHART_BARS[1],
    ) -> None:
        self._trader = trader
        self._trades = trades
        self._render = render
        self._bars = bars

    def opened(self, e: OrderFilled) -> Chart:
        """How to draw the chart of an opened position; the bars are taken now, so drawing
        later shows what the strategy saw when it traded."""
        frame = self._trader.bars(e.symbol)
        levels = TradeLevels(e.price, e.sl, e.tp, e.side)
        marker = TradeMarker(e.at, e.price, e.side, f"#{e.ticket}")

        async def draw() -> bytes | None:
            return await self._draw(e.symbol, frame, levels, (marker,))

        return draw

    def closed(self, e: PositionClosed) -> Chart:
        """How to draw the chart of a closed position (bars taken now, the round trip's entry
        and levels read when drawing)."""
        frame = self._trader.bars(e.symbol)

        async def draw() -> bytes | None:
            trade = await self._trade(e.ticket)
            sl = trade.sl if trade is not None else None
            tp = trade.tp if trade is not None else None
            levels = TradeLevels(e.price_open, sl, tp, e.side)
            exit_side = Side.SELL if e.side is Side.BUY else Side.BUY
            markers = [TradeMarker(e.at, e.price_close, exit_side, f"#{e.ticket}")]
            if trade is not None:
                markers.insert(0, TradeMarker(trade.opened_at, e.price_open, e.side))
            return await self._draw(e.symbol, frame, levels, tuple(markers))

        return draw

    async def _trade(self, ticket: int) -> ClosedTrade | None:
        try:
            recent = await self._trades.recent(LOOKUP)
        except Exception:
            log.exception("could not read the trade #%s for its chart", ticket)
            return None
        return next((t for t in recent if t.position_id == ticket), None)

    async def _draw(
        self,
        symbol: str,
        frame: pd.DataFrame | None,
        levels: TradeLevels,
        markers: tuple[TradeMarker, ...],
    ) -> bytes | None:
        if frame is None or len(frame) < MIN_BARS:
            return None
        try:
            return await self._render(
                frame,
                symbol=symbol,
                timeframe=self._trader.config.timeframe.value,
                levels=levels,
                markers=markers,
                last=self._bars,
            )
        except Exception:
            log.exception("the trade chart of %s could not be drawn; sending text only", symbol)
            return None
