"""Backtest charts as PNG bytes, sized and lettered for a phone (1280x900 px, large type).

Equity with an underwater drawdown panel; price candles with the trades' entries and exits
(the market chart of ``engine.charts``, cut to the last part of a long period); monthly returns
as a heatmap over the trades' PnL distribution; strategies compared; an optimisation heatmap.
Plain charts use matplotlib's object API on the Agg canvas (no pyplot state, so they are safe in
worker threads and processes; mplfinance loads only for the candles); every title carries the
data's label, e.g. "simulated intraday from real daily closes".
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.backtest.runner import BacktestResult
from engine.models import Side

if TYPE_CHECKING:
    from engine.charts import TradeMarker

SIZE_IN = (12.8, 9.0)
DPI = 100
TITLE, LABEL, TICK = 20, 16, 14
GREEN, RED, BLUE, GREY = "#1a9850", "#d73027", "#1f4e9e", "#7f7f7f"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
COLOURS = ("#1f4e9e", "#ff7f0e", "#2ca02c", "#9467bd")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # zlib level 2: a third of the default's encoding time for ~10% more bytes.
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 2})
    return buffer.getvalue()


def _figure(*, top: float = 0.86) -> Figure:
    # Fixed margins: constrained layout costs a quarter of a second per chart.
    fig = Figure(figsize=SIZE_IN, dpi=DPI, facecolor="white")
    fig.subplots_adjust(left=0.09, right=0.97, bottom=0.08, top=top, hspace=0.12)
    return fig


def _x(index: pd.DatetimeIndex) -> np.ndarray:
    """Times as naive UTC datetime64: matplotlib's fast path (tz-aware pandas is 2x slower)."""
    return index.tz_convert("UTC").tz_localize(None).to_numpy()


def headline(result: BacktestResult) -> str:
    """``XAUUSD M15 ma_rsi, 2019-12-14..2020-03-13`` plus the data note on a second line."""
    info = result.info
    days = f"{info.start:%Y-%m-%d}..{info.end:%Y-%m-%d}"
    head = f"{info.symbol} {info.timeframe} {info.strategy}, {days}"
    note = info.labels.note
    return f"{head}\n{note}" if note else head


def _style(ax: Any, *, grid: bool = True) -> None:
    # Explicit, because mplfinance (the candle chart) changes matplotlib's global style.
    ax.set_facecolor("white")
    ax.tick_params(labelsize=TICK)
    if grid:
        ax.grid(True, linestyle=":", alpha=0.7)
    else:
        ax.grid(False)


def render_equity(result: BacktestResult) -> bytes:
    """Equity (and balance) over time, with the drawdown from the running peak below, in %."""
    eq = result.equity
    fig = _figure()
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    x = _x(eq.index)
    top.plot(x, eq["equity"], color=BLUE, linewidth=2.0, label="equity")
    top.plot(x, eq["balance"], color=GREY, linewidth=1.0, label="balance")
    top.set_ylabel(f"Account ({result.info.currency})", fontsize=LABEL)
    top.legend(loc="upper left", fontsize=TICK)
    m = result.metrics
    summary = (
        f"net {m.net_profit:+,.2f} ({m.return_pct:+.1f}%), {m.trades} trades, "
        f"max DD {m.max_drawdown_pct:.1f}%"
    )
    top.set_title(summary, fontsize=LABEL)
    values = eq["equity"].to_numpy(np.float64)
    peak = np.maximum.accumulate(values)
    under = np.divide(values - peak, peak, out=np.zeros_like(values), where=peak > 0) * 100
    bottom.fill_between(x, under, 0, color=RED, alpha=0.45, linewidth=0)
    bottom.set_ylabel("Drawdown %", fontsize=LABEL)
    bottom.set_xlabel("UTC", fontsize=TICK)
    for ax in (top, bottom):
        _style(ax)
    fig.suptitle(headline(result), fontsize=TITLE, fontweight="bold")
    return _png(fig)


def trade_markers(trades: pd.DataFrame) -> list[TradeMarker]:
    """An up/down triangle at each entry (its side) and exit (the closing deal's side)."""
    from engine.charts import TradeMarker  # noqa: PLC0415 - mplfinance only for candles

    markers = []
    for row in trades.itertuples(index=False):
        side = Side.BUY if row.side == "buy" else Side.SELL
        markers.append(TradeMarker(row.entry_time.to_pydatetime(), row.entry_price, side))
        markers.append(TradeMarker(row.exit_time.to_pydatetime(), row.exit_price, side.opposite))
    return markers


