"""Constants and result types of the ``MetaTrader5`` module, for the fake in ``fake_mt5``.

Every name and value is copied from shared/reference/mt5_api.md §2 (the 5.0.6231 wheel), and the
result types follow §1.3: same type names, same fields in the same order, tuples with a shallow
``_asdict()``. Names the real module does not have (``SYMBOL_FILLING_*``,
``TRADE_RETCODE_HEDGE_PROHIBITED``, ``RES_E_DONE``) are deliberately absent.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

CONSTANTS: dict[str, int] = {
    # §2.1 timeframes
    "TIMEFRAME_M1": 1, "TIMEFRAME_M2": 2, "TIMEFRAME_M3": 3, "TIMEFRAME_M4": 4,
    "TIMEFRAME_M5": 5, "TIMEFRAME_M6": 6, "TIMEFRAME_M10": 10, "TIMEFRAME_M12": 12,
    "TIMEFRAME_M15": 15, "TIMEFRAME_M20": 20, "TIMEFRAME_M30": 30,
    "TIMEFRAME_H1": 0x4001, "TIMEFRAME_H2": 0x4002, "TIMEFRAME_H3": 0x4003,
    "TIMEFRAME_H4": 0x4004, "TIMEFRAME_H6": 0x4006, "TIMEFRAME_H8": 0x4008,
    "TIMEFRAME_H12": 0x400C, "TIMEFRAME_D1": 0x4018, "TIMEFRAME_W1": 0x8001,
    "TIMEFRAME_MN1": 0xC001,
    # §2.2 orders, actions, filling, time, state, reason
    "ORDER_TYPE_BUY": 0, "ORDER_TYPE_SELL": 1, "ORDER_TYPE_BUY_LIMIT": 2,
    "ORDER_TYPE_SELL_LIMIT": 3, "ORDER_TYPE_BUY_STOP": 4, "ORDER_TYPE_SELL_STOP": 5,
    "ORDER_TYPE_BUY_STOP_LIMIT": 6, "ORDER_TYPE_SELL_STOP_LIMIT": 7, "ORDER_TYPE_CLOSE_BY": 8,
    "TRADE_ACTION_DEAL": 1, "TRADE_ACTION_PENDING": 5, "TRADE_ACTION_SLTP": 6,
    "TRADE_ACTION_MODIFY": 7, "TRADE_ACTION_REMOVE": 8, "TRADE_ACTION_CLOSE_BY": 10,
    "ORDER_FILLING_FOK": 0, "ORDER_FILLING_IOC": 1, "ORDER_FILLING_RETURN": 2,
    "ORDER_FILLING_BOC": 3,
    "ORDER_TIME_GTC": 0, "ORDER_TIME_DAY": 1, "ORDER_TIME_SPECIFIED": 2,
    "ORDER_TIME_SPECIFIED_DAY": 3,
    "ORDER_STATE_STARTED": 0, "ORDER_STATE_PLACED": 1, "ORDER_STATE_CANCELED": 2,
    "ORDER_STATE_PARTIAL": 3, "ORDER_STATE_FILLED": 4, "ORDER_STATE_REJECTED": 5,
    "ORDER_STATE_EXPIRED": 6, "ORDER_STATE_REQUEST_ADD": 7, "ORDER_STATE_REQUEST_MODIFY": 8,
    "ORDER_STATE_REQUEST_CANCEL": 9,
    "ORDER_REASON_CLIENT": 0, "ORDER_REASON_MOBILE": 1, "ORDER_REASON_WEB": 2,
    "ORDER_REASON_EXPERT": 3, "ORDER_REASON_SL": 4, "ORDER_REASON_TP": 5, "ORDER_REASON_SO": 6,
    # §2.3 positions and deals
    "POSITION_TYPE_BUY": 0, "POSITION_TYPE_SELL": 1,
    "POSITION_REASON_CLIENT": 0, "POSITION_REASON_MOBILE": 1, "POSITION_REASON_WEB": 2,
    "POSITION_REASON_EXPERT": 3,
    "DEAL_TYPE_BUY": 0, "DEAL_TYPE_SELL": 1, "DEAL_TYPE_BALANCE": 2, "DEAL_TYPE_CREDIT": 3,
    "DEAL_TYPE_CHARGE": 4, "DEAL_TYPE_CORRECTION": 5, "DEAL_TYPE_BONUS": 6,
    "DEAL_TYPE_COMMISSION": 7, "DEAL_TYPE_COMMISSION_DAILY": 8,
    "DEAL_TYPE_COMMISSION_MONTHLY": 9, "DEAL_TYPE_COMMISSION_AGENT_DAILY": 10,
    "DEAL_TYPE_COMMISSION_AGENT_MONTHLY": 11, "DEAL_TYPE_INTEREST": 12,
    "DEAL_TYPE_BUY_CANCELED": 13, "DEAL_TYPE_SELL_CANCELED": 14,
    "DEAL_DIVIDEND": 15, "DEAL_DIVIDEND_FRANKED": 16, "DEAL_TAX": 17,
    "DEAL_ENTRY_IN": 0, "DEAL_ENTRY_OUT": 1, "DEAL_ENTRY_INOUT": 2, "DEAL_ENTRY_OUT_BY": 3,
    "DEAL_REASON_CLIENT": 0, "DEAL_REASON_MOBILE": 1, "DEAL_REASON_WEB": 2,
    "DEAL_REASON_EXPERT": 3, "DEAL_REASON_SL": 4, "DEAL_REASON_TP": 5, "DEAL_REASON_SO": 6,
    "DEAL_REASON_ROLLOVER": 7, "DEAL_REASON_VMARGIN": 8, "DEAL_REASON_SPLIT": 9,
    # §2.4 symbol and account enums
    "SYMBOL_TRADE_MODE_DISABLED": 0, "SYMBOL_TRADE_MODE_LONGONLY": 1,
    "SYMBOL_TRADE_MODE_SHORTONLY": 2, "SYMBOL_TRADE_MODE_CLOSEONLY": 3,
    "SYMBOL_TRADE_MODE_FULL": 4,
    "SYMBOL_TRADE_EXECUTION_REQUEST": 0, "SYMBOL_TRADE_EXECUTION_INSTANT": 1,
    "SYMBOL_TRADE_EXECUTION_MARKET": 2, "SYMBOL_TRADE_EXECUTION_EXCHANGE": 3,
    "SYMBOL_CALC_MODE_FOREX": 0, "SYMBOL_CALC_MODE_FUTURES": 1, "SYMBOL_CALC_MODE_CFD": 2,
    "SYMBOL_CALC_MODE_CFDINDEX": 3, "SYMBOL_CALC_MODE_CFDLEVERAGE": 4,
    "SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE": 5, "SYMBOL_CALC_MODE_EXCH_STOCKS": 32,
    "SYMBOL_CALC_MODE_EXCH_FUTURES": 33, "SYMBOL_CALC_MODE_EXCH_OPTIONS": 34,
    "SYMBOL_CALC_MODE_EXCH_OPTIONS_MARGIN": 36, "SYMBOL_CALC_MODE_EXCH_BONDS": 37,
    "SYMBOL_CALC_MODE_EXCH_STOCKS_MOEX": 38, "SYMBOL_CALC_MODE_EXCH_BONDS_MOEX": 39,
    "SYMBOL_CALC_MODE_SERV_COLLATERAL": 64,
    "SYMBOL_SWAP_MODE_DISABLED": 0, "SYMBOL_SWAP_MODE_POINTS": 1,
    "SYMBOL_SWAP_MODE_CURRENCY_SYMBOL": 2, "SYMBOL_SWAP_MODE_CURRENCY_MARGIN": 3,
    "SYMBOL_SWAP_MODE_CURRENCY_DEPOSIT": 4, "SYMBOL_SWAP_MODE_INTEREST_CURRENT": 5,
    "SYMBOL_SWAP_MODE_INTEREST_OPEN": 6, "SYMBOL_SWAP_MODE_REOPEN_CURRENT": 7,
    "SYMBOL_SWAP_MODE_REOPEN_BID": 8,
    "SYMBOL_ORDERS_GTC": 0, "SYMBOL_ORDERS_DAILY": 1, "SYMBOL_ORDERS_DAILY_NO_STOPS": 2,
    "SYMBOL_CHART_MODE_BID": 0, "SYMBOL_CHART_MODE_LAST": 1,
    "SYMBOL_OPTION_RIGHT_CALL": 0, "SYMBOL_OPTION_RIGHT_PUT": 1,
    "SYMBOL_OPTION_MODE_EUROPEAN": 0, "SYMBOL_OPTION_MODE_AMERICAN": 1,
    "DAY_OF_WEEK_SUNDAY": 0, "DAY_OF_WEEK_MONDAY": 1, "DAY_OF_WEEK_TUESDAY": 2,
    "DAY_OF_WEEK_WEDNESDAY": 3, "DAY_OF_WEEK_THURSDAY": 4, "DAY_OF_WEEK_FRIDAY": 5,
    "DAY_OF_WEEK_SATURDAY": 6,
    "ACCOUNT_TRADE_MODE_DEMO": 0, "ACCOUNT_TRADE_MODE_CONTEST": 1, "ACCOUNT_TRADE_MODE_REAL": 2,
    "ACCOUNT_STOPOUT_MODE_PERCENT": 0, "ACCOUNT_STOPOUT_MODE_MONEY": 1,
    "ACCOUNT_MARGIN_MODE_RETAIL_NETTING": 0, "ACCOUNT_MARGIN_MODE_EXCHANGE": 1,
    "ACCOUNT_MARGIN_MODE_RETAIL_HEDGING": 2,
    "BOOK_TYPE_SELL": 1, "BOOK_TYPE_BUY": 2, "BOOK_TYPE_SELL_MARKET": 3,
    "BOOK_TYPE_BUY_MARKET": 4,
    # §2.6 ticks
    "COPY_TICKS_ALL": -1, "COPY_TICKS_INFO": 1, "COPY_TICKS_TRADE": 2,
    "TICK_FLAG_BID": 0x02, "TICK_FLAG_ASK": 0x04, "TICK_FLAG_LAST": 0x08,
    "TICK_FLAG_VOLUME": 0x10, "TICK_FLAG_BUY": 0x20, "TICK_FLAG_SELL": 0x40,
    # §2.7 trade server return codes (no 10005, 10037 or 10046)
    "TRADE_RETCODE_REQUOTE": 10004, "TRADE_RETCODE_REJECT": 10006,
    "TRADE_RETCODE_CANCEL": 10007, "TRADE_RETCODE_PLACED": 10008, "TRADE_RETCODE_DONE": 10009,
    "TRADE_RETCODE_DONE_PARTIAL": 10010, "TRADE_RETCODE_ERROR": 10011,
    "TRADE_RETCODE_TIMEOUT": 10012, "TRADE_RETCODE_INVALID": 10013,
    "TRADE_RETCODE_INVALID_VOLUME": 10014, "TRADE_RETCODE_INVALID_PRICE": 10015,
    "TRADE_RETCODE_INVALID_STOPS": 10016, "TRADE_RETCODE_TRADE_DISABLED": 10017,
    "TRADE_RETCODE_MARKET_CLOSED": 10018, "TRADE_RETCODE_NO_MONEY": 10019,
    "TRADE_RETCODE_PRICE_CHANGED": 10020, "TRADE_RETCODE_PRICE_OFF": 10021,
    "TRADE_RETCODE_INVALID_EXPIRATION": 10022, "TRADE_RETCODE_ORDER_CHANGED": 10023,
    "TRADE_RETCODE_TOO_MANY_REQUESTS": 10024, "TRADE_RETCODE_NO_CHANGES": 10025,
    "TRADE_RETCODE_SERVER_DISABLES_AT": 10026, "TRADE_RETCODE_CLIENT_DISABLES_AT": 10027,
    "TRADE_RETCODE_LOCKED": 10028, "TRADE_RETCODE_FROZEN": 10029,
    "TRADE_RETCODE_INVALID_FILL": 10030, "TRADE_RETCODE_CONNECTION": 10031,
    "TRADE_RETCODE_ONLY_REAL": 10032, "TRADE_RETCODE_LIMIT_ORDERS": 10033,
    "TRADE_RETCODE_LIMIT_VOLUME": 10034, "TRADE_RETCODE_INVALID_ORDER": 10035,
    "TRADE_RETCODE_POSITION_CLOSED": 10036, "TRADE_RETCODE_INVALID_CLOSE_VOLUME": 10038,
    "TRADE_RETCODE_CLOSE_ORDER_EXIST": 10039, "TRADE_RETCODE_LIMIT_POSITIONS": 10040,
    "TRADE_RETCODE_REJECT_CANCEL": 10041, "TRADE_RETCODE_LONG_ONLY": 10042,
    "TRADE_RETCODE_SHORT_ONLY": 10043, "TRADE_RETCODE_CLOSE_ONLY": 10044,
    "TRADE_RETCODE_FIFO_CLOSE": 10045,
    # §1.5 last_error codes
    "RES_S_OK": 1, "RES_E_FAIL": -1, "RES_E_INVALID_PARAMS": -2, "RES_E_NO_MEMORY": -3,
    "RES_E_NOT_FOUND": -4, "RES_E_INVALID_VERSION": -5, "RES_E_AUTH_FAILED": -6,
    "RES_E_UNSUPPORTED": -7, "RES_E_AUTO_TRADING_DISABLED": -8, "RES_E_INTERNAL_FAIL": -10000,
    "RES_E_INTERNAL_FAIL_SEND": -10001, "RES_E_INTERNAL_FAIL_RECEIVE": -10002,
    "RES_E_INTERNAL_FAIL_INIT": -10003, "RES_E_INTERNAL_FAIL_CONNECT": -10004,
    "RES_E_INTERNAL_FAIL_TIMEOUT": -10005,
}  # fmt: skip


def _fields(spec: str) -> tuple[tuple[str, Any], ...]:
    """'name:i name:f name:s name:b' -> ((name, default), ...) with 0 / 0.0 / '' / False."""
    defaults = {"i": 0, "f": 0.0, "s": "", "b": False, "r": None}
    return tuple((n, defaults[t]) for n, t in (item.split(":") for item in spec.split()))


SPECS: dict[str, str] = {
    "AccountInfo": "login:i trade_mode:i leverage:i limit_orders:i margin_so_mode:i "
    "trade_allowed:b trade_expert:b margin_mode:i currency_digits:i fifo_close:b balance:f "
    "credit:f profit:f equity:f margin:f margin_free:f margin_level:f margin_so_call:f "
    "margin_so_so:f margin_initial:f margin_maintenance:f assets:f liabilities:f "
    "commission_blocked:f name:s server:s currency:s company:s",
    "TerminalInfo": "community_account:b community_connection:b connected:b dlls_allowed:b "
    "trade_allowed:b tradeapi_disabled:b email_enabled:b ftp_enabled:b "
    "notifications_enabled:b mqid:b build:i maxbars:i codepage:i ping_last:i "
    "community_balance:f retransmission:f company:s name:s language:s path:s data_path:s "
    "commondata_path:s",
    "SymbolInfo": "custom:b chart_mode:i select:b visible:b session_deals:i "
    "session_buy_orders:i session_sell_orders:i volume:i volumehigh:i volumelow:i time:i "
    "digits:i spread:i spread_float:b ticks_bookdepth:i trade_calc_mode:i trade_mode:i "
    "start_time:i expiration_time:i trade_stops_level:i trade_freeze_level:i trade_exemode:i "
    "swap_mode:i swap_rollover3days:i margin_hedged_use_leg:b expiration_mode:i "
    "filling_mode:i order_mode:i order_gtc_mode:i option_mode:i option_right:i bid:f "
    "bidhigh:f bidlow:f ask:f askhigh:f asklow:f last:f lasthigh:f lastlow:f volume_real:f "
    "volumehigh_real:f volumelow_real:f option_strike:f point:f trade_tick_value:f "
    "trade_tick_value_profit:f trade_tick_value_loss:f trade_tick_size:f "
    "trade_contract_size:f trade_accrued_interest:f trade_face_value:f "
    "trade_liquidity_rate:f volume_min:f volume_max:f volume_step:f volume_limit:f "
    "swap_long:f swap_short:f margin_initial:f margin_maintenance:f session_volume:f "
    "session_turnover:f session_interest:f session_buy_orders_volume:f "
    "session_sell_orders_volume:f session_open:f session_close:f session_aw:f "
    "session_price_settlement:f session_price_limit_min:f session_price_limit_max:f "
    "margin_hedged:f price_change:f price_volatility:f price_theoretical:f "
    "price_greeks_delta:f price_greeks_theta:f price_greeks_gamma:f price_greeks_vega:f "
    "price_greeks_rho:f price_greeks_omega:f price_sensitivity:f basis:s category:s "
    "currency_base:s currency_profit:s currency_margin:s bank:s description:s exchange:s "
    "formula:s isin:s name:s page:s path:s",
    "Tick": "time:i bid:f ask:f last:f volume:i time_msc:i flags:i volume_real:f",
    "TradePosition": "ticket:i time:i time_msc:i time_update:i time_update_msc:i type:i "
    "magic:i identifier:i reason:i volume:f price_open:f sl:f tp:f price_current:f swap:f "
    "profit:f symbol:s comment:s external_id:s",
    "TradeOrder": "ticket:i time_setup:i time_setup_msc:i time_done:i time_done_msc:i "
    "time_expiration:i type:i type_time:i type_filling:i state:i magic:i position_id:i "
    "position_by_id:i reason:i volume_initial:f volume_current:f price_open:f sl:f tp:f "
    "price_current:f price_stoplimit:f symbol:s comment:s external_id:s",
    "TradeDeal": "ticket:i order:i time:i time_msc:i type:i entry:i magic:i position_id:i "
    "reason:i volume:f price:f commission:f swap:f profit:f fee:f symbol:s comment:s "
    "external_id:s",
    "TradeRequest": "action:i magic:i order:i symbol:s volume:f price:f stoplimit:f sl:f tp:f "
    "deviation:i type:i type_filling:i type_time:i expiration:i comment:s position:i "
    "position_by:i",
    "OrderSendResult": "retcode:i deal:i order:i volume:f price:f bid:f ask:f comment:s "
    "request_id:i retcode_external:i request:r",
    "OrderCheckResult": "retcode:i balance:f equity:f profit:f margin:f margin_free:f "
    "margin_level:f comment:s request:r",
    "BookInfo": "type:i price:f volume:i volume_dbl:f",
}

DEFAULTS: dict[str, dict[str, Any]] = {name: dict(_fields(spec)) for name, spec in SPECS.items()}

AccountInfo = namedtuple("AccountInfo", DEFAULTS["AccountInfo"])
TerminalInfo = namedtuple("TerminalInfo", DEFAULTS["TerminalInfo"])
SymbolInfo = namedtuple("SymbolInfo", DEFAULTS["SymbolInfo"])
Tick = namedtuple("Tick", DEFAULTS["Tick"])
TradePosition = namedtuple("TradePosition", DEFAULTS["TradePosition"])
TradeOrder = namedtuple("TradeOrder", DEFAULTS["TradeOrder"])
TradeDeal = namedtuple("TradeDeal", DEFAULTS["TradeDeal"])
TradeRequest = namedtuple("TradeRequest", DEFAULTS["TradeRequest"])
OrderSendResult = namedtuple("OrderSendResult", DEFAULTS["OrderSendResult"])
OrderCheckResult = namedtuple("OrderCheckResult", DEFAULTS["OrderCheckResult"])
BookInfo = namedtuple("BookInfo", DEFAULTS["BookInfo"])

STRUCT_TYPES = (
    AccountInfo, TerminalInfo, SymbolInfo, Tick, TradePosition, TradeOrder, TradeDeal,
    TradeRequest, OrderSendResult, OrderCheckResult, BookInfo,
)  # fmt: skip


def build(struct: type, **values: Any) -> Any:
    """A struct result with every unspecified field at its type's zero value."""
    unknown = set(values) - set(struct._fields)
    if unknown:
        msg = f"{struct.__name__} has no field(s) {sorted(unknown)}"
        raise TypeError(msg)
    return struct(**(DEFAULTS[struct.__name__] | values))


RATES_DTYPE = np.dtype(
    [
        ("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
        ("tick_volume", "<u8"), ("spread", "<i4"), ("real_volume", "<u8"),
    ]
)  # fmt: skip
TICKS_DTYPE = np.dtype(
    [
        ("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<u8"),
        ("time_msc", "<i8"), ("flags", "<u4"), ("volume_real", "<f8"),
    ]
)  # fmt: skip
