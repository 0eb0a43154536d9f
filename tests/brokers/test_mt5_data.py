"""MT5Broker market data: server time <-> UTC, offset detection, symbol selection, SymbolSpec
mapping, closed bars from copy_rates_*, deal windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from engine.brokers.mt5 import MT5Broker
from engine.brokers.mt5_mapping import ServerTime, detect_offset
from engine.clock import SimClock
from engine.errors import BrokerUnavailable, DataUnavailable
from engine.models import OrderRequest, Side, SymbolSpec, Timeframe, TradeMode
from engine.ports import BAR_COLUMNS
from tests.fakes.fake_mt5 import FakeMT5, gold_terminal

T0 = datetime(2024, 3, 5, 14, 0, tzinfo=UTC)  # a Tuesday
T0_EPOCH = 1_709_647_200  # 2024-03-05 14:00:00 UTC: 19787 days * 86400 + 14 * 3600


def test_server_time_conversions() -> None:
    clock = ServerTime(timedelta(hours=2))
    assert clock.utc(T0_EPOCH + 7200) == T0  # 16:00 on a GMT+2 server is 14:00 UTC
    assert clock.utc_msc((T0_EPOCH + 7200) * 1000 + 250) == T0 + timedelta(milliseconds=250)
    assert clock.server_epoch(T0) == T0_EPOCH + 7200
    same_instant = datetime(2024, 3, 5, 16, 0, tzinfo=timezone(timedelta(hours=2)))
    assert clock.server_epoch(same_instant) == T0_EPOCH + 7200
    bound = clock.server_bound(T0)
    assert bound.tzinfo is not None and bound.timestamp() == T0_EPOCH + 7200


@pytest.mark.parametrize(
    ("tick_age_s", "offset_h", "now", "expected"),
    [
        (20, 2.0, T0, timedelta(hours=2)),  # a quote 20 s old on a GMT+2 server
        (0, 3.0, T0, timedelta(hours=3)),
        (0, 5.5, T0, timedelta(hours=5, minutes=30)),  # half-hour zones exist
        (-30, -4.0, T0, timedelta(hours=-4)),
        (600, 2.0, T0, None),  # 10 minutes stale: too far off the half-hour grid to trust
        (0, 2.0, datetime(2024, 3, 9, 12, 0, tzinfo=UTC), None),  # Saturday: market closed
        (0, 2.0, datetime(2024, 3, 8, 21, 0, tzinfo=UTC), None),  # Friday evening
    ],
)
def test_offset_detection(
    tick_age_s: int, offset_h: float, now: datetime, expected: timedelta | None
) -> None:
    now_epoch = (now - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    tick_server = now_epoch + offset_h * 3600 - tick_age_s
    assert detect_offset(tick_server, now) == expected


async def _broker(fake: FakeMT5, clock: SimClock, **kw: object) -> MT5Broker:
    broker = MT5Broker(fake, clock, symbols=("XAUUSD",), call_timeout_s=2.0, **kw)  # type: ignore[arg-type]
    await broker.connect()
    return broker


async def test_detected_offset_puts_every_time_in_utc() -> None:
    clock = SimClock(T0)
    fake = gold_terminal(clock.now)
    fake.server_offset = timedelta(hours=3)
    fake.set_price("XAUUSD", 2000.00, 2000.30)
    broker = await _broker(fake, clock)
    assert broker.server_offset == timedelta(hours=3)
    assert (await broker.tick("XAUUSD")).time == T0
    clock.advance_to(T0 + timedelta(minutes=7))
    opened = await broker.send(OrderRequest("o1", "XAUUSD", Side.BUY, 0.10))
    (position,) = await broker.positions()
    assert position.time == T0 + timedelta(minutes=7)
    (deal,) = await broker.deals(T0, T0 + timedelta(hours=1))
    assert deal.time == T0 + timedelta(minutes=7) and deal.position_id == opened.ticket
    # [start, end) in UTC: a window ending at the fill excludes it, one starting there keeps it
    assert await broker.deals(T0, T0 + timedelta(minutes=7)) == []
    assert len(await broker.deals(T0 + timedelta(minutes=7), T0 + timedelta(minutes=8))) == 1
    await broker.close()


async def test_configured_offset_is_used_as_given() -> None:
    clock = SimClock(T0)
    fake = gold_terminal(clock.now)  # the fake server runs at GMT+2
    broker = await _broker(fake, clock, server_utc_offset=timedelta(hours=3))
    assert broker.server_offset == timedelta(hours=3)
    assert (await broker.tick("XAUUSD")).time == T0 - timedelta(hours=1)  # trusted, not guessed
    await broker.close()


async def test_unknown_offset_refuses_bars_rather_than_guess() -> None:
    saturday = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
    clock = SimClock(saturday)
    fake = gold_terminal(clock.now)
    fake.set_bars("XAUUSD", 0x4001, [(saturday - timedelta(hours=1), 1, 1, 1, 1, 1, 1)])
    broker = await _broker(fake, clock)
    assert broker.server_offset is None
    with pytest.raises(BrokerUnavailable, match="server time offset is unknown") as err:
        await broker.bars("XAUUSD", Timeframe.H1, 10)
    assert err.value.code == "mt5_offset_unknown"
    report = await broker.diagnose()
    assert any("offset is not known yet" in p for p in report.problems)
    await broker.close()


async def test_symbols_are_selected_positionally_before_use() -> None:
    clock = SimClock(T0)
    fake = gold_terminal(clock.now)
    eur = gold_terminal(clock.now).server.symbols["XAUUSD"]
    eur.name = "EURUSD"
    fake.add_symbol(eur, 1.08500, 1.08510)
    broker = await _broker(fake, clock)
    assert fake.server.symbols["XAUUSD"].select  # connect selected the configured symbol
    assert not fake.server.symbols["EURUSD"].select
    await broker.symbol("EURUSD")
    assert fake.server.symbols["EURUSD"].select
    with pytest.raises(DataUnavailable, match="'NOPE' cannot be selected"):
        await broker.symbol("NOPE")
    await broker.close()


async def test_symbol_spec_mapping() -> None:
    clock = SimClock(T0)
    fake = gold_terminal(
        clock.now, digits=3, point=0.001, tick_size=0.005, tick_value=0.5, contract_size=50.0,
        volume_min=0.1, volume_max=20.0, volume_step=0.1, stops_level=30, freeze_level=10,
        filling_mode=2, trade_mode=3, description="Gold mini",
    )  # fmt: skip
    broker = await _broker(fake, clock)
    spec = await broker.symbol("XAUUSD")
    assert spec == SymbolSpec(
        name="XAUUSD", digits=3, point=0.001, tick_size=0.005, tick_value=0.5,
        contract_size=50.0, volume_min=0.1, volume_max=20.0, volume_step=0.1, stops_level=30,
        freeze_level=10, filling_mode=2, trade_mode=TradeMode.CLOSEONLY, currency_base="XAU",
        currency_profit="USD", currency_margin="XAU", description="Gold mini",
        tick_value_loss=0.5,
    )  # fmt: skip
    await broker.close()


def _hourly(fake: FakeMT5, hours: int) -> None:
    """``hours`` H1 bars ending with the one opened at T0 (still forming at T0 + 30 min);
    bar k (0 = oldest) opens at 1000 + k and closes at 1000.5 + k."""
    rows = []
    for k in range(hours):
        start = T0 - timedelta(hours=hours - 1 - k)
        rows.append((start, 1000.0 + k, 1001.0 + k, 999.0 + k, 1000.5 + k, 100 + k, 20))
    fake.set_bars("XAUUSD", 0x4001, rows)


async def test_bars_are_closed_bars_in_utc() -> None:
    clock = SimClock(T0 + timedelta(minutes=30))
    fake = gold_terminal(clock.now)
    _hourly(fake, 6)
    broker = await _broker(fake, clock)
    frame = await broker.bars("XAUUSD", Timeframe.H1, 3)
    assert list(frame.columns) == list(BAR_COLUMNS)
    assert frame.index.name == "time" and str(frame.index.tz) == "UTC"
    # the forming 14:00 bar (k = 5) is left out; the last three closed ones are k = 2, 3, 4
    expected = pd.DatetimeIndex([T0 - timedelta(hours=h) for h in (3, 2, 1)], name="time")
    pd.testing.assert_index_equal(frame.index, expected)
    assert list(frame["open"]) == [1002.0, 1003.0, 1004.0]
    assert list(frame["volume"]) == [102.0, 103.0, 104.0]
    assert frame["spread"].dtype == "int64" and frame.attrs["source"] == "mt5"
    await broker.close()


async def test_history_range_is_half_open_and_closed_bars_only() -> None:
    clock = SimClock(T0 + timedelta(minutes=30))
    fake = gold_terminal(clock.now)
    _hourly(fake, 6)
    broker = await _broker(fake, clock)
    frame = await broker.history("XAUUSD", Timeframe.H1, T0 - timedelta(hours=3), T0)
    assert list(frame.index) == [T0 - timedelta(hours=h) for h in (3, 2, 1)]
    tail = await broker.history("XAUUSD", Timeframe.H1, T0 - timedelta(hours=2))
    assert list(tail["open"]) == [1003.0, 1004.0]  # the 14:00 bar is still forming
    everything = await broker.history("XAUUSD", Timeframe.H1)
    assert len(everything) == 5
    await broker.close()


async def test_missing_bars_raise_data_unavailable() -> None:
    clock = SimClock(T0)
    broker = await _broker(gold_terminal(clock.now), clock)
    with pytest.raises(DataUnavailable, match="MT5 has no M5 bars for XAUUSD"):
        await broker.bars("XAUUSD", Timeframe.M5, 10)
    await broker.close()
