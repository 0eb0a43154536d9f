"""Metrics pieces on their own: event counting, the Bot API error counter, the observed feed
(cycle timing with an injected timer, and the symbol bound into the log context)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.logs import ContextFilter, bound
from bot.metrics import Metrics, ObservedFeed, TelegramErrorCounter
from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.events import GateBlocked, LoopRecovered, LoopStalled, OrderFilled, OrderRejected
from engine.models import Bar, RejectReason, Side, Timeframe
from engine.risk.events import BreakerTripped
from engine.risk.state import BreakerCode

T = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


async def test_events_are_counted_by_their_labels() -> None:
    m = Metrics()
    fill = OrderFilled(T, "k1", "XAUUSD", Side.BUY, 0.1, 2000.0, 7, None, None, "ma_rsi", "x")
    reject = OrderRejected(T, "k2", "XAUUSD", Side.SELL, 0.1, RejectReason.NO_MONEY, "margin")
    unknown = OrderRejected(T, "k3", "XAUUSD", Side.SELL, 0.1, None, "?")
    events = [
        fill, fill, reject, unknown,
        GateBlocked(T, "XAUUSD", Side.BUY, "spread", "wide"),
        GateBlocked(T, "XAUUSD", Side.BUY, "spread", "wide"),
        GateBlocked(T, "XAUUSD", Side.SELL, "news", "NFP"),
        BreakerTripped(BreakerCode.DRAWDOWN, "10% drawdown", None, at=T),
        LoopStalled(T, "XAUUSD", Timeframe.M15, None, 1860.0),
        BrokerDisconnected("terminal closed"),
    ]  # fmt: skip
    for event in events:
        await m.on_event(event)
    v = m.counter_value
    assert v("chattrader_orders_total", symbol="XAUUSD", side="buy", outcome="filled") == 2
    assert v("chattrader_orders_total", symbol="XAUUSD", side="sell", outcome="rejected") == 2
    assert v("chattrader_order_rejections_total", reason="no_money") == 1
    assert v("chattrader_order_rejections_total", reason="unknown") == 1
    assert v("chattrader_gate_blocks_total", gate="spread") == 2
    assert v("chattrader_gate_blocks_total", gate="news") == 1
    assert v("chattrader_breaker_trips_total", breaker="drawdown") == 1
    assert v("chattrader_breaker_tripped") == 1
    assert v("chattrader_loop_stalls_total", symbol="XAUUSD") == 1
    assert v("chattrader_loop_stalled", symbol="XAUUSD") == 1
    assert v("chattrader_broker_connected") == 0 and v("chattrader_broker_disconnects_total") == 1
    assert v("chattrader_events_total", event="GateBlocked") == 3
    await m.on_event(LoopRecovered(T, "XAUUSD", Timeframe.M15, T))
    await m.on_event(BrokerReconnected())
    assert v("chattrader_loop_stalled", symbol="XAUUSD") == 0
    assert v("chattrader_broker_connected") == 1
    assert b'chattrader_gate_blocks_total{gate="spread"} 2.0' in m.render()


async def test_failed_bot_api_calls_are_counted_and_raised() -> None:
    m = Metrics()
    counter = TelegramErrorCounter(m)

    class SendMessage:
        pass

    async def ok(_bot: object, _method: object) -> str:
        return "sent"

    async def refused(_bot: object, _method: object) -> str:
        raise PermissionError("Forbidden: bot was blocked by the user")

    assert await counter(ok, None, SendMessage()) == "sent"
    for _ in range(2):
        with pytest.raises(PermissionError):
            await counter(refused, None, SendMessage())
    assert (
        m.counter_value(
            "chattrader_telegram_send_errors_total", method="SendMessage", error="PermissionError"
        )
        == 2
    )


class ListFeed:
    def __init__(self, bars: list[Bar]) -> None:
        self.bars = bars

    async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        for bar in self.bars:
            yield bar


async def test_observed_feed_times_cycles_and_binds_the_symbol() -> None:
    bars = [Bar("EURUSD", Timeframe.H1, T, 1.1, 1.2, 1.0, 1.15, 10.0, 5) for _ in range(3)]
    ticks = iter([10.0, 10.25, 20.0, 20.5, 30.0, 31.0])  # each cycle: start, end
    m = Metrics()
    feed = ObservedFeed(ListFeed(bars), m, timer=lambda: next(ticks))
    symbols, records = [], []
    context = ContextFilter()
    async for _bar in feed.closed_bars("EURUSD", Timeframe.H1):
        symbols.append(bound().get("symbol"))
        record = logging.LogRecord("engine.trader", logging.INFO, __file__, 1, "cycle", (), None)
        context.filter(record)
        records.append(record.symbol)  # type: ignore[attr-defined]
    assert symbols == records == ["EURUSD"] * 3
    # Three cycles of 0.25 s, 0.5 s and 1.0 s: count 3, sum 1.75.
    assert m.counter_value("chattrader_cycle_latency_seconds_count", symbol="EURUSD") == 3
    assert m.counter_value("chattrader_cycle_latency_seconds_sum", symbol="EURUSD") == 1.75
    assert (
        m.counter_value("chattrader_cycle_latency_seconds_bucket", symbol="EURUSD", le="0.25") == 1
    )
