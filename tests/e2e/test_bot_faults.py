"""Faults and limits end to end: a 429 on a reply is waited out and retried, a dropped
connection is resent once, a flood is throttled with one notice, a reply longer than 4096
characters arrives in parts, a broker outage and an unexpected error get localized replies
that leak nothing, and polling stops the engine cleanly (or stops when the engine ends)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.html_split import utf16_len
from bot.middlewares import TokenBucket
from engine.models import ClosedTrade, DealReason, Side
from tests.bot.harness import ADMIN, REPLAY_FROM, VIEWER, audit_outcomes, running_bot, texts
from tests.fakes.telegram_api import FakeTelegram


async def test_a_429_reply_is_retried_after_retry_after(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        telegram.fail_next("sendMessage", status=429, retry_after=1)
        [reply] = await rig.ask(rig.viewer, "/trades")
        assert texts([reply]) == ["No closed trades yet."]
        sends = telegram.calls("sendMessage")
        assert [c.status for c in sends] == [429, 200]
        assert sends[0].params == sends[1].params  # the same message, sent again
        assert telegram.sent_texts(VIEWER) == ["No closed trades yet."]


async def test_network_faults_on_a_reply(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        # Dropped before Telegram acted: sent once more, the user sees it once.
        telegram.drop_next("sendMessage")
        assert texts(await rig.ask(rig.viewer, "/trades")) == ["No closed trades yet."]
        assert [c.status for c in telegram.calls("sendMessage")] == [0, 200]
        # Dropped after Telegram acted: the resend makes it twice (at least once, by design).
        telegram.drop_next("sendMessage", after_processing=True)
        await rig.ask(rig.viewer, "/pnl 1")
        assert telegram.sent_texts(VIEWER)[1:] == [telegram.sent_texts(VIEWER)[1]] * 2
        # Dropped twice: the reply is lost, the failure is audited, polling carries on.
        telegram.drop_next("sendMessage", times=2)
        assert await rig.ask(rig.viewer, "/trades") == []
        assert texts(await rig.ask(rig.viewer, "/trades")) == ["No closed trades yet."]
        rows = await rig.core.storage.audit.recent(10)
    assert audit_outcomes(rows, "/trades") == ["ok", "error: TelegramNetworkError", "ok"]


async def test_a_flood_is_throttled_with_one_notice(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = TokenBucket(rate=0.001, burst=2, warn_every=timedelta(minutes=5))
    async with running_bot(telegram, tmp_path, monkeypatch, throttle=bucket) as rig:
        answers = [texts(await rig.ask(rig.viewer, "/trades")) for _ in range(5)]
        assert answers == [
            ["No closed trades yet."],
            ["No closed trades yet."],
            ["Too many requests. Please wait a few seconds and try again."],
            [],
            [],
        ]
        assert texts(await rig.ask(rig.admin, "/trades")) == ["No closed trades yet."]
        rows = await rig.core.storage.audit.recent(10)
    assert audit_outcomes(rows, "/trades") == ["ok", "ok", "throttled", "ok"]


async def test_a_long_trade_list_arrives_in_parts(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        for i in range(150):
            at = REPLAY_FROM - timedelta(hours=150 - i)
            trade = ClosedTrade(
                5000 + i, "XAUUSD", Side.SELL, 0.3, 1320.0, 1318.5, at - timedelta(hours=1), at,
                45.0, commission=-2.1, reason=DealReason.TP,
            )  # fmt: skip
            assert await rig.core.storage.trades.add(trade)
        parts = await rig.ask(rig.viewer, "/trades 150")
        assert len(parts) >= 2 and all(c.method == "sendMessage" for c in parts)
        shown = texts(parts)
        assert all(utf16_len(text) <= 4096 for text in shown)
        lines = "\n".join(shown).split("\n")
        assert lines[0] == "Closed trades (150)"
        assert len(lines) == 151 and all(" +42.90 USD" in line for line in lines[1:])
        # Newest first; today's trades show the time only.
        assert lines[1] == "12:00 UTC #5149 XAUUSD sell 0.3 1320.00 → 1318.50: +42.90 USD"
        assert lines[-1].startswith("2019-05-29 07:00 UTC #5000 XAUUSD sell 0.3")


async def test_broker_outage_and_unexpected_errors_are_answered_safely(
    telegram: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        await rig.ask(rig.viewer, "/lang ru")
        await rig.core.broker.close()  # the paper broker now refuses like a lost terminal
        assert texts(await rig.ask(rig.viewer, "/positions")) == [
            "⚠️ Брокер сейчас недоступен. Попробуйте чуть позже."
        ]
        status = texts(await rig.ask(rig.viewer, "/status"))[0].split("\n")
        assert status[:2] == [
            "Состояние · учебный счёт · брокер отключён",
            "⚠️ Брокер недоступен: данные счёта неизвестны.",
        ]

        async def broken(_days: int = 7) -> None:
            raise RuntimeError(f"boom with {telegram.token}")

        monkeypatch.setattr(rig.core.service, "daily_pnl", broken)
        with caplog.at_level(logging.ERROR, logger="chattrader.bot"):
            before = len(telegram.calls())
            update = telegram.send_text(rig.admin, "/pnl")
            replies = await rig.answered(update["update_id"], before)
        assert texts(replies) == [
            f"⚠️ Something went wrong; it was logged (update {update['update_id']}). "
            "Please try again."
        ]
        [record] = [r for r in caplog.records if "failed" in r.getMessage()]
        assert record.getMessage() == f"update {update['update_id']} failed: RuntimeError"
        for call in telegram.calls():
            assert telegram.token not in str(call.params)
        assert telegram.sent_texts(ADMIN)[-1].startswith("⚠️ Something went wrong")


async def test_polling_stops_the_engine_cleanly(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch, engine=True) as rig:
        runner = rig.data["engine"]
        for _ in range(500):
            if rig.core.trader.heartbeat.cycles >= 20:
                break
            await asyncio.sleep(0.01)
        assert rig.core.trader.heartbeat.cycles >= 20
        status = texts(await rig.ask(rig.viewer, "/status"))[0]
        assert "Last decision XAUUSD at " in status
        await rig.dp.stop_polling()  # what SIGINT/SIGTERM do; the shutdown hook runs
        assert rig.polling is not None and rig.polling.done()
        assert runner.task is not None and runner.task.cancelled()
        cycles = rig.core.trader.heartbeat.cycles
        await asyncio.sleep(0.05)
        assert rig.core.trader.heartbeat.cycles == cycles  # nothing runs any more
        assert await rig.core.storage.orders.pending() == []  # no order left half sent
        async with rig.core.trader.idle():  # and no cycle holds the lock
            pass


async def test_the_bot_stops_when_the_engine_ends(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch, engine=True, max_bars=3) as rig:
        assert rig.polling is not None
        await asyncio.wait_for(rig.polling, timeout=10)
        assert rig.core.trader.heartbeat.cycles == 3
        assert rig.data["engine"].task.done()
