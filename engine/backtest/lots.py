"""``size_by_risk``'s arithmetic without its report: the live sizing rule at backtest speed.

``engine.risk.sizing.size_by_risk`` builds a ``SizeResult`` with an explanation on every call
(about 10 us); a backtest sizes tens of thousands of entries and needs only the lots. This is
the same rule step for step (floor to whole volume steps with the same epsilon, the same
min/max clamps, the same refusals) and returns the identical float; a test compares the two on
random inputs. The refusal codes are ``SizeCode`` values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from engine.models import SymbolSpec
from engine.risk.sizing import SizeCode

_STEP_EPS = 1e-9  # as engine.risk.sizing


@dataclass(frozen=True, slots=True)
class LotRule:
    """A symbol's volume grid, precomputed once per run."""

    tick_size: float
    loss_tick_value: float
    step: float
    step_units: int  # the step in units of 1/scale, e.g. 0.01 -> 1 (scale 100)
    scale: int
    min_steps: int
    max_steps: int
    allow_min_lot: bool

    @classmethod
    def of(cls, spec: SymbolSpec, *, allow_min_lot: bool) -> LotRule:
        exact = Decimal(repr(spec.volume_step))
        decimals = max(0, -int(exact.as_tuple().exponent))
        scale = 10**decimals
        return cls(
            tick_size=spec.tick_size,
            loss_tick_value=spec.loss_tick_value,
            step=spec.volume_step,
            step_units=int(exact * scale),
            scale=scale,
            min_steps=math.ceil(spec.volume_min / spec.volume_step - _STEP_EPS),
            max_steps=math.floor(spec.volume_max / spec.volume_step + _STEP_EPS),
            allow_min_lot=allow_min_lot,
        )

    def lots(self, risk_money: float, stop_dist: float) -> tuple[float | None, SizeCode]:
        """Lots losing at most ``risk_money`` over ``stop_dist`` (price), or None and why."""
        if not (math.isfinite(risk_money) and risk_money > 0):
            return None, SizeCode.NO_RISK_MONEY
        if not (math.isfinite(stop_dist) and stop_dist > 0):
            return None, SizeCode.BAD_STOP
        value = self.loss_tick_value
        if not (math.isfinite(value) and value > 0) or self.tick_size <= 0:
            return None, SizeCode.NO_TICK_VALUE
        loss_per_lot = stop_dist / self.tick_size * value
        steps = math.floor(risk_money / loss_per_lot / self.step + _STEP_EPS)
        code = SizeCode.OK
        if steps < self.min_steps:
            if not self.allow_min_lot:
                return None, SizeCode.MIN_LOT_TOO_RISKY
            steps, code = self.min_steps, SizeCode.MIN_LOT
        elif steps > self.max_steps:
            steps, code = self.max_steps, SizeCode.CAPPED
        # Integer over a power of ten: IEEE division is correctly rounded, as is Decimal's.
        return steps * self.step_units / self.scale, code
