"""MT5 struct results to engine models, and broker server time to UTC.

Every ``time``/``time_msc`` the terminal reports (ticks, bars, positions, deals) is the trade
server's wall clock written as if it were UTC (shared/reference/mt5_api.md §4.3), so each one goes
through ``ServerTime`` with the broker's offset; outgoing range bounds go the other way. Results
are read by attribute only (no ``_fields``/``_replace``), which the real struct sequences, the
fake's namedtuples and ``_asdict()``-rebuilt records all support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from engine.models import (
    Account,
    ClosedTrade,
    Deal,
    DealEntry,
    DealReason,
    MarginMode,
    Position,
    Side,
    SymbolSpec,
    Tick,
    TradeMode,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HALF_HOUR_S = 1800
# A tick whose age (after removing the whole half hours) exceeds this is too stale to time the
# server clock by: the market is probably closed and the tick is hours old.
DETECT_TOLERANCE_S = 120


@dataclass(frozen=True, slots=True)
class ServerTime:
    """Converts between broker server time (epoch-like numbers) and aware UTC datetimes."""

    offset: timedelta = timedelta(0)  # server clock minus UTC, e.g. +2 h for GMT+2 brokers

    def utc(self, server_seconds: float) -> datetime:
        return EPOCH + timedelta(seconds=server_seconds) - self.offset

    def utc_msc(self, server_msc: int) -> datetime:
        return EPOCH + timedelta(milliseconds=server_msc) - self.offset

    def server_epoch(self, t: datetime) -> int:
        """Server-clock seconds for the UTC instant ``t``."""
        return int((t.astimezone(UTC) + self.offset - EPOCH).total_seconds())

    def server_bound(self, t: datetime) -> datetime:
        """A range bound for copy_rates_range / history_*_get: an aware datetime whose
        ``timestamp()`` is the server-clock seconds of ``t``. Aware, so the module never reads
        it in the Windows machine's zone; a datetime, so mt5linux can forward it too."""
        return EPOCH + timedelta(seconds=self.server_epoch(t))


def detect_offset(tick_server_seconds: float, now: datetime) -> timedelta | None:
    """``round_to_30min(tick.time - now)`` when the tick is fresh enough to trust, else None.

    Only trusted from Monday 00:00 to Friday 20:00 UTC (metals and FX trade then) and when the
    remainder after rounding is under ``DETECT_TOLERANCE_S``: a Friday tick read on a Saturday
    would otherwise pass for an offset.
    """
    if now.weekday() >= 5 or (now.weekday() == 4 and now.hour >= 20):
        return None
    diff = tick_server_seconds - (now - EPOCH).total_seconds()
    halves = round(diff / HALF_HOUR_S)
    if abs(diff - halves * HALF_HOUR_S) > DETECT_TOLERANCE_S or abs(halves) > 28:
        return None
    return timedelta(seconds=halves * HALF_HOUR_S)


def spec_from_info(info: Any) -> SymbolSpec:
    """SymbolSpec from ``symbol_info``; distances stay in points, as MT5 gives them."""
    return SymbolSpec(
        name=info.name,
        digits=int(info.digits),
        point=float(info.point),
        tick_size=float(info.trade_tick_size) or float(info.point),
        tick_value=float(info.trade_tick_value),
        contract_size=float(info.trade_contract_size),
        volume_min=float(info.volume_min),
        volume_max=float(info.volume_max),
        volume_step=float(info.volume_step),
        stops_level=int(info.trade_stops_level),
        freeze_level=int(info.trade_freeze_level),
        filling_mode=int(info.filling_mode),
        trade_mode=TradeMode(int(info.trade_mode)),
        currency_base=info.currency_base,
        currency_profit=info.currency_profit,
        currency_margin=info.currency_margin,
        description=info.description,
        tick_value_loss=float(info.trade_tick_value_loss) or None,
    )


def account_from(info: Any) -> Account:
    return Account(
        login=int(info.login),
        currency=info.currency,
        balance=float(info.balance),
        equity=float(info.equity),
        margin=float(info.margin),
        free_margin=float(info.margin_free),
        leverage=int(info.leverage),
        margin_mode=MarginMode.from_mt5(int(info.margin_mode)),
        server=info.server,
        name=info.name,
        trade_allowed=bool(info.trade_allowed and info.trade_expert),
    )


def tick_from(symbol: str, tick: Any, clock: ServerTime) -> Tick:
    volume = float(tick.volume_real or tick.volume)
    when = clock.utc_msc(int(tick.time_msc)) if tick.time_msc else clock.utc(tick.time)
    return Tick(symbol, when, float(tick.bid), float(tick.ask), float(tick.last), volume)


