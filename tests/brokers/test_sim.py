"""The shared fill model (engine.brokers.sim) and the default symbol specs, checked against
hand-computed numbers and a path-walking reference for the intrabar policy."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from engine.brokers import sim
from engine.errors import BadArguments
from engine.models import DealReason, Position, RejectReason, Side, TradeMode
from engine.symbols import DEFAULT_SPECS, EURUSD, US500, XAUUSD, default_spec

SL, TP = DealReason.SL, DealReason.TP
BUY, SELL = Side.BUY, Side.SELL


# --------------------------------------------------------------------------- symbols


def test_default_specs_tick_value_is_contract_times_tick_size() -> None:
    # A USD-quoted symbol in a USD account: one tick for one lot is contract_size * tick_size.
    # XAUUSD 100 * 0.01 = 1.00, EURUSD 100000 * 0.00001 = 1.00, US500 1 * 0.01 = 0.01.
    assert set(DEFAULT_SPECS) == {"XAUUSD", "EURUSD", "US500"}
    for spec in DEFAULT_SPECS.values():
        assert spec.tick_value == pytest.approx(spec.contract_size * spec.tick_size)
        assert spec.point == pytest.approx(10.0**-spec.digits)
        assert spec.currency_profit == "USD"
        assert spec.volume_ok(spec.volume_min) and spec.volume_ok(spec.volume_max)
    assert (XAUUSD.digits, XAUUSD.contract_size, XAUUSD.volume_step) == (2, 100.0, 0.01)
    assert (EURUSD.digits, EURUSD.contract_size, EURUSD.tick_size) == (5, 100_000.0, 0.00001)
    assert (US500.contract_size, US500.tick_value, US500.volume_min) == (1.0, 0.01, 0.1)


def test_default_spec_lookup_and_unknown_symbol() -> None:
    assert default_spec("xauusd ") is XAUUSD
    with pytest.raises(BadArguments) as err:
        default_spec("BTCUSD")
    assert err.value.code == "unknown_symbol"
    assert "BTCUSD" in str(err.value) and "XAUUSD" in str(err.value)
    assert err.value.params["symbol"] == "BTCUSD"


# --------------------------------------------------------------------------- fill prices


def test_entry_and_exit_prices_pay_spread_and_slippage() -> None:
    # bid 2000.00, ask 2000.30, slippage 0.05: buy 2000.30 + 0.05, sell 2000.00 - 0.05.
    assert sim.entry_price(BUY, 2000.00, 2000.30, 0.05) == pytest.approx(2000.35)
    assert sim.entry_price(SELL, 2000.00, 2000.30, 0.05) == pytest.approx(1999.95)
    assert sim.entry_price(BUY, 2000.00, 2000.30) == 2000.30
    # Closing a long sells at the bid, closing a short buys at the ask.
    assert sim.exit_price(BUY, 2000.00, 2000.30, 0.05) == pytest.approx(1999.95)
    assert sim.exit_price(SELL, 2000.00, 2000.30, 0.05) == pytest.approx(2000.35)


# --------------------------------------------------------------------------- bar exits, long


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        ((2000.0, 2005.0, 1995.0), None),  # inside both levels
        ((2000.0, 2005.0, 1990.0), (1990.0, SL)),  # touch counts: low == sl
        ((2000.0, 2005.0, 1989.99), (1990.0, SL)),  # through: fills at the level
        ((2000.0, 2010.0, 1995.0), (2010.0, TP)),  # touch counts: high == tp
        ((2000.0, 2011.0, 1989.0), (1990.0, SL)),  # both in one bar: SL first
        ((1985.0, 1992.0, 1980.0), (1985.0, SL)),  # gap below SL: fills at the open
        ((1990.0, 2011.0, 1990.0), (1990.0, SL)),  # opens exactly on SL
        ((2015.0, 2020.0, 1980.0), (2015.0, TP)),  # gap above TP: the open comes first
    ],
)
def test_bar_exit_long(bar: tuple[float, float, float], expected: object) -> None:
    assert sim.bar_exit(BUY, 1990.0, 2010.0, *bar) == expected


def test_bar_exit_long_slippage_worsens_stops_only() -> None:
    # SL at 1990 with 0.05 slippage fills 1989.95; a gap open 1985 fills 1984.95; TP stays 2010.
    assert sim.bar_exit(BUY, 1990.0, 2010.0, 2000.0, 2005.0, 1989.0, 0.3, 0.05) == (
        pytest.approx(1989.95),
        SL,
    )
    assert sim.bar_exit(BUY, 1990.0, None, 1985.0, 1992.0, 1980.0, 0.0, 0.05)[0] == (
        pytest.approx(1984.95)
    )
    assert sim.bar_exit(BUY, 1990.0, 2010.0, 2000.0, 2012.0, 1995.0, 0.3, 0.05) == (2010.0, TP)


def test_bar_exit_without_levels_or_with_one() -> None:
    assert sim.bar_exit(BUY, None, None, 2000.0, 3000.0, 1000.0) is None
    assert sim.bar_exit(SELL, None, None, 2000.0, 3000.0, 1000.0, 0.3) is None
    assert sim.bar_exit(BUY, None, 2010.0, 2000.0, 2010.0, 1000.0) == (2010.0, TP)
    assert sim.bar_exit(SELL, 2010.0, None, 2000.0, 2015.0, 1000.0) == (2010.0, SL)


# --------------------------------------------------------------------------- bar exits, short


@pytest.mark.parametrize(
    ("bar", "expected"),
    [
        # Bars are bid; with spread 0.30 the ask is bid + 0.30 on open, high and low.
        ((2000.0, 2009.69, 1990.0), None),  # ask high 2009.99 < SL 2010, ask low 1990.30 > TP
        ((2000.0, 2009.70, 1995.0), (2010.0, SL)),  # ask high 2010.00 touches SL
        ((2000.0, 2005.0, 1989.70), (1990.0, TP)),  # ask low 1990.00 touches TP
        ((2000.0, 2005.0, 1989.71), None),  # ask low 1990.01 misses TP
        ((2000.0, 2012.0, 1985.0), (2010.0, SL)),  # both touched: SL first
        ((2012.0, 2015.0, 2011.0), (2012.30, SL)),  # gap above SL: ask open 2012.30
        ((1985.0, 1999.0, 1980.0), (1985.30, TP)),  # gap below TP: ask open 1985.30
    ],
)
def test_bar_exit_short_on_ask(bar: tuple[float, float, float], expected: object) -> None:
    got = sim.bar_exit(SELL, 2010.0, 1990.0, *bar, 0.30)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert got[0] == pytest.approx(expected[0]) and got[1] is expected[1]


def test_bar_exit_touch_survives_float_noise_from_the_spread() -> None:
    # 1.0997 + 0.0003 == 1.0999999999999999 in floats: the ask touches SL 1.1 all the same.
    assert 1.0997 + 0.0003 < 1.1
    assert sim.bar_exit(SELL, 1.1, None, 1.0990, 1.0997, 1.0980, 0.0003) == (1.1, SL)


def test_tick_exit_fills_at_the_quote() -> None:
    # A long's SL 1990 is hit by bid 1989.50 and fills there; a short's TP 1990 by ask 1989.90.
    assert sim.tick_exit(BUY, 1990.0, 2010.0, 1989.50, 1989.80) == (1989.50, SL)
    assert sim.tick_exit(SELL, 2010.0, 1990.0, 1989.60, 1989.90) == (1989.90, TP)
    assert sim.tick_exit(SELL, 2010.0, 1990.0, 1989.60, 1990.10) is None  # ask above TP
    assert sim.tick_exit(BUY, 1990.0, 2010.0, 1990.0, 1990.3, 0.05) == (pytest.approx(1989.95), SL)


def _reference_exit(
    side: Side, sl: int | None, tp: int | None, o: int, h: int, low: int, spread: int
) -> tuple[int, DealReason] | None:
    """Walk the pessimistic path (adverse extreme first) one tick at a time, in integer ticks."""
    if side is SELL:
        o, h, low = o + spread, h + spread, low + spread
        path = [o, *range(o, h + 1), *range(h, low - 1, -1)]  # up to the high first
    else:
        path = [o, *range(o, low - 1, -1), *range(low, h + 1)]  # down to the low first
    for i, price in enumerate(path):
        stop_hit = sl is not None and (price <= sl if side is BUY else price >= sl)
        target_hit = tp is not None and (price >= tp if side is BUY else price <= tp)
        if stop_hit:
            return (price if i == 0 else sl), SL
        if target_hit:
            return (price if i == 0 else tp), TP
    return None


def test_bar_exit_matches_a_path_walking_reference() -> None:
    rng = random.Random(20240102)
    checked = 0
    for _ in range(3000):
        side = rng.choice((BUY, SELL))
        entry = 1000
        spread = rng.randint(0, 5)
        low = rng.randint(960, 1000)
        h = rng.randint(max(low, 990), 1040)
        o = rng.randint(low, h)
        near, far = rng.randint(1, 30), rng.randint(1, 30)
        sl = (entry - near if side is BUY else entry + near) if rng.random() < 0.9 else None
        tp = (entry + far if side is BUY else entry - far) if rng.random() < 0.9 else None
        want = _reference_exit(side, sl, tp, o, h, low, spread)
        got = sim.bar_exit(side, sl, tp, o, h, low, spread)
        assert got == want, (side, sl, tp, o, h, low, spread)
        checked += want is not None
    assert checked > 1000  # the sample really exercises exits


# --------------------------------------------------------------------------- money


def test_required_margin() -> None:
    # XAUUSD 0.10 lot at 2000.00, 1:100: 100 * 0.10 * 2000 / 100 = 200.00 USD.
    assert sim.required_margin(XAUUSD, 0.10, 2000.0, 100) == pytest.approx(200.0)
    # EURUSD 1 lot at 1.10000, 1:30: 100000 * 1.1 / 30 = 3666.67 USD.
    assert sim.required_margin(EURUSD, 1.0, 1.1, 30) == pytest.approx(3666.6667, abs=1e-3)
    # US500 2 lots at 5000.00, 1:20: 1 * 2 * 5000 / 20 = 500.00, with margin_rate 0.5: 250.00.
    assert sim.required_margin(US500, 2.0, 5000.0, 20) == pytest.approx(500.0)
    assert sim.required_margin(replace(US500, margin_rate=0.5), 2.0, 5000.0, 20) == 250.0
    # Margin currency = account currency (USDJPY in USD): 100000 * 1 / 100, price ignored.
    usdjpy = replace(EURUSD, name="USDJPY", currency_margin="USD", currency_profit="JPY")
    assert sim.required_margin(usdjpy, 1.0, 150.0, 100) == pytest.approx(1000.0)


def test_profit_via_tick_value() -> None:
    # XAUUSD 0.10 lot, 2000.00 -> 2012.34: 1234 ticks * 1.00 * 0.10 = 123.40.
    assert sim.profit(XAUUSD, BUY, 0.10, 2000.00, 2012.34) == pytest.approx(123.40)
    assert sim.profit(XAUUSD, SELL, 0.10, 2000.00, 2012.34) == pytest.approx(-123.40)
    # EURUSD 1 lot, 1.10000 -> 1.10250: 250 ticks * 1.00 = 250.00.
    assert sim.profit(EURUSD, BUY, 1.0, 1.10000, 1.10250) == pytest.approx(250.0)
    # US500 short 2 lots, 5000.00 -> 4990.00: 1000 ticks * 0.01 * 2 = 20.00.
    assert sim.profit(US500, SELL, 2.0, 5000.0, 4990.0) == pytest.approx(20.0)
    # A loss uses tick_value_loss when given: -10 ticks * 1.10 * 1 lot = -11.00.
    lossy = replace(XAUUSD, tick_value_loss=1.10)
    assert sim.profit(lossy, BUY, 1.0, 2000.00, 1999.90) == pytest.approx(-11.0)
    assert sim.profit(lossy, BUY, 1.0, 2000.00, 2000.10) == pytest.approx(10.0)


def test_commission_and_rounding() -> None:
    # 0.30 lot at 3.50 per lot per side: -1.05 per deal.
    assert sim.commission(0.30, 3.5) == pytest.approx(-1.05)
    assert sim.commission(1.0, 0.0) == 0.0
    zero = sim.round_money(-0.001)
    assert zero == 0.0 and math.copysign(1.0, zero) == 1.0
    assert sim.round_money(123.456) == 123.46


# --------------------------------------------------------------------------- request checks


def test_volume_refusal() -> None:
    assert sim.volume_refusal(XAUUSD, 0.37) is None
    below = sim.volume_refusal(XAUUSD, 0.005)
    assert below is not None and below.reject is RejectReason.INVALID_VOLUME
    assert below.retcode == 10014 and "0.005" in below.message and "0.01" in below.message
    off_step = sim.volume_refusal(US500, 0.25)
    assert off_step is not None and "step 0.1" in off_step.message
    above = sim.volume_refusal(XAUUSD, 100.01)
    assert above is not None and "maximum 100" in above.message


def test_close_volume_refusal() -> None:
    position = Position(7, "XAUUSD", BUY, 0.10, 2000.0, datetime(2024, 1, 2, tzinfo=UTC))
    assert sim.close_volume_refusal(XAUUSD, position, 0.10) is None
    assert sim.close_volume_refusal(XAUUSD, position, 0.04) is None
    too_much = sim.close_volume_refusal(XAUUSD, position, 0.11)
    assert too_much is not None and too_much.reject is RejectReason.INVALID_CLOSE_VOLUME
    big = replace(position, volume=0.25, symbol="US500")
    leaves_crumb = sim.close_volume_refusal(replace(US500, volume_step=0.05), big, 0.2)
    # 0.25 - 0.20 leaves 0.05 lots, below US500's minimum 0.1.
    assert leaves_crumb is not None and leaves_crumb.reject is RejectReason.INVALID_VOLUME
    assert "leave 0.05" in leaves_crumb.message


@pytest.mark.parametrize(
    ("mode", "side", "reason"),
    [
        (TradeMode.FULL, BUY, None),
        (TradeMode.DISABLED, BUY, RejectReason.TRADE_DISABLED),
        (TradeMode.DISABLED, None, RejectReason.TRADE_DISABLED),
        (TradeMode.CLOSEONLY, SELL, RejectReason.CLOSE_ONLY),
        (TradeMode.CLOSEONLY, None, None),
        (TradeMode.LONGONLY, SELL, RejectReason.LONG_ONLY),
        (TradeMode.LONGONLY, BUY, None),
        (TradeMode.SHORTONLY, BUY, RejectReason.SHORT_ONLY),
    ],
)
def test_trade_mode_refusal(mode: TradeMode, side: Side | None, reason: object) -> None:
    got = sim.trade_mode_refusal(replace(XAUUSD, trade_mode=mode), side)
    assert (got.reject if got is not None else None) is reason


def test_stops_refusal_judges_levels_from_the_closing_price() -> None:
    # Long: SL below the bid, TP above the bid. bid 2000.00, ask 2000.30.
    assert sim.stops_refusal(XAUUSD, BUY, 2000.00, 2000.30, 1990.0, 2010.0) is None
    wrong = sim.stops_refusal(XAUUSD, BUY, 2000.00, 2000.30, 2000.10, None)
    assert wrong is not None and wrong.reject is RejectReason.INVALID_STOPS
    assert wrong.message == "SL 2000.10 must be below bid 2000.00"
    assert sim.stops_refusal(XAUUSD, BUY, 2000.00, 2000.30, None, 2000.00) is not None
    # Short: SL above the ask, TP below it.
    assert sim.stops_refusal(XAUUSD, SELL, 2000.00, 2000.30, 2010.0, 1990.0) is None
    # A short's TP between bid and ask is below the ask, so it is valid; above the ask it is not.
    assert sim.stops_refusal(XAUUSD, SELL, 2000.00, 2000.30, None, 2000.20) is None
    short_tp = sim.stops_refusal(XAUUSD, SELL, 2000.00, 2000.30, None, 2000.40)
    assert short_tp is not None and short_tp.message == "TP 2000.40 must be below ask 2000.30"
    assert sim.stops_refusal(XAUUSD, SELL, 2000.00, 2000.30, 0.0, None) is not None


def test_stops_refusal_applies_stops_level() -> None:
    # US500 stops_level 10 points = 0.10: a long's SL must be <= bid - 0.10.
    assert sim.stops_refusal(US500, BUY, 5000.00, 5000.50, 4999.90, None) is None
    near = sim.stops_refusal(US500, BUY, 5000.00, 5000.50, 4999.91, None)
    assert near is not None
    assert near.message == "SL 4999.91 must be below bid 5000.00 by at least 10 points (0.10)"
    assert sim.stops_refusal(US500, SELL, 5000.00, 5000.50, None, 5000.40) is None
    assert sim.stops_refusal(US500, SELL, 5000.00, 5000.50, None, 5000.41) is not None


def test_margin_refusal_states_the_numbers() -> None:
    # 0.50 lot at 2000.00, 1:100: margin 100 * 0.5 * 2000 / 100 = 1000.00; commission 3.50.
    assert sim.margin_refusal(XAUUSD, 0.5, 2000.0, 100, 1003.50, -3.50) is None
    refused = sim.margin_refusal(XAUUSD, 0.5, 2000.0, 100, 1003.49, -3.50)
    assert refused is not None and refused.reject is RejectReason.NO_MONEY
    assert refused.retcode == 10019
    assert refused.message.startswith("free margin 1003.49 USD < required 1003.50 USD")
    assert "margin 1000.00 USD" in refused.message and "commission 3.50" in refused.message
