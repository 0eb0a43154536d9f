"""Default symbol specifications for a retail MT5 account in USD (paper trading and backtests).

These stand in for ``symbol_info`` when no broker is connected. The numbers are an assumption
modelled on the contract specifications that common retail MT5 brokers publish (raw-spread /
ECN-style accounts) and on the MT5 documentation's own example (EURCAD: digits 5, point 1e-05,
tick size 1e-05, contract 100 000, volume 0.01..500 step 0.01). They are not any one broker's
values: a live account must always use what its own ``symbol_info`` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from engine.errors import BadArguments
from engine.models import FillingFlag, SymbolSpec, TradeMode

# Spot gold quoted in USD per troy ounce with two decimals; 1 lot = 100 oz, so a 0.01 move is
# 100 * 0.01 = 1.00 USD per lot. Raw-spread accounts usually publish stops level 0.
XAUUSD = SymbolSpec(
    name="XAUUSD",
    digits=2,
    point=0.01,
    tick_size=0.01,
    tick_value=1.0,
    contract_size=100.0,
    volume_min=0.01,
    volume_max=100.0,
    volume_step=0.01,
    stops_level=0,
    freeze_level=0,
    filling_mode=FillingFlag.FOK | FillingFlag.IOC,
    trade_mode=TradeMode.FULL,
    currency_base="XAU",
    currency_profit="USD",
    currency_margin="XAU",
    description="Gold vs US Dollar",
)

# Five-digit EURUSD; 1 lot = 100 000 EUR, so a 0.00001 move is 100 000 * 0.00001 = 1.00 USD.
EURUSD = SymbolSpec(
    name="EURUSD",
    digits=5,
    point=0.00001,
    tick_size=0.00001,
    tick_value=1.0,
    contract_size=100_000.0,
    volume_min=0.01,
    volume_max=500.0,
    volume_step=0.01,
    stops_level=0,
    freeze_level=0,
    filling_mode=FillingFlag.FOK | FillingFlag.IOC,
    trade_mode=TradeMode.FULL,
    currency_base="EUR",
    currency_profit="USD",
    currency_margin="EUR",
    description="Euro vs US Dollar",
)

# S&P 500 cash index CFD; 1 lot = 1 x index, so a 0.01 move is 0.01 USD per lot (1 USD per
# index point). Index CFDs are commonly traded from 0.1 lot in 0.1 steps, and market-maker
# accounts often impose a small stops level; 10 points (0.10 index points) is assumed here.
US500 = SymbolSpec(
    name="US500",
    digits=2,
    point=0.01,
    tick_size=0.01,
    tick_value=0.01,
    contract_size=1.0,
    volume_min=0.1,
    volume_max=500.0,
    volume_step=0.1,
    stops_level=10,
    freeze_level=0,
    filling_mode=FillingFlag.FOK | FillingFlag.IOC,
    trade_mode=TradeMode.FULL,
    currency_base="USD",
    currency_profit="USD",
    currency_margin="USD",
    description="US 500 Cash Index CFD",
)

DEFAULT_SPECS: Mapping[str, SymbolSpec] = MappingProxyType(
    {spec.name: spec for spec in (XAUUSD, EURUSD, US500)}
)


def default_spec(name: str) -> SymbolSpec:
    """The default spec for ``name`` (case-insensitive); ``BadArguments`` naming the known ones.

    The error carries ``code="unknown_symbol"`` and params ``symbol`` and ``known``.
    """
    spec = DEFAULT_SPECS.get(name.strip().upper())
    if spec is None:
        known = ", ".join(sorted(DEFAULT_SPECS))
        msg = f"unknown symbol {name!r}; paper trading and backtests know {known}"
        raise BadArguments(msg, code="unknown_symbol", symbol=name, known=known)
    return spec