def _level(value: float) -> float | None:
    return float(value) if value else None  # MT5 writes 0.0 for "no SL/TP"


def position_from(p: Any, clock: ServerTime, client_id: str = "") -> Position:
    return Position(
        ticket=int(p.ticket),
        symbol=p.symbol,
        side=Side.BUY if p.type == 0 else Side.SELL,
        volume=float(p.volume),
        price_open=float(p.price_open),
        time=clock.utc_msc(int(p.time_msc)) if p.time_msc else clock.utc(p.time),
        sl=_level(p.sl),
        tp=_level(p.tp),
        price_current=float(p.price_current),
        profit=float(p.profit),
        swap=float(p.swap),
        magic=int(p.magic),
        comment=p.comment,
        client_id=client_id,
        identifier=int(p.identifier),
    )


_REASONS = {0: DealReason.CLIENT, 1: DealReason.CLIENT, 2: DealReason.CLIENT, 4: DealReason.SL}
_REASONS |= {5: DealReason.TP, 6: DealReason.SO}


def is_trade_deal(d: Any) -> bool:
    """Buy/sell deals only: balance, credit, commission and similar rows carry no position."""
    return int(d.type) in (0, 1)


def deal_from(d: Any, clock: ServerTime, client_id: str = "") -> Deal:
    return Deal(
        ticket=int(d.ticket),
        order=int(d.order),
        position_id=int(d.position_id),
        symbol=d.symbol,
        side=Side.BUY if d.type == 0 else Side.SELL,
        entry=DealEntry(int(d.entry)),
        volume=float(d.volume),
        price=float(d.price),
        time=clock.utc_msc(int(d.time_msc)) if d.time_msc else clock.utc(d.time),
        profit=float(d.profit),
        commission=float(d.commission),
        swap=float(d.swap),
        fee=float(d.fee),
        reason=_REASONS.get(int(d.reason), DealReason.EXPERT),
        magic=int(d.magic),
        comment=d.comment,
        client_id=client_id,
    )


def _vwap(deals: Sequence[Deal]) -> float:
    volume = sum(d.volume for d in deals)
    return sum(d.price * d.volume for d in deals) / volume


def closed_trade_from(deals: Sequence[Deal], client_id: str = "") -> ClosedTrade | None:
    """One round trip from all deals of one position id, or None while volume is still open.

    Profit is the sum of closing deals' profit; commission adds every deal's commission and fee
    (entry and exit); swap the sum of swaps. Prices are volume-weighted; the reason is the last
    exit's (SL, TP, stop-out, expert or client).
    """
    trades = sorted(deals, key=lambda d: (d.time, d.ticket))
    entries = [d for d in trades if d.entry is DealEntry.IN]
    exits = [d for d in trades if d.entry is not DealEntry.IN]
    if not entries or not exits:
        return None
    opened = sum(d.volume for d in entries)
    if sum(d.volume for d in exits) + 1e-9 < opened:
        return None
    return ClosedTrade(
        position_id=entries[0].position_id,
        symbol=entries[0].symbol,
        side=entries[0].side,
        volume=round(opened, 8),
        price_open=_vwap(entries),
        price_close=_vwap(exits),
        opened_at=entries[0].time,
        closed_at=exits[-1].time,
        profit=round(sum(d.profit for d in exits), 2),
        commission=round(sum(d.commission + d.fee for d in trades), 2),
        swap=round(sum(d.swap for d in trades), 2),
        reason=exits[-1].reason,
        client_id=client_id,
    )


def bars_frame(rates: Any, clock: ServerTime, source: str = "mt5") -> pd.DataFrame:
    """The engine's bars DataFrame (engine/ports.py) from a copy_rates_* structured array."""
    seconds = pd.Series(rates["time"], dtype="int64") if len(rates) else pd.Series([], "int64")
    offset = int(clock.offset.total_seconds())
    index = pd.DatetimeIndex(pd.to_datetime(seconds - offset, unit="s", utc=True), name="time")
    frame = pd.DataFrame(
        {
            "open": rates["open"].astype(float),
            "high": rates["high"].astype(float),
            "low": rates["low"].astype(float),
            "close": rates["close"].astype(float),
            "volume": rates["tick_volume"].astype(float),
            "spread": rates["spread"].astype("int64"),
        },
        index=index,
    )
    frame = frame[~frame.index.duplicated(keep="last")].sort_index()
    frame.attrs["source"] = source
    return frame
