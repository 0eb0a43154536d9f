"""The one fill model, shared by ``PaperBroker`` and the backtester: pure scalar functions.

Intrabar policy (stated here once; nothing else may restate it differently):

* Prices. Bars are bid prices, as MT5 rates are; the ask is ``bid + spread`` on every bar price
  (open, high, low, close), with the spread in price units (bar spread in points x point).
* Market orders fill at the ask (buy) or the bid (sell), plus slippage against the trader: a buy
  pays ``ask + slippage``, a sell gets ``bid - slippage``. Closing is the opposite deal: a long
  closes at ``bid - slippage``, a short at ``ask + slippage``. The paper broker fills at its latest
  quote; the backtester fills a closed bar's signal at the next bar's open (the first price after
  the decision), and that position is then exposed to that same bar's whole range.
* SL/TP are judged on the side that closes the position: the bid for longs, the ask for shorts.
  They are checked against a bar's whole range (low..high); a touch counts (``low == sl``
  triggers), within ``LEVEL_EPS`` to absorb float noise from adding the spread.
* A gap through a level fills at the bar's open, not at the level: the open is the first price
  of the bar, so a level the open is already at or through is filled there (a stop at the worse
  open, a target at the better open).
* Otherwise, when one bar's range touches both SL and TP, the SL fills first (pessimistic: the
  path inside a bar is unknown).
* Slippage applies to market fills and to stop-loss exits (a triggered stop becomes a market
  order); take-profit exits are limit fills and get the level or the better gapped open.
* A tick is a bar whose open, high and low are that tick's bid (``tick_exit``), so ticks and bars
  share one rule.

Money is in the account currency and is not rounded here; brokers round each deal's profit and
commission with ``round_money`` (cents), as MT5 rounds deal amounts. The fill functions run in hot
loops: they take plain floats, never numpy, and do no validation beyond what they state.

The request checks at the end are the MT5 trade server's rules (volume, trade mode, stop
distance), returning the refusal as an ``OrderResult`` with the retcode MT5 would give, so the
paper broker and the backtester refuse the same orders with the same words.
"""

from __future__ import annotations

from engine.models import (
    DealReason,
    OrderResult,
    Position,
    RejectReason,
    Side,
    SymbolSpec,
    TradeMode,
)

LEVEL_EPS = 1e-9  # price units; far below any point size in use (1e-5 FX, 1e-2 metals)

# Enum member lookups cost ~170 ns each on CPython 3.11; module constants ~20 ns.
_BUY = Side.BUY
_SL = DealReason.SL
_TP = DealReason.TP


def entry_price(side: Side, bid: float, ask: float, slippage: float = 0.0) -> float:
    """Fill price of a market order opening ``side``: ask + slippage (buy), bid - slippage (sell).

    ``slippage`` is a non-negative distance in price units, always against the trader.
    """
    if side is _BUY:
        return ask + slippage
    return bid - slippage


def exit_price(side: Side, bid: float, ask: float, slippage: float = 0.0) -> float:
    """Fill price of a market deal closing a ``side`` position: bid - slippage for a long,
    ask + slippage for a short (slippage in price units, against the trader)."""
    if side is _BUY:
        return bid - slippage
    return ask + slippage


def bar_exit(
    side: Side,
    sl: float | None,
    tp: float | None,
    open_: float,
    high: float,
    low: float,
    spread: float = 0.0,
    slippage: float = 0.0,
) -> tuple[float, DealReason] | None:
    """Whether one bar closes a ``side`` position with these levels, and at what price.

    ``open_``, ``high``, ``low`` are bid prices; ``spread`` (price units) turns them into ask
    prices for shorts. Returns ``(fill price, DealReason.SL | DealReason.TP)`` or ``None``.
    Order of judgement: a level the open is at or through fills at the open; then SL if the
    range touches it; then TP. ``slippage`` (price units) worsens SL fills only.
    """
    if side is _BUY:
        if sl is not None and open_ <= sl + LEVEL_EPS:
            return open_ - slippage, _SL
        if tp is not None and open_ >= tp - LEVEL_EPS:
            return open_, _TP
        if sl is not None and low <= sl + LEVEL_EPS:
            return sl - slippage, _SL
        if tp is not None and high >= tp - LEVEL_EPS:
            return tp, _TP
        return None
    ask_open = open_ + spread
    if sl is not None and ask_open >= sl - LEVEL_EPS:
        return ask_open + slippage, _SL
    if tp is not None and ask_open <= tp + LEVEL_EPS:
        return ask_open, _TP
    if sl is not None and high + spread >= sl - LEVEL_EPS:
        return sl + slippage, _SL
    if tp is not None and low + spread <= tp + LEVEL_EPS:
        return tp, _TP
    return None


