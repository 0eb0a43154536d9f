"""Notifications end to end: the real dispatcher polls the fake Bot API over a paper Core with
the notifier subscribed and the outbox worker running. A forced trade and its close reach the
notification group as photos (PNG charts in multipart uploads) with their captions; pause and
resume say who and why; a chat that muted a kind gets none of it; what was stored while no bot
ran goes out once at the next start; and stopping flushes the outbox before the session closes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_bot, workflow_data
from bot.i18n import build_i18n
from bot.middlewares import TokenBucket
from bot.notifications import Notifications
from tests.bot.harness import (
    ADMIN,
    TRADER,
    VIEWER,
    Rig,
    keyboard_data,
    listening,
    paper_core,
    settings_for,
    shared_dispatcher,
    texts,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_media import image_size

GROUP = -1009876543210


@contextlib.asynccontextmanager
async def notifying_bot(
    telegram: FakeTelegram,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    idle: float = 1.0,
    **env: str,
) -> AsyncIterator[tuple[Rig, Notifications]]:
    """The harness's polling bot plus notifications for GROUP and the admin's private chat."""
    env = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_NOTIFY_CHAT_IDS": f"{GROUP},{ADMIN}",
        **env,
    }
    settings = settings_for(tmp_path, monkeypatch, **env)
    telegram.group(GROUP, "Desk")
    core = await paper_core(settings)
    try:
        i18n = build_i18n()
        notifications = Notifications.build(core, i18n, idle=idle)
        data = workflow_data(
            core, i18n=i18n, throttle=TokenBucket(1000, 1000), notifications=notifications
        )
        await data["access"].bootstrap(core.clock.now())
        bot = build_bot(settings.telegram)
        dp = shared_dispatcher()
        rig = Rig(telegram, core, bot, data, dp)
        for user_id, name in ((ADMIN, "Ada"), (TRADER, "Tom"), (VIEWER, "Vic")):
            rig.users[user_id] = telegram.user(user_id, name, "en", username=name.lower())
        async with listening(dp, bot, telegram, handle_as_tasks=False, **data) as task:
            rig.polling = task
            yield rig, notifications
    finally:
        await core.close()


def to_chat(chat_id: int) -> object:
    return lambda call: call.ok and call.result["chat"]["id"] == chat_id


async def test_a_forced_trade_and_its_close_arrive_with_charts(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with notifying_bot(telegram, tmp_path, monkeypatch) as (rig, _):
        [card] = await rig.ask(rig.admin, "/force buy")
        await rig.press(rig.admin, card, keyboard_data(card)[0])
        [opened] = await telegram.wait_for("sendPhoto", where=to_chat(GROUP), timeout=10)
        [position] = await rig.core.broker.positions()
        assert opened.result["caption"].startswith(
            f"🟢 Opened buy {position.volume:g} XAUUSD at {position.price_open:.2f} · "
            f"#{position.ticket}\nSL {position.sl:.2f}, TP {position.tp:.2f} · risk "
        )
        upload = opened.file("photo")
        assert upload is not None and upload.data.startswith(b"\x89PNG\r\n\x1a\n")
        assert image_size(upload.data) == (1280, 900)
        assert opened.result["caption_entities"][0]["type"] == "bold"  # sent as HTML
        # The admin's copy of the fill may still be on its way: keep the trader's chat only.
        answers = await rig.ask(rig.trader, f"/close {position.ticket}")
        [close_card] = [c for c in answers if c.result["chat"]["id"] == TRADER]
        await rig.press(rig.trader, close_card, keyboard_data(close_card)[0])
        photos = await telegram.wait_for("sendPhoto", 2, where=to_chat(GROUP), timeout=10)
        [trade] = await rig.core.storage.trades.recent(1)
        caption = photos[1].result["caption"]
        mark, head = caption.split(" ", 1)
        assert mark in {"💰", "🔻", "🏁"} and head.startswith(
            f"Closed buy {position.volume:g} XAUUSD: {trade.net:+.2f} USD · #{position.ticket}"
        )
        assert f"{trade.price_open:.2f} → {trade.price_close:.2f} · closed by the bot" in caption
        # The admin's private chat is a notification chat too: the same two photos.
        assert len(await telegram.wait_for("sendPhoto", 2, where=to_chat(ADMIN))) == 2


async def test_pause_and_resume_say_who_and_why_and_a_muted_chat_hears_nothing(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with notifying_bot(telegram, tmp_path, monkeypatch) as (rig, _):
        [menu] = await rig.ask(rig.admin, "/notify")
        await rig.press(rig.admin, menu, "nt:risk")  # the admin mutes pause and breaker news
        await rig.ask(rig.trader, "/pause NFP at 12:30")
        await rig.ask(rig.trader, "/resume")
        sent = await telegram.wait_for("sendMessage", 2, where=to_chat(GROUP), timeout=10)
        assert texts(sent) == [
            "⏸ Trading paused by @tom (1002): NFP at 12:30\n"
            "No new trades until /resume; open positions keep their stops.",
            "▶️ Trading resumed by @tom (1002)\nNew trades are allowed again.",
        ]
    # Stopped (and flushed): nothing about the pause ever reached the admin.
    admin = telegram.sent_texts(ADMIN)
    assert not [t for t in admin if "paused by" in t or "resumed by" in t]


async def test_what_was_stored_without_a_bot_goes_out_once_at_the_next_start(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_NOTIFY_CHAT_IDS": str(GROUP),
    }
    core = await paper_core(settings_for(tmp_path, monkeypatch, **env))
    try:
        Notifications.build(core, build_i18n())  # subscribed; no bot ever started
        await core.service.pause("@ada (1001)", "maintenance")
        await core.service.resume("@ada (1001)")
        assert await core.storage.outbox.backlog() == 2
    finally:
        await core.close()
    async with notifying_bot(telegram, tmp_path, monkeypatch):
        await telegram.wait_for("sendMessage", 2, where=to_chat(GROUP), timeout=10)
    assert [t.split("\n")[0] for t in telegram.sent_texts(GROUP)] == [
        "⏸ Trading paused by @ada (1001): maintenance",
        "▶️ Trading resumed by @ada (1001)",
    ]


async def test_stopping_flushes_the_outbox_before_the_session_closes(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An hour between passes and no wake: only the shutdown flush can deliver.
    async with notifying_bot(telegram, tmp_path, monkeypatch, idle=3600.0) as (rig, made):
        made.notifier.wake = None
        await rig.core.service.pause("@ada (1001)", "before the stop")
        assert telegram.sent_texts(GROUP) == []
    assert telegram.sent_texts(GROUP) == [
        "⏸ Trading paused by @ada (1001): before the stop\n"
        "No new trades until /resume; open positions keep their stops."
    ]
