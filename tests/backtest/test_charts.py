"""Backtest charts: phone-sized PNGs, honest titles, no leaked pyplot figures, and the monthly
returns table behind the heatmap."""

from __future__ import annotations

import struct

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from engine.backtest import BacktestConfig, run_backtest
from engine.backtest.charts import (
    headline,
    monthly_returns,
    render_comparison,
    render_equity,
    render_heatmap,
    render_returns,
    render_trades,
)
from engine.backtest.runner import BacktestResult
from engine.data.bundled_series import load_bundled
from engine.models import Timeframe
from engine.strategies import get_strategy
from engine.symbols import XAUUSD

PNG = b"\x89PNG\r\n\x1a\n"


def size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG)
    width, height = struct.unpack(">II", png[16:24])  # IHDR
    return width, height


@pytest.fixture(scope="module")
def run() -> tuple[pd.DataFrame, BacktestResult]:
    bars = load_bundled("XAUUSD", Timeframe.M15)
    bars = bars[bars.index >= pd.Timestamp("2019-11-01", tz="UTC")]
    strategy = get_strategy("ma_rsi")
    result = run_backtest(
        bars,
        strategy,
        strategy.default_params(),
        XAUUSD,
        BacktestConfig(gates=()),
        start_index=400,
        timeframe=Timeframe.M15,
    )
    return bars, result


def test_every_chart_is_a_phone_sized_png(run: tuple[pd.DataFrame, BacktestResult]) -> None:
    bars, result = run
    pngs = [
        render_equity(result),
        render_returns(result),
        render_trades(bars, result, sma=(20, 50), rsi_period=14),
        render_comparison({"a": result, "b": result}),
    ]
    assert [size(p) for p in pngs] == [(1280, 900)] * 4
    assert plt.get_fignums() == []  # the candle chart closes its pyplot figure


def test_titles_carry_the_data_label(run: tuple[pd.DataFrame, BacktestResult]) -> None:
    _, result = run
    text = headline(result)
    assert text.startswith("XAUUSD M15 ma_rsi, 2019-11-")
    assert text.endswith("\nsimulated intraday from real daily closes")


def test_monthly_returns_table() -> None:
    # 10,000 at the start; month ends: Jan 10,500 (+5%), Feb 10,290 (-2%), Mar 10,290 (0%).
    index = pd.DatetimeIndex(
        ["2024-01-01", "2024-01-15", "2024-01-31", "2024-02-29", "2024-03-30"], tz="UTC"
    )
    equity = pd.Series([10_000, 10_200, 10_500, 10_290, 10_290], index=index, dtype=float)
    table = monthly_returns(equity)
    assert list(table.index) == [2024] and list(table.columns) == list(range(1, 13))
    assert table.loc[2024, 1] == pytest.approx(5.0)
    assert table.loc[2024, 2] == pytest.approx(-2.0)
    assert table.loc[2024, 3] == pytest.approx(0.0)
    assert table.loc[2024, 4:].isna().all()


def test_heatmap_panels() -> None:
    table = pd.DataFrame([[1.0, 2.0], [float("nan"), -1.0]], index=[40, 60], columns=[10, 20])
    png = render_heatmap(
        [("in sample", table), ("out of sample", -table)],
        x="fast",
        y="slow",
        metric="sharpe",
        title="XAUUSD M15 ma_rsi",
        note="simulated intraday from real daily closes",
    )
    assert size(png) == (1280, 900)
