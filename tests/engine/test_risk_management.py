"""Breakeven and ATR trailing: hand-checked moves, and random price paths (seeded) on which the
stop never loosens, stays on the tick grid and clear of the stops level, and TP is untouched."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from engine.models import Position, Side, SymbolSpec, Tick
from engine.risk import StopWhy, manage_stop, plan_stop

T0 = datetime(2024, 5, 6, 13, tzinfo=UTC)
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
# An index quoted in 0.25 steps (tick size a multiple of the point), with a stops level.
IDX = SymbolSpec(
    name="US100",
    digits=2,
    point=0.01,
    tick_size=0.25,
    tick_value=0.25,
    contract_size=1.0,
    volume_min=0.1,
    volume_max=50.0,
    volume_step=0.1,
    stops_level=100,
)


def buy(sl: float | None = 2295.0, tp: float | None = 2315.0) -> Position:
    return Position(1, "XAUUSD", Side.BUY, 1.0, 2300.0, T0, sl=sl, tp=tp)


def sell(sl: float | None = 2305.0, tp: float | None = 2285.0) -> Position:
    return Position(2, "XAUUSD", Side.SELL, 1.0, 2300.0, T0, sl=sl, tp=tp)


def quote(bid: float, spread: float = 0.20) -> Tick:
    return Tick("XAUUSD", T0, bid, round(bid + spread, 2))


def stop(position: Position, tick: Tick | None, **kw: object) -> float | None:
    args: dict[str, object] = {
        "atr": None,
        "spec": XAU,
        "tick": tick,
        "breakeven_at_r": None,
        "trail_atr_mult": None,
        "initial_risk_dist": 5.0,
    }
    args.update(kw)
    return manage_stop(position, **args)  # type: ignore[arg-type]


def test_everything_off_by_default_does_nothing() -> None:
    assert stop(buy(), quote(2340.0)) is None


@pytest.mark.parametrize(
    ("bid", "expected"),
    [(2304.99, None), (2305.00, 2300.00), (2312.00, 2300.00)],
)
def test_breakeven_after_one_r_for_a_buy(bid: float, expected: float | None) -> None:
    # Entry 2300, first stop 2295: 1R = 5.00; a buy closes at bid.
    assert stop(buy(), quote(bid), breakeven_at_r=1.0) == expected


def test_breakeven_with_offset_and_only_once() -> None:
    assert stop(buy(), quote(2305.0), breakeven_at_r=1.0, breakeven_offset=0.20) == 2300.20
    # Already at breakeven: the same level again is not a tightening.
    assert stop(buy(sl=2300.0), quote(2306.0), breakeven_at_r=1.0) is None
    # Price fell back below +1R: nothing moves (and nothing loosens).
    assert stop(buy(sl=2300.0), quote(2302.0), breakeven_at_r=1.0) is None


def test_breakeven_for_a_sell_uses_the_ask() -> None:
    # Sell at 2300, 1R = 5.00: gain is 2300 - ask; ask 2295.00 needs bid 2294.80.
    assert stop(sell(), quote(2294.80), breakeven_at_r=1.0) == 2300.0
    assert stop(sell(), quote(2294.81), breakeven_at_r=1.0) is None
    assert stop(sell(), quote(2294.0), breakeven_at_r=1.0, breakeven_offset=0.2) == 2299.80


def test_atr_trailing() -> None:
    # 2 x ATR 1.50 = 3.00 behind the bid.
    assert stop(buy(), quote(2310.0), atr=1.5, trail_atr_mult=2.0) == 2307.0
    assert stop(buy(sl=2308.0), quote(2310.0), atr=1.5, trail_atr_mult=2.0) is None
    assert stop(buy(), quote(2301.0), atr=1.5, trail_atr_mult=2.0) == 2298.0
    # A sell trails 3.00 above the ask (bid 2290.00 + 0.20 spread).
    assert stop(sell(), quote(2290.0), atr=1.5, trail_atr_mult=2.0) == 2293.2
    # No stop at all yet: any stop is a tightening.
    assert stop(sell(sl=None), quote(2301.0), atr=1.5, trail_atr_mult=2.0) == 2304.2


def test_the_tighter_rule_wins_and_says_which() -> None:
    kw = {"atr": 1.0, "spec": XAU, "initial_risk_dist": 5.0, "breakeven_at_r": 1.0}
    # bid 2306: breakeven 2300 vs trail 2306 - 3 = 2303 -> trailing.
    up = plan_stop(buy(), tick=quote(2306.0), trail_atr_mult=3.0, **kw)  # type: ignore[arg-type]
    assert up is not None and (up.sl, up.why) == (2303.0, StopWhy.TRAILING)
    # trail 2306 - 8 = 2298 is looser than breakeven 2300 -> breakeven.
    up = plan_stop(buy(), tick=quote(2306.0), trail_atr_mult=8.0, **kw)  # type: ignore[arg-type]
    assert up is not None and (up.sl, up.why) == (2300.0, StopWhy.BREAKEVEN)


def test_rounds_toward_safety_on_the_tick_grid() -> None:
    # 2310.00 - 1.2345 = 2308.7655 -> down to 2308.76 for a buy.
    assert stop(buy(), quote(2310.0), atr=1.2345, trail_atr_mult=1.0) == 2308.76
    # 2290.20 + 1.2345 = 2291.4345 -> up to 2291.44 for a sell.
    assert stop(sell(), quote(2290.0), atr=1.2345, trail_atr_mult=1.0) == 2291.44


def test_respects_stops_level_and_a_coarse_tick() -> None:
    pos = Position(3, "US100", Side.BUY, 1.0, 18_000.0, T0, sl=17_990.0, tp=18_050.0)
    t = Tick("US100", T0, 18_010.0, 18_011.0)
    # Trail 0.1 x ATR 1 wants 18009.90, but stops level 100 points = 1.00 below bid: 18009.00.
    got = manage_stop(
        pos,
        atr=1.0,
        spec=IDX,
        tick=t,
        breakeven_at_r=None,
        trail_atr_mult=0.1,
        initial_risk_dist=10.0,
    )
    assert got == 18_009.0
    # 18010.40 - 1.00 = 18009.40 -> down to the 0.25 grid: 18009.25.
    t2 = Tick("US100", T0, 18_010.4, 18_011.4)
    got = manage_stop(
        pos,
        atr=1.0,
        spec=IDX,
        tick=t2,
        breakeven_at_r=None,
        trail_atr_mult=0.1,
        initial_risk_dist=10.0,
    )
    assert got == 18_009.25


def test_nothing_inside_the_freeze_level_or_without_a_price() -> None:
    frozen = replace(XAU, freeze_level=100)  # 1.00
    assert stop(buy(sl=2309.5), quote(2310.0), atr=0.1, trail_atr_mult=1.0, spec=frozen) is None
    assert (
        stop(buy(sl=2305.0, tp=2310.5), quote(2310.0), atr=0.1, trail_atr_mult=1.0, spec=frozen)
        is None
    )
    assert stop(buy(sl=2305.0), quote(2310.0), atr=0.1, trail_atr_mult=1.0, spec=frozen) == 2309.9
    assert stop(buy(), None, atr=1.0, trail_atr_mult=1.0) is None


@pytest.mark.parametrize("seed", range(6))
def test_random_paths_never_loosen_and_never_touch_tp(seed: int) -> None:
    rng = random.Random(seed)
    specs = (XAU, replace(XAU, stops_level=30), IDX)
    moves = 0
    for _ in range(60):
        spec = rng.choice(specs)
        side = rng.choice((Side.BUY, Side.SELL))
        entry = 2300.0 if spec is not IDX else 18_000.0
        risk = rng.choice((2.0, 5.0, 10.0))
        sl = spec.normalize_price(entry - side.sign * risk)
        tp = spec.normalize_price(entry + side.sign * 3 * risk)
        pos = Position(9, spec.name, side, 1.0, entry, T0, sl=sl, tp=tp)
        be = rng.choice((None, 0.5, 1.0))
        trail = rng.choice((None, 1.0, 2.5))
        mid = entry
        for _ in range(300):
            mid += rng.gauss(0.0, risk / 8)
            spread = spec.tick_size * rng.randint(1, 40)
            bid = spec.normalize_price(mid)
            tick = Tick(spec.name, T0, bid, spec.normalize_price(bid + spread))
            price = tick.close_price_for(side)
            if side.sign * (price - pos.sl) <= 0 or side.sign * (price - pos.tp) >= 0:
                break  # stopped out or target hit: the position is gone
            new = manage_stop(
                pos,
                atr=abs(rng.gauss(risk / 3, risk / 10)),
                spec=spec,
                tick=tick,
                breakeven_at_r=be,
                trail_atr_mult=trail,
                initial_risk_dist=risk,
                breakeven_offset=spread,
            )
            if new is None:
                continue
            moves += 1
            assert side.sign * (new - pos.sl) > 0, "a stop never loosens"
            ticks = new / spec.tick_size
            assert abs(ticks - round(ticks)) < 1e-6, "on the tick grid"
            gap = max(spec.stops_level * spec.point, spec.tick_size)
            assert side.sign * (price - new) >= gap - 1e-9, "clear of the stops level"
            assert side.sign * (pos.tp - new) > 0, "stop stays on the loss side of the target"
            pos = replace(pos, sl=new)  # as broker.modify(sl=new, tp=None): TP kept
            assert pos.tp == tp
    assert moves > 50  # the property was actually exercised