def tick_exit(
    side: Side,
    sl: float | None,
    tp: float | None,
    bid: float,
    ask: float,
    slippage: float = 0.0,
) -> tuple[float, DealReason] | None:
    """``bar_exit`` for a single quote: a triggered level fills at that quote (bid for longs,
    ask for shorts), which is at or beyond the level, like a gap."""
    return bar_exit(side, sl, tp, bid, bid, bid, ask - bid, slippage)


def required_margin(
    spec: SymbolSpec,
    volume: float,
    price: float,
    leverage: float,
    account_currency: str = "USD",
) -> float:
    """Margin in the account currency to hold ``volume`` lots opened at ``price``.

    ``contract_size * volume * price / leverage * margin_rate``: MT5's CFD-leverage and Forex
    formulas when prices are quoted in the account currency (XAUUSD, EURUSD, US500 in USD).
    An FX pair whose base is the account currency and whose quote is not (USDJPY in USD) has
    its notional in account money already, so the price factor is dropped. Crosses quoted in
    neither currency (EURGBP in USD) would need a conversion rate and are not modelled.
    """
    if spec.currency_margin == account_currency != spec.currency_profit:
        notional = spec.contract_size * volume
    else:
        notional = spec.contract_size * volume * price
    return notional / leverage * spec.margin_rate


def profit(spec: SymbolSpec, side: Side, volume: float, open_: float, close: float) -> float:
    """Profit in the account currency of ``volume`` lots on ``side`` from ``open_`` to ``close``.

    ``sign * (close - open) / tick_size * tick_value * volume``; a losing move uses
    ``tick_value_loss`` when the spec has one (as MT5 does), else ``tick_value``.
    """
    move = close - open_ if side is _BUY else open_ - close
    value = spec.tick_value if move >= 0 else spec.loss_tick_value
    return move / spec.tick_size * value * volume


def commission(volume: float, per_lot: float) -> float:
    """Commission of one deal (each side of a round trip pays it): ``-per_lot * volume``, a
    non-positive amount in the account currency."""
    return -per_lot * volume


def round_money(value: float, digits: int = 2) -> float:
    """Round an amount to the account currency's digits (cents), as MT5 books deal amounts;
    ``+ 0.0`` turns a rounded ``-0.0`` into ``0.0``."""
    return round(value, digits) + 0.0


# --------------------------------------------------------------------------- request checks

DONE = 10009  # TRADE_RETCODE_DONE
RETCODES = {
    RejectReason.INVALID: 10013,
    RejectReason.INVALID_VOLUME: 10014,
    RejectReason.INVALID_STOPS: 10016,
    RejectReason.TRADE_DISABLED: 10017,
    RejectReason.MARKET_CLOSED: 10018,
    RejectReason.NO_MONEY: 10019,
    RejectReason.NO_CHANGES: 10025,
    RejectReason.INVALID_CLOSE_VOLUME: 10038,
    RejectReason.LONG_ONLY: 10042,
    RejectReason.SHORT_ONLY: 10043,
    RejectReason.CLOSE_ONLY: 10044,
}


def refusal(reason: RejectReason, message: str) -> OrderResult:
    """``OrderResult.rejected`` with the MT5 retcode for ``reason`` (None when MT5 has none)."""
    return OrderResult.rejected(reason, message, RETCODES.get(reason))


def volume_refusal(spec: SymbolSpec, volume: float) -> OrderResult | None:
    """INVALID_VOLUME unless ``volume_min <= volume <= volume_max`` on the ``volume_step`` grid."""
    if spec.volume_ok(volume):
        return None
    if volume < spec.volume_min:
        rule = f"below the minimum {spec.volume_min:g}"
    elif volume > spec.volume_max:
        rule = f"above the maximum {spec.volume_max:g}"
    else:
        rule = f"not a multiple of the step {spec.volume_step:g}"
    return refusal(RejectReason.INVALID_VOLUME, f"volume {volume:g} lots {spec.name} is {rule}")


