"""The backtest's fast sizing and cent rounding agree exactly with the live functions."""

from __future__ import annotations

import random

import numpy as np
import pytest

from engine.backtest.lots import LotRule
from engine.backtest.money import cents, round_cents
from engine.brokers.sim import round_money
from engine.risk import SizeCode, size_by_risk
from engine.symbols import EURUSD, US500, XAUUSD


@pytest.mark.parametrize("spec", [XAUUSD, EURUSD, US500], ids=lambda s: s.name)
@pytest.mark.parametrize("allow_min_lot", [False, True])
def test_lot_rule_equals_size_by_risk(spec: object, allow_min_lot: bool) -> None:
    rng = random.Random(7)
    rule = LotRule.of(spec, allow_min_lot=allow_min_lot)  # type: ignore[arg-type]
    for _ in range(3000):
        risk = rng.choice([rng.uniform(0.01, 50), rng.uniform(50, 5e6), 0.0, -1.0])
        stop = rng.choice([rng.uniform(1e-5, 0.01), rng.uniform(0.01, 80), 0.0, float("nan")])
        live = size_by_risk(risk, stop, spec, allow_min_lot=allow_min_lot)  # type: ignore[arg-type]
        lots, code = rule.lots(risk, stop)
        assert lots == live.volume, (risk, stop)
        assert code is live.code


def test_lot_rule_refusal_codes() -> None:
    rule = LotRule.of(XAUUSD, allow_min_lot=False)
    assert rule.lots(0.5, 10.0) == (None, SizeCode.MIN_LOT_TOO_RISKY)  # 0.01 lot risks 10
    assert rule.lots(100.0, 1.0) == (1.0, SizeCode.OK)  # 1.00 stop = 100 per lot
    assert rule.lots(1e9, 1.0) == (100.0, SizeCode.CAPPED)


def test_cents_match_round_money_including_half_cents() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate(
        [
            rng.integers(-(10**7), 10**7, 20_000) / 1000,  # many exact half cents (x.xx5)
            (rng.integers(-(10**6), 10**6, 20_000) * 2 + 1) / 200,
            rng.normal(0, 1e5, 20_000),
            [0.005, 0.015, 1.005, 2.675, -0.0, -0.004, 1e9 + 0.005],
        ]
    )
    expected = np.array([round_money(float(v)) for v in values])
    np.testing.assert_array_equal(round_cents(values), expected)
    assert [cents(float(v)) / 100 for v in values] == expected.tolist()
    # numpy's own rounding does differ on half cents: the reason round_cents exists.
    assert (np.round(values, 2) != expected).any()
