"""The Telegram bot, assembled in one place: the Bot, the Dispatcher, their workflow data and
the polling run with the engine inside.

``build_dispatcher`` wires the policy middlewares (access, locale, throttle, audit, role) and
every feature router once; routers are module-level, so one process builds one dispatcher.
Everything a handler needs arrives as workflow data (``workflow_data``): the service, access
control, the audit log (redacted on write) and its auditor, the chat's backtest jobs (their
process pool starts on first use and stops with the ``backtest`` router's shutdown hook),
confirmations, chat preferences, throttle, i18n, clock and display zone.
``run_bot`` long-polls with graceful shutdown: the startup hook starts the engine and sets the
command menus; the shutdown hook (also reached on Ctrl+C without signal handlers, on Windows)
waits for a running cycle to finish and stops the engine, then flushes the notification outbox
(``bot.notifications``: the notifier subscribes before polling starts, delivery and the daily
summary run as tasks from the startup hook). With TELEGRAM_WEBHOOK_URL set, ``run_bot`` serves
a webhook instead (``bot.webhook``) with the same hooks. See ``bot.retry`` for how 429s and
network faults on the bot's own replies are retried, and ``bot.outbox_worker`` for how the
outbox stacks on top of it.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n

from bot import routers
from bot.access import Access, StrangerAlerts, pinned_roles
from bot.backtest_jobs import BacktestJobs
from bot.confirmations import Confirmations
from bot.engine_runner import EngineRunner
from bot.i18n import UserLocaleMiddleware, build_i18n
from bot.menu_commands import sync_all
from bot.middlewares import (
    AccessMiddleware,
    AuditMiddleware,
    Auditor,
    RoleMiddleware,
    ThrottleMiddleware,
    TokenBucket,
)
from bot.notifications import Notifications
from bot.redact import RedactingAuditRepo
from bot.retry import RetryMiddleware
from engine.config import TelegramSettings
from storage.repos.chats import SqliteChatPrefsRepo
from storage.repos.confirmations import SqliteConfirmationRepo

if TYPE_CHECKING:
    from bot.wiring import Core

log = logging.getLogger("chattrader.bot")


def build_bot(cfg: TelegramSettings) -> Bot:
    """A Bot with HTML parse mode, pointed at ``TELEGRAM_API_BASE`` when set (local Bot API
    servers, tests), with the request retry middleware."""
    if cfg.token is None:
        msg = "TELEGRAM_BOT_TOKEN is not set"
        raise ValueError(msg)
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(cfg.api_base) if cfg.api_base else PRODUCTION,
        proxy=cfg.proxy.get_secret_value() if cfg.proxy else None,
        timeout=cfg.timeout_s,
    )
    session.middleware(RetryMiddleware())
    return Bot(
        cfg.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(i18n: I18n | None = None) -> Dispatcher:
    """The one Dispatcher of this process (feature routers attach only once)."""
    dp = Dispatcher(name="chattrader")
    dp.update.outer_middleware(AccessMiddleware())  # after aiogram's: event_from_user is set
    UserLocaleMiddleware(i18n or build_i18n()).setup(dp)
    throttle = ThrottleMiddleware()
    dp.message.outer_middleware(throttle)  # after the locale: its reply is translated
    dp.callback_query.outer_middleware(throttle)
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    for observer in (dp.message, dp.callback_query):
        observer.middleware(AuditMiddleware())
        observer.middleware(RoleMiddleware())  # inner: sees the handler's @flags.role
    dp.include_routers(*routers.ordered())
    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    return dp


async def _stop_polling(dispatcher: Dispatcher) -> None:
    with contextlib.suppress(RuntimeError):  # polling already stopped
        await dispatcher.stop_polling()


async def on_startup(
    bot: Bot,
    dispatcher: Dispatcher,
    access: Access,
    i18n: I18n,
    default_locale: str,
    engine: EngineRunner | None = None,
    notifications: Notifications | None = None,
) -> None:
    me = await bot.get_me()
    log.info("Telegram bot @%s (%s) is up", me.username, me.id)
    await sync_all(bot, i18n, access, default_locale)
    if notifications is not None:
        notifications.start(bot)
    if engine is not None:
        engine.start(lambda: _stop_polling(dispatcher))


async def on_shutdown(
    engine: EngineRunner | None = None, notifications: Notifications | None = None
) -> None:
    if engine is not None:
        await engine.stop()
        log.info("engine stopped")
    if notifications is not None:  # after the engine: no new event can arrive
        await notifications.stop()


def workflow_data(
    core: Core,
    *,
    i18n: I18n | None = None,
    throttle: TokenBucket | None = None,
    alerts: StrangerAlerts | None = None,
    engine: EngineRunner | None = None,
    notifications: Notifications | None = None,
) -> dict[str, Any]:
    """What handlers and middlewares receive by name, built from a running ``Core``."""
    t = core.settings.telegram
    access = Access(
        core.storage.users,
        allowed_chats=t.allowed_chat_ids,
        pinned=pinned_roles(t.admin_ids, t.trader_ids, t.viewer_ids),
        alerts=alerts,
    )
    default_locale = core.settings.app.default_lang
    audit = RedactingAuditRepo(core.storage.audit)  # no secret reaches the audit table
    return {
        "service": core.service,
        "access": access,
        "audit": audit,
        "auditor": Auditor(audit, core.clock),
        "backtests": BacktestJobs.from_core(core),
        "confirmations": Confirmations(SqliteConfirmationRepo(core.storage.db), core.clock),
        "chats": SqliteChatPrefsRepo(core.storage.db),
        "throttle": throttle or TokenBucket(),
        "i18n": i18n or build_i18n(default_locale),
        "default_locale": default_locale,
        "zone": core.settings.app.tz,
        "clock": core.clock,
        "engine": engine,
        "notifications": notifications,
    }


async def run_bot(core: Core, *, max_bars: int | None = None) -> None:
    """Serve Telegram until SIGINT/SIGTERM (or the engine ends); the engine runs inside.

    Long polling by default; a webhook server when TELEGRAM_WEBHOOK_URL is set. Roles from the
    settings are written first; notifications are stored from now on and delivered once the
    bot is up; on the way out the engine is stopped cleanly and the outbox flushed.
    """
    i18n = build_i18n(core.settings.app.default_lang)
    notifications = Notifications.build(core, i18n)
    await notifications.catch_up()  # closes the engine's start recorded before we subscribed
    engine = EngineRunner(core, max_bars=max_bars)
    data = workflow_data(core, i18n=i18n, engine=engine, notifications=notifications)
    await data["access"].bootstrap(core.clock.now())
    bot = build_bot(core.settings.telegram)
    dp = build_dispatcher(data["i18n"])
    if core.settings.telegram.webhook_url:
        from bot.webhook import serve_webhook

        await serve_webhook(core.settings.telegram, dp, bot, data)
        return
    # A webhook left over from an earlier run would make every getUpdates fail with 409.
    await bot.delete_webhook(drop_pending_updates=False)
    await dp.start_polling(bot, **data)
