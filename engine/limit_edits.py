"""The risk limits a person may change from the chat: names, units, parsing and validation.

Names are the settings' variables (``RISK_PCT``, ``MAX_TRADES_PER_DAY`` ...) so the chat and
the ``.env`` file speak alike; values are written in the settings' units (fractions, counts,
minutes, points) and checked against the same bounds as the settings file, then against
``RiskLimits`` itself. Refusals raise ``BadArguments`` with a code and the values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta

from engine.config import RiskSettings
from engine.errors import BadArguments
from engine.risk import RiskLimits
from engine.views import LimitKind, Number

# Setting variable -> (RiskLimits field, how it is written). Minutes become timedeltas.
EDITABLE: Mapping[str, tuple[str, LimitKind]] = {
    "RISK_PCT": ("risk_pct", LimitKind.FRACTION),
    "MAX_TRADES_PER_DAY": ("max_trades_per_day", LimitKind.COUNT),
    "MAX_OPEN_POSITIONS": ("max_open_positions", LimitKind.COUNT),
    "MAX_DAILY_LOSS_PCT": ("max_daily_loss_pct", LimitKind.FRACTION),
    "MAX_WEEKLY_LOSS_PCT": ("max_weekly_loss_pct", LimitKind.FRACTION),
    "MAX_DRAWDOWN_PCT": ("max_drawdown_pct", LimitKind.FRACTION),
    "MAX_CONSECUTIVE_LOSSES": ("max_consecutive_losses", LimitKind.COUNT),
    "COOLDOWN_MINUTES": ("cooldown", LimitKind.MINUTES),
    "COOLDOWN_AFTER_LOSS_MINUTES": ("cooldown_after_loss", LimitKind.MINUTES),
    "LOSS_PAUSE_MINUTES": ("loss_pause", LimitKind.MINUTES),
    "MAX_SPREAD_POINTS": ("max_spread_points", LimitKind.POINTS),
    "MIN_FREE_MARGIN_PCT": ("min_free_margin_pct", LimitKind.FRACTION),
}
# Upper bounds the settings file enforces too; a fraction's lower bound is 0 (exclusive).
_FRACTION_MAX = {"RISK_PCT": RiskSettings.RISK_PCT_MAX, "MIN_FREE_MARGIN_PCT": 0.99}
_COUNT_MAX, _MINUTES_MAX, _POINTS_MAX = 1000, 7 * 24 * 60, 100_000


def _bad(message: str, code: str, **params: object) -> BadArguments:
    return BadArguments(message, code=code, **params)


def limit_value(limits: RiskLimits, name: str) -> Number | None:
    """The current value of the editable limit ``name`` in its settings unit."""
    field, kind = EDITABLE[name]
    value = getattr(limits, field)
    if kind is LimitKind.MINUTES:
        return int(value.total_seconds() // 60)
    return value


def with_limit(limits: RiskLimits, name: str, value: Number) -> RiskLimits:
    """``limits`` with the editable limit ``name`` set to ``value`` (settings units);
    raises the ``RiskLimits`` error when the combination breaks a rule."""
    field, kind = EDITABLE[name]
    return replace(limits, **{field: _to_limit(kind, value)})


def parse_limit(name: str, text: str) -> tuple[str, LimitKind, Number]:
    """(variable, kind, value) for a chat entry such as ``risk_pct 1.5%``; BadArguments with a
    code (``unknown_setting``, ``bad_number``, ``fraction_range``, ``out_of_range``)."""
    key = name.strip().upper()
    if key not in EDITABLE:
        raise _bad(f"{name!r} cannot be changed from the chat", "unknown_setting", name=name)
    kind = EDITABLE[key][1]
    return key, kind, _parse_number(key, kind, text)


def _to_limit(kind: LimitKind, value: Number) -> object:
    if kind is LimitKind.MINUTES:
        return timedelta(minutes=value)
    if kind is LimitKind.FRACTION and value == 0:
        return None  # MIN_FREE_MARGIN_PCT=0 turns the margin floor off, as in the settings
    return value


def _parse_number(name: str, kind: LimitKind, text: str) -> Number:
    raw = text.strip().replace(",", ".")
    percent = raw.endswith("%")
    try:
        number = float(raw.rstrip("%"))
    except ValueError:
        raise _bad(
            f"{name}: not a number: {text!r}", "bad_number", name=name, value=text
        ) from None
    if not math.isfinite(number):
        raise _bad(f"{name}: not a number: {text!r}", "bad_number", name=name, value=text)
    if kind is LimitKind.FRACTION:
        value = number / 100 if percent else number
        high = _FRACTION_MAX.get(name, 1.0)
        low_ok = value > 0 or (value == 0 and name == "MIN_FREE_MARGIN_PCT")
        if not (low_ok and value <= high):
            raise _bad(
                f"{name} must be a fraction up to {high:g} ({high * 100:g}%), got {text!r}",
                "fraction_range",
                name=name,
                value=text,
                max_pct=high * 100,
            )
        return round(value, 6)
    if percent:
        raise _bad(f"{name}: no percent sign here: {text!r}", "bad_number", name=name, value=text)
    if kind is LimitKind.POINTS:
        if not 0 < number <= _POINTS_MAX:
            raise _range(name, text, 0, _POINTS_MAX)
        return number
    if not number.is_integer():
        raise _bad(f"{name}: a whole number, got {text!r}", "bad_number", name=name, value=text)
    low, high = (1, _COUNT_MAX) if kind is LimitKind.COUNT else (0, _MINUTES_MAX)
    if not low <= number <= high:
        raise _range(name, text, low, high)
    return int(number)


def _range(name: str, text: str, low: Number, high: Number) -> BadArguments:
    return _bad(
        f"{name} must be {low}..{high}, got {text!r}",
        "out_of_range",
        name=name,
        value=text,
        min=low,
        max=high,
    )
