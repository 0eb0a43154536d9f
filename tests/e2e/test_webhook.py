"""Webhook mode end to end: the aiohttp server refuses requests without the secret token
(403, nothing reaches the dispatcher), feeds a correct one to the real dispatcher whose reply
goes to the fake Bot API, registers itself with setWebhook; `chattrader run` with
TELEGRAM_WEBHOOK_URL serves until the engine ends and exits cleanly; the settings check the
URL, the secret and the summary time."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot import app, commands
from bot.app import build_bot, workflow_data
from bot.cli import build_parser
from bot.middlewares import TokenBucket
from bot.webhook import SECRET_HEADER, WebhookServer, webhook_secret
from engine.config import TelegramSettings, load_settings
from engine.errors import ConfigError
from tests.bot.harness import ADMIN, VIEWER, paper_core, settings_for, shared_dispatcher
from tests.fakes.telegram_api import FakeTelegram

URL = "https://bot.example.com/tg/hook"
SECRET = "s3cret-Token_42"


async def test_the_secret_token_is_required_and_an_update_is_answered(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE": telegram.base_url}
    core = await paper_core(settings_for(tmp_path, monkeypatch, **env))
    try:
        data = workflow_data(core, throttle=TokenBucket(1000, 1000))
        await data["access"].bootstrap(core.clock.now())
        bot = build_bot(core.settings.telegram)
        server = WebhookServer(shared_dispatcher(), bot, data, url=URL, secret=SECRET, port=0)
        await server.start()
        try:
            [hook] = telegram.calls("setWebhook")
            assert (hook.params["url"], hook.params["secret_token"]) == (URL, SECRET)
            assert {"message", "callback_query"} <= set(hook.params["allowed_updates"])
            update = telegram.send_text(telegram.user(VIEWER, "Vic"), "/status")
            endpoint = f"http://127.0.0.1:{server.port}/tg/hook"
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: SECRET + "x"}):
                    async with http.post(endpoint, json=update, headers=headers) as answer:
                        assert (answer.status, await answer.text()) == (403, "Forbidden")
                await asyncio.sleep(0.05)  # a refused update must not be handled late either
                assert telegram.calls("sendMessage") == []
                async with http.post(
                    endpoint, json=update, headers={SECRET_HEADER: SECRET}
                ) as answer:
                    assert answer.status == 200
                [reply] = await telegram.wait_for("sendMessage", timeout=10)
                assert reply.result["chat"]["id"] == VIEWER
                assert reply.result["text"].startswith("Status · paper account")
                async with http.get(endpoint, headers={SECRET_HEADER: SECRET}) as answer:
                    assert answer.status == 405  # Telegram only posts
        finally:
            await server.stop()
    finally:
        await core.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_serves_the_webhook_until_the_engine_ends(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    port = free_port()
    env = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_BASE": telegram.base_url,
        "TELEGRAM_ADMIN_IDS": str(ADMIN),
        "TELEGRAM_WEBHOOK_URL": URL,
        "TELEGRAM_WEBHOOK_PORT": str(port),
        "DB_PATH": str(tmp_path / "hook.db"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(app, "build_dispatcher", lambda _i18n=None: shared_dispatcher())
    # 15 simulated minutes per bar at x12,000 is 75 ms: 40 bars take about 3 s.
    args = build_parser().parse_args(
        ["run", "--replay", "--speed", "12000", "--max-bars", "40", "--from", "2019-06-04"]
    )
    running = asyncio.create_task(commands.run(args))
    [hook] = await telegram.wait_for("setWebhook", timeout=20)
    secret = hook.params["secret_token"]
    assert len(secret) == 43  # a random one: TELEGRAM_WEBHOOK_SECRET is not set
    update = telegram.send_text(telegram.user(ADMIN, "Ada"), "/trades")
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}/tg/hook", json=update, headers={SECRET_HEADER: secret}
        ) as answer,
    ):
        assert answer.status == 200
    assert await asyncio.wait_for(running, 30) == 0
    answers = [t for t in telegram.sent_texts(ADMIN) if not t.startswith(("🟢", "💰", "🔻"))]
    assert answers[0] == "No closed trades yet." or answers[0].startswith("Closed trades")
    assert telegram.calls("getUpdates") == [] and telegram.calls("deleteWebhook") == []


def test_settings_check_the_webhook_url_secret_and_summary_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "http://bot.example.com/hook")
    monkeypatch.setenv("DAILY_SUMMARY_TIME", "25:00")
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert set(caught.value.params["variables"]) == {"TELEGRAM_WEBHOOK_URL", "DAILY_SUMMARY_TIME"}
    assert "Telegram accepts only https" in str(caught.value)
    assert "'25:00' is not a time of day; DAILY_SUMMARY_TIME takes HH:MM" in str(caught.value)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", URL)
    monkeypatch.setenv("DAILY_SUMMARY_TIME", " 9:05 ")
    t = load_settings(None).telegram
    assert (t.webhook_url, t.daily_summary_time, str(t.summary_time)) == (URL, "09:05", "09:05:00")
    assert webhook_secret(TelegramSettings(webhook_secret=SecretStr(SECRET))) == SECRET
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET: Telegram accepts"):
        webhook_secret(TelegramSettings(webhook_secret=SecretStr("has space")))
    made = {webhook_secret(TelegramSettings()) for _ in range(3)}
    assert len(made) == 3 and all(len(s) == 43 for s in made)
