"""Period and request parsing, good and bad, and how periods map onto the data's real range."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.backtest.optimize import OptimizeRequest
from engine.backtest.period import Period, resolve_period
from engine.backtest.request import BacktestRequest, CompareRequest
from engine.errors import BadArguments, DataUnavailable
from engine.models import Timeframe

M15 = Timeframe.M15
# The bundled XAUUSD M15 series: first bar 2018-03-13 22:00, last bar 2020-03-13 20:45 UTC.
FIRST = datetime(2018, 3, 13, 22, 0, tzinfo=UTC)
LAST = datetime(2020, 3, 13, 20, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [("90d", 90, "d"), ("12w", 12, "w"), ("6m", 6, "m"), ("1y", 1, "y"), ("3D", 3, "d")],
)
def test_relative_periods(text: str, amount: int, unit: str) -> None:
    period = Period.parse(text)
    assert (period.amount, period.unit, period.relative) == (amount, unit, True)


def test_absolute_period_includes_both_days() -> None:
    period = Period.parse("2025-01-01..2025-03-31")
    assert (period.first_day, period.last_day) == (date(2025, 1, 1), date(2025, 3, 31))
    window = resolve_period(
        period,
        first_bar=datetime(2024, 1, 1, tzinfo=UTC),
        last_bar=datetime(2026, 1, 1, tzinfo=UTC),
        timeframe=M15,
    )
    assert window.start == datetime(2025, 1, 1, tzinfo=UTC)
    assert window.end == datetime(2025, 4, 1, tzinfo=UTC)  # exclusive: all of March 31
    assert not window.clipped


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("90", "bad_period"),
        ("0d", "bad_period"),
        ("90x", "bad_period"),
        ("200y", "bad_period"),
        ("2025-02-30..2025-03-01", "bad_period"),
        ("2025-03-01..2025-01-01", "period_order"),
        ("2025-01-01-2025-02-01", "bad_period"),
    ],
)
def test_bad_periods(text: str, code: str) -> None:
    with pytest.raises(BadArguments) as err:
        Period.parse(text)
    assert err.value.code == code
    assert text in str(err.value)


def test_relative_period_ends_at_the_datas_last_bar() -> None:
    # 90d on the bundled gold series means its last 90 days, not the 90 days before today.
    window = resolve_period(Period.parse("90d"), first_bar=FIRST, last_bar=LAST, timeframe=M15)
    assert window.end == datetime(2020, 3, 13, 21, 0, tzinfo=UTC)  # the last bar's close
    assert window.start == datetime(2019, 12, 14, 21, 0, tzinfo=UTC)
    assert not window.clipped
    months = resolve_period(Period.parse("6m"), first_bar=FIRST, last_bar=LAST, timeframe=M15)
    assert months.start == datetime(2019, 9, 13, 21, 0, tzinfo=UTC)  # calendar months


def test_period_longer_than_the_data_is_clipped_and_says_so() -> None:
    window = resolve_period(Period.parse("5y"), first_bar=FIRST, last_bar=LAST, timeframe=M15)
    assert window.start == FIRST and window.clipped
    assert "data starts 2018-03-13 22:00" in window.note


def test_period_outside_the_data_names_what_exists() -> None:
    with pytest.raises(DataUnavailable) as err:
        resolve_period(
            Period.parse("2021-01-01..2021-02-01"), first_bar=FIRST, last_bar=LAST, timeframe=M15
        )
    assert "2018-03-13 22:00..2020-03-13 21:00" in str(err.value)


def test_backtest_request_full_syntax() -> None:
    request = BacktestRequest.parse(
        "xauusd 90d h1 strategy=ma_rsi fast=10 slow=40 lots=0.1 gates=off spread=25"
    )
    assert (request.symbol, request.timeframe, request.strategy.name) == (
        "XAUUSD",
        Timeframe.H1,
        "ma_rsi",
    )
    assert (request.params.fast, request.params.slow) == (10, 40)
    assert request.options.lots == 0.1 and request.options.gates is False
    assert request.options.spread_points == 25
    default = BacktestRequest.parse(["EURUSD", "12w"])
    assert default.timeframe is None and default.strategy.name == "ma_rsi"
    assert BacktestRequest.parse("XAUUSD 1y risk=0.5%").options.risk_pct == pytest.approx(0.005)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "missing_symbol"),
        ("XAUUSD", "missing_period"),
        ("XAUUSD 90d M7", "bad_timeframe"),
        ("XAUUSD ninety", "bad_period"),
        ("XA/USD 90d", "bad_symbol"),
        ("XAUUSD 90d strategy=nope", "unknown_strategy"),
        ("XAUUSD 90d fast=1", "param_out_of_range"),
        ("XAUUSD 90d fast=60 slow=50", "param_order"),
        ("XAUUSD 90d wobble=3", "unknown_param"),
        ("XAUUSD 90d risk=10%", "bad_option"),
        ("XAUUSD 90d lots=0.1 risk=1%", "bad_option"),
        ("XAUUSD 90d gates=maybe", "bad_option"),
        ("XAUUSD 90d fast=", "bad_token"),
        ("XAUUSD 90d M15 extra", "bad_token"),
    ],
)
def test_backtest_request_refusals(text: str, code: str) -> None:
    with pytest.raises(BadArguments) as err:
        BacktestRequest.parse(text)
    assert err.value.code == code


def test_compare_request() -> None:
    request = CompareRequest.parse("XAUUSD 90d M15 ma_rsi bb_reversion gates=off")
    assert [s.name for s in request.strategies] == ["ma_rsi", "bb_reversion"]
    assert request.timeframe is Timeframe.M15 and request.options.gates is False
    with pytest.raises(BadArguments) as err:
        CompareRequest.parse("XAUUSD 90d ma_rsi")
    assert err.value.code == "compare_count"
    with pytest.raises(BadArguments) as err:
        CompareRequest.parse("XAUUSD 90d ma_rsi nope")
    assert err.value.code == "unknown_strategy"


def test_optimize_request_ranges() -> None:
    request = OptimizeRequest.parse("XAUUSD 1y fast=5..20:5 slow=40,60 sl_atr=1..2 metric=calmar")
    axes = {a.name: a.values for a in request.axes}
    assert axes == {
        "fast": (5, 10, 15, 20),
        "slow": (40, 60),
        "sl_atr": (1.0, 1.25, 1.5, 1.75, 2.0),
    }
    assert request.metric == "calmar" and request.split == 0.7
    points, broken = request.points()
    assert len(points) == 4 * 2 * 5 and broken == 0
    narrow = OptimizeRequest.parse("XAUUSD 1y fast=30..60:10 slow=50")
    points, broken = narrow.points()
    assert [p.fast for p in points] == [30, 40] and broken == 2  # fast 50, 60 >= slow 50


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("XAUUSD 1y fast=10", "no_grid"),
        ("XAUUSD 1y fast=1..10:1", "param_out_of_range"),
        ("XAUUSD 1y fast=10..5", "bad_range"),
        ("XAUUSD 1y fast=5..20:0", "bad_range"),
        ("XAUUSD 1y fast=5..20:5 metric=luck", "unknown_metric"),
        ("XAUUSD 1y fast=5..20:5 split=0.95", "bad_option"),
        ("XAUUSD 1y fast=2..200:1 slow=5..400:1", "grid_too_big"),
        ("XAUUSD 1y k=1..2", "unknown_param"),
    ],
)
def test_optimize_request_refusals(text: str, code: str) -> None:
    with pytest.raises(BadArguments) as err:
        OptimizeRequest.parse(text)
    assert err.value.code == code
