"""Webhook mode: Telegram posts updates to an aiohttp server instead of the bot long-polling.

Set TELEGRAM_WEBHOOK_URL to the public https address (TLS ends at your reverse proxy, which
forwards to TELEGRAM_WEBHOOK_HOST:TELEGRAM_WEBHOOK_PORT on the URL's path). Every request must
carry the secret token in ``X-Telegram-Bot-Api-Secret-Token`` (TELEGRAM_WEBHOOK_SECRET, or a
random one made at each start and registered with ``setWebhook``); anything else gets 403
and is never fed to the dispatcher. Updates go through aiogram's ``SimpleRequestHandler`` into
the same dispatcher, middlewares and handlers as polling, answered in the background so a slow
chart never makes Telegram resend.

The dispatcher's startup and shutdown hooks run through ``setup_application`` with the same
workflow data as polling: startup starts the engine and the notifications, then the webhook is
registered; shutdown (SIGINT/SIGTERM, or the engine ending) stops the engine and flushes the
outbox before the Bot session closes. The webhook stays registered, so updates sent while the
process restarts wait at Telegram; polling mode deletes it at its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import signal
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from engine.config import TelegramSettings
from engine.errors import ConfigError

log = logging.getLogger("chattrader.bot")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts


class SecretCheckedHandler(SimpleRequestHandler):
    """``SimpleRequestHandler`` that answers 403 Forbidden (and logs) without the secret."""

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            log.warning(
                "webhook: refused a request without the secret token from %s", request.remote
            )
            return web.Response(status=403, text="Forbidden")
        return await super().handle(request)


def webhook_secret(cfg: TelegramSettings) -> str:
    """The configured secret, checked against Telegram's rule, or a fresh random one."""
    if cfg.webhook_secret is None:
        return secrets.token_urlsafe(32)
    value = cfg.webhook_secret.get_secret_value()
    if not _SECRET_SHAPE.fullmatch(value):
        msg = (
            "TELEGRAM_WEBHOOK_SECRET: Telegram accepts 1 to 256 characters A-Z, a-z, 0-9, _ "
            "and -; leave it empty for a random secret at each start"
        )
        raise ConfigError(msg, variables=("TELEGRAM_WEBHOOK_SECRET",))
    return value


class WebhookServer:
    """The aiohttp server for ``url``: ``start`` runs the startup hooks, listens, then
    registers the webhook; ``stop`` runs the shutdown hooks and closes. ``port`` 0 picks a
    free port (tests)."""

    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        data: dict[str, Any],
        *,
        url: str,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 8080,
    ) -> None:
        self.url = url
        self.path = urlsplit(url).path or "/"
        self.host = host
        self.port = port
        self._bot = bot
        self._dp = dp
        self._secret = secret
        self.app = web.Application()
        # Hooks first: on shutdown the engine stops and the outbox flushes before the request
        # handler closes the Bot session.
        setup_application(self.app, dp, bot=bot, **data)
        handler = SecretCheckedHandler(dp, bot, secret_token=secret, **data)
        handler.register(self.app, path=self.path)
        self._runner: web.AppRunner | None = None

    async def _register(self) -> None:
        await self._bot.set_webhook(
            self.url,
            secret_token=self._secret,
            allowed_updates=self._dp.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        log.info("webhook registered; listening on %s:%d%s", self.host, self.port, self.path)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        await self._register()  # only once listening: Telegram may post at once

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def serve_webhook(
    cfg: TelegramSettings, dp: Dispatcher, bot: Bot, data: dict[str, Any]
) -> None:
    """Serve the webhook until SIGINT/SIGTERM or the engine (``data["engine"]``) ends."""
    assert cfg.webhook_url is not None
    server = WebhookServer(
        dp,
        bot,
        data,
        url=cfg.webhook_url,
        secret=webhook_secret(cfg),
        host=cfg.webhook_host,
        port=cfg.webhook_port,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl+C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        await server.start()
        stopper = asyncio.ensure_future(stop.wait())
        waits: set[asyncio.Future[Any]] = {stopper}
        engine = data.get("engine")
        if engine is not None and engine.task is not None:  # started by the startup hook
            waits.add(engine.task)
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
    finally:
        await server.stop()
        for sig in handled:
            loop.remove_signal_handler(sig)
