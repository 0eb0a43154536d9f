"""Metrics on a hand-made trade list and equity curve; expected values worked out by hand."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from engine.backtest.metrics import compute_metrics, daily_returns, drawdown

T0 = pd.Timestamp("2024-01-01 00:00", tz="UTC")  # a Monday
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)

# Seven trades: win, loss, win, loss, loss, scratch, win.
NETS = [100.0, -50.0, 200.0, -50.0, -50.0, 0.0, 30.0]
RISK = [50.0, 50.0, 50.0, 50.0, 50.0, 50.0, 0.0]  # the last had no stop: no R multiple


def trades() -> pd.DataFrame:
    entry = [T0 + k * DAY + HOUR for k in range(7)]
    held = [2, 4, 6, 1, 3, 2, 10]  # hours
    return pd.DataFrame(
        {
            "entry_time": entry,
            "exit_time": [e + h * HOUR for e, h in zip(entry, held, strict=True)],
            "net": NETS,
            "r_multiple": [n / r if r else np.nan for n, r in zip(NETS, RISK, strict=True)],
        }
    )


def equity() -> pd.Series:
    # The initial balance at the period's open, then one close a day (23:00) for 7 days.
    values = [10_000, 10_100, 10_050, 10_250, 10_200, 10_150, 10_150, 10_180]
    index = [T0] + [T0 + k * DAY + 23 * HOUR for k in range(7)]
    return pd.Series(values, index=pd.DatetimeIndex(index), dtype=float)


@pytest.fixture
def metrics():  # type: ignore[no-untyped-def]
    eq = equity()
    return compute_metrics(
        trades(), eq, initial=10_000.0, start=T0, end=eq.index[-1], exposure_pct=12.5
    )


def test_trade_statistics(metrics) -> None:  # type: ignore[no-untyped-def]
    assert (metrics.trades, metrics.wins, metrics.losses) == (7, 3, 3)
    assert metrics.win_rate_pct == pytest.approx(3 / 7 * 100)
    assert metrics.profit_factor == pytest.approx(330 / 150)  # (100+200+30) / (3 x 50)
    assert metrics.expectancy == pytest.approx(180 / 7)
    # R multiples: 2, -1, 4, -1, -1, 0 (the seventh had no stop) -> mean 0.5
    assert metrics.expectancy_r == pytest.approx(0.5)
    assert (metrics.avg_win, metrics.avg_loss) == (pytest.approx(110.0), pytest.approx(-50.0))
    assert metrics.payoff_ratio == pytest.approx(2.2)
    assert (metrics.best_trade, metrics.worst_trade) == (200.0, -50.0)
    # W L W L L 0 W: longest win streak 1, loss streak 2 (the scratch breaks nothing new).
    assert (metrics.max_win_streak, metrics.max_loss_streak) == (1, 2)
    # Holding 2+4+6+1+3+2+10 = 28 hours over 7 trades = 4 hours.
    assert metrics.avg_holding == timedelta(hours=4)


def test_money_and_period(metrics) -> None:  # type: ignore[no-untyped-def]
    assert metrics.net_profit == 180.0
    assert metrics.return_pct == pytest.approx(1.8)
    days = 6 + 23 / 24  # T0 to the last close, 2024-01-07 23:00
    assert metrics.days == pytest.approx(days)
    assert metrics.cagr_pct is None  # a week is too short to annualise
    assert metrics.trades_per_week == pytest.approx(7 / (days / 7))
    assert metrics.exposure_pct == 12.5


def test_drawdown_money_percent_and_duration(metrics) -> None:  # type: ignore[no-untyped-def]
    # Peaks 10,100 then 10,250; the deepest fall is 10,250 -> 10,150 = 100 (0.9756%), never
    # recovered: from the 10,250 close (day 3) to the end (day 7) = 4 days.
    assert metrics.max_drawdown == 100.0
    assert metrics.max_drawdown_pct == pytest.approx(100 / 10_250 * 100)
    assert metrics.max_drawdown_duration == timedelta(days=4)
    assert metrics.max_drawdown_recovered is False
    assert metrics.calmar is None  # no CAGR for a week


def test_cagr_and_calmar_over_a_year() -> None:
    # 10,000 -> 9,000 (-10% drawdown) -> 12,100 over two years of 365.25 days: CAGR 10%.
    start = pd.Timestamp("2022-01-01", tz="UTC")
    index = pd.DatetimeIndex(
        [start, start + pd.Timedelta(days=300), start + pd.Timedelta(days=730.5)]
    )
    equity = pd.Series([10_000.0, 9_000.0, 12_100.0], index=index)
    empty = trades().iloc[0:0]
    m = compute_metrics(
        empty, equity, initial=10_000.0, start=start, end=index[-1], exposure_pct=0
    )
    assert m.cagr_pct == pytest.approx(10.0)
    assert m.max_drawdown_pct == pytest.approx(10.0)
    assert m.calmar == pytest.approx(1.0)


def test_drawdown_recovery_and_money_vs_percent_peaks() -> None:
    # Fall 1: 100 -> 90 (10 money, 10%); recovered at 120; fall 2: 1,000 -> 950 (50, 5%).
    index = pd.date_range("2024-01-01", periods=7, freq="D", tz="UTC")
    series = pd.Series([100, 90, 95, 120, 1000, 950, 960], index=index, dtype=float)
    money, pct, duration, recovered = drawdown(series)
    assert money == 50.0 and pct == pytest.approx(10.0)
    assert duration == timedelta(days=3) and recovered  # day 0 -> back above 100 on day 3


def test_sharpe_and_sortino_from_daily_closes(metrics) -> None:  # type: ignore[no-untyped-def]
    closes = [10_100, 10_050, 10_250, 10_200, 10_150, 10_150, 10_180]
    previous = [10_000, *closes[:-1]]
    r = np.array([c / p - 1 for c, p in zip(closes, previous, strict=True)])
    np.testing.assert_allclose(daily_returns(equity(), 10_000.0), r)
    sharpe = r.mean() / r.std(ddof=1) * math.sqrt(252)
    downside = math.sqrt(np.mean(np.minimum(r, 0) ** 2))
    assert metrics.sharpe == pytest.approx(sharpe)
    assert metrics.sortino == pytest.approx(r.mean() / downside * math.sqrt(252))
    assert metrics.sharpe > 0  # +1.8% over the week


def test_undefined_values_are_none_and_json_is_safe() -> None:
    eq = equity()
    empty = trades().iloc[0:0]
    m = compute_metrics(empty, eq, initial=10_000.0, start=T0, end=eq.index[-1], exposure_pct=0)
    assert m.trades == 0
    assert m.win_rate_pct is None and m.profit_factor is None and m.expectancy is None
    assert m.avg_holding is None and m.best_trade is None
    only_wins = trades().iloc[[0, 2]]
    m = compute_metrics(
        only_wins, eq, initial=10_000.0, start=T0, end=eq.index[-1], exposure_pct=1
    )
    assert m.profit_factor == math.inf and m.payoff_ratio is None
    data = m.to_json()
    assert data["profit_factor"] == "inf"
    assert data["max_drawdown_duration_s"] == 4 * 86_400
    assert m.get("max_drawdown_duration") == 4.0
