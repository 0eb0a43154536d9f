"""Sizing by risk: hand-computed lots for XAUUSD, EURUSD and an index, plus an exact reference."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from engine.models import SymbolSpec
from engine.risk import SizeCode, size_by_risk

# Gold: 0.01 move on 1 lot (100 oz) = 1.00 USD.
XAU = SymbolSpec(
    name="XAUUSD",
    digits=2,
    point=0.01,
    tick_size=0.01,
    tick_value=1.0,
    contract_size=100.0,
    volume_min=0.01,
    volume_max=100.0,
    volume_step=0.01,
)
# EURUSD: 0.00001 move on 1 lot (100 000 EUR) = 1.00 USD.
EUR = SymbolSpec(
    name="EURUSD",
    digits=5,
    point=0.00001,
    tick_size=0.00001,
    tick_value=1.0,
    contract_size=100_000.0,
    volume_min=0.01,
    volume_max=500.0,
    volume_step=0.01,
)
# US500 CFD: 0.01 move on 1 lot (1 x index) = 0.01 USD; lots in 0.1 steps up to 50.
SPX = SymbolSpec(
    name="US500",
    digits=2,
    point=0.01,
    tick_size=0.01,
    tick_value=0.01,
    contract_size=1.0,
    volume_min=0.1,
    volume_max=50.0,
    volume_step=0.1,
)


@pytest.mark.parametrize(
    ("spec", "risk", "stop", "volume", "actual"),
    [
        # 5.00 / 0.01 = 500 ticks x 1.00 = 500 per lot; 100 / 500 = 0.2
        (XAU, 100.0, 5.00, 0.2, 100.0),
        # 333 ticks -> 333 per lot; 100 / 333 = 0.3003 -> 0.30, risking 0.3 x 333 = 99.90
        (XAU, 100.0, 3.33, 0.3, 99.9),
        # 99.9 / 333 = 0.3 exactly
        (XAU, 99.9, 3.33, 0.3, 99.9),
        # 29 / 100 = 0.29 exactly, but in floats 29 / 100 / 0.01 = 28.999999999999996:
        # a naive floor would give 0.28
        (XAU, 29.0, 1.00, 0.29, 29.0),
        # 7 / 10 = 0.7 exactly; floats give 6.999999999999999 steps of 0.1 (naive: 0.6)
        (SPX, 7.0, 10.0, 0.7, 7.0),
        # 20 pips = 200 ticks -> 200 per lot; 100 / 200 = 0.5
        (EUR, 100.0, 0.0020, 0.5, 100.0),
        # 137 ticks -> 137 per lot; 100 / 137 = 0.7299 -> 0.72, risking 0.72 x 137 = 98.64
        (EUR, 100.0, 0.00137, 0.72, 98.64),
        # 15.00 = 1500 ticks x 0.01 = 15 per lot; 100 / 15 = 6.67 -> 6.6, risking 99.00
        (SPX, 100.0, 15.0, 6.6, 99.0),
    ],
)
def test_hand_computed_sizes(
    spec: SymbolSpec, risk: float, stop: float, volume: float, actual: float
) -> None:
    result = size_by_risk(risk, stop, spec)
    assert result.code is SizeCode.OK
    assert result.volume == volume  # exact: the step grid, not 0.30000000000000004
    assert repr(result.volume) == repr(volume)
    assert result.risk_money_actual == pytest.approx(actual, abs=1e-9)
    assert result.risk_money_actual <= risk + 1e-9


def test_volume_is_clean_decimal_not_float_noise() -> None:
    # 0.1 + 0.2 style: 29 steps of 0.01 must print as 0.29.
    result = size_by_risk(29.0, 1.00, XAU)
    assert str(result.volume) == "0.29"
    assert result.reason.startswith("0.29 lots risk 29.00 of 29.00 allowed")


def test_min_lot_that_risks_too_much_is_refused_with_the_numbers() -> None:
    # 25.00 stop = 2500 per lot; the 0.01 minimum risks 25.00 > 20.00.
    result = size_by_risk(20.0, 25.0, XAU)
    assert result.volume is None
    assert result.code is SizeCode.MIN_LOT_TOO_RISKY
    assert result.risk_money_actual == 0.0
    assert "minimum lot 0.01 risks 25.00 > 20.00 allowed" in result.reason
    assert result.detail["risk_at_min"] == pytest.approx(25.0)


def test_min_lot_allowed_when_configured_states_the_excess() -> None:
    result = size_by_risk(20.0, 25.0, XAU, allow_min_lot=True)
    assert result.volume == 0.01
    assert result.code is SizeCode.MIN_LOT
    assert result.risk_money_actual == pytest.approx(25.0)
    assert "risks 25.00, above 20.00 allowed" in result.reason


def test_index_min_lot_refusal() -> None:
    # 15 per lot; the 0.1 minimum risks 1.50 > 1.00.
    result = size_by_risk(1.0, 15.0, SPX)
    assert result.volume is None
    assert "minimum lot 0.1 risks 1.50 > 1.00" in result.reason


def test_clamped_to_volume_max() -> None:
    # 1000 / 15 = 66.7 lots > 50 max: 50 lots risk 750.
    result = size_by_risk(1000.0, 15.0, SPX)
    assert result.volume == 50.0
    assert result.code is SizeCode.CAPPED
    assert result.risk_money_actual == pytest.approx(750.0)
    assert "capped at max 50.0" in result.reason


def test_uses_loss_tick_value() -> None:
    spec = SymbolSpec(
        name="EURGBP",
        digits=5,
        point=0.00001,
        tick_size=0.00001,
        tick_value=1.0,
        tick_value_loss=1.25,
        contract_size=100_000.0,
        volume_min=0.01,
        volume_max=500.0,
        volume_step=0.01,
    )
    # 200 ticks x 1.25 = 250 per lot; 100 / 250 = 0.4
    result = size_by_risk(100.0, 0.0020, spec)
    assert result.volume == 0.4
    assert result.loss_per_lot == pytest.approx(250.0)


@pytest.mark.parametrize(
    ("risk", "stop", "spec", "code"),
    [
        (
            100.0,
            5.0,
            SymbolSpec(
                name="X",
                digits=2,
                point=0.01,
                tick_size=0.01,
                tick_value=0.0,
                contract_size=1.0,
                volume_min=0.01,
                volume_max=1.0,
                volume_step=0.01,
            ),
            SizeCode.NO_TICK_VALUE,
        ),
        (100.0, 0.0, XAU, SizeCode.BAD_STOP),
        (100.0, -1.0, XAU, SizeCode.BAD_STOP),
        (100.0, math.nan, XAU, SizeCode.BAD_STOP),
        (0.0, 5.0, XAU, SizeCode.NO_RISK_MONEY),
        (-5.0, 5.0, XAU, SizeCode.NO_RISK_MONEY),
    ],
)
def test_refusals(risk: float, stop: float, spec: SymbolSpec, code: SizeCode) -> None:
    result = size_by_risk(risk, stop, spec)
    assert result.volume is None
    assert result.code is code
    assert not result.ok


def _reference_steps(risk_cents: int, ticks: int, tick_value: str, step: str) -> int:
    """Exact rational floor of risk / (ticks x tick_value) / step."""
    loss = ticks * Fraction(tick_value)
    return math.floor(Fraction(risk_cents, 100) / loss / Fraction(step))


@pytest.mark.parametrize(("spec", "tv", "step"), [(XAU, "1", "0.01"), (SPX, "0.01", "0.1")])
def test_matches_exact_rational_reference(spec: SymbolSpec, tv: str, step: str) -> None:
    rng = random.Random(7)
    for _ in range(3000):
        risk_cents = rng.randint(1, 5_000_000)
        ticks = rng.randint(1, 50_000)
        result = size_by_risk(risk_cents / 100, ticks * spec.tick_size, spec)
        steps = _reference_steps(risk_cents, ticks, tv, step)
        min_steps = round(spec.volume_min / spec.volume_step)
        max_steps = round(spec.volume_max / spec.volume_step)
        if steps < min_steps:
            assert result.volume is None, (risk_cents, ticks)
            continue
        expected = Fraction(min(steps, max_steps)) * Fraction(step)
        assert result.volume == float(expected), (risk_cents, ticks)
        assert result.risk_money_actual <= risk_cents / 100 + 1e-6