def render_trades(
    bars: pd.DataFrame,
    result: BacktestResult,
    *,
    last: int = 160,
    sma: Sequence[int] = (),
    bollinger: tuple[int, float] | None = None,
    rsi_period: int | None = None,
) -> bytes:
    """Candles of the last ``last`` bars of the tested period with its trades marked.

    ``bars`` may include warm-up bars (overlays then start defined); only trades that touch the
    shown bars are marked. The note says when the chart shows only the end of the period.
    """
    from engine.charts import render_market_chart  # noqa: PLC0415 - mplfinance, pyplot

    tested = bars[bars.index >= result.info.start]
    shown = min(last, len(tested))
    first = tested.index[-shown]
    trades = result.trades[result.trades["exit_time"] >= first]
    note = result.info.labels.note
    if shown < len(tested):
        part = f"last {shown} of {len(tested)} bars"
        note = f"{note}; {part}" if note else part
    return render_market_chart(
        bars,
        symbol=result.info.symbol,
        timeframe=f"{result.info.timeframe} {result.info.strategy}",
        title_note=note,
        sma=sma,
        bollinger=bollinger,
        rsi_period=rsi_period,
        markers=trade_markers(trades),
        last=shown,
    )


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Percent change of month-end equity over the previous month-end (the first month from
    the initial balance), as a year x month table (NaN where the period has no bars)."""
    ends = equity.groupby([equity.index.year, equity.index.month]).last()
    previous = ends.shift(1)
    previous.iloc[0] = float(equity.iloc[0])
    change = (ends / previous - 1) * 100
    table = change.unstack()
    return table.reindex(columns=range(1, 13))


def render_returns(result: BacktestResult) -> bytes:
    """Monthly returns heatmap (top) and the distribution of trade results (bottom)."""
    fig = _figure()
    top, bottom = fig.subplots(2, 1, height_ratios=(1, 1), gridspec_kw={"hspace": 0.3})
    table = monthly_returns(result.equity["equity"])
    values = table.to_numpy(np.float64)
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    top.imshow(values, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto")
    top.set_xticks(range(12), MONTHS, fontsize=TICK)
    top.set_yticks(range(len(table.index)), [str(y) for y in table.index], fontsize=TICK)
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            top.text(c, r, f"{v:+.1f}", ha="center", va="center", fontsize=TICK - 1)
    top.set_title("Monthly return %", fontsize=LABEL)
    _style(top, grid=False)
    net = result.trades["net"].to_numpy(np.float64)
    if net.size:
        bins = np.histogram_bin_edges(net, bins=min(40, max(8, net.size // 4)))
        bottom.hist(net[net > 0], bins=bins, color=GREEN, label=f"wins {int((net > 0).sum())}")
        bottom.hist(net[net <= 0], bins=bins, color=RED, label=f"losses {int((net <= 0).sum())}")
        bottom.axvline(0, color=GREY, linewidth=1.2)
        bottom.legend(loc="upper right", fontsize=TICK)
    else:
        bottom.text(0.5, 0.5, "no trades", ha="center", va="center", fontsize=LABEL)
    bottom.set_title(f"Trade result ({result.info.currency})", fontsize=LABEL)
    _style(bottom)
    bottom.tick_params(labelsize=TICK)
    fig.suptitle(headline(result), fontsize=TITLE, fontweight="bold")
    return _png(fig)


def render_comparison(results: Mapping[str, BacktestResult]) -> bytes:
    """Equity curves of several runs on one chart, their drawdowns below."""
    fig = _figure()
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    first = next(iter(results.values()))
    for colour, (name, result) in zip(COLOURS, results.items(), strict=False):
        eq = result.equity["equity"]
        m = result.metrics
        label = f"{name}: {m.net_profit:+,.0f}, DD {m.max_drawdown_pct:.1f}%"
        x = _x(eq.index)
        top.plot(x, eq, color=colour, linewidth=2.0, label=label)
        values = eq.to_numpy(np.float64)
        peak = np.maximum.accumulate(values)
        under = np.divide(values - peak, peak, out=np.zeros_like(values), where=peak > 0)
        bottom.plot(x, under * 100, color=colour, linewidth=1.4)
    top.set_ylabel(f"Equity ({first.info.currency})", fontsize=LABEL)
    top.legend(loc="upper left", fontsize=TICK)
    bottom.set_ylabel("Drawdown %", fontsize=LABEL)
    for ax in (top, bottom):
        _style(ax)
    info = first.info
    head = f"{info.symbol} {info.timeframe}, {info.start:%Y-%m-%d}..{info.end:%Y-%m-%d}"
    note = info.labels.note
    fig.suptitle(f"{head}\n{note}" if note else head, fontsize=TITLE, fontweight="bold")
    return _png(fig)


def render_heatmap(
    panels: Sequence[tuple[str, pd.DataFrame]],
    *,
    x: str,
    y: str,
    metric: str,
    title: str,
    note: str = "",
) -> bytes:
    """Tables (index = values of ``y``, columns = values of ``x``) side by side as coloured
    grids on one colour scale, each cell's ``metric`` written in it; NaN cells stay blank."""
    fig = _figure(top=0.80)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    stacked = np.concatenate([t.to_numpy(np.float64).ravel() for _, t in panels])
    finite = stacked[np.isfinite(stacked)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    image = None
    for ax, (name, table) in zip(axes, panels, strict=True):
        _style(ax, grid=False)
        values = table.to_numpy(np.float64)
        image = ax.imshow(values, cmap="RdYlGn", vmin=lo, vmax=hi, aspect="auto", origin="lower")
        ax.set_xticks(range(len(table.columns)), [f"{v:g}" for v in table.columns])
        ax.set_yticks(range(len(table.index)), [f"{v:g}" if y != "-" else "" for v in table.index])
        ax.set_xlabel(x, fontsize=LABEL)
        ax.set_ylabel(y if y != "-" else "", fontsize=LABEL)
        ax.set_title(name, fontsize=LABEL)
        if values.size <= 120:
            for (r, c), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize=TICK - 3)
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.9)
        bar.set_label(metric, fontsize=LABEL)
        bar.ax.tick_params(labelsize=TICK)
    fig.suptitle(title, fontsize=TITLE, fontweight="bold", y=0.985)
    if note:
        fig.text(0.5, 0.915, note, ha="center", va="top", fontsize=TICK)
    return _png(fig)
