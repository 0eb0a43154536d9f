"""The trade-server side of the fake MetaTrader5 module: account, symbols, positions, deals.

Requests are validated in the order a real server answers them (shared/reference/mt5_api.md §3,
§7): argument errors give ``None`` + ``(-2, 'Invalid "<key>" argument')``; server refusals give
a result with a retcode (10004 requote, 10014 volume, 10016 stops, 10018 market closed,
10019 money, 10027 algo trading off, 10030 filling, ...). Netting accounts keep one position per
symbol (IN / OUT / INOUT deals); hedging accounts one per entry, closed by ``position`` ticket.
Money: profit = price move / tick_size * tick_value * volume, margin = volume * contract_size *
price / leverage, commission is charged per lot on every deal. Pending orders are not modelled
(answered with 10035 INVALID_ORDER).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tests.fakes import fake_mt5_structs as s

C = s.CONSTANTS
MAX_COMMENT = 27  # the strictest client-side cap seen in the field (mt5_api.md §3.6)
_KINDS = {"i": int, "f": float, "s": str}
_REQUEST_KINDS = dict(x.split(":") for x in s.SPECS["TradeRequest"].split())


@dataclass
class FakeAccount:
    login: int = 51234567
    balance: float = 10_000.0
    currency: str = "USD"
    leverage: int = 100
    margin_mode: int = 2  # RETAIL_HEDGING
    trade_allowed: bool = True
    trade_expert: bool = True
    name: str = "Test Trader"
    server: str = "FakeBroker-Demo"
    company: str = "Fake Broker Ltd"


@dataclass
class FakeTerminal:
    connected: bool = True  # connected to the trade server
    trade_allowed: bool = True  # the Algo Trading button
    tradeapi_disabled: bool = False
    build: int = 6231
    maxbars: int = 100_000
    path: str = r"C:\Program Files\MetaTrader 5"


@dataclass
class FakeSymbol:
    name: str = "XAUUSD"
    digits: int = 2
    point: float = 0.01
    tick_size: float = 0.01
    tick_value: float = 1.0  # 100 oz per lot: 0.01 move = 1 USD per lot
    contract_size: float = 100.0
    volume_min: float = 0.01
    volume_max: float = 100.0
    volume_step: float = 0.01
    stops_level: int = 0
    freeze_level: int = 0
    filling_mode: int = 1 | 2  # SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC
    exemode: int = 2  # SYMBOL_TRADE_EXECUTION_MARKET
    trade_mode: int = 4  # FULL
    currency_base: str = "XAU"
    currency_profit: str = "USD"
    currency_margin: str = "XAU"
    description: str = "Gold vs US Dollar"
    path: str = r"Metals\XAUUSD"
    bid: float = 0.0
    ask: float = 0.0
    tick_time_msc: int = 0  # server time
    select: bool = False
    market_open: bool = True
    # Modes the server refuses although filling_mode advertises them (seen at real brokers).
    refused_fillings: tuple[int, ...] = ()


@dataclass
class FakePosition:
    ticket: int
    identifier: int
    symbol: str
    type: int
    volume: float
    price_open: float
    sl: float
    tp: float
    magic: int
    comment: str
    time_msc: int
    update_msc: int
    reason: int = 3
    swap: float = 0.0


@dataclass
class TradeServer:
    account: FakeAccount = field(default_factory=FakeAccount)
    terminal: FakeTerminal = field(default_factory=FakeTerminal)
    symbols: dict[str, FakeSymbol] = field(default_factory=dict)
    positions: dict[int, FakePosition] = field(default_factory=dict)
    deals: list[Any] = field(default_factory=list)  # TradeDeal
    orders: list[Any] = field(default_factory=list)  # TradeOrder (history)
    commission_per_lot: float = 0.0  # charged (negative) on every deal
    next_ticket: int = 100_001  # one sequence for orders and deals, as many servers number them
    request_id: int = 0
    requotes_left: int = 0
    requote_move: float = 0.0  # price moves by this much on each requote (fresh price)

    # ------------------------------------------------------------------ money

    def profit(
        self, sym: FakeSymbol, type_: int, volume: float, open_: float, close: float
    ) -> float:
        sign = 1 if type_ == 0 else -1
        return round(sign * (close - open_) / sym.tick_size * sym.tick_value * volume, 2)

    def floating(self, pos: FakePosition) -> float:
        sym = self.symbols[pos.symbol]
        return self.profit(sym, pos.type, pos.volume, pos.price_open, self.close_price(pos))

    def close_price(self, pos: FakePosition) -> float:
        sym = self.symbols[pos.symbol]
        return sym.bid if pos.type == 0 else sym.ask

    def margin_for(self, sym: FakeSymbol, volume: float, price: float) -> float:
        return round(volume * sym.contract_size * price / self.account.leverage, 2)

    def used_margin(self) -> float:
        return sum(
            self.margin_for(self.symbols[p.symbol], p.volume, p.price_open)
            for p in self.positions.values()
        )

    def equity(self) -> float:
        open_pnl = sum(self.floating(p) + p.swap for p in self.positions.values())
        return round(self.account.balance + open_pnl, 2)

    # ------------------------------------------------------------------ requests

    def parse(self, request: object) -> tuple[Any, tuple[int, str] | None]:
        """(TradeRequest, None) or (None, (-2, text)) for argument errors."""
        if not isinstance(request, dict):
            return None, (-2, "Invalid arguments")
        for key, value in request.items():
            kind = _REQUEST_KINDS.get(key)
            if kind is None:
                return None, (-2, "Invalid arguments")
            ok = isinstance(value, _KINDS[kind]) or (kind == "f" and isinstance(value, int))
            if not ok or isinstance(value, bool):
                return None, (-2, f'Invalid "{key}" argument')
        comment = request.get("comment", "")
        if len(comment) > MAX_COMMENT or not all(
            ch.isascii() and ch.isprintable() and ch not in "[]" for ch in comment
        ):
            return None, (-2, 'Invalid "comment" argument')
        return s.build(s.TradeRequest, **request), None

    def validate(self, req: Any, *, sending: bool) -> tuple[int, str] | None:
        """First server refusal for ``req`` as (retcode, comment), or None when acceptable."""
        sym = self.symbols.get(req.symbol)
        if req.action == C["TRADE_ACTION_SLTP"]:
            return self._validate_sltp(req, sym)
        if req.action != C["TRADE_ACTION_DEAL"]:
            return 10035, "Invalid order type"
        if sym is None or req.type not in (0, 1):
            return 10013, "Invalid request"
        if sending and not self.terminal.trade_allowed:
            return 10027, "AutoTrading disabled by client"
        if sending and not self.account.trade_expert:
            return 10026, "AutoTrading disabled by server"
        if not self.account.trade_allowed or sym.trade_mode == 0:
            return 10017, "Trade disabled"
        if not self.terminal.connected:
            return 10031, "No connection"
        if not sym.market_open:
            return 10018, "Market closed"
        pos = self.positions.get(req.position) if req.position else None
        if req.position and pos is None:
            return 10036, "Position doesn't exist"
        opening = pos is None
        if opening and sym.trade_mode == 3:
            return 10044, "Only position closing is allowed"
        if opening and sym.trade_mode == 1 and req.type == 1:
            return 10042, "Only long positions are allowed"
        if opening and sym.trade_mode == 2 and req.type == 0:
            return 10043, "Only short positions are allowed"
        steps = req.volume / sym.volume_step
        if (
            req.volume < sym.volume_min - 1e-9
            or req.volume > sym.volume_max + 1e-9
            or abs(steps - round(steps)) > 1e-7
        ):
            return 10014, "Invalid volume"
        if not self._filling_allowed(sym, req.type_filling):
            return 10030, "Unsupported filling mode"
        if sym.bid <= 0 or sym.ask <= 0:
            return 10021, "No prices"
        market = sym.ask if req.type == 0 else sym.bid
        if (
            sending
            and sym.exemode in (0, 1)
            and abs(req.price - market) > req.deviation * sym.point
        ):
            return 10004, "Requote"
        if pos is not None:
            if pos.type == req.type:
                return 10013, "Invalid request"
            if req.volume > pos.volume + 1e-9:
                return 10038, "Invalid close volume"
            return None
        if bad := self._stops_error(sym, req.type, req.sl, req.tp):
            return bad
        if self.margin_for(sym, req.volume, market) > self.equity() - self.used_margin():
            return 10019, "No money"
        return None

    def _filling_allowed(self, sym: FakeSymbol, filling: int) -> bool:
        if filling in sym.refused_fillings:
            return False
        if filling == C["ORDER_FILLING_RETURN"]:
            return sym.exemode != C["SYMBOL_TRADE_EXECUTION_MARKET"]
        if filling in (C["ORDER_FILLING_FOK"], C["ORDER_FILLING_IOC"]):
            if sym.exemode in (0, 1):  # request / instant execution allow both regardless
                return True
            return bool(sym.filling_mode & (1 if filling == C["ORDER_FILLING_FOK"] else 2))
        return False  # BOC is for pending limit orders only

    def _stops_error(
        self, sym: FakeSymbol, type_: int, sl: float, tp: float
    ) -> tuple[int, str] | None:
        """SL/TP on the right side of the closing price and at least stops_level points away."""
        price = sym.bid if type_ == 0 else sym.ask  # a buy closes at bid, a sell at ask
        min_gap = sym.stops_level * sym.point
        sign = 1 if type_ == 0 else -1
        distances = (sign * (price - sl) if sl else None, sign * (tp - price) if tp else None)
        for dist in distances:
            if dist is not None and (dist <= 0 or dist < min_gap - 1e-9):
                return 10016, "Invalid stops"
        return None

    def _validate_sltp(self, req: Any, sym: FakeSymbol | None) -> tuple[int, str] | None:
        pos = self.positions.get(req.position)
        if pos is None or sym is None or pos.symbol != sym.name:
            return 10036, "Position doesn't exist"
        if not self.terminal.trade_allowed:
            return 10027, "AutoTrading disabled by client"
        if not sym.market_open:
            return 10018, "Market closed"
        if math.isclose(req.sl, pos.sl) and math.isclose(req.tp, pos.tp):
            return 10025, "No changes"
        price = self.close_price(pos)
        freeze = sym.freeze_level * sym.point
        if freeze and any(lvl and abs(price - lvl) <= freeze for lvl in (pos.sl, pos.tp)):
            return 10029, "Position frozen"
        return self._stops_error(sym, pos.type, req.sl, req.tp)

    # ------------------------------------------------------------------ execution

    def check_result(self, req: Any, refusal: tuple[int, str] | None) -> Any:
        sym = self.symbols.get(req.symbol)
        margin = self.used_margin()
        if refusal is None and sym is not None and req.action == C["TRADE_ACTION_DEAL"]:
            market = sym.ask if req.type == 0 else sym.bid
            if not req.position:
                margin += self.margin_for(sym, req.volume, market)
        equity = self.equity()
        return s.build(
            s.OrderCheckResult,
            retcode=refusal[0] if refusal else 0,
            balance=self.account.balance,
            equity=equity,
            profit=round(equity - self.account.balance, 2),
            margin=round(margin, 2),
            margin_free=round(equity - margin, 2),
            margin_level=round(equity / margin * 100, 2) if margin else 0.0,
            comment=refusal[1] if refusal else "Done",
            request=req,
        )

    def refused(self, req: Any, retcode: int, comment: str) -> Any:
        self.request_id += 1
        sym = self.symbols.get(req.symbol)
        bid, ask = (sym.bid, sym.ask) if sym and retcode in (10004, 10020) else (0.0, 0.0)
        return s.build(
            s.OrderSendResult, retcode=retcode, bid=bid, ask=ask, comment=comment,
            request_id=self.request_id, request=req,
        )  # fmt: skip

    def execute(self, req: Any, now_msc: int) -> Any:
        """Apply an accepted request; returns the OrderSendResult (retcode 10009)."""
        self.request_id += 1
        sym = self.symbols[req.symbol]
        if req.action == C["TRADE_ACTION_SLTP"]:
            pos = self.positions[req.position]
            pos.sl, pos.tp, pos.update_msc = req.sl, req.tp, now_msc
            return s.build(
                s.OrderSendResult, retcode=10009, comment="Request executed",
                request_id=self.request_id, request=req,
            )  # fmt: skip
        price = sym.ask if req.type == 0 else sym.bid
        order = self._new_order(req, price, now_msc)
        deal = self.fill(sym, req, order, price, now_msc, reason=3)
        return s.build(
            s.OrderSendResult, retcode=10009, deal=deal, order=order, volume=req.volume,
            price=price, bid=sym.bid, ask=sym.ask, comment="Request executed",
            request_id=self.request_id, request=req,
        )  # fmt: skip

    def _new_order(self, req: Any, price: float, now_msc: int) -> int:
        ticket = self.next_ticket
        self.next_ticket += 1
        self.orders.append(
            s.build(
                s.TradeOrder, ticket=ticket, time_setup=now_msc // 1000, time_setup_msc=now_msc,
                time_done=now_msc // 1000, time_done_msc=now_msc, type=req.type,
                type_filling=req.type_filling, state=C["ORDER_STATE_FILLED"], magic=req.magic,
                position_id=req.position or ticket, reason=3, volume_initial=req.volume,
                price_open=price, sl=req.sl, tp=req.tp, price_current=price,
                symbol=req.symbol, comment=req.comment,
            )
        )  # fmt: skip
        return ticket

    def fill(
        self, sym: FakeSymbol, req: Any, order: int, price: float, now_msc: int, *, reason: int
    ) -> int:
        """Book the deal(s) of one filled order; returns the deal ticket."""
        hedging = self.account.margin_mode == C["ACCOUNT_MARGIN_MODE_RETAIL_HEDGING"]
        target = self.positions.get(req.position) if req.position else None
        if target is None and not hedging:
            target = next((p for p in self.positions.values() if p.symbol == sym.name), None)
        if target is None or target.type == req.type:
            if target is None:
                pos = FakePosition(
                    ticket=order, identifier=order, symbol=sym.name, type=req.type,
                    volume=req.volume, price_open=price, sl=req.sl, tp=req.tp, magic=req.magic,
                    comment=req.comment, time_msc=now_msc, update_msc=now_msc, reason=reason,
                )  # fmt: skip
                self.positions[order] = pos
            else:  # netting: add to the position, volume-weighted price
                total = target.volume + req.volume
                target.price_open = round(
                    (target.price_open * target.volume + price * req.volume) / total,
                    sym.digits + 3,
                )
                target.volume = round(total, 8)
                target.sl, target.tp = req.sl or target.sl, req.tp or target.tp
                target.update_msc = now_msc
                pos = target
            return self._deal(sym, req, order, pos, price, now_msc, 0, 0.0, 0.0, reason)
        closed = min(req.volume, target.volume)
        pnl = self.profit(sym, target.type, closed, target.price_open, price)
        swap = round(target.swap * closed / target.volume, 2)
        target.swap -= swap
        rest = round(req.volume - closed, 8)
        target.volume = round(target.volume - closed, 8)
        entry = C["DEAL_ENTRY_OUT"]
        if target.volume <= 1e-9:
            del self.positions[target.ticket]
            if rest > 1e-9:  # netting reversal: the rest opens the other way, same id
                entry = C["DEAL_ENTRY_INOUT"]
                self.positions[target.ticket] = FakePosition(
                    ticket=target.ticket, identifier=target.identifier, symbol=sym.name,
                    type=req.type, volume=rest, price_open=price, sl=req.sl, tp=req.tp,
                    magic=req.magic, comment=req.comment, time_msc=now_msc,
                    update_msc=now_msc, reason=reason,
                )  # fmt: skip
        else:
            target.update_msc = now_msc
        return self._deal(sym, req, order, target, price, now_msc, entry, pnl, swap, reason)

    def _deal(
        self,
        sym: FakeSymbol,
        req: Any,
        order: int,
        pos: FakePosition,
        price: float,
        now_msc: int,
        entry: int,
        profit: float,
        swap: float,
        reason: int,
    ) -> int:
        ticket = self.next_ticket
        self.next_ticket += 1
        commission = round(-self.commission_per_lot * req.volume, 2) + 0.0  # no -0.0
        self.account.balance = round(self.account.balance + profit + swap + commission, 2)
        self.deals.append(
            s.build(
                s.TradeDeal, ticket=ticket, order=order, time=now_msc // 1000, time_msc=now_msc,
                type=req.type, entry=entry, magic=req.magic, position_id=pos.identifier,
                reason=reason, volume=req.volume, price=price, commission=commission, swap=swap,
                profit=profit, symbol=sym.name, comment=req.comment,
            )
        )  # fmt: skip
        return ticket

    def trigger_stops(self, sym: FakeSymbol, now_msc: int) -> None:
        """Close positions whose SL or TP the new quote touched, at the market price."""
        for pos in list(self.positions.values()):
            if pos.symbol != sym.name:
                continue
            price = self.close_price(pos)
            sign = 1 if pos.type == 0 else -1
            hit_sl = pos.sl and sign * (price - pos.sl) <= 0
            hit_tp = pos.tp and sign * (price - pos.tp) >= 0
            if not (hit_sl or hit_tp):
                continue
            reason = C["DEAL_REASON_SL"] if hit_sl else C["DEAL_REASON_TP"]
            level = pos.sl if hit_sl else pos.tp
            tag = "sl" if hit_sl else "tp"
            req = s.build(
                s.TradeRequest, action=1, symbol=sym.name, volume=pos.volume, type=1 - pos.type,
                position=pos.ticket, magic=pos.magic, comment=f"[{tag} {level:.{sym.digits}f}]",
            )  # fmt: skip
            order = self._new_order(req, price, now_msc)
            self.fill(sym, req, order, price, now_msc, reason=reason)
