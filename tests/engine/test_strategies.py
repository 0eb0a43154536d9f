"""Strategies: parameter parsing, the registry, look-ahead freedom and loop-checked signals."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import BadArguments
from engine.indicators import atr, bollinger, rsi, sma
from engine.strategies import (
    SIGNAL_COLUMNS,
    BbReversion,
    BbReversionParams,
    MaRsi,
    MaRsiParams,
    ParamSpec,
    ReasonCode,
    get_strategy,
    parse_strategy_spec,
    strategy_names,
)
from engine.strategies.base import crossings, fired_text, signal_frame

# The repository's gzip of shared/data/FOREX_EURUSD_1H_ASK.csv (identical: sha256 28398b7e…),
# so the tests do not depend on where shared/ is mounted.
EURUSD_CSV = Path(__file__).resolve().parents[2] / "engine/data/bundled/FOREX_EURUSD_1H_ASK.csv.gz"


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    raw = pd.read_csv(EURUSD_CSV)
    time = pd.to_datetime(raw["Time"], format="%d.%m.%Y %H:%M:%S.%f", utc=True)
    return pd.DataFrame(
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


def _bars(close: list[float], spread: float = 0.5) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=len(close), freq="h", tz="UTC", name="time")
    c = np.asarray(close, float)
    return pd.DataFrame(
        {"open": c, "high": c + spread, "low": c - spread, "close": c, "volume": 1.0, "spread": 0},
        index=index,
    )


CASES = [
    (MaRsi(), MaRsiParams()),
    (MaRsi(), MaRsiParams(fast=5, slow=12, rsi_period=7, atr_period=30)),
    (BbReversion(), BbReversionParams()),
    (BbReversion(), BbReversionParams(period=10, k=1.5, atr_period=20)),
]


# ----------------------------------------------------------------- parameters


@pytest.mark.parametrize("params_type", [MaRsiParams, BbReversionParams])
def test_specs_describe_the_dataclass(params_type: type) -> None:
    names = [f.name for f in fields(params_type)]
    assert [s.name for s in params_type.SPECS] == names
    defaults = params_type()
    for spec in params_type.SPECS:
        value = getattr(defaults, spec.name)
        assert value == spec.default and type(value) is spec.type, spec.name
        assert spec.min <= spec.default <= spec.max, spec.name
        assert spec.default in spec.grid(), spec.name
        assert spec.help


def test_param_spec_grid_and_rule() -> None:
    spec = ParamSpec("sl_atr", float, 1.5, 0.5, 2.0, 0.25, "stop in ATRs")
    assert spec.grid() == (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
    assert ParamSpec("fast", int, 20, 2, 11, 3, "").grid() == (2, 5, 8, 11)
    assert spec.rule() == "sl_atr must be a number between 0.5 and 2"


def test_parse_params_applies_overrides() -> None:
    params = MaRsi().parse_params({"fast": "10", "sl_atr": "2", "rsi_buy_max": "65.5"})
    assert params == MaRsiParams(fast=10, sl_atr=2.0, rsi_buy_max=65.5)
    assert isinstance(params.sl_atr, float)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fast": "1"}, "fast must be an integer between 2 and 200, got 1"),
        ({"fast": "abc"}, "fast must be an integer between 2 and 200, got 'abc'"),
        ({"fast": "10.5"}, "fast must be an integer between 2 and 200, got '10.5'"),
        ({"sl_atr": "nan"}, "sl_atr must be a number between 0.25 and 10, got nan"),
        ({"tp_atr": "25"}, "tp_atr must be a number between 0.25 and 20, got 25.0"),
        ({"fast": "60"}, "fast must be less than slow, got fast=60 slow=50"),
        ({"fast": "50"}, "fast must be less than slow, got fast=50 slow=50"),
    ],
)
def test_parse_params_refuses_with_the_rule(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(BadArguments) as caught:
        MaRsi().parse_params(overrides)
    assert str(caught.value) == message
    assert caught.value.params["name"] in overrides


def test_out_of_range_error_carries_the_range() -> None:
    with pytest.raises(BadArguments) as caught:
        BbReversion().parse_params({"k": "9"})
    err = caught.value
    assert err.code == "param_out_of_range"
    assert dict(err.params) == {
        "name": "k", "type": "float", "min": 1.0, "max": 4.0, "value": "9.0"
    }  # fmt: skip


def test_params_validate_when_built_directly() -> None:
    with pytest.raises(BadArguments, match="fast must be less than slow"):
        MaRsiParams(fast=30, slow=20)
    with pytest.raises(BadArguments, match="period must be an integer between 5 and 200"):
        BbReversionParams(period=2)
    with pytest.raises(BadArguments, match="atr_period must be an integer"):
        MaRsiParams(atr_period=14.0)  # type: ignore[arg-type]


def test_as_tokens_round_trips() -> None:
    params = MaRsiParams(fast=10, sl_atr=1.75)
    assert params.as_tokens().startswith("fast=10 slow=50 rsi_period=14 rsi_buy_max=70 ")
    strategy, again = parse_strategy_spec(["strategy=ma_rsi", *params.as_tokens().split()])
    assert strategy.name == "ma_rsi" and again == params


# ----------------------------------------------------------------- registry


def test_registry_names_and_lookup() -> None:
    assert strategy_names() == ("ma_rsi", "bb_reversion")
    assert isinstance(get_strategy("MA_RSI"), MaRsi)
    assert get_strategy("bb_reversion").params_type is BbReversionParams
    for name in strategy_names():
        assert get_strategy(name).description


def test_parse_strategy_spec() -> None:
    strategy, params = parse_strategy_spec(["strategy=ma_rsi", "fast=10"])
    assert strategy.name == "ma_rsi" and params == MaRsiParams(fast=10)
    strategy, params = parse_strategy_spec(["K=2.5", "Strategy=bb_reversion"])
    assert strategy.name == "bb_reversion" and params == BbReversionParams(k=2.5)
    strategy, params = parse_strategy_spec([])
    assert strategy.name == "ma_rsi" and params == MaRsiParams()


@pytest.mark.parametrize(
    ("tokens", "code", "message"),
    [
        (["strategy=turtle"], "unknown_strategy", "unknown strategy 'turtle'; valid: ma_rsi, "),
        (["fats=10"], "unknown_param", "unknown parameter 'fats' for ma_rsi; valid: fast, slow"),
        (["fast"], "bad_token", "expected name=value, got 'fast'"),
        (["fast="], "bad_token", "expected name=value, got 'fast='"),
        (["fast=10", "FAST=12"], "duplicate_param", "fast is given twice"),
        (["strategy=bb_reversion", "fast=10"], "unknown_param", "for bb_reversion; valid: peri"),
    ],
)
def test_parse_strategy_spec_refusals(tokens: list[str], code: str, message: str) -> None:
    with pytest.raises(BadArguments) as caught:
        parse_strategy_spec(tokens)
    assert caught.value.code == code
    assert message in str(caught.value)


# ----------------------------------------------------------------- look-ahead and warm-up


@pytest.mark.parametrize(("strategy", "params"), CASES)
@pytest.mark.parametrize("cut", [13, 21, 51, 52, 300, 2_000])
def test_signal_row_ignores_later_bars(
    eurusd: pd.DataFrame, strategy: MaRsi | BbReversion, params: MaRsiParams, cut: int
) -> None:
    full = strategy.signals(eurusd, params)
    prefix = strategy.signals(eurusd.iloc[:cut], params)
    pd.testing.assert_series_equal(prefix.iloc[-1], full.iloc[cut - 1], check_exact=True)
    pd.testing.assert_frame_equal(prefix, full.iloc[:cut], check_exact=True)


@pytest.mark.parametrize(("strategy", "params"), CASES)
def test_frame_shape_and_warmup(
    eurusd: pd.DataFrame, strategy: MaRsi | BbReversion, params: MaRsiParams
) -> None:
    sig = strategy.signals(eurusd, params)
    assert tuple(sig.columns[:5]) == SIGNAL_COLUMNS
    assert tuple(sig.columns[5:]) == strategy.indicator_columns
    assert sig.index.equals(eurusd.index)
    assert sig["side"].dtype == np.int64 and set(sig["side"].unique()) == {-1, 0, 1}
    warm = strategy.warmup(params)
    # Every input a signal needs is defined on bar warm - 1 and something is missing before.
    needed = sig[list(strategy.indicator_columns)].shift(0)
    if isinstance(strategy, MaRsi):
        needed = needed.assign(prev_slow=sig["sma_slow"].shift(1))
    else:
        needed = needed.assign(prev_band=sig["bb_lower"].shift(1))
    assert needed.iloc[warm - 1].notna().all()
    assert needed.iloc[warm - 2].isna().any()
    assert (sig["side"].iloc[: warm - 1] == 0).all()
    fired = sig[sig["side"] != 0]
    assert (fired["sl_dist"] > 0).all() and (fired["tp_dist"] > 0).all()
    np.testing.assert_allclose(fired["sl_dist"], params.sl_atr * fired["atr"], rtol=1e-12)
    np.testing.assert_allclose(fired["tp_dist"], params.tp_atr * fired["atr"], rtol=1e-12)
    assert (fired["reason"].str.len() > 10).all()
    assert (sig.loc[sig["side"] == 0, "reason"] == "").all()
    assert (sig.loc[sig["side"] == 0, "reason_code"] == "").all()


def test_too_few_bars_give_no_signal() -> None:
    sig = MaRsi().signals(_bars([1.0, 2.0, 3.0]), MaRsiParams())
    assert sig["side"].tolist() == [0, 0, 0] and sig["sl_dist"].isna().all()


@pytest.mark.parametrize(("strategy", "params"), CASES)
def test_live_window_of_lookback_bars_matches_backtest(
    eurusd: pd.DataFrame, strategy: MaRsi | BbReversion, params: MaRsiParams
) -> None:
    full = strategy.signals(eurusd, params)
    n = strategy.lookback(params)
    assert n > strategy.warmup(params)
    for end in (1_500, 4_000, len(eurusd)):
        live = strategy.signals(eurusd.iloc[end - n : end], params).iloc[-1]
        row = full.iloc[end - 1]
        assert live["side"] == row["side"] and live["reason_code"] == row["reason_code"]
        for col in ("sl_dist", "tp_dist", *strategy.indicator_columns):
            assert live[col] == pytest.approx(row[col], rel=1e-8, nan_ok=True), col


# ----------------------------------------------------------------- rules vs plain loops


def loop_ma_rsi(bars: pd.DataFrame, p: MaRsiParams) -> list[int]:
    close = bars["close"]
    fast, slow = sma(close, p.fast).tolist(), sma(close, p.slow).tolist()
    strength, unit = rsi(close, p.rsi_period).tolist(), atr(bars, p.atr_period).tolist()
    sides, state = [], 0
    for i in range(len(close)):
        prev = state
        diff = fast[i] - slow[i]
        if diff > 0:
            state = 1
        elif diff < 0:
            state = -1
        side = 0
        if prev != 0 and state != prev and unit[i] > 0:
            if state == 1 and strength[i] < p.rsi_buy_max:
                side = 1
            elif state == -1 and strength[i] > p.rsi_sell_min:
                side = -1
        sides.append(side)
    return sides


def loop_bb_reversion(bars: pd.DataFrame, p: BbReversionParams) -> list[int]:
    close = bars["close"].tolist()
    bands = bollinger(bars["close"], p.period, p.k)
    lower, upper = bands["lower"].tolist(), bands["upper"].tolist()
    unit = atr(bars, p.atr_period).tolist()
    sides = [0]
    for i in range(1, len(close)):
        side = 0
        if unit[i] > 0 and close[i - 1] < lower[i - 1] and close[i] >= lower[i]:
            side = 1
        elif unit[i] > 0 and close[i - 1] > upper[i - 1] and close[i] <= upper[i]:
            side = -1
        sides.append(side)
    return sides


@pytest.mark.parametrize(("strategy", "params"), CASES)
def test_sides_match_loop_on_eurusd(
    eurusd: pd.DataFrame, strategy: MaRsi | BbReversion, params: MaRsiParams
) -> None:
    sides = strategy.signals(eurusd, params)["side"].tolist()
    loop = loop_ma_rsi if isinstance(strategy, MaRsi) else loop_bb_reversion
    expected = loop(eurusd, params)  # type: ignore[operator]
    assert sides == expected
    assert sum(s != 0 for s in sides) > 20  # the comparison covers many real signals


V_SHAPE = [12.0, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 2, 4, 6, 8]


def test_ma_rsi_hand_built_cross() -> None:
    # SMA3 vs SMA5 on a V: on bar 13 SMA3 = (1+2+4)/3 = 2.333 < SMA5 = (3+2+1+2+4)/5 = 2.4;
    # on bar 14 SMA3 = (2+4+6)/3 = 4 > SMA5 = (2+1+2+4+6)/5 = 3, the first close above.
    params = MaRsiParams(fast=3, slow=5, rsi_period=3, atr_period=3, rsi_buy_max=100.0)
    sig = MaRsi().signals(_bars(V_SHAPE), params)
    assert sig["side"].tolist() == [0] * 14 + [1, 0]
    row = sig.iloc[14]
    assert row["sma_fast"] == pytest.approx(4.0) and row["sma_slow"] == pytest.approx(3.0)
    assert row["reason_code"] == ReasonCode.MA_CROSS_UP
    assert row["reason"] == f"SMA3 crossed above SMA5, RSI {row['rsi']:.1f} < 100"
    assert row["sl_dist"] == pytest.approx(1.5 * row["atr"])
    assert row["tp_dist"] == pytest.approx(3.0 * row["atr"])
    fields_ = MaRsi().reason_fields(row, params)
    assert fields_["fast"] == 3 and fields_["rsi_buy_max"] == 100.0
    assert fields_["rsi"] == pytest.approx(row["rsi"])


def test_ma_rsi_filter_blocks_overbought_cross() -> None:
    params = MaRsiParams(fast=3, slow=5, rsi_period=3, atr_period=3)
    sig = MaRsi().signals(_bars(V_SHAPE), params)
    assert sig["rsi"].iloc[14] > 70  # three strong up closes in a row
    assert (sig["side"] == 0).all()


def test_bb_reversion_hand_built_reentry() -> None:
    # A +-0.1 wiggle around 100, a drop to 90, then back to 100. With period 5 one outlier is at
    # most 4/sqrt(5) = 1.79 deviations from the mean, so k = 1.5: on bar 20 the window
    # 99.9, 100.1, 99.9, 100.1, 90 has mean 98 and deviation 4.001, lower band 92.0 > 90.
    close = [100.0 + (0.1 if i % 2 else -0.1) for i in range(20)] + [90.0, 100.0, 100.1]
    params = BbReversionParams(period=5, k=1.5, atr_period=3)
    sig = BbReversion().signals(_bars(close), params)
    assert sig["bb_lower"].iloc[20] == pytest.approx(98.0 - 1.5 * math.sqrt(80.04 / 5))
    assert sig["side"].tolist() == [0] * 21 + [1, 0]
    row = sig.iloc[21]
    assert row["bb_lower"] < 100.0 < row["bb_upper"]
    assert row["reason_code"] == ReasonCode.BB_REENTRY_LOW
    assert row["reason"] == f"Close 100 back above BB(5, 1.5) lower band {row['bb_lower']:.6g}"


def test_bb_reversion_sells_the_mirror_image() -> None:
    close = [100.0 + (0.1 if i % 2 else -0.1) for i in range(20)] + [110.0, 100.0, 99.9]
    sig = BbReversion().signals(_bars(close), BbReversionParams(period=5, k=1.5, atr_period=3))
    assert sig["side"].tolist() == [0] * 21 + [-1, 0]
    assert sig["reason_code"].iloc[21] == ReasonCode.BB_REENTRY_HIGH


def test_crossings_ignore_touches() -> None:
    diff = pd.Series([np.nan, -1.0, 0.0, -1.0, 0.0, 1.0, 0.0, 1.0, -2.0])
    up, down = crossings(diff)
    assert up.tolist() == [False] * 5 + [True, False, False, False]
    assert down.tolist() == [False] * 8 + [True]


def test_signal_frame_needs_a_positive_stop() -> None:
    index = pd.RangeIndex(3)
    buy = pd.Series([True, True, False], index=index)
    sell = pd.Series([False, False, True], index=index)
    unit = pd.Series([0.0, 2.0, math.nan], index=index)
    text = pd.Series(["b", "b", "s"], index=index)
    frame = signal_frame(
        buy=buy,
        sell=sell,
        stop_unit=unit,
        sl_mult=1.5,
        tp_mult=3.0,
        codes=(ReasonCode.MA_CROSS_UP, ReasonCode.MA_CROSS_DOWN),
        reasons=(text, text),
        indicators={"atr": unit},
    )
    assert frame["side"].tolist() == [0, 1, 0]
    assert frame["reason"].tolist() == ["", "b", ""]
    assert frame["sl_dist"].iloc[1] == 3.0 and frame["tp_dist"].iloc[1] == 6.0
    assert frame["sl_dist"].isna().tolist() == [True, False, True]


def test_crossings_equal_pandas_forward_fill_formulation() -> None:
    rng = np.random.default_rng(4)
    diff = rng.integers(-2, 3, 2_000).astype(float)  # a fifth exact zeros: touches
    diff[rng.random(2_000) < 0.05] = np.nan
    diff[:7] = np.nan
    # The sign carried forward over zeros and gaps, then compared with the bar before.
    state = np.sign(pd.Series(diff)).replace(0.0, np.nan).ffill()
    prev = state.shift(1)
    up, down = crossings(diff)
    assert up.tolist() == ((state > 0) & (prev < 0)).tolist()
    assert down.tolist() == ((state < 0) & (prev > 0)).tolist()
    assert up.sum() > 100 and down.sum() > 100
    same_from_series = crossings(pd.Series(diff))
    assert same_from_series[0].tolist() == up.tolist()


def test_fired_text_formats_only_fired_rows() -> None:
    mask = np.array([False, True, False, True])
    price = np.array([1.0, 2.5, 3.0, 4.25])
    text = fired_text(mask, "{name} at {price:.2f} x{k:g}", name="buy", k=1.5, price=price)
    assert text.tolist() == ["", "buy at 2.50 x1.5", "", "buy at 4.25 x1.5"]
    # Series are read positionally like arrays; a template without per-row values works too.
    text = fired_text(pd.Series(mask), "{p:.1f}", p=pd.Series(price, index=[9, 8, 7, 6]))
    assert text.tolist() == ["", "2.5", "", "4.2"]
    assert fired_text(mask, "{side}", side="sell").tolist() == ["", "sell", "", "sell"]
    assert fired_text(np.zeros(3, dtype=bool), "{p}", p=price[:3]).tolist() == ["", "", ""]


@pytest.mark.parametrize(("strategy", "params"), CASES)
def test_signals_frame_owns_its_memory(
    eurusd: pd.DataFrame, strategy: MaRsi | BbReversion, params: MaRsiParams
) -> None:
    bars = eurusd.iloc[:400]
    sig = strategy.signals(bars, params)
    for column in ("open", "high", "low", "close"):
        source = bars[column].to_numpy()
        assert not any(np.shares_memory(sig[c].to_numpy(), source) for c in sig.columns)
