"""Strategies by name, and the ``strategy=ma_rsi fast=10`` syntax that chat and CLI share."""

from __future__ import annotations

from collections.abc import Sequence

from engine.errors import BadArguments
from engine.strategies.base import Strategy, StrategyParams
from engine.strategies.bb_reversion import BbReversion
from engine.strategies.ma_rsi import MaRsi

DEFAULT_STRATEGY = "ma_rsi"

_STRATEGIES: dict[str, Strategy] = {s.name: s for s in (MaRsi(), BbReversion())}


def strategy_names() -> tuple[str, ...]:
    """Registered names, the default first."""
    return (DEFAULT_STRATEGY, *sorted(n for n in _STRATEGIES if n != DEFAULT_STRATEGY))


def get_strategy(name: str) -> Strategy:
    """The strategy called ``name`` (case-insensitive); BadArguments lists the valid names."""
    strategy = _STRATEGIES.get(name.strip().lower())
    if strategy is None:
        valid = ", ".join(strategy_names())
        raise BadArguments(
            f"unknown strategy {name!r}; valid: {valid}",
            code="unknown_strategy",
            name=name,
            valid=valid,
        )
    return strategy


def parse_strategy_spec(tokens: Sequence[str]) -> tuple[Strategy, StrategyParams]:
    """Read ``name=value`` tokens: ``strategy=`` picks the strategy (default ma_rsi), the rest
    override its parameters, e.g. ``["strategy=ma_rsi", "fast=10"]``.

    Keys are case-insensitive and may come in any order. A token without ``=``, a repeated
    key, an unknown strategy or parameter, or a value out of range raises BadArguments that
    names the offender and what is allowed.
    """
    pairs: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key or not value:
            raise BadArguments(
                f"expected name=value, got {token!r}", code="bad_token", token=token
            )
        if key in pairs:
            raise BadArguments(
                f"{key} is given twice", code="duplicate_param", name=key, token=token
            )
        pairs[key] = value
    strategy = get_strategy(pairs.pop("strategy", DEFAULT_STRATEGY))
    return strategy, strategy.parse_params(pairs)
