"""SymbolCurrencies: the SYMBOL_CURRENCIES setting, overrides, suffixes and the gate's defaults."""

from __future__ import annotations

import pytest

from engine.calendar import SymbolCurrencies
from engine.errors import ConfigError
from engine.models import SymbolSpec


def test_parse_reads_entries_and_ignores_case_and_spaces() -> None:
    mapping = SymbolCurrencies.parse(" xauusd = usd ; EURUSD=EUR, USD;;GER40=EUR ")
    assert dict(mapping.overrides) == {
        "XAUUSD": frozenset({"USD"}),
        "EURUSD": frozenset({"EUR", "USD"}),
        "GER40": frozenset({"EUR"}),
    }
    assert SymbolCurrencies.parse("").overrides == {}


def test_overrides_win_then_suffixes_then_the_gate_defaults() -> None:
    mapping = SymbolCurrencies.parse("XAUUSD=USD,CNY;GER40=EUR")
    assert mapping.for_symbol("XAUUSD") == frozenset({"USD", "CNY"})
    assert mapping.for_symbol("xauusd.m") == frozenset({"USD", "CNY"})  # first six letters
    assert mapping.for_symbol("GER40") == frozenset({"EUR"})
    assert mapping.for_symbol("EURUSD") == frozenset({"EUR", "USD"})  # engine default
    assert mapping.for_symbol("US500") == frozenset({"USD"})
    assert mapping.for_symbol("MYSTERY") is None  # nothing known: every currency


def test_unknown_symbol_falls_back_to_its_spec() -> None:
    spec = SymbolSpec(
        name="XAUAUD", digits=2, point=0.01, tick_size=0.01, tick_value=1.0,
        contract_size=100.0, volume_min=0.01, volume_max=100.0, volume_step=0.01,
        currency_base="XAU", currency_profit="AUD",
    )  # fmt: skip
    assert SymbolCurrencies().for_symbol("XAUAUD", spec) == frozenset({"AUD"})


def test_union_of_symbols_is_all_when_one_is_unknown() -> None:
    mapping = SymbolCurrencies.parse("GER40=EUR")
    assert mapping.union(("XAUUSD", "GER40")) == frozenset({"USD", "EUR"})
    assert mapping.union(("XAUUSD", "MYSTERY")) is None


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("XAUUSD", "cannot read 'XAUUSD'"),
        ("XAUUSD=", "cannot read 'XAUUSD='"),
        ("XAUUSD=US", "cannot read 'XAUUSD=US'"),
        ("XAUUSD=USD,dollar", "cannot read"),
        ("=USD", "cannot read '=USD'"),
        ("XAUUSD=USD;xauusd=EUR", "XAUUSD is listed twice"),
    ],
)
def test_bad_setting_names_the_variable_and_the_entry(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as caught:
        SymbolCurrencies.parse(text)
    assert str(caught.value).startswith("SYMBOL_CURRENCIES: ")
    assert caught.value.params["variables"] == ("SYMBOL_CURRENCIES",)
