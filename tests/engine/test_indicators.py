"""Indicators against published worked examples, TA-Lib outputs and plain-Python loops.

Sources of the pinned numbers:
- StockCharts ChartSchool spreadsheets (cs-rsi.xls, cs-atr.xls, cs-bbands.xls), published with
  the RSI, ATR and Bollinger Bands articles at chartschool.stockcharts.com (QQQQ and SPY daily).
- TA-Lib 0.8.2 (``talib.ATR``/``EMA``/``MACD``) run once on those same inputs, outside the
  suite; TA-Lib is not a dependency. Its RSI equals the ChartSchool column to all 4 decimals.
The loop references below are written independently of ``engine.indicators`` and run on the real
EURUSD H1 file in shared/data.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.indicators import atr, bollinger, donchian, ema, macd, rsi, sma, true_range, wilder

# The repository's gzip of shared/data/FOREX_EURUSD_1H_ASK.csv (identical: sha256 28398b7e…),
# so the tests do not depend on where shared/ is mounted.
EURUSD_CSV = Path(__file__).resolve().parents[2] / "engine/data/bundled/FOREX_EURUSD_1H_ASK.csv.gz"

# ChartSchool cs-rsi.xls: QQQQ closes and the 14-period RSI column (first value on bar 14).
RSI_CLOSE = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
    45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
    46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
    43.4205, 42.6628, 43.1314,
]  # fmt: skip
# Hand check of bar 14: the 14 changes sum to gains 3.3374 and losses 1.3943, so the seeds are
# 0.238386 and 0.099593 and RSI = 100 * 3.3374 / (3.3374 + 1.3943) = 70.5328. Bar 15 (change
# -0.2792): gain (0.238386*13 + 0)/14 = 0.221358, loss (0.099593*13 + 0.2792)/14 = 0.112422,
# RSI = 100 * 0.221358 / 0.333780 = 66.3186.
RSI_EXPECTED = [
    70.5328, 66.3186, 66.5498, 69.4063, 66.3552, 57.9749, 62.9296, 63.2571, 56.0593, 62.3771,
    54.7076, 50.4228, 39.9898, 41.4605, 41.8689, 45.4632, 37.3040, 33.0795, 37.7730,
]  # fmt: skip

# ChartSchool cs-atr.xls: QQQQ bars, the True Range column and the 14-period ATR column.
ATR_HIGH = [
    48.70, 48.72, 48.90, 48.87, 48.82, 49.05, 49.20, 49.35, 49.92, 50.19, 50.12, 49.66, 49.88,
    50.19, 50.36, 50.57, 50.65, 50.43, 49.63, 50.33, 50.29, 50.17, 49.32, 48.50, 48.3201, 46.80,
    47.80, 48.39, 48.66, 48.79,
]  # fmt: skip
ATR_LOW = [
    47.79, 48.14, 48.39, 48.37, 48.24, 48.635, 48.94, 48.86, 49.50, 49.87, 49.20, 48.90, 49.43,
    49.725, 49.26, 50.09, 50.30, 49.21, 48.98, 49.61, 49.20, 49.43, 48.08, 47.64, 41.55, 44.2833,
    47.31, 47.20, 47.90, 47.7301,
]  # fmt: skip
ATR_CLOSE = [
    48.16, 48.61, 48.75, 48.63, 48.74, 49.03, 49.07, 49.32, 49.91, 50.13, 49.53, 49.50, 49.75,
    50.03, 50.31, 50.52, 50.41, 49.34, 49.37, 50.23, 49.2375, 49.93, 48.43, 48.18, 46.57, 45.41,
    47.77, 47.72, 48.62, 47.85,
]  # fmt: skip
ATR_TR = [
    0.91, 0.58, 0.51, 0.50, 0.58, 0.415, 0.26, 0.49, 0.60, 0.32, 0.93, 0.76, 0.45, 0.465, 1.10,
    0.48, 0.35, 1.22, 0.65, 0.96, 1.09, 0.9325, 1.85, 0.86, 6.7701, 2.5167, 2.39, 1.19, 0.94,
    1.0599,
]  # fmt: skip
# ChartSchool counts bar 0's high-low range in its seed, so its first ATR sits on bar 13:
# mean(TR[0..13]) = 7.77 / 14 = 0.555.
STOCKCHARTS_ATR = [
    0.555, 0.593929, 0.585791, 0.568949, 0.615452, 0.61792, 0.642354, 0.674329, 0.69277,
    0.775429, 0.78147, 1.209229, 1.30262, 1.38029, 1.366698, 1.336219, 1.316482,
]  # fmt: skip
# TA-Lib 0.8.2 ATR(14) on the same bars: the seed is mean(TR[1..14]) on bar 14. Hand check:
# 7.77 - 0.91 + 1.10 = 7.96, / 14 = 0.568571; bar 15: (0.568571*13 + 0.48) / 14 = 0.562245.
TALIB_ATR = [
    0.568571, 0.562245, 0.547085, 0.59515, 0.599068, 0.624849, 0.658074, 0.677676, 0.761413,
    0.768455, 1.197144, 1.291398, 1.36987, 1.357022, 1.327234, 1.308139,
]  # fmt: skip

# ChartSchool cs-bbands.xls: SPY closes and Bollinger Bands (20, 2) from bar 19.
# Hand check of bar 19: the first 20 closes sum to 1774.1588, mid = 88.70794.
BB_CLOSE = [
    86.1557, 89.0867, 88.7829, 90.3228, 89.0671, 91.1453, 89.4397, 89.1750, 86.9302, 87.6752,
    86.9596, 89.4299, 89.3221, 88.7241, 87.4497, 87.2634, 89.4985, 87.9006, 89.1260, 90.7043,
    92.9001, 92.9784, 91.8021, 92.6647, 92.6843, 92.3021, 92.7725, 92.5373, 92.9490, 93.2039,
    91.0669, 89.8318, 89.7435, 90.3994, 90.7387, 88.0177, 88.0867, 88.8439, 90.7781, 90.5416,
    91.3894, 90.6500,
]  # fmt: skip
BB_MID = [
    88.70794, 89.04516, 89.239745, 89.390705, 89.5078, 89.68866, 89.7465, 89.91314, 90.081255,
    90.382195, 90.65863, 90.863995, 90.88409, 90.90516, 90.988925, 91.153375, 91.19109,
    91.1205, 91.167665, 91.25027, 91.242135, 91.1666, 91.05018,
]  # fmt: skip
BB_UPPER = [
    91.291862, 91.949268, 92.612595, 92.9342, 93.31195, 93.72845, 93.899592, 94.266255,
    94.565096, 94.786912, 95.043001, 94.907605, 94.902912, 94.89532, 94.861013, 94.673629,
    94.556593, 94.678752, 94.575786, 94.534271, 94.532306, 94.369251, 94.148503,
]  # fmt: skip
BB_LOWER = [
    86.124018, 86.141052, 85.866895, 85.84721, 85.70365, 85.64887, 85.593408, 85.560025,
    85.597414, 85.977478, 86.274259, 86.820385, 86.865268, 86.915, 87.116837, 87.633121,
    87.825587, 87.562248, 87.759544, 87.966269, 87.951964, 87.963949, 87.951857,
]  # fmt: skip

# TA-Lib 0.8.2 EMA(10) on RSI_CLOSE from bar 9. Hand check: seed = mean of the first 10 closes
# = 447.7913 / 10 = 44.77913; bar 10: 44.77913 + (2/11) * (45.8931 - 44.77913) = 44.98167.
TALIB_EMA10 = [
    44.77913, 44.98167, 45.172785, 45.253006, 45.440095, 45.593169, 45.667647, 45.734039,
    45.857232, 45.92359, 45.872737, 45.934457, 45.992211, 45.941572, 46.034286, 45.988689,
    45.873436, 45.538048, 45.290821, 45.095781, 44.999675, 44.712552, 44.33987, 44.120148,
]  # fmt: skip
# TA-Lib 0.8.2 MACD(12, 26, 9) on BB_CLOSE, bars 33..41 (signal's first bar is 26 + 9 - 2).
TALIB_MACD = [0.586418, 0.522657, 0.249685, 0.038477, -0.067034, 0.00536, 0.043151, 0.139899,
              0.155121]  # fmt: skip
TALIB_MACD_SIGNAL = [1.002341, 0.906404, 0.77506, 0.627744, 0.488788, 0.392103, 0.322312,
                     0.28583, 0.259688]  # fmt: skip


def _bars(high: list[float], low: list[float], close: list[float]) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=len(close), freq="D", tz="UTC", name="time")
    return pd.DataFrame(
        {"open": close, "high": high, "low": low, "close": close, "volume": 0.0, "spread": 0},
        index=index,
    )


def _published(values: pd.Series, expected: list[float], first: int, tol: float) -> None:
    """Warm-up is NaN up to ``first``; from there the values match ``expected`` within tol."""
    got = values.to_numpy()
    assert np.isnan(got[:first]).all()
    assert len(got) == first + len(expected)
    np.testing.assert_allclose(got[first:], expected, rtol=0, atol=tol)


@pytest.fixture(scope="module")
def eurusd() -> pd.DataFrame:
    raw = pd.read_csv(EURUSD_CSV)
    time = pd.to_datetime(raw["Time"], format="%d.%m.%Y %H:%M:%S.%f", utc=True)
    bars = pd.DataFrame(
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
    assert len(bars) == 6225
    return bars


# ----------------------------------------------------------------- plain-Python references


def loop_sma(x: list[float], n: int) -> list[float]:
    return [math.nan if i < n - 1 else sum(x[i - n + 1 : i + 1]) / n for i in range(len(x))]


def loop_ema(x: list[float], n: int) -> list[float]:
    out = [math.nan] * len(x)
    a = 2 / (n + 1)
    out[n - 1] = sum(x[:n]) / n
    for i in range(n, len(x)):
        out[i] = a * x[i] + (1 - a) * out[i - 1]
    return out


def loop_rsi(x: list[float], n: int) -> list[float]:
    out = [math.nan] * len(x)
    gains = [max(x[i] - x[i - 1], 0.0) for i in range(1, len(x))]
    losses = [max(x[i - 1] - x[i], 0.0) for i in range(1, len(x))]
    ag, al = sum(gains[:n]) / n, sum(losses[:n]) / n
    for i in range(n, len(x)):
        if i > n:
            ag = (ag * (n - 1) + gains[i - 1]) / n
            al = (al * (n - 1) + losses[i - 1]) / n
        out[i] = 50.0 if ag + al == 0 else 100.0 - 100.0 / (1.0 + ag / al) if al else 100.0
    return out


def loop_atr(h: list[float], lo: list[float], c: list[float], n: int) -> list[float]:
    tr = [h[0] - lo[0]] + [
        max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1])) for i in range(1, len(c))
    ]
    out = [math.nan] * len(c)
    out[n] = sum(tr[1 : n + 1]) / n
    for i in range(n + 1, len(c)):
        out[i] = (out[i - 1] * (n - 1) + tr[i]) / n
    return out


def loop_bollinger(x: list[float], n: int, k: float) -> tuple[list[float], list[float]]:
    upper, lower = [math.nan] * len(x), [math.nan] * len(x)
    for i in range(n - 1, len(x)):
        window = x[i - n + 1 : i + 1]
        mean = sum(window) / n
        dev = math.sqrt(sum((v - mean) ** 2 for v in window) / n)
        upper[i], lower[i] = mean + k * dev, mean - k * dev
    return upper, lower


def loop_donchian(h: list[float], lo: list[float], n: int) -> tuple[list[float], list[float]]:
    up = [math.nan if i < n - 1 else max(h[i - n + 1 : i + 1]) for i in range(len(h))]
    dn = [math.nan if i < n - 1 else min(lo[i - n + 1 : i + 1]) for i in range(len(lo))]
    return up, dn


# ----------------------------------------------------------------- published / TA-Lib values


def test_rsi_matches_stockcharts_table() -> None:
    _published(rsi(pd.Series(RSI_CLOSE), 14), RSI_EXPECTED, first=14, tol=5e-5)


def test_true_range_matches_stockcharts_column() -> None:
    tr = true_range(_bars(ATR_HIGH, ATR_LOW, ATR_CLOSE))
    np.testing.assert_allclose(tr.to_numpy(), ATR_TR, rtol=0, atol=1e-9)


def test_wilder_smoothing_reproduces_stockcharts_atr_column() -> None:
    tr = true_range(_bars(ATR_HIGH, ATR_LOW, ATR_CLOSE))
    _published(wilder(tr, 14), STOCKCHARTS_ATR, first=13, tol=5e-7)


def test_atr_follows_talib_seed() -> None:
    _published(atr(_bars(ATR_HIGH, ATR_LOW, ATR_CLOSE), 14), TALIB_ATR, first=14, tol=5e-7)


def test_bollinger_matches_stockcharts_table() -> None:
    bands = bollinger(pd.Series(BB_CLOSE), 20, 2.0)
    _published(bands["mid"], BB_MID, first=19, tol=5e-7)
    _published(bands["upper"], BB_UPPER, first=19, tol=5e-6)
    _published(bands["lower"], BB_LOWER, first=19, tol=5e-6)


def test_ema_is_sma_seeded_like_talib() -> None:
    _published(ema(pd.Series(RSI_CLOSE), 10), TALIB_EMA10, first=9, tol=5e-7)


def test_macd_matches_talib() -> None:
    result = macd(pd.Series(BB_CLOSE), 12, 26, 9)
    np.testing.assert_allclose(result["macd"].iloc[33:], TALIB_MACD, atol=5e-7)
    _published(result["signal"], TALIB_MACD_SIGNAL, first=33, tol=5e-7)
    np.testing.assert_allclose(
        result["histogram"].iloc[33:], np.subtract(TALIB_MACD, TALIB_MACD_SIGNAL), atol=1e-6
    )
    assert result["macd"].first_valid_index() == 25


def test_small_hand_examples() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    # SMA3: (1+2+3)/3 = 2 on bar 2, then 3, 4, 5.
    assert sma(x, 3).tolist()[2:] == [2.0, 3.0, 4.0, 5.0]
    # EMA3, alpha 0.5: seed 2, then 0.5*4 + 0.5*2 = 3, 0.5*5 + 0.5*3 = 4, 5.
    assert ema(x, 3).tolist()[2:] == [2.0, 3.0, 4.0, 5.0]
    bars = _bars([3, 5, 4, 8, 6], [1, 2, 0, 5, 5], [2, 4, 1, 7, 5])
    channel = donchian(bars, 3)
    assert channel["upper"].tolist()[2:] == [5.0, 8.0, 8.0]
    assert channel["lower"].tolist()[2:] == [0.0, 0.0, 0.0]
    assert channel["mid"].tolist()[2:] == [2.5, 4.0, 4.0]


def test_rsi_extremes() -> None:
    assert rsi(pd.Series(np.arange(30.0)), 14).iloc[14:].eq(100.0).all()
    assert rsi(pd.Series(-np.arange(30.0)), 14).iloc[14:].eq(0.0).all()
    assert rsi(pd.Series(np.full(30, 7.0)), 14).iloc[14:].eq(50.0).all()


def test_seed_starts_at_first_valid_value() -> None:
    x = pd.Series([np.nan, np.nan, 1.0, 2.0, 3.0, 4.0])
    assert ema(x, 3).tolist()[4:] == [2.0, 3.0]
    assert np.isnan(ema(x, 3).iloc[:4]).all()
    assert ema(pd.Series([1.0, 2.0]), 3).isna().all()


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_period_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        sma(pd.Series([1.0, 2.0]), bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------- real data vs loops


def test_indicators_match_loops_on_eurusd(eurusd: pd.DataFrame) -> None:
    h, lo, c = (eurusd[k].tolist() for k in ("high", "low", "close"))
    close = eurusd["close"]
    checks = {
        "sma20": (sma(close, 20), loop_sma(c, 20)),
        "ema20": (ema(close, 20), loop_ema(c, 20)),
        "rsi14": (rsi(close, 14), loop_rsi(c, 14)),
        "atr14": (atr(eurusd, 14), loop_atr(h, lo, c, 14)),
    }
    upper, lower = loop_bollinger(c, 20, 2.0)
    bands = bollinger(close, 20, 2.0)
    checks["bb_upper"] = (bands["upper"], upper)
    checks["bb_lower"] = (bands["lower"], lower)
    d_up, d_dn = loop_donchian(h, lo, 20)
    channel = donchian(eurusd, 20)
    checks["dc_upper"] = (channel["upper"], d_up)
    checks["dc_lower"] = (channel["lower"], d_dn)
    # TA-Lib seeds the fast EMA on the slow one's first bar, from the 12 closes ending there.
    fast, slow = [math.nan] * 14 + loop_ema(c[14:], 12), loop_ema(c, 26)
    checks["macd"] = (macd(close)["macd"], [f - s for f, s in zip(fast, slow, strict=True)])
    for name, (got, expected) in checks.items():
        assert got.index.equals(close.index[-len(got) :]), name
        np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_values_ignore_later_bars(eurusd: pd.DataFrame) -> None:
    cut = 1000
    head = eurusd.iloc[:cut]
    pairs = [
        (sma(eurusd["close"], 50), sma(head["close"], 50)),
        (ema(eurusd["close"], 50), ema(head["close"], 50)),
        (rsi(eurusd["close"], 14), rsi(head["close"], 14)),
        (atr(eurusd, 14), atr(head, 14)),
        (bollinger(eurusd["close"])["upper"], bollinger(head["close"])["upper"]),
        (macd(eurusd["close"])["signal"], macd(head["close"])["signal"]),
        (donchian(eurusd)["lower"], donchian(head)["lower"]),
    ]
    for full, prefix in pairs:
        pd.testing.assert_series_equal(full.iloc[:cut], prefix, check_exact=True)


# ----------------------------------------------------------------- numpy kernels vs pandas


def pandas_seeded(values: pd.Series, n: int, alpha: float) -> pd.Series:
    """The TA-Lib seeded recursion spelled with pandas operations only."""
    valid = values.dropna()
    out = pd.Series(np.nan, index=values.index)
    if len(valid) < n:
        return out
    first = values.index.get_loc(valid.index[0])
    tail = values.iloc[first + n - 1 :].copy()
    # A gap inside the seed window makes the seed NaN (ewm then starts at the next value).
    tail.iloc[0] = values.iloc[first : first + n].mean(skipna=False)
    out.iloc[first + n - 1 :] = tail.ewm(alpha=alpha, adjust=False).mean()
    return out


def pandas_rsi(close: pd.Series, n: int) -> pd.Series:
    change = close.astype(float).diff()
    gain = pandas_seeded(change.clip(lower=0.0), n, 1.0 / n)
    loss = pandas_seeded((-change).clip(lower=0.0), n, 1.0 / n)
    total = gain + loss
    return (100.0 * gain / total.where(total > 0.0)).mask(total == 0.0, 50.0)


def pandas_true_range(bars: pd.DataFrame) -> pd.Series:
    prev = bars["close"].shift(1)
    high, low = bars["high"], bars["low"]
    ranges = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1)
    return ranges.max(axis=1)  # skips NaN: bar 0 (no previous close) keeps high - low


def pandas_macd(close: pd.Series, fast: int, slow: int, signal: int) -> pd.DataFrame:
    first = close.index.get_loc(close.first_valid_index())
    late = close.where(np.arange(len(close)) >= first + slow - fast)
    line = pandas_seeded(late, fast, 2 / (fast + 1)) - pandas_seeded(close, slow, 2 / (slow + 1))
    sig = pandas_seeded(line, signal, 2 / (signal + 1))
    return pd.DataFrame({"macd": line, "signal": sig, "histogram": line - sig})


def gappy_bars(seed: int, size: int) -> pd.DataFrame:
    """A 2-decimal random walk (so flat steps and ties occur) with leading NaNs and NaN gaps.

    It opens on a dead market (zero changes: RSI 50, zero deviation) with a gap on bar 10,
    inside the 14-bar seed window, and has random gaps later.
    """
    rng = np.random.default_rng(seed)
    close = np.round(1800.0 + rng.normal(0.0, 0.4, size).cumsum(), 2)
    close[:60] = close[60]
    high = close + np.round(rng.random(size), 2)
    low = close - np.round(rng.random(size), 2)
    for column in (close, high, low):
        column[: 3 + seed % 5] = np.nan
        column[10] = np.nan
        column[rng.random(size) < 0.02] = np.nan
    index = pd.date_range("2024-01-01", periods=size, freq="15min", tz="UTC", name="time")
    return pd.DataFrame({"high": high, "low": low, "close": close}, index=index)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indicators_equal_pandas_formulation_on_gappy_data(seed: int) -> None:
    bars = gappy_bars(seed, 700)
    close = bars["close"]
    assert close.isna().sum() > 5 and (close.diff() == 0).sum() > 40
    assert (rsi(close, 5) == 50.0).sum() > 40  # the flat opening is covered
    for n in (2, 5, 14):
        pairs = {
            "sma": (sma(close, n), close.rolling(n).mean()),
            "ema": (ema(close, n), pandas_seeded(close, n, 2.0 / (n + 1))),
            "wilder": (wilder(close, n), pandas_seeded(close, n, 1.0 / n)),
            "rsi": (rsi(close, n), pandas_rsi(close, n)),
        }
        for name, (got, expected) in pairs.items():
            # Bit for bit: the numpy arithmetic does the same float operations in the same order.
            pd.testing.assert_series_equal(
                got, expected, check_exact=True, check_names=False, obj=f"{name}{n}"
            )
            assert got.index.equals(close.index)
    tr = pandas_true_range(bars)
    pd.testing.assert_series_equal(true_range(bars), tr, check_exact=True)
    tr.iloc[0] = np.nan  # TA-Lib's ATR seed leaves bar 0 out
    pd.testing.assert_series_equal(atr(bars, 14), pandas_seeded(tr, 14, 1 / 14), check_exact=True)
    bands = bollinger(close, 20, 2.5)
    mid, dev = close.rolling(20).mean(), close.rolling(20).std(ddof=0)
    expected = pd.DataFrame({"mid": mid, "upper": mid + 2.5 * dev, "lower": mid - 2.5 * dev})
    pd.testing.assert_frame_equal(bands, expected, check_exact=True)
    channel = donchian(bars, 10)
    upper, lower = bars["high"].rolling(10).max(), bars["low"].rolling(10).min()
    expected = pd.DataFrame({"upper": upper, "lower": lower, "mid": (upper + lower) / 2.0})
    pd.testing.assert_frame_equal(channel, expected, check_exact=True)
    for periods in ((12, 26, 9), (3, 7, 4)):
        got = macd(close, *periods)
        pd.testing.assert_frame_equal(got, pandas_macd(close, *periods), check_exact=True)
        assert got["signal"].notna().sum() > 600


def test_integer_input_is_read_as_float() -> None:
    ints = pd.Series(np.arange(60) % 7 * 3, name="close")
    floats = ints.astype(np.float64)
    pd.testing.assert_series_equal(sma(ints, 5), sma(floats, 5), check_exact=True)
    pd.testing.assert_series_equal(rsi(ints, 5), rsi(floats, 5), check_exact=True)
    pd.testing.assert_frame_equal(bollinger(ints, 5), bollinger(floats, 5), check_exact=True)


def test_results_are_writable_and_leave_the_input_alone(eurusd: pd.DataFrame) -> None:
    bars = eurusd.iloc[:200].copy()
    before = bars.copy()
    close = bars["close"]
    results = [
        sma(close, 5), ema(close, 5), wilder(close, 5), rsi(close, 5), true_range(bars),
        atr(bars, 5), bollinger(close, 5), macd(close, 3, 7, 4), donchian(bars, 5),
    ]  # fmt: skip
    for result in results:
        result.iloc[50:] = 0.0  # read-only arrays would raise; shared ones would change bars
        assert (result.iloc[50:] == 0.0).all(axis=None)
    pd.testing.assert_frame_equal(bars, before, check_exact=True)
