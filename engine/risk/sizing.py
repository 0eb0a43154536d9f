"""Position size from risk money and stop distance (shared/reference/mt5_api.md section 4.2).

    loss_per_lot = (stop_dist / tick_size) * loss_tick_value
    lots         = floor(risk_money / loss_per_lot, volume_step), clamped to [min, max]

The floor works in whole volume steps and builds the result from integers scaled by a power of
ten, so 0.3 lots is 0.3 and never 0.30000000000000004. If even the minimum lot risks more than
``risk_money`` the trade is refused with the numbers, unless ``allow_min_lot``. A tick value of
0 (no quotes, symbol not selected) or a non-positive stop distance is refused, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.models import SymbolSpec

# Float division of exact lot counts can land a hair under the integer (0.3 / 0.01 =
# 29.999999999999996); a billionth of a step absorbs that without ever adding real size.
_STEP_EPS = 1e-9


class SizeCode(StrEnum):
    OK = "ok"
    CAPPED = "capped"  # raw size above volume_max: max volume, less risk than allowed
    MIN_LOT = "min_lot"  # allow_min_lot: the minimum lot, more risk than allowed
    MIN_LOT_TOO_RISKY = "min_lot_too_risky"
    NO_TICK_VALUE = "no_tick_value"
    BAD_STOP = "bad_stop"
    NO_RISK_MONEY = "no_risk_money"


@dataclass(frozen=True, slots=True)
class SizeResult:
    volume: float | None  # lots on the step grid inside [min, max]; None = refused
    risk_money_actual: float  # money lost at the stop with ``volume`` (0 when refused)
    reason: str  # one English line with the numbers
    code: SizeCode = SizeCode.OK
    risk_money: float = 0.0  # what was allowed
    loss_per_lot: float = 0.0  # money one lot loses at the stop
    detail: Mapping[str, str | float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.volume is not None


def _grid(step: float) -> tuple[int, int]:
    """(step in units of 10**-decimals, 10**decimals), e.g. 0.01 -> (1, 100), 0.1 -> (1, 10)."""
    exact = Decimal(repr(step))
    decimals = max(0, -int(exact.as_tuple().exponent))
    scale = 10**decimals
    return int(exact * scale), scale


def _refuse(code: SizeCode, reason: str, risk_money: float, loss: float = 0.0) -> SizeResult:
    return SizeResult(None, 0.0, reason, code, risk_money, loss, {"risk_money": risk_money})


def size_by_risk(
    risk_money: float, stop_dist: float, spec: SymbolSpec, *, allow_min_lot: bool = False
) -> SizeResult:
    """Lots that lose at most ``risk_money`` (account money) if price moves ``stop_dist``
    (price units) against the position; uses ``spec.loss_tick_value``.

    Invariants: a returned volume is a whole number of ``volume_step`` inside
    ``[volume_min, volume_max]``, and its risk never exceeds ``risk_money`` except when
    ``allow_min_lot`` chose the minimum lot (code ``MIN_LOT``, reason says by how much).
    """
    if not (math.isfinite(risk_money) and risk_money > 0):
        return _refuse(SizeCode.NO_RISK_MONEY, f"no money to risk: {risk_money}", risk_money)
    if not (math.isfinite(stop_dist) and stop_dist > 0):
        return _refuse(
            SizeCode.BAD_STOP, f"stop distance must be positive: {stop_dist}", risk_money
        )
    tick_value = spec.loss_tick_value
    if not (math.isfinite(tick_value) and tick_value > 0) or spec.tick_size <= 0:
        return _refuse(
            SizeCode.NO_TICK_VALUE,
            f"{spec.name} tick value is {tick_value} (tick size {spec.tick_size}): "
            "no quotes or symbol not selected, cannot size",
            risk_money,
        )
    ticks = stop_dist / spec.tick_size
    loss_per_lot = ticks * tick_value
    step_units, scale = _grid(spec.volume_step)
    decimals = len(str(scale)) - 1

    def lots(steps: int) -> float:
        return float(Decimal(steps * step_units) / scale)

    def text(volume: float) -> str:
        return f"{volume:.{decimals}f}"

    how = f"stop {stop_dist:g} = {ticks:.0f} ticks x {tick_value:g} = {loss_per_lot:.2f} per lot"
    steps = math.floor(risk_money / loss_per_lot / spec.volume_step + _STEP_EPS)
    min_steps = math.ceil(spec.volume_min / spec.volume_step - _STEP_EPS)
    max_steps = math.floor(spec.volume_max / spec.volume_step + _STEP_EPS)
    detail: dict[str, str | float] = {
        "risk_money": risk_money,
        "loss_per_lot": loss_per_lot,
        "stop_dist": stop_dist,
        "raw_volume": risk_money / loss_per_lot,
    }
    if steps < min_steps:
        min_lot = lots(min_steps)
        at_min = min_lot * loss_per_lot
        detail |= {"volume": min_lot, "risk_at_min": at_min}
        if not allow_min_lot:
            return SizeResult(
                None,
                0.0,
                f"minimum lot {text(min_lot)} risks {at_min:.2f} > {risk_money:.2f} allowed "
                f"({how})",
                SizeCode.MIN_LOT_TOO_RISKY,
                risk_money,
                loss_per_lot,
                detail,
            )
        return SizeResult(
            min_lot,
            at_min,
            f"minimum lot {text(min_lot)} risks {at_min:.2f}, above {risk_money:.2f} allowed "
            f"(min lot allowed; {how})",
            SizeCode.MIN_LOT,
            risk_money,
            loss_per_lot,
            detail,
        )
    code = SizeCode.OK
    if steps > max_steps:
        steps, code = max_steps, SizeCode.CAPPED
    volume = lots(steps)
    actual = volume * loss_per_lot
    capped = f", capped at max {text(volume)}" if code is SizeCode.CAPPED else ""
    detail |= {"volume": volume, "risk_money_actual": actual}
    return SizeResult(
        volume,
        actual,
        f"{text(volume)} lots risk {actual:.2f} of {risk_money:.2f} allowed ({how}{capped})",
        code,
        risk_money,
        loss_per_lot,
        detail,
    )
