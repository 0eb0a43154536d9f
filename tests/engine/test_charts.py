"""Market charts: PNG output, levels and markers, no leaked figures, off-loop rendering."""

from __future__ import annotations

import asyncio
import struct
from datetime import timedelta
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from engine.charts import (
    MIN_BARS,
    TradeLevels,
    TradeMarker,
    render_market_chart,
    render_market_chart_async,
)
from engine.errors import DataUnavailable
from engine.models import Side

# The repository's gzip of shared/data/FOREX_EURUSD_1H_ASK.csv (identical: sha256 28398b7e…),
# so the tests do not depend on where shared/ is mounted.
EURUSD_CSV = Path(__file__).resolve().parents[2] / "engine/data/bundled/FOREX_EURUSD_1H_ASK.csv.gz"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    raw = pd.read_csv(EURUSD_CSV, nrows=400)
    time = pd.to_datetime(raw["Time"], format="%d.%m.%Y %H:%M:%S.%f", utc=True)
    frame = pd.DataFrame(
        {
            "open": raw["Open"].to_numpy(float),
            "high": raw["High"].to_numpy(float),
            "low": raw["Low"].to_numpy(float),
            "close": raw["Close"].to_numpy(float),
            "volume": raw["Volume"].to_numpy(float),
            "spread": 0,
        },
        index=pd.DatetimeIndex(time, name="time"),
    )
    frame.attrs["note"] = "real EURUSD ask bars"
    return frame


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the 8-byte signature."""
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(autouse=True)
def _no_figures_left() -> None:
    plt.close("all")
    yield
    assert plt.get_fignums() == []


def test_png_with_default_overlays(bars: pd.DataFrame) -> None:
    png = render_market_chart(bars, symbol="EURUSD", timeframe="H1")
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 50_000  # 150 candles, three overlays and a panel, not a blank canvas
    assert _size(png) == (1280, 900)


def test_levels_and_markers_change_the_picture(bars: pd.DataFrame) -> None:
    plain = render_market_chart(bars, symbol="EURUSD", timeframe="H1", title_note="test")
    t = bars.index[-30].to_pydatetime()
    entry = float(bars["close"].iloc[-30])
    levels = TradeLevels(entry=entry, sl=entry - 0.02, tp=entry + 0.04, side=Side.BUY)
    markers = [
        TradeMarker(t + timedelta(minutes=20), entry, Side.BUY, "entry"),
        TradeMarker(bars.index[-5].to_pydatetime(), float(bars["close"].iloc[-5]), Side.SELL),
        TradeMarker(bars.index[0].to_pydatetime(), 1.0, Side.SELL, "before the window"),
    ]
    drawn = render_market_chart(
        bars, symbol="EURUSD", timeframe="H1", title_note="test", levels=levels, markers=markers
    )
    assert drawn.startswith(PNG_SIGNATURE) and _size(drawn) == (1280, 900)
    assert drawn != plain


def test_minimal_chart_without_indicators(bars: pd.DataFrame) -> None:
    short = bars.iloc[:MIN_BARS]
    png = render_market_chart(
        short, symbol="XAUUSD", timeframe="D1", sma=(), bollinger=None, rsi_period=None
    )
    assert png.startswith(PNG_SIGNATURE) and _size(png) == (1280, 900)
    # Overlays that need more history than given are left out instead of failing.
    assert render_market_chart(short, symbol="XAUUSD", timeframe="D1").startswith(PNG_SIGNATURE)


def test_too_few_bars_is_a_clear_error(bars: pd.DataFrame) -> None:
    with pytest.raises(DataUnavailable) as caught:
        render_market_chart(bars.iloc[:3], symbol="XAUUSD", timeframe="H1")
    assert caught.value.code == "too_few_bars"
    assert str(caught.value) == "a chart needs at least 10 bars, got 3 for XAUUSD H1"
    assert dict(caught.value.params) == {"need": 10, "got": 3}


async def test_async_render_leaves_the_loop_free(bars: pd.DataFrame) -> None:
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    png = await render_market_chart_async(bars, symbol="EURUSD", timeframe="H1", last=60)
    ticks_during_render = ticks
    done.set()
    await task
    assert png.startswith(PNG_SIGNATURE)
    assert ticks_during_render > 0  # a blocking render would not let the ticker run at all


async def test_concurrent_renders_do_not_mix(bars: pd.DataFrame) -> None:
    single = render_market_chart(bars, symbol="EURUSD", timeframe="H1", last=40)
    results = await asyncio.gather(
        *(render_market_chart_async(bars, symbol="EURUSD", timeframe="H1", last=40) for _ in "abc")
    )
    assert all(png == single for png in results)
