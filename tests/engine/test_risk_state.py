"""Risk counters: day/week boundaries in the display zone, recording, and persistence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.clock import SimClock
from engine.errors import EngineError
from engine.risk import BreakerCode, RiskState, RiskStateStore, record_close, record_entry, roll
from engine.risk.periods import day_key, day_start, local_text, next_day_start, week_key
from storage import open_storage

ULN = ZoneInfo("Asia/Ulaanbaatar")  # UTC+8 all year
LDN = ZoneInfo("Europe/London")


class MemoryStateRepo:
    """``StateRepo`` in memory that stores JSON text, so only JSON-safe values survive."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.writes = 0

    async def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    async def set(self, key: str, value: Any) -> None:
        self.data[key] = json.dumps(value)
        self.writes += 1

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)

    async def items(self, prefix: str = "") -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.data.items() if k.startswith(prefix)}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_day_boundary_is_local_midnight_in_ulaanbaatar() -> None:
    # 15:59 UTC = 23:59 local on the 6th; 16:01 UTC = 00:01 local on the 7th.
    assert day_key(utc(2024, 5, 6, 15, 59), ULN) == "2024-05-06"
    assert day_key(utc(2024, 5, 6, 16, 1), ULN) == "2024-05-07"
    assert day_start(utc(2024, 5, 6, 10), ULN) == utc(2024, 5, 5, 16)
    assert next_day_start(utc(2024, 5, 6, 10), ULN) == utc(2024, 5, 6, 16)


def test_day_boundary_follows_dst_in_london() -> None:
    # Clocks go forward at 01:00 UTC on 2024-03-31: that day is 23 hours long.
    assert day_start(utc(2024, 3, 31, 12), LDN) == utc(2024, 3, 31, 0)
    assert next_day_start(utc(2024, 3, 31, 12), LDN) == utc(2024, 3, 31, 23)


def test_trades_on_either_side_of_local_midnight_are_different_days() -> None:
    s = record_entry(RiskState(), utc(2024, 5, 6, 15, 59), ULN)
    assert (s.day_key, s.trades_today) == ("2024-05-06", 1)
    s = record_entry(s, utc(2024, 5, 6, 16, 1), ULN)
    assert (s.day_key, s.trades_today) == ("2024-05-07", 1)
    # The same two instants are one day in UTC.
    u = record_entry(
        record_entry(RiskState(), utc(2024, 5, 6, 15, 59), UTC), utc(2024, 5, 6, 16, 1), UTC
    )
    assert u.trades_today == 2


def test_week_rollover_resets_weekly_pnl_only_on_a_new_iso_week() -> None:
    # Sat 2024-05-11 and Sun 2024-05-12 23:59 local are week 19; Mon 00:01 local is week 20.
    s = record_close(RiskState(), -40.0, utc(2024, 5, 11, 3), ULN)
    s = record_close(s, -10.0, utc(2024, 5, 12, 15, 59), ULN)
    assert (s.week_key, s.realised_week, s.realised_today) == ("2024-W19", -50.0, -10.0)
    s = record_close(s, 5.0, utc(2024, 5, 12, 16, 1), ULN)
    assert (s.week_key, s.realised_week, s.realised_today) == ("2024-W20", 5.0, 5.0)
    assert week_key(utc(2024, 12, 30, 12), UTC) == "2025-W01"


def test_roll_resets_counters_but_keeps_switches() -> None:
    s = RiskState(
        day_key="2024-05-06",
        trades_today=4,
        realised_today=-80.0,
        week_key="2024-W19",
        realised_week=-80.0,
        consecutive_losses=2,
        paused=True,
        paused_by="ann",
        breaker=BreakerCode.DRAWDOWN,
        equity_peak=10_500.0,
    )
    rolled = roll(s, utc(2024, 5, 7, 2), UTC)
    assert (rolled.trades_today, rolled.realised_today, rolled.realised_week) == (0, 0.0, -80.0)
    assert rolled.consecutive_losses == 2
    assert rolled.paused and rolled.breaker is BreakerCode.DRAWDOWN
    assert rolled.equity_peak == 10_500.0


def test_a_late_report_never_rolls_the_day_back() -> None:
    s = record_entry(RiskState(), utc(2024, 5, 7, 9), UTC)
    late = record_close(s, -30.0, utc(2024, 5, 6, 23, 58), UTC)  # noticed after midnight
    assert (late.day_key, late.trades_today, late.realised_today) == ("2024-05-07", 1, -30.0)
    assert late.last_loss_at == utc(2024, 5, 6, 23, 58)
    assert record_entry(s, utc(2024, 5, 7, 8), UTC).last_entry_at == utc(2024, 5, 7, 9)


