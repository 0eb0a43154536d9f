"""A faithful fake of the ``MetaTrader5`` module for Linux tests (shared/reference/mt5_api.md §7).

``FakeMT5`` behaves like the imported module: the same function names with the same calling
conventions (positional-only functions raise ``TypeError`` on keywords; ``positions_get`` and
friends refuse unnamed filters), the same constants and result types, ``None``/``False`` plus
``last_error()`` on failure, ``(-10004, 'No IPC connection')`` before ``initialize`` and
``(1, 'Success')`` after a success, and every time in *server* time (UTC + ``server_offset``).
The trade server lives in ``fake_mt5_server``; state and test hooks in ``fake_mt5_core``, whose
``fail_next``, ``hang_next``, ``execute_then_fail``, ``requote_next``, ``kill_terminal`` and
``refuse_initialize`` inject the faults a real terminal produces, while ``set_price`` moves the
market and triggers SL/TP.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np

from tests.fakes import fake_mt5_structs as s
from tests.fakes.fake_mt5_core import AUTH_FAILED, CALL_FAILED, NOT_FOUND, Failed, FakeCore, api
from tests.fakes.fake_mt5_server import FakeSymbol


class FakeMT5(FakeCore):
    """Module-like fake of MetaTrader5; constants and result types are class attributes."""

    __version__ = "5.0.6231"
    __author__ = "MetaQuotes Ltd."

    # ------------------------------------------------------------------ connection

    def last_error(self) -> tuple[int, str]:
        return self._error

    @api(False, ipc=False)
    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int = 60_000,
        portable: bool = False,
    ) -> bool:
        if not self.installed:
            raise Failed(*NOT_FOUND)
        exe = self.terminal.path + r"\terminal64.exe"
        if path is not None and path != exe:
            raise Failed(-10003, f"IPC initialize failed, Process create failed '{path}'")
        if login is not None:
            self._authorize(login, password, server)
        self.initialized = True
        return True

    @api(False)
    def login(
        self,
        login: int,
        /,
        password: str | None = None,
        server: str | None = None,
        timeout: int = 60_000,
    ) -> bool:
        self._authorize(login, password, server)
        return True

    def _authorize(self, login: int, password: str | None, server: str | None) -> None:
        acc = self.account
        wrong = login != acc.login or password not in (None, self.password)
        if wrong or server not in (None, acc.server):
            raise Failed(*AUTH_FAILED)

    def shutdown(self) -> None:
        self.calls.append("shutdown")
        self.initialized = False

    @api()
    def version(self) -> tuple[int, int, str]:
        return (500, self.terminal.build, "16 Sep 2026")

    @api()
    def terminal_info(self) -> Any:
        t = self.terminal
        return s.build(
            s.TerminalInfo, connected=t.connected, trade_allowed=t.trade_allowed,
            tradeapi_disabled=t.tradeapi_disabled, build=t.build, maxbars=t.maxbars,
            codepage=1252, ping_last=77_881 if t.connected else 0, company=self.account.company,
            name="MetaTrader 5", language="English", path=t.path,
            data_path=t.path, commondata_path=t.path,
        )  # fmt: skip

    @api()
    def account_info(self) -> Any:
        a, srv = self.account, self.server
        margin, equity = round(srv.used_margin(), 2), srv.equity()
        return s.build(
            s.AccountInfo, login=a.login, trade_mode=0, leverage=a.leverage, limit_orders=200,
            trade_allowed=a.trade_allowed, trade_expert=a.trade_expert,
            margin_mode=a.margin_mode, currency_digits=2, balance=a.balance,
            profit=round(equity - a.balance, 2), equity=equity, margin=margin,
            margin_free=round(equity - margin, 2),
            margin_level=round(equity / margin * 100, 2) if margin else 0.0,
            margin_so_call=50.0, margin_so_so=30.0, name=a.name, server=a.server,
            currency=a.currency, company=a.company,
        )  # fmt: skip

    # ------------------------------------------------------------------ symbols and prices

    @api()
    def symbols_total(self) -> int:
        return len(self.server.symbols)

    @api()
    def symbols_get(self, *args: Any, group: str | None = None) -> tuple[Any, ...]:
        group = args[0] if args else group
        names = list(self.server.symbols)
        if group:
            rules = [r.strip() for r in group.split(",")]
            keep = [n for n in names if any(fnmatch.fnmatch(n, r) for r in rules if r[0] != "!")]
            names = [
                n for n in keep if not any(fnmatch.fnmatch(n, r[1:]) for r in rules if r[0] == "!")
            ]
        return tuple(self._info(self.server.symbols[n]) for n in names)

    @api()
    def symbol_info(self, symbol: str, /) -> Any:
        return self._info(self._symbol(symbol))

    def _info(self, sym: FakeSymbol) -> Any:
        return s.build(
            s.SymbolInfo, select=sym.select, visible=sym.select, time=sym.tick_time_msc // 1000,
            digits=sym.digits, spread=round((sym.ask - sym.bid) / sym.point), spread_float=True,
            trade_calc_mode=2, trade_mode=sym.trade_mode, trade_stops_level=sym.stops_level,
            trade_freeze_level=sym.freeze_level, trade_exemode=sym.exemode,
            filling_mode=sym.filling_mode, expiration_mode=15, order_mode=127, bid=sym.bid,
            ask=sym.ask, point=sym.point, trade_tick_value=sym.tick_value,
            trade_tick_value_profit=sym.tick_value, trade_tick_value_loss=sym.tick_value,
            trade_tick_size=sym.tick_size, trade_contract_size=sym.contract_size,
            volume_min=sym.volume_min, volume_max=sym.volume_max, volume_step=sym.volume_step,
            currency_base=sym.currency_base, currency_profit=sym.currency_profit,
            currency_margin=sym.currency_margin, description=sym.description, name=sym.name,
            path=sym.path,
        )  # fmt: skip

    @api(False)
    def symbol_select(self, symbol: str, enable: bool = True, /) -> bool:
        sym = self._symbol(symbol)
        if not enable and any(p.symbol == symbol for p in self.server.positions.values()):
            raise Failed(*CALL_FAILED)
        sym.select = bool(enable)
        return True

    @api()
    def symbol_info_tick(self, symbol: str, /) -> Any:
        sym = self._symbol(symbol, selected=True)
        ms = sym.tick_time_msc
        return s.build(s.Tick, time=ms // 1000, bid=sym.bid, ask=sym.ask, time_msc=ms, flags=6)

    @api(False)
    def market_book_add(self, symbol: str, /) -> bool:
        self._books.add(self._symbol(symbol, selected=True).name)
        return True

    @api()
    def market_book_get(self, symbol: str, /) -> tuple[Any, ...]:
        sym = self._symbol(symbol, selected=True)
        if sym.name not in self._books:
            raise Failed(*CALL_FAILED)
        return (
            s.build(s.BookInfo, type=1, price=sym.ask, volume=10, volume_dbl=10.0),
            s.build(s.BookInfo, type=2, price=sym.bid, volume=10, volume_dbl=10.0),
        )

    @api(False)
    def market_book_release(self, symbol: str, /) -> bool:
        self._books.discard(self._symbol(symbol).name)
        return True

    # ------------------------------------------------------------------ history data

    def _rates(self, symbol: str, timeframe: int) -> list[tuple[Any, ...]]:
        self._symbol(symbol, selected=True)
        bars = self._bars.get((symbol, timeframe))
        if not bars:
            raise Failed(-1, "Terminal: Call failed")
        return bars

    @api()
    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int, /) -> Any:
        t = self._epoch(date_from, "3rd")
        rows = [b for b in self._rates(symbol, timeframe) if b[0] <= t]
        return np.array(rows[-count:] if count > 0 else [], dtype=s.RATES_DTYPE)

    @api()
    def copy_rates_from_pos(self, symbol: str, timeframe: int, start: int, count: int, /) -> Any:
        rows = self._rates(symbol, timeframe)
        end = len(rows) - start  # index 0 is the newest (still forming) bar
        return np.array(rows[max(0, end - count) : max(0, end)], dtype=s.RATES_DTYPE)

    @api()
    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: Any, date_to: Any, /
    ) -> Any:
        lo, hi = self._epoch(date_from, "3rd"), self._epoch(date_to, "4th")
        rows = [b for b in self._rates(symbol, timeframe) if lo <= b[0] <= hi]
        return np.array(rows, dtype=s.RATES_DTYPE)

    def _tick_rows(self, symbol: str, flags: int) -> list[tuple[Any, ...]]:
        self._symbol(symbol, selected=True)
        return [] if flags == s.CONSTANTS["COPY_TICKS_TRADE"] else self._ticks.get(symbol, [])

    @api()
    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int, /) -> Any:
        t = self._epoch(date_from, "2nd")
        rows = [r for r in self._tick_rows(symbol, flags) if r[0] >= t][:count]
        return np.array(rows, dtype=s.TICKS_DTYPE)

    @api()
    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int, /) -> Any:
        lo, hi = self._epoch(date_from, "2nd"), self._epoch(date_to, "3rd")
        rows = [r for r in self._tick_rows(symbol, flags) if lo <= r[0] <= hi]
        return np.array(rows, dtype=s.TICKS_DTYPE)

    # ------------------------------------------------------------------ trading

    @api()
    def orders_total(self) -> int:
        return 0  # pending orders are not modelled

    @api()
    def orders_get(
        self,
        *args: Any,
        symbol: str | None = None,
        group: str | None = None,
        ticket: int | None = None,
    ) -> tuple[Any, ...]:
        if args:
            raise Failed(-2, "Unnamed arguments not allowed")
        return ()

    @api()
    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float, /) -> float:
        return self.server.margin_for(self._symbol(symbol), volume, price)

    @api()
    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float, /
    ) -> float:
        return self.server.profit(self._symbol(symbol), action, volume, price_open, price_close)

    def _request(self, args: tuple[Any, ...], request: Any) -> Any:
        raw = args[0] if args else request
        req, error = self.server.parse(raw)
        if error:
            raise Failed(*error)
        return req

    @api()
    def order_check(self, *args: Any, request: Any = None) -> Any:
        req = self._request(args, request)
        return self.server.check_result(req, self.server.validate(req, sending=False))

    @api()
    def order_send(self, *args: Any, request: Any = None) -> Any:
        req = self._request(args, request)
        if self.terminal.tradeapi_disabled:
            raise Failed(-8, "Auto-Trading using Python API disabled in Terminal")
        self.sends += 1
        srv = self.server
        if srv.requotes_left and req.action == s.CONSTANTS["TRADE_ACTION_DEAL"]:
            srv.requotes_left -= 1
            sym = srv.symbols[req.symbol]
            move = srv.requote_move
            self.set_price(sym.name, round(sym.bid + move, 8), round(sym.ask + move, 8))
            return srv.refused(req, 10004, "Requote")
        refusal = srv.validate(req, sending=True)
        if refusal:
            return srv.refused(req, *refusal)
        return srv.execute(req, self.server_msc())

    @api()
    def positions_total(self) -> int:
        return len(self.server.positions)

    @api()
    def positions_get(
        self,
        *args: Any,
        symbol: str | None = None,
        group: str | None = None,
        ticket: int | None = None,
    ) -> tuple[Any, ...]:
        if args:
            raise Failed(-2, "Unnamed arguments not allowed")
        out = []
        for p in self.server.positions.values():
            if symbol is not None:
                if p.symbol != symbol:
                    continue
            elif (group is not None and not fnmatch.fnmatch(p.symbol, group)) or (
                ticket is not None and p.ticket != ticket
            ):
                continue
            out.append(
                s.build(
                    s.TradePosition, ticket=p.ticket, time=p.time_msc // 1000,
                    time_msc=p.time_msc, time_update=p.update_msc // 1000,
                    time_update_msc=p.update_msc, type=p.type, magic=p.magic,
                    identifier=p.identifier, reason=p.reason, volume=p.volume,
                    price_open=p.price_open, sl=p.sl, tp=p.tp,
                    price_current=self.server.close_price(p), swap=round(p.swap, 2),
                    profit=self.server.floating(p), symbol=p.symbol, comment=p.comment,
                )
            )  # fmt: skip
        return tuple(out)

    def _history(
        self,
        rows: list[Any],
        args: tuple[Any, ...],
        group: str | None,
        ticket: int | None,
        position: int | None,
        *,
        order_key: str,
    ) -> tuple[Any, ...]:
        if ticket is not None:
            return tuple(r for r in rows if getattr(r, order_key) == ticket)
        if position is not None:
            key = "position_id"
            return tuple(r for r in rows if getattr(r, key) == position)
        if len(args) != 2:
            raise Failed(-2, "Invalid number of arguments")
        lo, hi = self._epoch(args[0], "1st"), self._epoch(args[1], "2nd")
        time_key = "time" if order_key == "order" else "time_setup"
        picked = [r for r in rows if lo <= getattr(r, time_key) <= hi]
        if group:
            picked = [r for r in picked if fnmatch.fnmatch(r.symbol, group)]
        return tuple(picked)

    @api()
    def history_deals_get(
        self,
        *args: Any,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[Any, ...]:
        return self._history(self.server.deals, args, group, ticket, position, order_key="order")

    @api()
    def history_deals_total(self, date_from: Any, date_to: Any, /) -> int:
        return len(self._history(self.server.deals, (date_from, date_to), None, None, None,
                                 order_key="order"))  # fmt: skip

    @api()
    def history_orders_get(
        self,
        *args: Any,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[Any, ...]:
        return self._history(self.server.orders, args, group, ticket, position, order_key="ticket")

    @api()
    def history_orders_total(self, date_from: Any, date_to: Any, /) -> int:
        return len(self._history(self.server.orders, (date_from, date_to), None, None, None,
                                 order_key="ticket"))  # fmt: skip


for _name, _value in s.CONSTANTS.items():
    setattr(FakeMT5, _name, _value)
for _struct in s.STRUCT_TYPES:
    setattr(FakeMT5, _struct.__name__, _struct)


def gold_terminal(now: Callable[[], datetime], *, margin_mode: int = 2, **symbol: Any) -> FakeMT5:
    """A running terminal logged in to a USD account with XAUUSD at 2000.00 / 2000.30
    (2 digits, 100 oz lots, market execution, FOK|IOC); ``symbol`` overrides FakeSymbol fields."""
    fake = FakeMT5(now)
    fake.account.margin_mode = margin_mode
    fake.add_symbol(FakeSymbol(**symbol), 2000.00, 2000.30)
    return fake
