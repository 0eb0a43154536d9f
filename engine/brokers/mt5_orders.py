"""The order desk of ``MT5Broker``: send, close and modify with checks, retries and settling.

One loop serves opening and closing deals: fresh tick -> stops check -> ``order_check`` (passes
with retcode 0) -> ``order_send``. Requote / price changed / no prices (10004, 10020, 10021) are
retried with a fresh price at most ``max_retries`` times; an unsupported filling mode (10030)
switches once to the next allowed mode. Everything else is a refusal value. When ``order_send``
gives no answer (timeout, IPC error) the desk never sends again: it looks the order up by its
key, answers with what it finds, or raises ``BrokerUnavailable`` when it cannot look.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from engine.brokers import mt5_mapping as mp
from engine.brokers import mt5_retcodes as rc
from engine.brokers.mt5_requests import (
    FILLING_NAMES,
    DealParams,
    deal_request,
    filling_modes,
    freeze_problem,
    sltp_request,
    snap_volume,
    stops_problem,
    volume_problem,
)
from engine.brokers.mt5_session import CallTimedOut
from engine.errors import BrokerUnavailable
from engine.models import (
    Deal,
    DealEntry,
    OrderRequest,
    OrderResult,
    Position,
    RejectReason,
    Side,
    SymbolSpec,
    TradeMode,
)

if TYPE_CHECKING:
    from engine.brokers.mt5 import MT5Broker

log = logging.getLogger(__name__)

R = RejectReason
Settle = Callable[[], Awaitable[OrderResult | None]]
BuildRequest = Callable[[Any, int], dict[str, int | float | str]]


def _side(type_: int) -> Side:
    return Side.BUY if int(type_) == 0 else Side.SELL


def _level(value: float) -> float | None:
    return float(value) if value else None


def _from_found(found: Position | Deal, message: str) -> OrderResult:
    if isinstance(found, Position):
        return OrderResult(
            ok=True, ticket=found.ticket, price=found.price_open, volume=found.volume,
            message=message,
        )  # fmt: skip
    return OrderResult(
        ok=True, ticket=found.position_id, order=found.order, deal=found.ticket,
        price=found.price, volume=found.volume, message=message,
    )  # fmt: skip


def _trade_mode_problem(spec: SymbolSpec, side: Side) -> tuple[RejectReason, str] | None:
    mode = spec.trade_mode
    if mode is TradeMode.DISABLED:
        return R.TRADE_DISABLED, f"trading {spec.name} is disabled by the broker"
    if mode is TradeMode.CLOSEONLY:
        return R.CLOSE_ONLY, f"{spec.name} is close-only at the broker: no new positions"
    if mode is TradeMode.LONGONLY and side is Side.SELL:
        return R.LONG_ONLY, f"{spec.name} allows only buys at the broker"
    if mode is TradeMode.SHORTONLY and side is Side.BUY:
        return R.SHORT_ONLY, f"{spec.name} allows only sells at the broker"
    return None


def _call_refused(name: str, error: tuple[int, str]) -> OrderResult:
    """order_check/order_send returned None with a non-IPC error: nothing was executed."""
    code, text = error
    reason = {-8: R.AUTOTRADING_DISABLED, -2: R.INVALID}.get(code, R.ERROR)
    return OrderResult.rejected(reason, f"{name} refused: {rc.explain(code, text)}")


class OrderDesk:
    """Trading operations of one ``MT5Broker`` (it owns the session, symbols and tags)."""

    def __init__(self, broker: MT5Broker) -> None:
        self.b = broker

    # ------------------------------------------------------------------ open

    async def send(self, request: OrderRequest) -> OrderResult:
        b = self.b
        tag = b.remember(request.client_id)
        found = await b.find_tag(tag, request.client_id, request.symbol)
        if found is not None:
            ticket = found.ticket if isinstance(found, Position) else found.position_id
            return OrderResult(
                ok=False, reject=R.DUPLICATE, ticket=ticket,
                price=found.price_open if isinstance(found, Position) else found.price,
                message=f"client id {request.client_id} already filled (position {ticket})",
            )  # fmt: skip
        info = await b.symbol_info(request.symbol)
        spec = mp.spec_from_info(info)
        side = request.side
        if problem := volume_problem(spec, request.volume):
            return OrderResult.rejected(R.INVALID_VOLUME, problem)
        volume = snap_volume(spec, request.volume)
        if refusal := _trade_mode_problem(spec, side) or await b.session.blocked_reason():
            return OrderResult.rejected(*refusal)
        sl = spec.normalize_price(request.sl) if request.sl else None
        tp = spec.normalize_price(request.tp) if request.tp else None
        # One magic per adapter, never OrderRequest.magic: lookups after a restart must know it.
        magic = b.magic

        def build(tick: Any, filling: int) -> dict[str, int | float | str]:
            price = spec.normalize_price(tick.ask if side is Side.BUY else tick.bid)
            return deal_request(
                DealParams(
                    symbol=spec.name, side=side, volume=volume, price=price, filling=filling,
                    magic=magic, comment=tag, deviation_points=request.deviation_points, sl=sl,
                    tp=tp,
                )
            )  # fmt: skip

        async def settle() -> OrderResult | None:
            hit = await b.find_tag(tag, request.client_id, request.symbol)
            return None if hit is None else _from_found(hit, "filled (confirmed after no answer)")

        out = await self._execute(spec, info, side, build, settle, stops=(sl, tp))
        if isinstance(out, OrderResult):
            return out
        ticket = int(out.order) if b.hedging else await self._netting_ticket(spec.name)
        partial = int(out.retcode) == rc.DONE_PARTIAL
        message = f"partially filled {out.volume:g} of {volume:g} lots" if partial else ""
        return OrderResult(
            ok=True, ticket=ticket, order=int(out.order), deal=int(out.deal),
            price=float(out.price), volume=float(out.volume), retcode=int(out.retcode),
            message=message,
        )  # fmt: skip

    async def _netting_ticket(self, symbol: str) -> int | None:
        rows = await self.b.raw_positions(symbol)
        return int(rows[0].ticket) if rows else None  # netting: one position per symbol

    # ------------------------------------------------------------------ close

    async def close(self, ticket: int, volume: float | None, *, client_id: str) -> OrderResult:
        b = self.b
        tag = b.remember(client_id) if client_id else ""
        if tag and (done := await self._closing_deal(tag)) is not None:
            return OrderResult(
                ok=False, reject=R.DUPLICATE, ticket=done.position_id, deal=done.ticket,
                price=done.price, volume=done.volume,
                message=f"client id {client_id} already closed {done.volume:g} lots",
            )  # fmt: skip
        rows = await b.raw_positions(ticket=ticket)
        if not rows:
            return OrderResult.rejected(R.UNKNOWN_POSITION, f"no open position #{ticket}")
        pos = rows[0]
        info = await b.symbol_info(pos.symbol)
        spec = mp.spec_from_info(info)
        held = float(pos.volume)
        size = held if volume is None else volume
        if size > held + 1e-9:
            msg = f"close volume {size:g} lots exceeds position #{ticket} volume {held:g} lots"
            return OrderResult.rejected(R.INVALID_CLOSE_VOLUME, msg)
        if size < held - 1e-9 and (problem := volume_problem(spec, size)):
            return OrderResult.rejected(R.INVALID_VOLUME, problem)
        size = held if volume is None else snap_volume(spec, size)
        left = round(held - size, 8)
        if 0 < left < spec.volume_min - 1e-9:
            msg = (
                f"closing {size:g} of {held:g} lots would leave {left:g}, below the minimum "
                f"{spec.volume_min:g}"
            )
            return OrderResult.rejected(R.INVALID_VOLUME, msg)
        if refusal := await b.session.blocked_reason():
            return OrderResult.rejected(*refusal)
        side = _side(pos.type).opposite

        def build(tick: Any, filling: int) -> dict[str, int | float | str]:
            price = spec.normalize_price(tick.ask if side is Side.BUY else tick.bid)
            return deal_request(
                DealParams(
                    symbol=spec.name, side=side, volume=size, price=price, filling=filling,
                    magic=int(pos.magic), comment=tag, deviation_points=b.deviation_points,
                    position=int(ticket),
                )
            )  # fmt: skip

        async def settle() -> OrderResult | None:
            now = await b.raw_positions(ticket=ticket)
            if now and float(now[0].volume) > left + 1e-9:
                return None
            return OrderResult(
                ok=True, ticket=ticket, volume=size, message="closed (confirmed after no answer)"
            )

        out = await self._execute(spec, info, side, build, settle, stops=None)
        if isinstance(out, OrderResult):
            return out
        return OrderResult(
            ok=True, ticket=ticket, order=int(out.order), deal=int(out.deal),
            price=float(out.price), volume=float(out.volume), retcode=int(out.retcode),
        )  # fmt: skip

    async def _closing_deal(self, tag: str) -> Deal | None:
        b = self.b
        now = b.clock.now()
        for d in await b.raw_deals(now - b.lookback, now):
            if int(d.entry) != DealEntry.IN and d.comment.startswith(tag):
                return mp.deal_from(d, b.time)
        return None

    # ------------------------------------------------------------------ modify

    async def modify(self, ticket: int, *, sl: float | None, tp: float | None) -> OrderResult:
        b = self.b
        rows = await b.raw_positions(ticket=ticket)
        if not rows:
            return OrderResult.rejected(R.UNKNOWN_POSITION, f"no open position #{ticket}")
        pos = rows[0]
        spec = await b.symbol(pos.symbol)
        side = _side(pos.type)
        cur_sl, cur_tp = _level(pos.sl), _level(pos.tp)
        new_sl = spec.normalize_price(sl) if sl is not None else cur_sl
        new_tp = spec.normalize_price(tp) if tp is not None else cur_tp
        if (new_sl, new_tp) == (cur_sl, cur_tp):
            msg = f"position #{ticket} already has SL {new_sl} and TP {new_tp}"
            return OrderResult.rejected(R.NO_CHANGES, msg, retcode=rc.NO_CHANGES)
        if refusal := await b.session.blocked_reason():
            return OrderResult.rejected(*refusal)
        tick = await b.raw_tick(pos.symbol)
        if problem := freeze_problem(spec, side, cur_sl, cur_tp, tick.bid, tick.ask):
            return OrderResult.rejected(R.FROZEN, problem)
        if problem := stops_problem(spec, side, new_sl, new_tp, tick.bid, tick.ask):
            return OrderResult.rejected(R.INVALID_STOPS, problem)
        request = sltp_request(pos.symbol, ticket, new_sl, new_tp, int(pos.magic))
        sent = await b.session.unsettled("order_send", request)
        if isinstance(sent, CallTimedOut) or (sent.failed and sent.error[0] in rc.IPC_ERRORS):
            now = await self._settle_read(ticket, "no answer to the SL/TP change")
            if now and (_level(now.sl), _level(now.tp)) == (new_sl, new_tp):
                return OrderResult(
                    ok=True, ticket=ticket, message="SL/TP set (confirmed after no answer)"
                )
            msg = "no answer to the SL/TP change and the levels did not change: send it again"
            return OrderResult.rejected(R.TIMEOUT, msg)
        if sent.failed:
            return _call_refused("order_send", sent.error)
        code = int(sent.value.retcode)
        if code == rc.DONE:
            return OrderResult(ok=True, ticket=ticket, retcode=code)
        return rc.rejection(code, sent.value.comment)

    async def _settle_read(self, ticket: int, why: str) -> Any:
        try:
            rows = await self.b.raw_positions(ticket=ticket)
        except BrokerUnavailable as exc:
            raise BrokerUnavailable(
                f"{why}; the outcome is unknown until MT5 answers", code="mt5_outcome_unknown"
            ) from exc
        return rows[0] if rows else None

    # ------------------------------------------------------------------ the loop

    async def _execute(
        self, spec: SymbolSpec, info: Any, side: Side, build: BuildRequest, settle: Settle,
        stops: tuple[float | None, float | None] | None,
    ) -> Any:  # fmt: skip
        """Run check + send until DONE (returns the OrderSendResult) or a refusal (OrderResult)."""
        b = self.b
        modes = filling_modes(spec.filling_mode, int(info.trade_exemode))
        if not modes:
            msg = (
                f"{spec.name} allows no filling mode for market orders (filling_mode "
                f"{spec.filling_mode}, market execution)"
            )
            return OrderResult.rejected(R.INVALID_FILL, msg)
        mode, switched, retries = 0, False, 0
        while True:
            tick = await b.raw_tick(spec.name)
            if stops and (problem := stops_problem(spec, side, *stops, tick.bid, tick.ask)):
                return OrderResult.rejected(R.INVALID_STOPS, problem)
            request = build(tick, modes[mode])
            check = await b.session.answer("order_check", request)
            if check.failed:
                return _call_refused("order_check", check.error)
            code = int(check.value.retcode)
            can_switch = not switched and mode + 1 < len(modes)
            if code == rc.INVALID_FILL and can_switch:
                mode, switched = mode + 1, True
                continue
            if code != rc.CHECK_OK:
                return rc.rejection(code, check.value.comment)
            sent = await b.session.unsettled("order_send", request)
            if isinstance(sent, CallTimedOut) or (sent.failed and sent.error[0] in rc.IPC_ERRORS):
                why = str(sent) if isinstance(sent, CallTimedOut) else rc.explain(*sent.error)
                return await self._settle(settle, why)
            if sent.failed:
                return _call_refused("order_send", sent.error)
            code = int(sent.value.retcode)
            if code in (rc.DONE, rc.DONE_PARTIAL):
                return sent.value
            if code in rc.RETRY_WITH_FRESH_PRICE and retries < b.max_retries:
                retries += 1
                log.info(
                    "MT5 retcode %d on %s: retry %d with a fresh price", code, spec.name, retries
                )
                continue
            if code == rc.INVALID_FILL and can_switch:
                log.info("MT5 refused filling %s on %s", FILLING_NAMES[modes[mode]], spec.name)
                mode, switched = mode + 1, True
                continue
            if code == 10031:
                await b.session.mark_down("the terminal has no connection to the trade server")
            detail = f"after {retries} retries with fresh prices" if retries else ""
            return rc.rejection(code, sent.value.comment, detail)

    async def _settle(self, settle: Settle, why: str) -> OrderResult:
        """The send got no answer: look, never resend. Raises when we cannot even look."""
        try:
            found = await settle()
        except BrokerUnavailable as exc:
            msg = (
                f"{why}; the order's outcome is unknown: it will be looked up by its key "
                "before anything is sent again"
            )
            raise BrokerUnavailable(msg, code="mt5_outcome_unknown") from exc
        if found is not None:
            return found
        msg = (
            f"{why}; nothing has appeared for this order yet, so it may still fill: it is "
            "looked up by its key again before any resend"
        )
        return OrderResult.rejected(R.TIMEOUT, msg)
