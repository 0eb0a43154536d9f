"""The strategy contract: typed parameters with ranges, and a pure bars -> signals function.

A strategy turns a bars DataFrame (``engine.ports`` convention) into a signals DataFrame on the
same index. Row ``i`` is decided at bar ``i``'s close from ``bars[: i + 1]`` only, so the same
code serves the backtest (whole history at once) and the live loop (the last closed bar's row).
Columns: ``side`` (int +1 buy / -1 sell / 0 nothing; non-zero only on the bar where the signal
fires), ``sl_dist`` and ``tp_dist`` (price units, positive; given on every row where the stop
indicator is defined, NaN during warm-up), ``reason_code`` (a stable :class:`ReasonCode` value,
``""`` when side is 0), ``reason`` (English text with the numbers, ``""`` when side is 0), then
the indicator columns the reason quotes (``Strategy.indicator_columns``). To localize a reason,
render ``reason_code`` with :meth:`Strategy.reason_fields` (parameters plus those indicators).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from functools import partial
from itertools import repeat
from typing import ClassVar, Generic, TypeVar

import numpy as np
import pandas as pd

from engine.errors import BadArguments

SIGNAL_COLUMNS = ("side", "sl_dist", "tp_dist", "reason_code", "reason")

# Wilder/EMA seeds fade as (1 - 1/n)^k; after 20 periods the live window's values agree with a
# full-history backtest to about e^-20 (2e-9) relative.
CONVERGENCE_PERIODS = 20


class ReasonCode(StrEnum):
    """Why a signal fired; stable values for catalogs. Fields come from ``reason_fields``.

    MA_CROSS_UP / MA_CROSS_DOWN (ma_rsi): fast, slow, rsi, rsi_buy_max / rsi_sell_min.
    BB_REENTRY_LOW / BB_REENTRY_HIGH (bb_reversion): period, k, close, bb_lower / bb_upper.
    """

    MA_CROSS_UP = "ma_cross_up"
    MA_CROSS_DOWN = "ma_cross_down"
    BB_REENTRY_LOW = "bb_reentry_low"
    BB_REENTRY_HIGH = "bb_reentry_high"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One tunable parameter: its type, default and the inclusive range ``min..max``.

    ``step`` is the spacing of the optimisation grid (:meth:`grid`); user values need not sit
    on it, only inside the range.
    """

    name: str
    type: type[int] | type[float]
    default: int | float
    min: int | float
    max: int | float
    step: int | float
    help: str

    def rule(self) -> str:
        """The range as a sentence, e.g. ``fast must be an integer between 2 and 200``."""
        kind = "an integer" if self.type is int else "a number"
        return f"{self.name} must be {kind} between {_number(self.min)} and {_number(self.max)}"

    def _refuse(self, value: object) -> BadArguments:
        return BadArguments(
            f"{self.rule()}, got {value!r}",
            code="param_out_of_range",
            name=self.name,
            type=self.type.__name__,
            min=self.min,
            max=self.max,
            value=str(value),
        )

    def parse(self, text: str) -> int | float:
        """Parse user text into this parameter's type; BadArguments names the allowed range."""
        try:
            value: int | float = int(text) if self.type is int else float(text)
        except ValueError:
            raise self._refuse(text) from None
        return self.check(value)

    def check(self, value: object) -> int | float:
        """Return ``value`` if it has the right type and lies in range, else BadArguments."""
        if self.type is int:
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
            ok = ok and math.isfinite(float(value))  # type: ignore[arg-type]
        if not ok or not self.min <= value <= self.max:  # type: ignore[operator]
            raise self._refuse(value)
        return value  # type: ignore[return-value]

    def grid(self) -> tuple[int | float, ...]:
        """Values from ``min`` to ``max`` (inclusive) spaced by ``step``, for optimisation."""
        count = math.floor((self.max - self.min) / self.step + 1e-9) + 1
        values = (self.min + i * self.step for i in range(count))
        if self.type is int:
            return tuple(int(v) for v in values)
        return tuple(round(v, 10) for v in values)


class StrategyParams:
    """Base of every strategy's frozen Params dataclass; ``SPECS`` lists its fields' ranges.

    Instances validate themselves on construction (ranges, then :meth:`check_relations`), so an
    optimiser building Params directly gets the same errors as a user typing them.
    """

    __slots__ = ()
    SPECS: ClassVar[tuple[ParamSpec, ...]] = ()

    def __post_init__(self) -> None:
        for spec in self.SPECS:
            spec.check(getattr(self, spec.name))
        self.check_relations()

    def check_relations(self) -> None:
        """Cross-field rules (e.g. fast < slow); raise BadArguments. None by default."""

    def as_tokens(self) -> str:
        """``name=value`` pairs in field order, the syntax :func:`parse_strategy_spec` reads."""
        return " ".join(f"{f.name}={_number(getattr(self, f.name))}" for f in fields(self))


P = TypeVar("P", bound=StrategyParams)


