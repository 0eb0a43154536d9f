"""/news and /audit through the real dispatcher over the fake Bot API: releases stored in the
calendar cache shown in the display zone with importance, forecast and previous, the window
that blocks entries now (chained into the next one), the calendar line of /status, "calendar
not configured"; the admin's audit log with redacted rows, refused to a trader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.models import EconomicEvent, Importance
from engine.ports import CalendarBatch, CalendarFetch
from storage import open_storage
from tests.bot.harness import ADMIN, TRADER, VIEWER, running_bot, texts
from tests.fakes.telegram_api import FakeTelegram

NOW = datetime(2019, 6, 4, 13, 15, tzinfo=UTC)  # the harness's clock: first replayed bar close
FETCHED = datetime(2019, 6, 4, 12, 0, tzinfo=UTC)
TOKEN = "123456789:AAHk4sVx9y-secretsecretsecretsecret12"


def ev(
    at: datetime,
    title: str,
    currency: str = "USD",
    imp: Importance = Importance.HIGH,
    forecast: str = "",
    previous: str = "",
) -> EconomicEvent:
    return EconomicEvent(at, currency, "", title, imp, "", forecast, previous, "faireconomy")


EVENTS = (
    ev(NOW - timedelta(minutes=75), "Old Release"),  # its window ended 12:30 UTC
    ev(NOW + timedelta(minutes=15), "Non-Farm Employment Change", forecast="180K",
       previous="175K"),
    ev(NOW + timedelta(minutes=45), "German Retail Sales m/m", "EUR", Importance.MEDIUM),
    ev(NOW + timedelta(minutes=105), "ISM Services PMI", forecast="52.0", previous="51.4"),
    ev(NOW + timedelta(hours=6), "Consumer Credit", imp=Importance.LOW),
    ev(NOW + timedelta(hours=12, minutes=45), "Fed Chair Speaks", imp=Importance.MEDIUM),
    ev(NOW + timedelta(days=1, hours=23, minutes=15), "CPI m/m", forecast="0.3%"),
)  # fmt: skip


async def store_events(db_path: Path) -> None:
    storage = await open_storage(db_path)
    try:
        batch = CalendarBatch(
            "faireconomy", NOW - timedelta(days=1), NOW + timedelta(days=7), EVENTS
        )
        await storage.calendar.store((batch,), CalendarFetch(FETCHED, "faireconomy"))
    finally:
        await storage.close()


async def test_news_in_the_display_zone_with_the_window_blocking_now(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_events(tmp_path / "bot.db")
    env = {"DISPLAY_TZ": "Asia/Ulaanbaatar"}  # UTC+8, no daylight saving
    async with running_bot(telegram, tmp_path, monkeypatch, **env) as rig:
        assert rig.core.clock.now() == NOW
        [news] = await rig.ask(rig.viewer, "/news")
        assert texts([news])[0].split("\n") == [
            "News for XAUUSD (USD), next 24 h",
            # 13:30 + 30 min = 14:00 UTC, when ISM's 60-minute lead begins: chained to 15:30.
            "⛔ Entries blocked now by Non-Farm Employment Change (USD) until 23:30 +08.",
            "🔴 21:30 +08 (in 15 min) USD Non-Farm Employment Change",
            "    high, forecast 180K, previous 175K · ⛔ blocking now",
            "🔴 23:00 +08 (in 1 h 45 min) USD ISM Services PMI",
            "    high, forecast 52.0, previous 51.4",
            "🟠 2019-06-05 10:00 +08 (in 12 h 45 min) USD Fed Chair Speaks",
            "    medium",
            "",
            "📅 Calendar fresh, updated 20:00 +08 (faireconomy).",
            "Window: 60 min before to 30 min after high-importance news.",
        ]
        [week] = await rig.ask(rig.viewer, "/news 7d xauusd")
        lines = texts([week])[0].split("\n")
        assert lines[0] == "News for XAUUSD (USD), next 7 d"
        assert "🔴 2019-06-06 20:30 +08 (in 1 d 23 h) USD CPI m/m" in lines
        [fx] = await rig.ask(rig.viewer, "/news EURUSD 2h")
        lines = texts([fx])[0].split("\n")
        assert lines[0] == "News for EURUSD (EUR, USD), next 2 h"
        assert "🟠 22:00 +08 (in 45 min) EUR German Retail Sales m/m" in lines
        assert not any("Fed Chair" in line for line in lines)  # beyond 2 hours
        [bad] = await rig.ask(rig.viewer, "/news 15d")
        assert texts([bad]) == [
            "Cannot read 15d: give a symbol and a horizon from 1h to 14d.\n"
            "Usage: /news [SYMBOL] [24h|7d]"
        ]
        [status] = await rig.ask(rig.viewer, "/status")
        assert "📅 Calendar fresh, updated 20:00 +08 (faireconomy)." in texts([status])[0]


async def test_news_without_a_calendar_and_the_audit_log(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        [news] = await rig.ask(rig.viewer, "/news")
        assert texts([news])[0].split("\n") == [
            "News for XAUUSD (USD), next 24 h",
            "📅 Calendar not configured: news is not checked before entries.",
        ]
        [status] = await rig.ask(rig.viewer, "/status")
        assert "📅 Calendar not configured: news is not checked before entries." in (
            texts([status])[0].split("\n")
        )

        await rig.ask(rig.viewer, "/backtest XAUUSD 30d")  # refused: audited as denied
        await rig.ask(rig.trader, f"/pause token {TOKEN} pasted")
        [refused] = await rig.ask(rig.trader, "/audit")
        assert texts([refused]) == ["This needs the admin role; yours is trader."]
        [log] = await rig.ask(rig.admin, "/audit 4")
        assert texts([log])[0].split("\n") == [
            "Audit log: the last 4 entries, newest first",
            f"13:15 UTC · {TRADER} · private · /audit → denied",
            f"13:15 UTC · {TRADER} · private · /pause token *** pasted → ok",
            f"13:15 UTC · {VIEWER} · private · /backtest XAUUSD 30d → denied",
            f"13:15 UTC · {VIEWER} · private · /status → ok",
        ]
        [wrong] = await rig.ask(rig.admin, "/audit 101")
        assert texts([wrong]) == ["The number must be from 1 to 100.\nUsage: /audit [N]"]
        rows = await rig.core.storage.audit.recent(10)
    assert all(TOKEN not in f"{r.action} {r.detail} {r.outcome}" for r in rows)
    assert [r.action for r in rows if r.user_id == ADMIN] == ["/audit", "/audit"]
