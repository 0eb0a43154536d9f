"""The live trader loop on the paper broker and a real SQLite file, with hand-made bars."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from engine.brokers.paper import PaperBroker
from engine.calendar import UnconfiguredCalendar
from engine.clock import SimClock
from engine.errors import BrokerUnavailable
from engine.events import CycleFailed, EventBus, GateBlocked, OrderFilled, PositionClosed
from engine.journal import Journal
from engine.models import Bar, DealReason, OrderRequest, OrderStatus, Side, Timeframe
from engine.risk import RiskGovernor, RiskLimits, RiskStateStore, Session
from engine.strategies.base import ParamSpec, Strategy, StrategyParams
from engine.symbols import DEFAULT_SPECS
from engine.trader import Trader, TraderConfig, client_id
from storage import Storage, open_storage

T0 = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)  # a Tuesday
M15 = Timeframe.M15


@dataclass(frozen=True, slots=True)
class ScriptParams(StrategyParams):
    SPECS: ClassVar[tuple[ParamSpec, ...]] = ()


class Scripted(Strategy[ScriptParams]):
    """Fires the given side on the given bar open times, with fixed stop/target distances."""

    name = "scripted"
    description = "test strategy"
    params_type = ScriptParams

    def __init__(self, fires: Mapping[datetime, int], sl: float = 5.0, tp: float = 10.0) -> None:
        self.fires = {pd.Timestamp(k): v for k, v in fires.items()}
        self.sl, self.tp = sl, tp

    def warmup(self, params: ScriptParams) -> int:
        return 1

    def recursive_period(self, params: ScriptParams) -> int:
        return 0

    def signals(self, bars: pd.DataFrame, params: ScriptParams) -> pd.DataFrame:
        side = [self.fires.get(t, 0) for t in bars.index]
        return pd.DataFrame(
            {
                "side": side,
                "sl_dist": self.sl,
                "tp_dist": self.tp,
                "reason_code": ["scripted" if s else "" for s in side],
                "reason": ["scripted signal" if s else "" for s in side],
            },
            index=bars.index,
        )


def bar(i: int, o: float, h: float, lo: float, c: float, spread: int = 30) -> Bar:
    return Bar("XAUUSD", M15, T0 + i * M15.delta, o, h, lo, c, 100.0, spread)


@dataclass
class Rig:
    storage: Storage
    clock: SimClock
    broker: PaperBroker
    trader: Trader
    events: list[object]

    async def feed(self, b: Bar) -> object:
        self.clock.advance_to(b.close_time)
        return await self.trader.on_bar(b)


async def make_rig(
    path: Path,
    strategy: Strategy[Any],
    *,
    clock: SimClock | None = None,
    limits: RiskLimits | None = None,
    params: StrategyParams | None = None,
    history: dict[str, pd.DataFrame] | None = None,
    **paper: Any,
) -> Rig:
    """A started Trader on a paper broker (``paper``: its cost options) and a SQLite file."""
    storage = await open_storage(path)
    clock = clock or SimClock(T0)
    broker = PaperBroker(storage.paper, clock, DEFAULT_SPECS, initial_balance=10_000.0, **paper)
    await broker.connect()
    bus = EventBus()
    events: list[object] = []

    async def record(event: object) -> None:
        events.append(event)

    bus.subscribe(record)
    zone = ZoneInfo("UTC")
    limits = limits or any_time()
    governor = RiskGovernor(RiskStateStore(storage.state), clock, limits, zone, emit=bus.publish)
    journal = Journal(broker, storage.db, storage.orders, storage.trades, storage.state)
    config = TraderConfig(("XAUUSD",), M15, strategy, params or ScriptParams(), limits, zone)
    trader = Trader(
        config=config,
        broker=broker,
        journal=journal,
        governor=governor,
        state=storage.state,
        equity=storage.equity,
        uow=storage.db,
        calendar=UnconfiguredCalendar(),
        clock=clock,
        bus=bus,
        market_hook=broker.on_bar,
    )
    await trader.start(history or {})
    return Rig(storage, clock, broker, trader, events)


def any_time(**changes: Any) -> RiskLimits:
    """Default limits, but round the clock and without cooldowns (plus ``changes``)."""
    base = {
        "sessions": (Session.ANY,),
        "cooldown": timedelta(0),
        "cooldown_after_loss": timedelta(0),
    }
    return RiskLimits(**(base | changes))


async def test_signal_becomes_a_risk_sized_order(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({T0: 1}))
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    [position] = await rig.broker.positions()
    # ask = 2000.00 + 30 points * 0.01 = 2000.30; risk 1% of 10,000 = 100 USD;
    # loss per lot at a 5.00 stop = 5.00 / 0.01 ticks * 1.0 USD = 500 -> 100 / 500 = 0.20 lots
    assert position.side is Side.BUY
    assert position.volume == pytest.approx(0.20)
    assert position.price_open == pytest.approx(2000.30)
    assert position.sl == pytest.approx(1995.30)
    assert position.tp == pytest.approx(2010.30)
    key = client_id("scripted", "XAUUSD", M15, T0, Side.BUY)
    order = await rig.storage.orders.get(key)
    assert order is not None and order.status is OrderStatus.FILLED
    assert order.ticket == position.ticket
    filled = [e for e in rig.events if isinstance(e, OrderFilled)]
    assert len(filled) == 1 and filled[0].risk_money == pytest.approx(100.0)
    decision = await rig.trader.last_decision("XAUUSD")
    assert decision is not None and decision["action"] == "order"
    assert len(decision["verdicts"]) == 12
    assert all(v["allowed"] for v in decision["verdicts"])
    assert (await rig.trader.governor.state()).trades_today == 1
    await rig.storage.close()


async def test_the_same_bar_never_trades_twice_even_after_a_restart(tmp_path: Path) -> None:
    strategy = Scripted({T0: 1})
    rig = await make_rig(tmp_path / "t.db", strategy)
    first = bar(0, 1999.0, 2001.0, 1998.0, 2000.0)
    await rig.feed(first)
    await rig.trader.on_bar(first)  # the feed repeats the bar
    assert len(await rig.broker.positions()) == 1
    await rig.storage.close()

    again = await make_rig(tmp_path / "t.db", strategy, clock=rig.clock)
    await again.broker.on_bar(first)  # the restarted feed starts with the same bar
    await again.trader.on_bar(first)
    assert len(await again.broker.positions()) == 1
    assert not [e for e in again.events if isinstance(e, OrderFilled)]
    await again.storage.close()


async def test_stop_loss_close_is_recorded_once_with_its_result(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({T0: 1}))
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    balance_before = 10_000.0
    await rig.feed(bar(1, 2000.0, 2000.5, 1994.0, 1995.0))  # low 1994 < SL 1995.30
    await rig.feed(bar(2, 1995.0, 1996.0, 1994.5, 1995.5))
    assert await rig.broker.positions() == []
    [trade] = await rig.storage.trades.recent()
    # 0.20 lots from 2000.30 to 1995.30 (the bar's bid touches the stop): -5.00 / 0.01 * 0.2
    assert trade.reason is DealReason.SL
    assert trade.profit == pytest.approx(-100.0)
    account = await rig.broker.account()
    assert account.balance == pytest.approx(balance_before + trade.net)
    closed = [e for e in rig.events if isinstance(e, PositionClosed)]
    assert len(closed) == 1 and closed[0].r_multiple == pytest.approx(-1.0)
    state = await rig.trader.governor.state()
    assert state.consecutive_losses == 1
    assert state.realised_today == pytest.approx(trade.net)
    await rig.storage.close()


async def test_a_gate_blocks_and_says_which(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({T0: -1}))
    await rig.trader.governor.pause("admin 42", "news")
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    assert await rig.broker.positions() == []
    [blocked] = [e for e in rig.events if isinstance(e, GateBlocked)]
    assert blocked.code == "paused"
    decision = await rig.trader.last_decision("XAUUSD")
    assert decision is not None and decision["action"] == "blocked"
    assert decision["verdicts"][0] == {
        "code": "paused",
        "allowed": False,
        "reason": decision["verdicts"][0]["reason"],
    }
    assert "news" in decision["verdicts"][0]["reason"]
    await rig.storage.close()


async def test_restart_reconciles_orders_whose_outcome_was_unknown(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({}))
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    from engine.models import Order

    sent = Order("crash-1", "XAUUSD", Side.BUY, 0.1, rig.clock.now(), strategy="scripted")
    lost = Order("crash-2", "XAUUSD", Side.SELL, 0.1, rig.clock.now(), strategy="scripted")
    assert await rig.trader.journal.begin(sent)
    assert await rig.trader.journal.begin(lost)
    # The process died after the broker filled crash-1 and before the result was stored;
    # crash-2 never reached the broker.
    result = await rig.broker.send(OrderRequest("crash-1", "XAUUSD", Side.BUY, 0.1))
    assert result.ok
    await rig.storage.close()

    again = await make_rig(tmp_path / "t.db", Scripted({}), clock=rig.clock)
    first = await again.storage.orders.get("crash-1")
    second = await again.storage.orders.get("crash-2")
    assert first is not None and first.status is OrderStatus.FILLED
    assert first.ticket == result.ticket
    assert second is not None and second.status is OrderStatus.CANCELLED
    assert set(await again.trader.journal.tracked()) == {result.ticket}
    await again.storage.close()


async def test_unknown_send_outcome_stays_pending_and_the_loop_goes_on(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({T0: 1, T0 + M15.delta: -1}))
    real_send = rig.broker.send
    calls = 0

    async def flaky(request: OrderRequest) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise BrokerUnavailable("connection lost while sending")
        return await real_send(request)

    rig.broker.send = flaky  # type: ignore[method-assign]
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    [failed] = [e for e in rig.events if isinstance(e, CycleFailed)]
    assert "connection lost" in failed.error
    pending = await rig.storage.orders.pending()
    assert [o.client_id for o in pending] == [client_id("scripted", "XAUUSD", M15, T0, Side.BUY)]
    await rig.feed(bar(1, 2000.0, 2001.0, 1999.0, 2000.5))
    assert len(await rig.broker.positions()) == 1
    assert rig.trader.heartbeat.failures == 1
    await rig.storage.close()


async def test_run_consumes_a_feed(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path / "t.db", Scripted({T0 + 2 * M15.delta: 1}))

    class ListFeed:
        def __init__(self, bars: list[Bar]) -> None:
            self.bars = bars

        async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
            for b in self.bars:
                rig.clock.advance_to(b.close_time)
                yield b

    bars = [bar(i, 2000.0 + i, 2001.0 + i, 1999.0 + i, 2000.5 + i) for i in range(5)]
    await rig.trader.run(ListFeed(bars), max_bars=4)
    assert rig.trader.heartbeat.cycles == 4
    assert len(await rig.broker.positions()) == 1
    await rig.storage.close()


async def test_breakeven_moves_the_stop_once_price_is_one_r_up(tmp_path: Path) -> None:
    from engine.events import StopMoved

    limits = any_time(
        breakeven_at_r=1.0,
    )
    rig = await make_rig(tmp_path / "t.db", Scripted({T0: 1}), limits=limits)
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))  # buy 0.20 at 2000.30, SL 1995.30
    await rig.feed(bar(1, 2000.0, 2004.0, 1999.0, 2003.0))  # +2.70 < 1R (5.00): stop stays
    [position] = await rig.broker.positions()
    assert position.sl == pytest.approx(1995.30)
    await rig.feed(bar(2, 2003.0, 2006.0, 2002.0, 2005.5))  # bid 2005.50 >= 2000.30 + 5.00
    [position] = await rig.broker.positions()
    assert position.sl == pytest.approx(2000.30)  # breakeven: the entry price
    assert position.tp == pytest.approx(2010.30)  # the target is never touched
    [moved] = [e for e in rig.events if isinstance(e, StopMoved)]
    assert moved.why == "breakeven" and moved.new_sl == pytest.approx(2000.30)
    await rig.feed(bar(3, 2005.0, 2005.5, 2000.0, 2001.0))  # low 2000.00 <= 2000.30: out flat
    [trade] = await rig.storage.trades.recent()
    assert trade.profit == pytest.approx(0.0)
    await rig.storage.close()


async def test_an_opposite_signal_closes_the_position_and_reverses_as_the_backtest_does(
    tmp_path: Path,
) -> None:
    limits = any_time(
        max_open_positions=1,  # the reversal must not be blocked by the position it replaces
    )
    fires = {T0: 1, T0 + M15.delta: 1, T0 + 2 * M15.delta: -1}
    rig = await make_rig(tmp_path / "t.db", Scripted(fires), limits=limits)
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    [buy] = await rig.broker.positions()
    await rig.feed(bar(1, 2000.0, 2002.0, 1999.0, 2001.0))  # buy again: changes nothing
    assert [p.ticket for p in await rig.broker.positions()] == [buy.ticket]
    decision = await rig.trader.last_decision("XAUUSD")
    assert decision is not None
    assert decision["summary"] == f"buy signal: already holding buy #{buy.ticket}"
    assert not [e for e in rig.events if isinstance(e, GateBlocked)]  # no "blocked" noise

    await rig.feed(bar(2, 2001.0, 2003.0, 2000.0, 2002.0))  # sell: close the buy, then sell
    [sell] = await rig.broker.positions()
    assert sell.side is Side.SELL and sell.ticket != buy.ticket
    [closed] = [e for e in rig.events if isinstance(e, PositionClosed)]
    assert (closed.ticket, closed.reason, closed.on_signal) == (
        buy.ticket,
        DealReason.EXPERT,
        True,
    )
    assert closed.price_close == pytest.approx(2002.0)  # closed at the bid of that bar's close
    [trade] = await rig.storage.trades.recent()
    assert trade.position_id == buy.ticket
    kinds = [type(e).__name__ for e in rig.events if isinstance(e, OrderFilled | PositionClosed)]
    assert kinds == ["OrderFilled", "PositionClosed", "OrderFilled"]  # closed before the entry
    await rig.storage.close()


async def test_the_reversal_close_happens_even_when_the_new_entry_is_blocked(
    tmp_path: Path,
) -> None:
    limits = any_time(
        max_trades_per_day=1,  # the sell will be refused by the daily cap
    )
    fires = {T0: 1, T0 + M15.delta: -1}
    rig = await make_rig(tmp_path / "t.db", Scripted(fires), limits=limits)
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    await rig.feed(bar(1, 2000.0, 2002.0, 1999.0, 2001.0))
    assert await rig.broker.positions() == []  # flat: closed, and no new entry
    [blocked] = [e for e in rig.events if isinstance(e, GateBlocked)]
    assert blocked.side is Side.SELL and blocked.code == "max_trades"
    assert len(await rig.storage.trades.recent()) == 1
    await rig.storage.close()


async def test_an_opposite_signal_leaves_a_position_opened_by_hand(tmp_path: Path) -> None:
    limits = any_time(
        max_open_positions=2,
    )
    rig = await make_rig(tmp_path / "t.db", Scripted({T0 + M15.delta: -1}), limits=limits)
    await rig.feed(bar(0, 1999.0, 2001.0, 1998.0, 2000.0))
    from engine.decide import Signal  # noqa: PLC0415

    manual = Signal(Side.BUY, sl_dist=5.0, tp_dist=10.0, reason="by hand", reason_code="manual")
    _, result = await rig.trader.force("XAUUSD", manual, key="force-1")
    assert result is not None and result.ok
    await rig.feed(bar(1, 2000.0, 2002.0, 1999.0, 2001.0))
    sides = sorted(p.side.value for p in await rig.broker.positions())
    assert sides == ["buy", "sell"]  # the strategy's sell opened beside the manual buy
    assert not [e for e in rig.events if isinstance(e, PositionClosed)]
    await rig.storage.close()