def close_volume_refusal(
    spec: SymbolSpec, position: Position, volume: float
) -> OrderResult | None:
    """A close of ``volume`` lots: at most the position's volume (INVALID_CLOSE_VOLUME); a
    partial close is a valid volume and leaves at least ``volume_min`` (INVALID_VOLUME)."""
    if volume > position.volume + 1e-9:
        msg = f"close volume {volume:g} exceeds position #{position.ticket}'s {position.volume:g}"
        return refusal(RejectReason.INVALID_CLOSE_VOLUME, msg)
    if abs(volume - position.volume) <= 1e-9:
        return None
    refused = volume_refusal(spec, volume)
    if refused is not None:
        return refused
    rest = spec.normalize_volume(position.volume - volume)
    if rest < spec.volume_min - 1e-12:
        msg = (
            f"closing {volume:g} of {position.volume:g} lots would leave {rest:g}, "
            f"below the minimum {spec.volume_min:g}"
        )
        return refusal(RejectReason.INVALID_VOLUME, msg)
    return None


def trade_mode_refusal(spec: SymbolSpec, side: Side | None) -> OrderResult | None:
    """``symbol_info().trade_mode`` for a new entry on ``side``, or for closing/modifying
    (``side=None``), which only DISABLED forbids."""
    mode = spec.trade_mode
    if mode is TradeMode.DISABLED:
        return refusal(RejectReason.TRADE_DISABLED, f"trading {spec.name} is disabled")
    if side is None or mode is TradeMode.FULL:
        return None
    if mode is TradeMode.CLOSEONLY:
        return refusal(RejectReason.CLOSE_ONLY, f"{spec.name} is close-only: no new entries")
    if mode is TradeMode.LONGONLY and side is Side.SELL:
        return refusal(RejectReason.LONG_ONLY, f"{spec.name} allows long positions only")
    if mode is TradeMode.SHORTONLY and side is Side.BUY:
        return refusal(RejectReason.SHORT_ONLY, f"{spec.name} allows short positions only")
    return None


def stops_refusal(
    spec: SymbolSpec,
    side: Side,
    bid: float,
    ask: float,
    sl: float | None,
    tp: float | None,
) -> OrderResult | None:
    """INVALID_STOPS unless each given level lies beyond the price that would close a ``side``
    position (bid for longs, ask for shorts) by more than zero and by at least ``stops_level``
    points: a long's SL below the bid and TP above it, a short's SL above the ask and TP below."""
    ref = bid if side is Side.BUY else ask
    ref_name = "bid" if side is Side.BUY else "ask"
    gap = spec.stops_level * spec.point
    d = spec.digits
    for label, level, below in (("SL", sl, side is Side.BUY), ("TP", tp, side is Side.SELL)):
        if level is None:
            continue
        distance = ref - level if below else level - ref
        if level > 0 and distance > LEVEL_EPS and distance >= gap - LEVEL_EPS:
            continue
        where = "below" if below else "above"
        msg = f"{label} {level:.{d}f} must be {where} {ref_name} {ref:.{d}f}"
        if spec.stops_level:
            msg += f" by at least {spec.stops_level} points ({gap:.{d}f})"
        return refusal(RejectReason.INVALID_STOPS, msg)
    return None


def margin_refusal(
    spec: SymbolSpec,
    volume: float,
    price: float,
    leverage: float,
    free_margin: float,
    fee: float = 0.0,
    currency: str = "USD",
) -> OrderResult | None:
    """NO_MONEY when ``free_margin`` minus this order's margin and commission (``fee``, a
    non-positive amount as ``commission`` returns) would fall below zero."""
    need = required_margin(spec, volume, price, leverage, currency)
    if free_margin - need + fee >= 0:
        return None
    c = currency
    detail = f" + commission {-fee:.2f} {c}" if fee else ""
    msg = (
        f"free margin {free_margin:.2f} {c} < required {need - fee:.2f} {c} "
        f"(margin {need:.2f} {c} for {volume:g} lots {spec.name} at "
        f"{price:.{spec.digits}f}, leverage 1:{leverage:g}{detail})"
    )
    return refusal(RejectReason.NO_MONEY, msg)
