"""Market charts as PNG bytes: candles with SMA/Bollinger overlays, an RSI panel, trade levels.

Rendering uses mplfinance on matplotlib's non-interactive Agg backend, sized for a phone screen
(1280x900 px, large fonts). pyplot keeps global state and is not thread-safe, so renders are
serialised by a lock and every figure is closed before returning; the async wrapper runs the
work in a thread so the event loop keeps serving updates meanwhile.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import matplotlib

matplotlib.use("Agg")  # headless servers and worker threads: never a GUI backend

import matplotlib.pyplot as plt  # noqa: E402
import mplfinance as mpf  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from engine import indicators  # noqa: E402
from engine.errors import DataUnavailable  # noqa: E402
from engine.models import Side  # noqa: E402

__all__ = [
    "MIN_BARS",
    "TradeLevels",
    "TradeMarker",
    "render_market_chart",
    "render_market_chart_async",
]

MIN_BARS = 10
FIGSIZE_IN = (12.8, 9.0)
DPI = 100

_RENDER_LOCK = threading.Lock()
_SMA_COLOURS = ("#1f77b4", "#ff7f0e", "#9467bd", "#8c564b")
_STYLE = mpf.make_mpf_style(
    base_mpf_style="yahoo",
    gridstyle=":",
    rc={
        "font.size": 16,
        "axes.labelsize": 16,
        "axes.titlesize": 18,
        "xtick.labelsize": 14,
        "ytick.labelsize": 14,
        "legend.fontsize": 13,
        "figure.titleweight": "bold",  # the base style's "semibold" is missing from DejaVu Sans
        "axes.labelweight": "normal",
    },
)


@dataclass(frozen=True, slots=True)
class TradeLevels:
    """Prices to draw as labelled horizontal lines: entry and optional stop loss/take profit."""

    entry: float
    sl: float | None = None
    tp: float | None = None
    side: Side | None = None


@dataclass(frozen=True, slots=True)
class TradeMarker:
    """A deal on the chart: up triangle for a buy, down triangle for a sell, at ``price``.

    ``time`` is tz-aware; the marker sits on the bar whose open time is the last one at or
    before it. Markers outside the plotted bars are skipped.
    """

    time: datetime
    price: float
    side: Side
    label: str = ""


def _ohlc(bars: pd.DataFrame) -> pd.DataFrame:
    frame = bars[["open", "high", "low", "close"]].astype(float)
    frame.columns = ["Open", "High", "Low", "Close"]
    return frame


def _line(values: pd.Series, **kwargs: object) -> dict[str, object] | None:
    """An overlay for mplfinance, or None if it has no value in the window (too short)."""
    if values.isna().all():
        return None
    return mpf.make_addplot(values, secondary_y=False, **kwargs)


def _marker_series(window: pd.DataFrame, markers: Sequence[TradeMarker], side: Side) -> pd.Series:
    series = pd.Series(np.nan, index=window.index)
    for marker in markers:
        if marker.side is not side:
            continue
        stamp = pd.Timestamp(marker.time)
        pos = int(window.index.searchsorted(stamp, side="right")) - 1
        if 0 <= pos < len(window) and stamp < window.index[-1] + _bar_span(window):
            series.iloc[pos] = marker.price
    return series


def _bar_span(window: pd.DataFrame) -> pd.Timedelta:
    steps = window.index.to_series().diff().dropna()
    return steps.min() if len(steps) else pd.Timedelta(0)


def _title(symbol: str, timeframe: str, note: str) -> str:
    head = f"{symbol} {timeframe}"
    return f"{head}\n{note}" if note else head


def _overlays(
    close: pd.Series, cut: slice, sma: Sequence[int], bollinger: tuple[int, float] | None
) -> list[dict[str, object]]:
    plots = [
        _line(
            indicators.sma(close, period).iloc[cut], color=colour, width=1.6, label=f"SMA {period}"
        )
        for colour, period in zip(_SMA_COLOURS, sma, strict=False)
    ]
    if bollinger is not None:
        bands = indicators.bollinger(close, bollinger[0], bollinger[1]).iloc[cut]
        label = f"BB {bollinger[0]}, {bollinger[1]:g}"
        style = {"color": "#7f7f7f", "width": 1.0, "linestyle": "--"}
        plots += [_line(bands["upper"], label=label, **style), _line(bands["lower"], **style)]
    return [p for p in plots if p is not None]


def _marker_plots(window: pd.DataFrame, markers: Sequence[TradeMarker]) -> list[dict[str, object]]:
    plots = []
    for side, shape, colour in ((Side.BUY, "^", "#1a9850"), (Side.SELL, "v", "#d73027")):
        points = _marker_series(window, markers, side)
        if points.notna().any():
            plots.append(
                mpf.make_addplot(
                    points,
                    type="scatter",
                    marker=shape,
                    markersize=220,
                    color=colour,
                    secondary_y=False,
                )
            )
    return plots


def _rsi_plot(close: pd.Series, cut: slice, period: int | None) -> dict[str, object] | None:
    if period is None:
        return None
    values = indicators.rsi(close, period).iloc[cut]
    if values.isna().all():
        return None
    return mpf.make_addplot(
        values,
        panel=1,
        color="#6a3d9a",
        width=1.4,
        ylim=(0, 100),
        ylabel=f"RSI {period}",
        secondary_y=False,
    )


def render_market_chart(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    title_note: str = "",
    sma: Sequence[int] = (20, 50),
    bollinger: tuple[int, float] | None = (20, 2.0),
    rsi_period: int | None = 14,
    levels: TradeLevels | None = None,
    markers: Sequence[TradeMarker] = (),
    last: int = 150,
) -> bytes:
    """Candlestick PNG (1280x900) of the last ``last`` bars of ``bars`` (ports convention).

    Indicators are computed on all of ``bars`` before cutting, so overlays start defined when
    enough history is passed; an overlay with no value in the window is left out. The title
    shows symbol and timeframe, with ``title_note`` (or else ``bars.attrs["note"]``) under it,
    e.g. "simulated intraday from real daily closes". Levels are prices; the price axis
    stretches to show them. Raises DataUnavailable with fewer than ``MIN_BARS`` bars.
    """
    if len(bars) < MIN_BARS:
        msg = f"a chart needs at least {MIN_BARS} bars, got {len(bars)} for {symbol} {timeframe}"
        raise DataUnavailable(msg, code="too_few_bars", need=MIN_BARS, got=len(bars))
    if last < MIN_BARS:
        msg = f"last must be at least {MIN_BARS}, got {last}"
        raise ValueError(msg)
    close = bars["close"].astype(float)
    cut = slice(max(len(bars) - last, 0), None)
    window = _ohlc(bars.iloc[cut])
    plots = _overlays(close, cut, sma, bollinger) + _marker_plots(window, markers)
    rsi_plot = _rsi_plot(close, cut, rsi_period)
    panels: dict[str, object] = {}
    if rsi_plot is not None:
        plots.append(rsi_plot)
        panels["panel_ratios"] = (3, 1)
    daily = _bar_span(window) >= pd.Timedelta(days=1)
    note = title_note or str(bars.attrs.get("note", ""))
    with _RENDER_LOCK:
        fig, axes = mpf.plot(
            window,
            type="candle",
            style=_STYLE,
            addplot=plots,
            figsize=FIGSIZE_IN,
            ylabel="Price",
            datetime_format="%d %b %Y" if daily else "%d %b %H:%M",
            xrotation=20,
            returnfig=True,
            warn_too_much_data=len(window) + 1,
            scale_padding={"left": 0.25, "right": 1.0, "top": 0.75, "bottom": 0.7},
            **panels,
        )
        try:
            _decorate(axes, levels, markers, window, has_rsi=rsi_plot is not None)
            fig.suptitle(_title(symbol, str(timeframe), note), fontsize=20)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI)
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _decorate(
    axes: Sequence[plt.Axes],
    levels: TradeLevels | None,
    markers: Sequence[TradeMarker],
    window: pd.DataFrame,
    *,
    has_rsi: bool,
) -> None:
    price_ax = axes[0]
    if has_rsi:
        rsi_ax = axes[2]
        for level in (30, 70):
            rsi_ax.axhline(level, color="#999999", linestyle=":", linewidth=1.2)
    if levels is not None:
        _draw_levels(price_ax, levels)
    for marker in markers:
        if marker.label:
            points = _marker_series(window, [marker], marker.side)
            if points.notna().any():
                x = int(np.flatnonzero(points.notna().to_numpy())[0])
                price_ax.annotate(
                    marker.label,
                    (x, marker.price),
                    textcoords="offset points",
                    xytext=(8, -24 if marker.side is Side.BUY else 14),
                    fontsize=13,
                )
    if price_ax.get_legend_handles_labels()[0]:
        price_ax.legend(loc="upper left", framealpha=0.8)


def _draw_levels(ax: plt.Axes, levels: TradeLevels) -> None:
    lines = [("Entry", levels.entry, "#1f4e9e", "-")]
    if levels.sl is not None:
        lines.append(("SL", levels.sl, "#d73027", "--"))
    if levels.tp is not None:
        lines.append(("TP", levels.tp, "#1a9850", "--"))
    low, high = ax.get_ylim()
    prices = [price for _, price, _, _ in lines]
    if min(prices) < low or max(prices) > high:  # stretch so a far stop or target stays visible
        low, high = min(low, *prices), max(high, *prices)
        pad = (high - low) * 0.04
        ax.set_ylim(low - pad, high + pad)
    right = ax.get_xlim()[1]
    prefix = f"{levels.side.value.upper()} " if levels.side is not None else ""
    for name, price, colour, style in lines:
        ax.axhline(price, color=colour, linestyle=style, linewidth=1.8)
        text = f"{prefix if name == 'Entry' else ''}{name} {price:.6g}"
        ax.annotate(
            text,
            (right, price),
            xytext=(-6, 4),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=14,
            color=colour,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour, "alpha": 0.85},
        )


async def render_market_chart_async(
    bars: pd.DataFrame,
    *,
    symbol: str,
    timeframe: str,
    title_note: str = "",
    sma: Sequence[int] = (20, 50),
    bollinger: tuple[int, float] | None = (20, 2.0),
    rsi_period: int | None = 14,
    levels: TradeLevels | None = None,
    markers: Sequence[TradeMarker] = (),
    last: int = 150,
) -> bytes:
    """:func:`render_market_chart` in a worker thread, so the event loop is not blocked."""
    return await asyncio.to_thread(
        render_market_chart,
        bars,
        symbol=symbol,
        timeframe=timeframe,
        title_note=title_note,
        sma=sma,
        bollinger=bollinger,
        rsi_period=rsi_period,
        levels=levels,
        markers=markers,
        last=last,
    )