class Strategy(ABC, Generic[P]):
    """A named signal generator. Subclasses set the class attributes and implement the rest."""

    name: ClassVar[str]
    description: ClassVar[str]
    params_type: ClassVar[type]
    indicator_columns: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def specs(cls) -> tuple[ParamSpec, ...]:
        return cls.params_type.SPECS

    def default_params(self) -> P:
        return self.params_type()

    def parse_params(self, overrides: Mapping[str, str]) -> P:
        """Defaults with ``overrides`` (name -> text) applied; BadArguments on any bad entry."""
        by_name = {spec.name: spec for spec in self.specs()}
        values: dict[str, int | float] = {}
        for key, text in overrides.items():
            spec = by_name.get(key)
            if spec is None:
                valid = ", ".join(by_name)
                raise BadArguments(
                    f"unknown parameter {key!r} for {self.name}; valid: {valid}",
                    code="unknown_param",
                    name=key,
                    strategy=self.name,
                    valid=valid,
                )
            values[key] = spec.parse(text)
        return self.params_type(**values)

    @abstractmethod
    def warmup(self, params: P) -> int:
        """Bars needed before the last one can carry a signal (earlier rows have side 0)."""

    @abstractmethod
    def recursive_period(self, params: P) -> int:
        """Longest Wilder/EMA period used (0 if none): it sets how much history live needs."""

    def lookback(self, params: P) -> int:
        """Bars the live loop should pass: its last row then matches a full-history backtest's
        row (same side; distances and indicators within about 1e-9 relative)."""
        return self.warmup(params) + CONVERGENCE_PERIODS * self.recursive_period(params)

    @abstractmethod
    def signals(self, bars: pd.DataFrame, params: P) -> pd.DataFrame:
        """Signals frame on ``bars.index`` (see the module docstring for the columns)."""

    def reason_fields(self, row: pd.Series, params: P) -> Mapping[str, object]:
        """Values a localized reason sentence may quote: the parameters and the indicators."""
        values: dict[str, object] = dict(asdict(params))  # type: ignore[call-overload]
        values.update({name: float(row[name]) for name in self.indicator_columns})
        return values


def _blank_texts(n: int) -> np.ndarray:
    """An object array of ``n`` empty strings, to fill in place.

    Object rather than numpy's fixed-width str: converting those costs ~1 s per 1M bars. And
    ``fill`` rather than ``np.full``, which is ~5x slower for objects (~19 ms per 1M).
    """
    out = np.empty(n, dtype=object)
    out.fill("")
    return out


def crossings(diff: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Bars where ``diff`` turns positive / negative, in that order (bool arrays).

    A bar where ``diff`` is exactly 0 (or NaN) keeps the previous sign, so touching without
    crossing is not a signal. Row ``i`` compares bar ``i``'s sign with the last non-zero sign
    before it, so it needs bars ``<= i`` only.
    """
    d = np.asarray(diff, dtype=np.float64)
    signed = np.flatnonzero((d > 0.0) | (d < 0.0))  # NaN compares False both ways
    positive = d[signed] > 0.0
    flips = np.flatnonzero(positive[1:] != positive[:-1]) + 1
    up, down = np.zeros(d.shape[0], dtype=bool), np.zeros(d.shape[0], dtype=bool)
    up[signed[flips[positive[flips]]]] = True
    down[signed[flips[~positive[flips]]]] = True
    return up, down


def signal_frame(
    *,
    buy: np.ndarray | pd.Series,
    sell: np.ndarray | pd.Series,
    stop_unit: pd.Series,
    sl_mult: float,
    tp_mult: float,
    codes: tuple[ReasonCode, ReasonCode],
    reasons: tuple[np.ndarray | pd.Series, np.ndarray | pd.Series],
    indicators: Mapping[str, np.ndarray | pd.Series],
) -> pd.DataFrame:
    """Assemble the signals frame on ``stop_unit.index``; ``buy``/``sell`` are bool masks,
    ``stop_unit`` e.g. ATR (price units).

    A signal needs a positive stop unit: with a zero ATR the stop would sit on the entry.
    ``reasons`` hold the text for the buy and the sell rows (other rows are ignored). Masks,
    reasons and indicators are positional (arrays, or Series on the same index).
    """
    unit = stop_unit.to_numpy(dtype=np.float64)
    usable = unit > 0.0  # NaN compares False
    is_buy = np.asarray(buy, dtype=bool) & usable
    is_sell = np.asarray(sell, dtype=bool) & usable & ~is_buy
    side = is_buy.astype(np.int64) - is_sell.astype(np.int64)
    code = _blank_texts(side.shape[0])
    code[is_buy], code[is_sell] = codes[0].value, codes[1].value
    reason = _blank_texts(side.shape[0])
    reason[is_buy] = np.asarray(reasons[0], dtype=object)[is_buy]
    reason[is_sell] = np.asarray(reasons[1], dtype=object)[is_sell]
    unit = np.where(usable, unit, np.nan)
    columns: dict[str, np.ndarray] = {
        "side": side,
        "sl_dist": sl_mult * unit,
        "tp_dist": tp_mult * unit,
        "reason_code": code,
        "reason": reason,
    }
    for name, values in indicators.items():
        columns[name] = np.asarray(values, dtype=np.float64)
    # One construction: inserting columns one by one costs ~50 us each on a live window.
    return pd.DataFrame(columns, index=stop_unit.index)


def fired_text(
    mask: np.ndarray | pd.Series, template: str, **values: np.ndarray | pd.Series | float | str
) -> np.ndarray:
    """Reason text on the rows of ``mask`` only, ``""`` elsewhere (an object array).

    Array or Series ``values`` are read on each fired row (positionally), other values are
    constants. Only the few fired rows are formatted, so the cost does not grow with the bar
    count.
    """
    fired = np.asarray(mask, dtype=bool)
    out = _blank_texts(fired.shape[0])
    rows = np.flatnonzero(fired)
    if rows.size:
        arrays = (np.ndarray, pd.Series)
        names = [k for k, v in values.items() if isinstance(v, arrays)]
        # tolist() gives Python scalars: the same text as numpy's, formatted faster.
        columns = [np.asarray(values[k])[rows].tolist() for k in names]
        fill = partial(template.format, **{k: v for k, v in values.items() if k not in names})
        per_row = zip(*columns, strict=True) if columns else repeat((), rows.size)
        texts = [fill(**dict(zip(names, row, strict=True))) for row in per_row]
        out[rows] = np.array(texts, dtype=object)
    return out