def test_streak_counts_losses_resets_on_wins_and_ignores_scratches() -> None:
    t = utc(2024, 5, 6, 9)
    s = RiskState()
    for pnl, streak in [(-5.0, 1), (-5.0, 2), (0.0, 2), (-1.0, 3), (2.0, 0), (-3.0, 1)]:
        s = record_close(s, pnl, t, UTC)
        assert s.consecutive_losses == streak, pnl
    assert s.realised_today == pytest.approx(-12.0)  # -5 -5 +0 -1 +2 -3
    assert s.last_loss_at == t


def test_record_close_refuses_nan() -> None:
    with pytest.raises(ValueError, match="finite"):
        record_close(RiskState(), float("nan"), utc(2024, 5, 6), UTC)


async def test_persistence_round_trip_through_json() -> None:
    repo = MemoryStateRepo()
    store = RiskStateStore(repo)
    assert await store.load() == RiskState()
    t = utc(2024, 5, 6, 9, 30)
    full = RiskState(
        day_key="2024-05-06",
        trades_today=3,
        realised_today=-123.45,
        week_key="2024-W19",
        realised_week=-200.5,
        last_entry_at=t,
        last_loss_at=t - timedelta(minutes=5),
        consecutive_losses=2,
        equity_peak=10_250.75,
        paused=True,
        paused_by="alice",
        paused_reason="FOMC",
        paused_at=t,
        breaker=BreakerCode.LOSS_STREAK,
        breaker_reason="3 losses in a row",
        breaker_until=t + timedelta(hours=4),
        breaker_at=t,
    )
    await store.save(full)
    assert json.loads(repo.data["risk.state"])["breaker"] == "loss_streak"
    again = await RiskStateStore(repo).load()  # a restart: a new store on the same repo
    assert again == full
    assert again.breaker is BreakerCode.LOSS_STREAK
    assert again.breaker_until is not None and again.breaker_until.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "stored",
    [
        {"paused": "yes"},
        {"breaker": "meltdown"},
        {"last_entry_at": "2024-05-06T09:00:00"},  # naive
        {"realised_today": "NaN"},
        ["not", "an", "object"],
    ],
)
async def test_unreadable_state_raises_instead_of_unpausing(stored: Any) -> None:
    repo = MemoryStateRepo()
    await repo.set("risk.state", stored)
    with pytest.raises(EngineError) as info:
        await RiskStateStore(repo).load()
    assert info.value.code == "bad_risk_state"


def test_local_text_adds_the_date_only_when_it_differs() -> None:
    now = utc(2024, 5, 6, 13)  # 21:00 local
    assert local_text(utc(2024, 5, 6, 14, 45), ULN, now=now) == "22:45 Asia/Ulaanbaatar"
    assert local_text(utc(2024, 5, 6, 16, 30), ULN, now=now) == "2024-05-07 00:30 Asia/Ulaanbaatar"


def test_breaker_active_window() -> None:
    t = utc(2024, 5, 6, 9)
    s = replace(RiskState(), breaker=BreakerCode.LOSS_STREAK, breaker_until=t)
    assert s.breaker_active(t - timedelta(seconds=1))
    assert not s.breaker_active(t)
    assert replace(s, breaker_until=None).breaker_active(t + timedelta(days=30))
    assert not RiskState().breaker_active(t)


async def test_round_trip_through_sqlite_across_a_reopen(tmp_path: Path) -> None:
    t = utc(2024, 5, 6, 9, 30)
    state = RiskState(
        day_key="2024-05-06",
        trades_today=2,
        realised_today=-55.5,
        week_key="2024-W19",
        realised_week=-55.5,
        last_loss_at=t,
        consecutive_losses=1,
        paused=True,
        paused_by="alice",
        paused_at=t,
        breaker=BreakerCode.DAILY_LOSS,
        breaker_reason="daily loss",
        breaker_until=utc(2024, 5, 6, 16),
        breaker_at=t,
    )
    path = tmp_path / "risk.db"
    first = await open_storage(path, SimClock(t))
    try:
        await RiskStateStore(first.state).save(state)
    finally:
        await first.close()
    second = await open_storage(path, SimClock(t))
    try:
        assert await RiskStateStore(second.state).load() == state
    finally:
        await second.close()
