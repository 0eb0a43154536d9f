"""Building MT5 trade requests: filling mode, idempotency tag, normalisation and stop distances.

Pure functions over ``SymbolSpec`` and plain numbers, so every rule a real server enforces can be
checked before a request leaves (shared/reference/mt5_api.md §3, §4.1). Values are the wheel's:
ORDER_FILLING_FOK 0 / IOC 1 / RETURN 2 differ from the SYMBOL_FILLING_* bits 1 / 2 of
``symbol_info().filling_mode``, which the Python module does not define.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from engine.models import FillingFlag, Side, SymbolSpec

TRADE_ACTION_DEAL = 1
TRADE_ACTION_SLTP = 6
ORDER_TIME_GTC = 0
ORDER_FILLING_FOK = 0
ORDER_FILLING_IOC = 1
ORDER_FILLING_RETURN = 2
EXECUTION_MARKET = 2  # SYMBOL_TRADE_EXECUTION_MARKET: RETURN is refused there
TAG_PREFIX = "ct"
TAG_LENGTH = 18  # "ct" + 16 base32 characters
MAX_COMMENT = 26  # servers refuse longer comments client-side (29, 28 and 27 all reported)

FILLING_NAMES = {
    ORDER_FILLING_FOK: "FOK",
    ORDER_FILLING_IOC: "IOC",
    ORDER_FILLING_RETURN: "RETURN",
}


def filling_modes(filling_mode: int, exemode: int) -> tuple[int, ...]:
    """ORDER_FILLING_* values a market order may use, best first (FOK, IOC, RETURN).

    FOK when the FOK bit is set, IOC when the IOC bit is set, RETURN unless the symbol uses
    Market execution. Empty means no mode fits and the order must not be sent.
    """
    modes = []
    if filling_mode & FillingFlag.FOK:
        modes.append(ORDER_FILLING_FOK)
    if filling_mode & FillingFlag.IOC:
        modes.append(ORDER_FILLING_IOC)
    if exemode != EXECUTION_MARKET:
        modes.append(ORDER_FILLING_RETURN)
    return tuple(modes)


def client_tag(client_id: str) -> str:
    """Short ASCII comment for an idempotency key: "ct" + 16 base32 chars of BLAKE2b (80 bits).

    Always 18 characters of [a-z2-7], far under the ~26-character cap and free of the brackets
    and punctuation some servers refuse; the same key always gives the same tag.
    """
    digest = hashlib.blake2b(client_id.encode("utf-8"), digest_size=10).digest()
    return TAG_PREFIX + base64.b32encode(digest).decode("ascii").lower()


def volume_problem(spec: SymbolSpec, volume: float) -> str | None:
    """Why ``volume`` (lots) cannot be sent, with the symbol's numbers, or None.

    An off-step volume is refused, not rounded: rounding changes the money at risk, and sizing
    already floors to the step.
    """
    if spec.volume_ok(volume):
        return None
    return (
        f"volume {volume:g} lots is not allowed for {spec.name}: it must be between "
        f"{spec.volume_min:g} and {spec.volume_max:g} in steps of {spec.volume_step:g}"
    )


def snap_volume(spec: SymbolSpec, volume: float) -> float:
    """An on-step volume without float noise (0.30000000000000004 -> 0.3)."""
    return round(round(volume / spec.volume_step) * spec.volume_step, 8)


def _fmt(spec: SymbolSpec, price: float) -> str:
    return f"{price:.{spec.digits}f}"


def stops_problem(
    spec: SymbolSpec, side: Side, sl: float | None, tp: float | None, bid: float, ask: float
) -> str | None:
    """Why SL/TP would be refused (10016), with the numbers, or None.

    A position closes at the bid (buy) or ask (sell), so levels are measured from that price:
    a buy's SL below it and TP above it, each at least ``stops_level`` points away. Stops are
    rejected rather than moved: a silently widened stop changes the money at risk.
    """
    price = bid if side is Side.BUY else ask
    quote = "bid" if side is Side.BUY else "ask"
    need = spec.stops_level * spec.point
    for name, level, sign in (("SL", sl, -1), ("TP", tp, 1)):
        if level is None:
            continue
        direction = sign if side is Side.BUY else -sign
        gap = (level - price) * direction
        where = "above" if direction > 0 else "below"
        if gap <= 0:
            return (
                f"{name} {_fmt(spec, level)} for a {side.value} must be {where} the "
                f"{quote} {_fmt(spec, price)}"
            )
        if gap < need - spec.point / 2:
            return (
                f"{name} {_fmt(spec, level)} is {round(gap / spec.point)} points from the "
                f"{quote} {_fmt(spec, price)}; {spec.name} needs at least {spec.stops_level} "
                f"points ({_fmt(spec, need)}) (broker stops level)"
            )
    return None


def freeze_problem(
    spec: SymbolSpec, side: Side, sl: float | None, tp: float | None, bid: float, ask: float
) -> str | None:
    """Why current SL/TP cannot be changed now (10029): price within the freeze level."""
    if not spec.freeze_level:
        return None
    price = bid if side is Side.BUY else ask
    zone = spec.freeze_level * spec.point
    for name, level in (("SL", sl), ("TP", tp)):
        if level is not None and abs(price - level) <= zone:
            return (
                f"the {name} {_fmt(spec, level)} is within {spec.freeze_level} points "
                f"({_fmt(spec, zone)}) of the price {_fmt(spec, price)} (broker freeze level): "
                "it cannot be changed now"
            )
    return None


@dataclass(frozen=True, slots=True)
class DealParams:
    """What varies between an opening and a closing market request."""

    symbol: str
    side: Side
    volume: float
    price: float
    filling: int
    magic: int
    comment: str
    deviation_points: int = 20
    sl: float | None = None
    tp: float | None = None
    position: int = 0  # ticket to close; 0 opens (or, netting, adds to) a position


def deal_request(p: DealParams) -> dict[str, int | float | str]:
    """The order_send dict for a market deal (§3.1, §3.2); plain Python numbers only."""
    request: dict[str, int | float | str] = {
        "action": TRADE_ACTION_DEAL,
        "symbol": p.symbol,
        "volume": float(p.volume),
        "type": p.side.mt5_order_type,
        "price": float(p.price),
        "deviation": int(p.deviation_points),
        "magic": int(p.magic),
        "comment": p.comment[:MAX_COMMENT],
        "type_time": ORDER_TIME_GTC,
        "type_filling": int(p.filling),
    }
    if p.position:
        request["position"] = int(p.position)
    else:
        request["sl"] = float(p.sl or 0.0)
        request["tp"] = float(p.tp or 0.0)
    return request


def sltp_request(
    symbol: str, ticket: int, sl: float | None, tp: float | None, magic: int
) -> dict[str, int | float | str]:
    """TRADE_ACTION_SLTP with both levels (0.0 = none), so neither is lost (§3.3)."""
    return {
        "action": TRADE_ACTION_SLTP,
        "symbol": symbol,
        "position": int(ticket),
        "sl": float(sl or 0.0),
        "tp": float(tp or 0.0),
        "magic": int(magic),
    }
