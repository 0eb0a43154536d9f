"""TradingService on a paper Core (replayed gold M15 on a SimClock, temporary SQLite file):
numbers hand-checked from the bar, the symbol spec and a plain-loop ATR."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bot.wiring import Core, build_core
from engine.decide import Action
from engine.errors import BadArguments, BrokerUnavailable, DataUnavailable
from engine.models import ClosedTrade, DealReason, Side
from engine.risk import GateCode
from engine.service import LIMITS_KEY
from engine.symbols import DEFAULT_SPECS
from engine.views import LimitKind
from tests.bot.harness import REPLAY_FROM, advance, paper_core, settings_for

SPEC = DEFAULT_SPECS["XAUUSD"]


def wilder_atr(frame: pd.DataFrame, n: int = 14) -> float:
    """Last ATR by the textbook loop: seed = mean of true ranges 1..n, then Wilder."""
    high, low, close = (frame[c].tolist() for c in ("high", "low", "close"))
    ranges = [
        max(high[i] - low[i], abs(high[i] - close[i - 1]), abs(low[i] - close[i - 1]))
        for i in range(1, len(close))
    ]
    value = sum(ranges[:n]) / n
    for tr in ranges[n:]:
        value = (value * (n - 1) + tr) / n
    return value


@pytest.fixture
async def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Core]:
    started = await paper_core(settings_for(tmp_path, monkeypatch))
    yield started
    await started.close()


async def test_force_preview_sizes_by_risk_and_places_stops_from_the_atr(core: Core) -> None:
    frame = core.trader.bars("XAUUSD")
    assert frame is not None
    sl_dist = 1.5 * wilder_atr(frame)  # ma_rsi: sl_atr 1.5, tp_atr 3.0
    tick = await core.broker.tick("XAUUSD")
    preview = await core.service.preview_force(Side.BUY)
    d = preview.decision
    assert d.action is Action.ORDER and preview.ticket is not None
    assert d.price == tick.ask
    assert preview.ticket.sl_dist == pytest.approx(sl_dist, rel=1e-9)
    # 1% of 10,000 = 100 at risk; one lot loses sl_dist / 0.01 x 1.0 USD at the stop.
    loss_per_lot = sl_dist / SPEC.tick_size * SPEC.tick_value
    assert d.volume == math.floor(100.0 / loss_per_lot / 0.01) * 0.01
    assert d.sl == round(tick.ask - sl_dist, 2)
    assert d.tp == round(tick.ask + 2 * sl_dist, 2)
    risk = round((d.price - d.sl) / 0.01 * 1.0 * d.volume, 2)
    assert d.risk_money == risk
    assert preview.risk_pct == pytest.approx(risk / 10_000 * 100)
    # The manual gates skip session, news, trades per day and cooldown; the rest all run.
    codes = [v.code for v in d.verdicts]
    assert GateCode.SESSION not in codes and GateCode.COOLDOWN not in codes
    assert codes[:2] == [GateCode.PAUSED, GateCode.BREAKER] and GateCode.MARGIN in codes


async def test_force_executes_once_per_key(core: Core) -> None:
    preview = await core.service.preview_force(Side.SELL, "xauusd", 0.1)
    assert preview.ticket is not None and preview.ticket.volume == 0.1
    first = await core.service.execute_force(preview.ticket, key="n0nce")
    assert first.result is not None and first.result.ok
    again = await core.service.execute_force(preview.ticket, key="n0nce")
    assert again.decision.action is Action.ORDER and again.result is None  # key already used
    [position] = await core.broker.positions()
    assert (position.side, position.volume, position.client_id) == (Side.SELL, 0.1, "manual-n0nce")
    state = await core.governor.state()
    assert state.trades_today == 1


async def test_hard_limits_refuse_a_forced_trade(core: Core) -> None:
    await core.service.pause("Ada (1001)", "checking the feed")
    preview = await core.service.preview_force(Side.BUY)
    assert preview.ticket is None
    blocked = preview.decision.blocked_by
    assert blocked is not None and blocked.code is GateCode.PAUSED
    assert blocked.detail == {"who": "Ada (1001)", "why": "checking the feed"}


async def test_bad_force_arguments(core: Core) -> None:
    with pytest.raises(BadArguments) as unknown:
        await core.service.preview_force(Side.BUY, "BTCUSD")
    assert unknown.value.code == "unknown_symbol"
    with pytest.raises(BadArguments) as volume:
        await core.service.preview_force(Side.BUY, None, 0.015)  # not on the 0.01 grid
    assert (volume.value.code, volume.value.params["step"]) == ("bad_volume", 0.01)


async def test_close_all_records_the_round_trip(core: Core) -> None:
    for key in ("a", "b"):
        preview = await core.service.preview_force(Side.BUY, None, 0.05)
        assert preview.ticket is not None
        await core.service.execute_force(preview.ticket, key=key)
    tickets = tuple(p.ticket for p in await core.service.closable("all"))
    assert len(tickets) == 2
    outcomes = await core.service.close(tickets, key="c1")
    assert [o.ok for o in outcomes] == [True, True]
    assert await core.broker.positions() == []
    trades = (await core.service.recent_trades(5)).trades
    assert {t.position_id for t in trades} == set(tickets)
    assert [o.profit for o in outcomes] == [
        next(t.net for t in trades if t.position_id == o.ticket) for o in outcomes
    ]
    with pytest.raises(BadArguments) as gone:
        await core.service.closable(str(tickets[0]))
    assert gone.value.code == "unknown_ticket"


async def test_risk_view_judges_both_sides_with_every_gate(core: Core) -> None:
    view = await core.service.risk()
    assert len(view.buy.verdicts) == len(view.sell.verdicts) == 12
    assert view.buy.action is Action.ORDER and view.sell.action is Action.ORDER
    spread = next(v for v in view.buy.verdicts if v.code is GateCode.SPREAD)
    tick = await core.broker.tick("XAUUSD")
    assert spread.detail["points"] == round((tick.ask - tick.bid) / 0.01)


async def test_status_counts_today_and_reads_the_session(core: Core) -> None:
    status = await core.service.status()
    assert (status.broker, status.live, status.connected) == ("paper", False, True)
    assert status.account is not None and status.account.balance == 10_000.0
    # 3% of the day-start balance of 10,000.
    assert status.daily_loss_limit == 300.0
    assert [s.value for s in status.sessions_open] == ["LONDON", "NEWYORK"]
    assert status.next_session is not None
    assert status.next_session[1] == datetime(2019, 6, 5, 7, tzinfo=UTC)
    assert status.uptime == timedelta(minutes=15)  # started at the bar open, now its close


async def test_status_survives_a_broker_outage(core: Core) -> None:
    await core.broker.close()  # the paper broker refuses everything while disconnected
    status = await core.service.status()
    assert status.account is None and not status.connected
    with pytest.raises(BrokerUnavailable):
        await core.service.positions()


async def test_daily_pnl_groups_by_local_day(core: Core) -> None:
    t0 = REPLAY_FROM - timedelta(days=1)
    nets = [(t0, 25.0), (t0 + timedelta(hours=1), -10.0), (REPLAY_FROM, 7.5)]
    for i, (at, profit) in enumerate(nets):
        trade = ClosedTrade(
            900 + i, "XAUUSD", Side.BUY, 0.1, 1300.0, 1301.0, at, at, profit,
            reason=DealReason.TP,
        )  # fmt: skip
        assert await core.storage.trades.add(trade)
    view = await core.service.daily_pnl(3)
    assert [(d.day.isoformat(), d.trades, d.wins, d.net) for d in view.days] == [
        ("2019-06-02", 0, 0, 0.0),
        ("2019-06-03", 2, 1, 15.0),
        ("2019-06-04", 1, 1, 7.5),
    ]
    assert (view.total, view.trades) == (22.5, 3)
    with pytest.raises(BadArguments):
        await core.service.daily_pnl(0)


async def test_chart_is_a_png_of_the_asked_bars(core: Core) -> None:
    view = await core.service.chart(None, "M15", 40)
    assert view.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (view.symbol, view.timeframe, view.bars) == ("XAUUSD", "M15", 40)
    for args, code in (((None, "X9", None), "bad_timeframe"), ((None, None, 5), "out_of_range")):
        with pytest.raises(BadArguments) as bad:
            await core.service.chart(*args)
        assert bad.value.code == code
    with pytest.raises(DataUnavailable):
        await core.service.chart("GBPJPY")


async def test_limits_change_live_and_survive_a_restart(
    core: Core, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change = core.service.parse_limit("risk_pct", "0.5%")
    assert (change.name, change.kind, change.old, change.new) == (
        "RISK_PCT", LimitKind.FRACTION, 0.01, 0.005,
    )  # fmt: skip
    await core.service.apply_limit(change)
    assert core.trader.config.limits.risk_pct == 0.005
    minutes = core.service.parse_limit("COOLDOWN_MINUTES", "30")
    await core.service.apply_limit(minutes)
    assert core.trader.config.limits.cooldown == timedelta(minutes=30)
    assert await core.storage.state.get(LIMITS_KEY) == {"RISK_PCT": 0.005, "COOLDOWN_MINUTES": 30}
    preview = await core.service.preview_force(Side.BUY)
    assert preview.decision.risk_money is not None and preview.decision.risk_money <= 50.0
    for name, text, code in (
        ("RISK_PCT", "6%", "fraction_range"),  # the settings file caps it at 5%
        ("MAX_TRADES_PER_DAY", "2.5", "bad_number"),
        ("MAX_OPEN_POSITIONS", "0", "out_of_range"),
        ("MAGIC", "1", "unknown_setting"),
    ):
        with pytest.raises(BadArguments) as bad:
            core.service.parse_limit(name, text)
        assert bad.value.code == code
    await core.close()
    again = await build_core(
        settings_for(tmp_path, monkeypatch), replay=True, speed=1e9, replay_from=REPLAY_FROM
    )
    try:
        assert again.trader.config.limits.risk_pct == 0.005
        assert again.trader.config.limits.cooldown == timedelta(minutes=30)
        view = await again.service.settings_view()
        risk = next(v for v in view.limits if v.name == "RISK_PCT")
        assert (risk.value, risk.overridden) == (0.005, True)
        assert dict(view.public)["TELEGRAM_BOT_TOKEN"] in ("set", "not set")
    finally:
        await again.close()


async def test_pause_and_resume_are_persisted_and_idempotent(core: Core) -> None:
    first = await core.service.pause("Ada (1001)", "NFP")
    second = await core.service.pause("Tom (1002)", "again")
    assert (first.changed, second.changed) == (True, False)
    assert (second.state.paused_by, second.state.paused_reason) == ("Ada (1001)", "NFP")
    advance(core, 60)
    resumed = await core.service.resume("Tom (1002)")
    assert resumed.changed and not resumed.state.paused
    assert not (await core.service.resume("Tom (1002)")).changed
    assert not (await core.service.reset_breaker("Tom (1002)")).changed
