"""What a person asks for, parsed once for chat and CLI alike.

``/backtest SYMBOL PERIOD [TF] [strategy=NAME] [param=value ...] [option=value ...]``
``/optimize SYMBOL PERIOD [TF] [strategy=NAME] param=a..b:step ... [metric=NAME] [split=0.7]``
``/compare SYMBOL PERIOD [TF] NAME NAME [NAME ...]``

Options (all optional, the settings decide otherwise): ``lots`` (fixed lots instead of risk
sizing), ``risk`` (``1%`` or ``0.01`` of equity per trade), ``gates`` (``on``/``off``),
``spread`` and ``slippage`` (points), ``commission`` (money per lot, round turn, as
PAPER_COMMISSION_PER_LOT), ``balance``. Every refusal is ``BadArguments`` with a ``code`` and
the offending text, so the chat can answer in the user's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.backtest.period import Period
from engine.errors import BadArguments
from engine.models import Timeframe
from engine.strategies import get_strategy, parse_strategy_spec
from engine.strategies.base import Strategy, StrategyParams

_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._#-]{1,31}")
OPTION_KEYS = ("lots", "risk", "gates", "spread", "slippage", "commission", "balance")
MAX_RISK = 0.05  # as RISK_PCT's upper bound


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-request overrides of the settings; None keeps the setting."""

    lots: float | None = None
    risk_pct: float | None = None  # fraction
    gates: bool | None = None
    spread_points: float | None = None
    slippage_points: float | None = None
    commission_round_turn: float | None = None
    balance: float | None = None


def split_tokens(tokens: str | Sequence[str] | None) -> list[str]:
    """Chat arguments (one string) or CLI words, as a list of non-empty tokens."""
    if tokens is None:
        return []
    if isinstance(tokens, str):
        return tokens.split()
    return [t for token in tokens for t in token.split()]


def _number(key: str, text: str, *, low: float, high: float, pct: bool = False) -> float:
    raw = text[:-1] if pct and text.endswith("%") else text
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if pct and text.endswith("%"):
        value /= 100
    if not (math.isfinite(value) and low <= value <= high):
        raise BadArguments(
            f"{key} must be a number from {low:g} to {high:g}, got {text!r}",
            code="bad_option",
            name=key,
            value=text,
            min=low,
            max=high,
        )
    return value


def parse_option(options: dict[str, Any], key: str, text: str) -> None:
    """Read one ``key=value`` option into ``options`` (RunOptions field names)."""
    if key == "lots":
        options["lots"] = _number(key, text, low=1e-6, high=1e6)
    elif key == "risk":
        value = _number(key, text, low=1e-6, high=MAX_RISK, pct=True)
        options["risk_pct"] = value
    elif key == "gates":
        flag = text.lower()
        if flag not in ("on", "off"):
            raise BadArguments(
                f"gates must be on or off, got {text!r}", code="bad_option", name=key, value=text
            )
        options["gates"] = flag == "on"
    elif key in ("spread", "slippage"):
        options[f"{key}_points"] = _number(key, text, low=0, high=1e6)
    elif key == "commission":
        options["commission_round_turn"] = _number(key, text, low=0, high=1e6)
    elif key == "balance":
        options["balance"] = _number(key, text, low=1, high=1e12)


@dataclass(frozen=True, slots=True)
class Head:
    """The positional part every request shares, plus the ``key=value`` tokens left over."""

    symbol: str
    period: Period
    timeframe: Timeframe | None
    pairs: list[tuple[str, str]]
    words: list[str]  # positional words after the timeframe (strategy names for /compare)


