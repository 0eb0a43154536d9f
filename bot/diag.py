"""`chattrader diag`: is everything this installation needs reachable and sane?

Checks, in order: settings, storage, broker (paper account and symbol specs, or the MT5
terminal: connection, account, algo trading, symbols), market data, Telegram (getMe through the
configured Bot API base), economic calendar (one refresh). Prints one line per check and exits
non-zero when any check failed. Secrets are never printed: errors are reduced to their class and
a redacted message.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from engine.config import Settings
from engine.errors import EngineError

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass
class Report:
    lines: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, status: str, check: str, detail: str) -> None:
        self.lines.append((status, check, detail))

    @property
    def failed(self) -> bool:
        return any(status == FAIL for status, _, _ in self.lines)

    def render(self) -> str:
        return "\n".join(f"[{s:4}] {c:10} {d}" for s, c, d in self.lines)


def redacted(exc: BaseException, settings: Settings) -> str:
    """Exception text with every configured secret masked (tokens live in Bot API URLs)."""
    text = f"{type(exc).__name__}: {exc}"
    secrets = (
        settings.telegram.token,
        settings.telegram.proxy,
        settings.broker.password,
        settings.calendar.calendar_te_key,
    )
    for secret in secrets:
        if secret is not None and (value := secret.get_secret_value()):
            text = text.replace(value, "***")
    return text


async def check_storage(settings: Settings, report: Report) -> None:
    from storage import migrate as migrations
    from storage import open_storage

    storage = await open_storage(settings.app.db_path)
    try:
        version = await migrations.current_version(storage.db)
        ranges = await storage.bars.ranges()
        detail = f"{settings.app.db_path}: schema v{version}, {len(ranges)} imported series"
        report.add(OK, "storage", detail)
    finally:
        await storage.close()


async def check_broker(settings: Settings, report: Report) -> None:
    if settings.broker.kind == "mt5":
        from bot.wiring import mt5_broker
        from engine.clock import SystemClock

        broker = mt5_broker(settings, SystemClock())
        try:
            result = await broker.diagnose(list(settings.trading.symbols))
        finally:
            await broker.close()
        for label, value in result.facts:
            report.add(OK, "mt5", f"{label}: {value}")
        for problem in result.problems:
            report.add(FAIL, "mt5", problem)
        return
    from engine.symbols import DEFAULT_SPECS

    for symbol in settings.trading.symbols:
        spec = DEFAULT_SPECS.get(symbol)
        if spec is None:
            known = ", ".join(DEFAULT_SPECS)
            report.add(FAIL, "broker", f"paper broker has no spec for {symbol} (knows {known})")
            continue
        report.add(
            OK,
            "broker",
            f"paper {symbol}: digits {spec.digits}, tick {spec.tick_size} = {spec.tick_value} "
            f"{settings.paper.currency}/lot, volume {spec.volume_min}..{spec.volume_max} "
            f"step {spec.volume_step}",
        )


async def check_data(settings: Settings, report: Report) -> None:
    from engine.data.sources import BundledData, CachedData
    from storage import open_storage

    storage = await open_storage(settings.app.db_path)
    try:
        data = CachedData(storage.bars, BundledData())
        for symbol in settings.trading.symbols:
            found = await data.available(symbol, settings.trading.timeframe)
            if found is None:
                report.add(WARN, "data", f"{symbol} {settings.trading.timeframe.value}: no bars")
                continue
            note = f" ({found.note})" if found.note else ""
            report.add(
                OK,
                "data",
                f"{symbol} {found.timeframe.value}: {found.bars:,} bars "
                f"{found.start:%Y-%m-%d}..{found.end:%Y-%m-%d}{note}",
            )
    finally:
        await storage.close()


async def check_telegram(settings: Settings, report: Report) -> None:
    t = settings.telegram
    if t.token is None:
        report.add(WARN, "telegram", "no TELEGRAM_BOT_TOKEN: the engine runs headless")
        return
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import PRODUCTION, TelegramAPIServer

    api = TelegramAPIServer.from_base(t.api_base) if t.api_base else PRODUCTION
    proxy = t.proxy.get_secret_value() if t.proxy else None
    bot = Bot(t.token.get_secret_value(), session=AiohttpSession(api=api, proxy=proxy))
    try:
        me = await bot.get_me(request_timeout=int(t.timeout_s))
        report.add(OK, "telegram", f"bot @{me.username} (id {me.id}) answers")
    finally:
        await bot.session.close()
    if not (t.admin_ids or t.trader_ids or t.viewer_ids):
        report.add(WARN, "telegram", "no TELEGRAM_*_IDS: nobody may use the bot")


async def check_calendar(settings: Settings, report: Report) -> None:
    c = settings.calendar
    if not c.calendar_enabled:
        report.add(WARN, "calendar", "CALENDAR_ENABLED=false: no news window")
        return
    from bot.wiring import build_calendar
    from engine.clock import SystemClock
    from storage import open_storage

    storage = await open_storage(settings.app.db_path)
    try:
        calendar, http = await build_calendar(settings, storage, SystemClock(), live=True)
        try:
            refresh = getattr(calendar, "refresh", None)
            status = await refresh() if refresh is not None else calendar.status()
        finally:
            if http is not None:
                await http.aclose()
        if status.ok:
            report.add(OK, "calendar", f"fresh from {status.source or 'cache'}")
        else:
            policy = "entries blocked" if c.news_policy == "block" else "entries allowed"
            detail = f"{status.reason} ({policy}: NEWS_POLICY={c.news_policy})"
            report.add(FAIL, "calendar", detail)
    finally:
        await storage.close()


Check = Callable[[Settings, Report], Awaitable[None]]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("storage", check_storage),
    ("broker", check_broker),
    ("data", check_data),
    ("telegram", check_telegram),
    ("calendar", check_calendar),
)


async def diag(args: argparse.Namespace) -> int:
    from bot.commands import settings_from

    report = Report()
    try:
        settings = settings_from(args)
    except EngineError as exc:
        report.add(FAIL, "settings", str(exc).replace("\n", "; "))
        print(report.render())
        return 1
    count = len(settings.public_view())
    report.add(OK, "settings", f"{count} settings read, broker {settings.broker.kind}")
    for name, check in CHECKS:
        try:
            await check(settings, report)
        except Exception as exc:
            report.add(FAIL, name, redacted(exc, settings))
    print(report.render())
    print("problems found" if report.failed else "all checks passed")
    return 1 if report.failed else 0
