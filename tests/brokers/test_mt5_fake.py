"""The fake MetaTrader5 module against shared/reference/mt5_api.md: names, values, field orders,
calling conventions and failure contract. If the fake drifts, every MT5 test lies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import SimClock
from engine.models import Timeframe
from tests.fakes import fake_mt5_structs as s
from tests.fakes.fake_mt5 import FakeMT5, gold_terminal

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)


@pytest.fixture
def mt5() -> FakeMT5:
    return gold_terminal(SimClock(T0).now)


def test_constants_have_the_wheel_values(mt5: FakeMT5) -> None:
    # Spot checks straight from the reference tables (§2.1-§2.7, §1.5).
    expected = {
        "TIMEFRAME_H4": 16388, "TIMEFRAME_D1": 16408, "TIMEFRAME_W1": 32769,
        "TIMEFRAME_MN1": 49153, "TRADE_ACTION_DEAL": 1, "TRADE_ACTION_PENDING": 5,
        "TRADE_ACTION_SLTP": 6, "TRADE_ACTION_CLOSE_BY": 10, "ORDER_FILLING_FOK": 0,
        "ORDER_FILLING_IOC": 1, "ORDER_FILLING_RETURN": 2, "ORDER_FILLING_BOC": 3,
        "DEAL_ENTRY_OUT_BY": 3, "DEAL_DIVIDEND": 15, "DEAL_TAX": 17, "DEAL_REASON_SPLIT": 9,
        "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING": 2, "SYMBOL_TRADE_EXECUTION_MARKET": 2,
        "SYMBOL_CALC_MODE_SERV_COLLATERAL": 64, "BOOK_TYPE_BUY_MARKET": 4, "COPY_TICKS_ALL": -1,
        "TICK_FLAG_SELL": 0x40, "TRADE_RETCODE_DONE": 10009, "TRADE_RETCODE_INVALID_FILL": 10030,
        "TRADE_RETCODE_FIFO_CLOSE": 10045, "RES_S_OK": 1, "RES_E_AUTH_FAILED": -6,
        "RES_E_INTERNAL_FAIL_CONNECT": -10004, "RES_E_INTERNAL_FAIL_TIMEOUT": -10005,
    }  # fmt: skip
    assert {name: getattr(mt5, name) for name in expected} == expected
    assert (mt5.__version__, mt5.__author__) == ("5.0.6231", "MetaQuotes Ltd.")


def test_names_the_real_module_lacks_are_absent(mt5: FakeMT5) -> None:
    for name in ("SYMBOL_FILLING_FOK", "TRADE_RETCODE_HEDGE_PROHIBITED", "RES_E_DONE"):
        assert not hasattr(mt5, name)
    retcodes = sorted(v for k, v in s.CONSTANTS.items() if k.startswith("TRADE_RETCODE_"))
    assert retcodes == [10004, *range(10006, 10037), *range(10038, 10046)]  # no 10005, 10037


def test_every_timeframe_matches_the_engine(mt5: FakeMT5) -> None:
    assert sum(k.startswith("TIMEFRAME_") for k in s.CONSTANTS) == 21
    for tf in Timeframe:
        assert getattr(mt5, f"TIMEFRAME_{tf.value}") == tf.mt5


@pytest.mark.parametrize(
    ("struct", "count", "first", "last"),
    [
        (s.AccountInfo, 28, "login", "company"),
        (s.TerminalInfo, 22, "community_account", "commondata_path"),
        (s.SymbolInfo, 96, "custom", "path"),
        (s.Tick, 8, "time", "volume_real"),
        (s.TradePosition, 19, "ticket", "external_id"),
        (s.TradeOrder, 24, "ticket", "external_id"),
        (s.TradeDeal, 18, "ticket", "external_id"),
        (s.TradeRequest, 17, "action", "position_by"),
        (s.OrderSendResult, 11, "retcode", "request"),
        (s.OrderCheckResult, 9, "retcode", "request"),
        (s.BookInfo, 4, "type", "volume_dbl"),
    ],
)
def test_struct_types_have_the_reference_fields(
    mt5: FakeMT5, struct: type, count: int, first: str, last: str
) -> None:
    fields = struct._fields  # type: ignore[attr-defined]
    assert (len(fields), fields[0], fields[-1]) == (count, first, last)
    assert getattr(mt5, struct.__name__) is struct


def test_trade_deal_field_order(mt5: FakeMT5) -> None:
    assert s.TradeDeal._fields == (
        "ticket", "order", "time", "time_msc", "type", "entry", "magic", "position_id",
        "reason", "volume", "price", "commission", "swap", "profit", "fee", "symbol",
        "comment", "external_id",
    )  # fmt: skip


def test_calls_before_initialize_fail_with_no_ipc(mt5: FakeMT5) -> None:
    assert mt5.account_info() is None
    assert mt5.last_error() == (-10004, "No IPC connection")
    assert mt5.symbol_select("XAUUSD", True) is False
    assert mt5.initialize() is True
    assert mt5.last_error() == (1, "Success")
    assert mt5.account_info().balance == 10_000.0


def test_calling_conventions(mt5: FakeMT5) -> None:
    mt5.initialize()
    with pytest.raises(TypeError):
        mt5.symbol_select("XAUUSD", enable=True)
    with pytest.raises(TypeError):
        mt5.symbol_info(symbol="XAUUSD")
    with pytest.raises(TypeError):
        mt5.account_info(1)
    assert mt5.positions_get("XAUUSD") is None
    assert mt5.last_error() == (-2, "Unnamed arguments not allowed")
    assert mt5.positions_get(symbol="XAUUSD") == ()
    assert mt5.symbol_info_tick("XAUUSD") is None  # not in Market Watch yet
    assert mt5.symbol_select("XAUUSD", True) is True
    assert mt5.symbol_info_tick("XAUUSD").ask == 2000.30
    assert mt5.symbol_info("NOPE") is None and mt5.last_error()[0] == -4


def _request(**over: object) -> dict[str, object]:
    base = {"action": 1, "symbol": "XAUUSD", "volume": 0.1, "type": 0, "price": 2000.3}
    return base | {"type_filling": 0, "magic": 7, "comment": "ct-test"} | over


def test_order_check_passes_with_zero_and_send_with_done(mt5: FakeMT5) -> None:
    mt5.initialize()
    mt5.symbol_select("XAUUSD", True)
    check = mt5.order_check(_request())
    assert (check.retcode, check.comment) == (0, "Done")
    # margin 0.1 lot * 100 oz * 2000.30 / 100 = 200.03
    assert check.margin == pytest.approx(200.03)
    sent = mt5.order_send(_request())
    assert (sent.retcode, sent.comment, sent.price, sent.volume) == (
        10009, "Request executed", 2000.30, 0.1,
    )  # fmt: skip
    as_dict = sent._asdict()
    assert type(as_dict["request"]).__name__ == "TradeRequest"  # _asdict is shallow
    (position,) = mt5.positions_get(symbol="XAUUSD")
    assert position.ticket == sent.order and position.magic == 7


@pytest.mark.parametrize(
    ("over", "error"),
    [
        ({"comment": "x" * 28}, (-2, 'Invalid "comment" argument')),
        ({"comment": "[sl]"}, (-2, 'Invalid "comment" argument')),
        ({"volume": None}, (-2, 'Invalid "volume" argument')),
        ({"price": "2000"}, (-2, 'Invalid "price" argument')),
        ({"colour": 1}, (-2, "Invalid arguments")),
    ],
)
def test_request_argument_errors(
    mt5: FakeMT5, over: dict[str, object], error: tuple[int, str]
) -> None:
    mt5.initialize()
    mt5.symbol_select("XAUUSD", True)
    assert mt5.order_send(_request(**over)) is None
    assert mt5.last_error() == error


def test_server_refusals_are_retcodes(mt5: FakeMT5) -> None:
    mt5.initialize()
    sym = mt5.server.symbols["XAUUSD"]
    assert mt5.order_send(_request(volume=0.015)).retcode == 10014
    assert mt5.order_send(_request(type_filling=2)).retcode == 10030  # RETURN, market exec
    assert mt5.order_send(_request(sl=2000.10)).retcode == 10016  # a buy's SL above the bid
    sym.market_open = False
    assert mt5.order_send(_request()).retcode == 10018
    mt5.terminal.trade_allowed = False
    assert mt5.order_send(_request()).retcode == 10027
    assert mt5.positions_get() == ()


def test_times_are_server_time(mt5: FakeMT5) -> None:
    mt5.initialize()
    mt5.symbol_select("XAUUSD", True)
    tick = mt5.symbol_info_tick("XAUUSD")
    assert tick.time == int((T0 + timedelta(hours=2)).timestamp())


def test_rates_are_oldest_first_with_the_forming_bar_at_position_zero(mt5: FakeMT5) -> None:
    mt5.initialize()
    mt5.symbol_select("XAUUSD", True)
    rows = [(T0 - timedelta(hours=h), 1.0 + h, 2.0 + h, 0.5, 1.5, 10, 3) for h in range(4)]
    mt5.set_bars("XAUUSD", mt5.TIMEFRAME_H1, rows)
    rates = mt5.copy_rates_from_pos("XAUUSD", mt5.TIMEFRAME_H1, 0, 2)
    assert rates.dtype == s.RATES_DTYPE
    assert list(rates["open"]) == [2.0, 1.0]  # 13:00 then the forming 14:00 bar
    older = mt5.copy_rates_from_pos("XAUUSD", mt5.TIMEFRAME_H1, 1, 10)
    assert list(older["open"]) == [4.0, 3.0, 2.0]


def test_hooks_inject_faults(mt5: FakeMT5) -> None:
    mt5.initialize()
    mt5.fail_next("account_info")
    assert mt5.account_info() is None and mt5.last_error() == (-10005, "IPC timeout")
    assert mt5.account_info() is not None
    mt5.kill_terminal()
    assert mt5.terminal_info() is None and mt5.last_error() == (-10002, "IPC recv failed")
    assert mt5.terminal_info() is None and mt5.last_error() == (-10004, "No IPC connection")