def parse_head(tokens: str | Sequence[str] | None, command: str) -> Head:
    words = split_tokens(tokens)
    positional = [w for w in words if "=" not in w]
    pairs = []
    for w in words:
        if "=" in w:
            key, _, value = w.partition("=")
            if not key or not value:
                raise BadArguments(f"expected name=value, got {w!r}", code="bad_token", token=w)
            pairs.append((key.strip().lower(), value.strip()))
    if not positional:
        raise BadArguments(
            f"{command} needs a symbol and a period, e.g. XAUUSD 90d", code="missing_symbol"
        )
    symbol = positional[0]
    if not _SYMBOL.fullmatch(symbol):
        raise BadArguments(f"{symbol!r} is not a symbol name", code="bad_symbol", symbol=symbol)
    if len(positional) < 2:
        raise BadArguments(
            f"{command} needs a period after {symbol}, e.g. 90d", code="missing_period"
        )
    period = Period.parse(positional[1])
    rest = positional[2:]
    timeframe = None
    if rest:
        try:
            timeframe = Timeframe.parse(rest[0])
            rest = rest[1:]
        except ValueError:
            if command != "compare":
                names = ", ".join(t.value for t in Timeframe)
                raise BadArguments(
                    f"unknown timeframe {rest[0]!r}; use one of {names}",
                    code="bad_timeframe",
                    timeframe=rest[0],
                    valid=names,
                ) from None
    return Head(symbol.upper(), period, timeframe, pairs, rest)


def _take_options(pairs: list[tuple[str, str]]) -> tuple[RunOptions, list[tuple[str, str]]]:
    options: dict[str, Any] = {}
    rest = []
    for key, value in pairs:
        if key in OPTION_KEYS:
            parse_option(options, key, value)
        else:
            rest.append((key, value))
    if options.get("lots") is not None and options.get("risk_pct") is not None:
        raise BadArguments(
            "give lots or risk, not both", code="bad_option", name="lots", other="risk"
        )
    return RunOptions(**options), rest


def _extra_words(head: Head, command: str) -> None:
    if head.words:
        raise BadArguments(
            f"unexpected {head.words[0]!r} in /{command}; parameters are name=value",
            code="bad_token",
            token=head.words[0],
        )


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    symbol: str
    period: Period
    timeframe: Timeframe | None  # None: the configured timeframe
    strategy: Strategy[Any]
    params: StrategyParams
    options: RunOptions = field(default_factory=RunOptions)

    @classmethod
    def parse(cls, tokens: str | Sequence[str] | None) -> BacktestRequest:
        """``SYMBOL PERIOD [TF] [strategy=NAME] [param=value ...] [option=value ...]``."""
        head = parse_head(tokens, "backtest")
        _extra_words(head, "backtest")
        options, pairs = _take_options(head.pairs)
        strategy, params = parse_strategy_spec([f"{k}={v}" for k, v in pairs])
        return cls(head.symbol, head.period, head.timeframe, strategy, params, options)

    def with_timeframe(self, timeframe: Timeframe) -> BacktestRequest:
        if self.timeframe is not None:
            return self
        return BacktestRequest(
            self.symbol, self.period, timeframe, self.strategy, self.params, self.options
        )


@dataclass(frozen=True, slots=True)
class CompareRequest:
    symbol: str
    period: Period
    timeframe: Timeframe | None
    strategies: tuple[Strategy[Any], ...]
    options: RunOptions = field(default_factory=RunOptions)

    @classmethod
    def parse(cls, tokens: str | Sequence[str] | None) -> CompareRequest:
        """``SYMBOL PERIOD [TF] NAME NAME [NAME ...]`` (2 to 4 strategies, default params)."""
        head = parse_head(tokens, "compare")
        options, pairs = _take_options(head.pairs)
        if pairs:
            key = pairs[0][0]
            raise BadArguments(
                f"/compare takes strategy names and options, not {key}=",
                code="bad_token",
                token=key,
            )
        names = list(dict.fromkeys(w.lower() for w in head.words))
        if not 2 <= len(names) <= 4:
            raise BadArguments(
                f"/compare needs 2 to 4 different strategy names, got {len(names)}",
                code="compare_count",
                count=len(names),
            )
        strategies = tuple(get_strategy(n) for n in names)
        return cls(head.symbol, head.period, head.timeframe, strategies, options)
