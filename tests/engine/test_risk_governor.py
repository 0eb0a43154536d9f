"""The circuit breaker and manual pause on a SimClock, persisted through an in-memory repo."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import UnconfiguredCalendar
from engine.clock import SimClock
from engine.models import Account, Side, SymbolSpec, Tick
from engine.risk import (
    BreakerCode,
    BreakerReset,
    BreakerTripped,
    GateCode,
    Paused,
    Resumed,
    RiskContext,
    RiskGovernor,
    RiskLimits,
    RiskStateStore,
    Session,
    default_gates,
    first_block,
)
from tests.engine.test_risk_state import MemoryStateRepo

ULN = ZoneInfo("Asia/Ulaanbaatar")
START = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)  # Monday 18:00 in Ulaanbaatar

# Streak and daily loss are isolated per test by turning the other off.
STREAK_ONLY = RiskLimits(max_daily_loss_pct=None, max_consecutive_losses=3)
DAILY_ONLY = RiskLimits(max_consecutive_losses=None)
DEFAULTS = RiskLimits()


class Recorder:
    def __init__(self, repo: MemoryStateRepo | None = None) -> None:
        self.events: list[object] = []
        self.repo = repo
        self.saved_breaker_at_emit: list[BreakerCode | None] = []

    async def __call__(self, event: object) -> None:
        self.events.append(event)
        if self.repo is not None:
            stored = await RiskStateStore(self.repo).load()
            self.saved_breaker_at_emit.append(stored.breaker)


def make(
    limits: RiskLimits = DEFAULTS, repo: MemoryStateRepo | None = None
) -> tuple[RiskGovernor, SimClock, Recorder, MemoryStateRepo]:
    repo = repo or MemoryStateRepo()
    clock = SimClock(START)
    rec = Recorder(repo)
    gov = RiskGovernor(RiskStateStore(repo), clock, limits, ULN, emit=rec)
    return gov, clock, rec, repo


# ----------------------------------------------------------------- drawdown


async def test_drawdown_trips_at_the_limit_and_needs_a_person() -> None:
    gov, clock, rec, _ = make()
    assert await gov.on_equity(10_000.0) == []
    assert await gov.on_equity(10_500.0) == []
    assert (await gov.state()).equity_peak == 10_500.0
    # 9500 is 1000 / 10500 = 9.52% below the peak: under the 10% limit.
    assert await gov.on_equity(9_500.0) == []
    # 9450 is 1050 / 10500 = 10.0% below: trips.
    [event] = await gov.on_equity(9_450.0)
    assert isinstance(event, BreakerTripped)
    assert (event.reason_code, event.until, event.at) == (BreakerCode.DRAWDOWN, None, START)
    assert event.reason.startswith("equity 9450.00 is 10.0% below its peak 10500.00 (max 10%)")
    clock.advance_to(START + timedelta(days=10))
    assert (await gov.state()).breaker is BreakerCode.DRAWDOWN  # time does not release it
    reset = await gov.reset_breaker("alice")
    assert reset == BreakerReset(
        "reset by alice", reason_code=BreakerCode.DRAWDOWN, who="alice", at=clock.now()
    )
    state = await gov.state()
    assert state.breaker is None and state.equity_peak is None
    assert await gov.on_equity(9_450.0) == []  # a new peak starts from here
    assert rec.events == [event, reset]
    assert await gov.reset_breaker("alice") is None


# ----------------------------------------------------------------- loss streak


async def test_loss_streak_pauses_then_resumes_by_itself() -> None:
    gov, clock, rec, _ = make(STREAK_ONLY)
    assert await gov.on_trade_closed(-10.0, balance=9_990.0) == []
    assert await gov.on_trade_closed(-10.0, balance=9_980.0) == []
    [trip] = await gov.on_trade_closed(-10.0, balance=9_970.0)
    assert isinstance(trip, BreakerTripped)
    assert trip.reason_code is BreakerCode.LOSS_STREAK
    assert trip.until == START + timedelta(minutes=240)
    # 10:00 UTC + 4 h = 14:00 UTC = 22:00 in Ulaanbaatar.
    assert trip.reason == "3 losses in a row (max 3); paused 240 min until 22:00 Asia/Ulaanbaatar"
    assert (await gov.state()).consecutive_losses == 0

    clock.advance_to(START + timedelta(minutes=239))
    assert (await gov.state()).breaker is BreakerCode.LOSS_STREAK
    clock.advance_to(START + timedelta(minutes=240))
    state = await gov.state()
    assert state.breaker is None
    assert rec.events[-1] == BreakerReset(
        "loss-streak pause ended", reason_code=BreakerCode.LOSS_STREAK, at=clock.now()
    )
    await gov.state()
    assert len(rec.events) == 2  # the reset is emitted once


async def test_a_win_breaks_the_streak() -> None:
    gov, _, rec, _ = make(STREAK_ONLY)
    for pnl in (-10.0, -10.0, 5.0, -10.0, -10.0):
        assert await gov.on_trade_closed(pnl, balance=10_000.0) == []
    assert (await gov.state()).consecutive_losses == 2
    assert rec.events == []


# ----------------------------------------------------------------- daily loss


async def test_daily_loss_halts_until_the_next_local_day() -> None:
    gov, clock, rec, _ = make(DAILY_ONLY)
    assert await gov.on_trade_closed(-150.0, balance=9_850.0) == []
    # Realised -300 with balance 9700: day-start 10000, 3% = 300 -> halt.
    [trip] = await gov.on_trade_closed(-150.0, balance=9_700.0)
    assert isinstance(trip, BreakerTripped) and trip.reason_code is BreakerCode.DAILY_LOSS
    # Next local midnight in Ulaanbaatar: 2024-05-07 00:00 +08 = 2024-05-06 16:00 UTC.
    assert trip.until == datetime(2024, 5, 6, 16, tzinfo=UTC)
    assert trip.reason == (
        "daily loss 300.00 reached 300.00 (3% of 10000.00); "
        "halted until 2024-05-07 00:00 Asia/Ulaanbaatar"
    )
    clock.advance_to(datetime(2024, 5, 6, 15, 59, tzinfo=UTC))
    assert (await gov.state()).breaker is BreakerCode.DAILY_LOSS
    clock.advance_to(datetime(2024, 5, 6, 16, 0, tzinfo=UTC))
    state = await gov.state()
    assert state.breaker is None and state.realised_today == 0.0
    assert state.realised_week == -300.0
    assert rec.events[-1] == BreakerReset(
        "new trading day", reason_code=BreakerCode.DAILY_LOSS, at=clock.now()
    )


async def test_overlapping_trips_keep_the_longer_one() -> None:
    lim = RiskLimits(max_consecutive_losses=2, loss_pause=timedelta(minutes=60))
    gov, _, rec, _ = make(lim)
    await gov.on_trade_closed(-100.0, balance=9_900.0)
    events = await gov.on_trade_closed(-200.0, balance=9_700.0)
    # Both rules fire on the second loss; the halt to midnight outlasts the 60-minute pause.
    assert [type(e) for e in events] == [BreakerTripped]
    assert events[0].reason_code is BreakerCode.DAILY_LOSS
    # A drawdown trip (no end) then replaces the daily halt.
    await gov.on_equity(10_000.0)
    [dd] = await gov.on_equity(8_900.0)
    assert isinstance(dd, BreakerTripped) and dd.reason_code is BreakerCode.DRAWDOWN
    assert (await gov.state()).breaker_until is None
    assert len(rec.events) == 2


# ----------------------------------------------------------------- pause / resume


async def test_manual_pause_only_a_person_resumes() -> None:
    gov, clock, rec, _ = make()
    paused = await gov.pause("alice", "FOMC")
    assert paused == Paused(who="alice", reason="FOMC", at=START)
    assert await gov.pause("bob", "again") is None
    clock.advance_to(START + timedelta(days=30))
    state = await gov.state()
    assert state.paused and state.paused_by == "alice" and state.paused_reason == "FOMC"
    resumed = await gov.resume("bob")
    assert resumed == Resumed(who="bob", at=clock.now())
    assert not (await gov.state()).paused
    assert await gov.resume("bob") is None
    assert rec.events == [paused, resumed]
    with pytest.raises(ValueError, match="name of the person"):
        await gov.resume(" ")


async def test_resume_and_reset_are_separate() -> None:
    gov, _, _, _ = make()
    await gov.on_equity(10_000.0)
    await gov.on_equity(8_000.0)  # drawdown trip
    await gov.pause("alice", "look at it")
    await gov.resume("alice")
    assert (await gov.state()).breaker is BreakerCode.DRAWDOWN
    await gov.pause("alice", "again")
    await gov.reset_breaker("alice")
    state = await gov.state()
    assert state.breaker is None and state.paused


# ----------------------------------------------------------------- persistence and wiring


async def test_state_survives_a_restart_and_events_follow_the_save() -> None:
    gov, clock, rec, repo = make(STREAK_ONLY)
    for _ in range(3):
        await gov.on_trade_closed(-10.0, balance=9_990.0)
    assert rec.saved_breaker_at_emit == [BreakerCode.LOSS_STREAK]  # saved before emitting
    await gov.on_entry()
    await gov.pause("alice", "lunch")

    restarted = RiskGovernor(RiskStateStore(repo), clock, STREAK_ONLY, ULN)
    state = await restarted.state()
    assert state.breaker is BreakerCode.LOSS_STREAK
    assert state.paused and state.paused_by == "alice"
    assert state.trades_today == 1 and state.last_entry_at == START
    assert state.realised_today == -30.0


async def test_no_write_when_nothing_changes() -> None:
    gov, _, _, repo = make()
    await gov.state()
    await gov.on_equity(10_000.0)
    writes = repo.writes
    await gov.state()
    await gov.on_equity(9_990.0)  # below the peak, above the limit: nothing to store
    assert repo.writes == writes


async def test_governor_state_drives_the_gates() -> None:
    gov, clock, _, _ = make(STREAK_ONLY)
    spec = SymbolSpec(
        name="XAUUSD",
        digits=2,
        point=0.01,
        tick_size=0.01,
        tick_value=1.0,
        contract_size=100.0,
        volume_min=0.01,
        volume_max=100.0,
        volume_step=0.01,
    )
    acct = Account(
        login=1,
        currency="USD",
        balance=10_000.0,
        equity=10_000.0,
        margin=0.0,
        free_margin=10_000.0,
        leverage=100,
    )
    lim = replace(STREAK_ONLY, sessions=(Session.ANY,), cooldown_after_loss=timedelta(0))

    async def verdict_code() -> GateCode:
        now = clock.now()
        c = RiskContext(
            now=now,
            zone=ULN,
            symbol="XAUUSD",
            side=Side.BUY,
            spec=spec,
            tick=Tick("XAUUSD", now, 2300.0, 2300.2),
            account=acct,
            open_positions=0,
            state=await gov.state(),
            limits=lim,
            calendar=UnconfiguredCalendar(),
        )
        return first_block(default_gates(lim), c).code

    assert await verdict_code() is GateCode.OK
    for _ in range(3):
        await gov.on_trade_closed(-10.0, balance=9_990.0)
    assert await verdict_code() is GateCode.BREAKER
    clock.advance_to(START + timedelta(hours=4))
    assert await verdict_code() is GateCode.OK
