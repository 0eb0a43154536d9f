"""Which currencies' news moves each traded symbol, configurable per symbol.

``SymbolCurrencies.parse("XAUUSD=USD;EURUSD=EUR,USD")`` reads the ``SYMBOL_CURRENCIES`` setting;
symbols it does not name fall back to the news gate's defaults (``currencies_for``: metals and
US indices with USD, FX pairs with both legs, else the spec's currencies). The result is what
``RiskContext.currencies`` should carry, so the gate and ``/news`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from engine.errors import ConfigError
from engine.models import SymbolSpec
from engine.risk.news import currencies_for

SETTING = "SYMBOL_CURRENCIES"
_SYMBOL = re.compile(r"^[A-Z0-9._#-]{1,32}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, slots=True)
class SymbolCurrencies:
    """Per-symbol overrides (upper-case names) of the currencies whose releases matter."""

    overrides: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def parse(cls, text: str) -> SymbolCurrencies:
        """``"SYM=CUR[,CUR...];SYM=..."`` (spaces and case ignored, empty text = no overrides).

        Raises ``ConfigError`` naming ``SYMBOL_CURRENCIES`` and the bad entry.
        """
        found: dict[str, frozenset[str]] = {}
        for raw in text.split(";"):
            entry = raw.strip()
            if not entry:
                continue
            symbol, sep, rest = (part.strip().upper() for part in entry.partition("="))
            codes = [c.strip() for c in rest.split(",") if c.strip()] if sep else []
            bad = [c for c in codes if not _CURRENCY.match(c)]
            if not _SYMBOL.match(symbol) or not codes or bad:
                msg = (
                    f"{SETTING}: cannot read {entry!r}; write SYMBOL=CUR[,CUR] entries joined "
                    f"by ';' with 3-letter currency codes, e.g. XAUUSD=USD;EURUSD=EUR,USD"
                )
                raise ConfigError(msg, variables=(SETTING,), entry=entry)
            if symbol in found:
                msg = f"{SETTING}: {symbol} is listed twice"
                raise ConfigError(msg, variables=(SETTING,), entry=entry)
            found[symbol] = frozenset(codes)
        return cls(MappingProxyType(found))

    def for_symbol(self, symbol: str, spec: SymbolSpec | None = None) -> frozenset[str] | None:
        """The currencies of ``symbol``: override by name, then by its first six letters
        (broker suffixes like ``XAUUSDm``), then the gate's defaults; None = all currencies."""
        name = symbol.upper()
        for key in (name, name[:6]):
            if key in self.overrides:
                return self.overrides[key]
        return currencies_for(symbol, spec)

    def union(self, symbols: tuple[str, ...]) -> frozenset[str] | None:
        """Currencies of all ``symbols`` together; None (all) as soon as one is unknown."""
        out: set[str] = set()
        for symbol in symbols:
            found = self.for_symbol(symbol)
            if found is None:
                return None
            out |= found
        return frozenset(out)
