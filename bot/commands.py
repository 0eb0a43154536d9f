"""The CLI commands: run, data list/import, db migrate. Each returns a process exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from engine import __version__
from engine.config import Settings, load_settings
from engine.data.csv_import import import_csv
from engine.data.sources import BundledData, CachedData
from engine.errors import BadArguments, ConfigError
from engine.events import EventBus
from engine.models import Timeframe
from storage import migrate as migrations
from storage import open_storage
from storage.db import Database

log = logging.getLogger("chattrader")


def settings_from(args: argparse.Namespace) -> Settings:
    env_file = Path(args.env_file)
    if args.env_file != ".env" and not env_file.is_file():
        msg = f"--env-file: no such file: {env_file}"
        raise ConfigError(msg, variables=("--env-file",))
    settings = load_settings(env_file)
    setup_logging(args.log_level or settings.app.log_level, settings)
    return settings


def setup_logging(level: str, settings: Settings) -> None:
    """Terminal lines, JSON lines under DATA_DIR/logs, secrets masked (see ``bot.logs``)."""
    from bot.logs import configure_logging

    configure_logging(settings, level)


def _parse_day(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        msg = f"--from: expected a date like 2019-06-01, got {text!r}"
        raise BadArguments(msg, code="bad_date") from None


def _log_events(bus: EventBus) -> None:
    """Headless mode: the events a person must see (breaker, pause, broker link, failures) at
    WARNING; the trader already narrates fills, closes and blocks at INFO."""
    loud = {"BreakerTripped", "BreakerReset", "Paused", "Resumed", "BrokerDisconnected"}
    loud |= {"BrokerReconnected", "CycleFailed"}

    async def log_event(event: object) -> None:
        name = type(event).__name__
        text = getattr(event, "reason", "") or getattr(event, "error", "") or str(event)
        log.log(logging.WARNING if name in loud else logging.DEBUG, "%s: %s", name, text)

    bus.subscribe(log_event)


async def run(args: argparse.Namespace) -> int:
    """`chattrader run`: the engine with the configured broker, until Ctrl+C."""
    settings = settings_from(args)
    log.info("chattrader %s: loading the engine and market data", __version__)
    from bot.engine_runner import EngineRunner
    from bot.runtime import Ops
    from bot.wiring import build_core

    core = await build_core(
        settings, replay=args.replay, speed=args.speed, replay_from=_parse_day(args.replay_from)
    )
    _log_events(core.bus)
    ops: Ops | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers: Ctrl+C then arrives as KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        account = await core.broker.account()
        t = settings.trading
        log.info("chattrader %s starting in %s mode", __version__, core.mode)
        log.info(
            "account %s: balance %.2f %s, equity %.2f, leverage 1:%d",
            account.login,
            account.balance,
            account.currency,
            account.equity,
            account.leverage,
        )
        log.info(
            "trading %s on %s with %s (%s); risk %.2f%% per trade, max %s trades/day, "
            "sessions %s, display zone %s",
            ", ".join(t.symbols),
            t.timeframe.value,
            core.trader.config.strategy.name,
            core.trader.config.params.as_tokens(),
            settings.risk.risk_pct * 100,
            settings.risk.max_trades_per_day,
            ",".join(s.value for s in t.sessions),
            settings.app.display_tz,
        )
        for note in core.notes:
            log.info("data: %s", note)
        log.info("storage: %s", settings.app.db_path)
        await core.start()
        ops = await Ops.start(core, health_port=args.health_port, health_host=args.health_host)
        on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
        if args.command == "console" or (not settings.telegram.enabled and on_terminal):
            # No token on a terminal: the chat runs here (services and CI stay headless).
            log.info("console mode: the chat runs in this terminal; /quit leaves")
            log.info("loading the chat (the Telegram library takes a few seconds)")
            from bot.console import run_in_terminal

            await run_in_terminal(core, max_bars=args.max_bars, quiet=args.log_level is None)
        elif settings.telegram.enabled:
            # Polling installs its own SIGINT/SIGTERM handlers and stops the engine on exit.
            log.info("Telegram bot: long polling; Ctrl+C stops the bot and the engine")
            log.info("loading the chat (the Telegram library takes a few seconds)")
            from bot.app import run_bot

            await run_bot(core, max_bars=args.max_bars)
        else:
            log.info("no TELEGRAM_BOT_TOKEN: running headless (events are logged)")
            engine = EngineRunner(core, max_bars=args.max_bars)
            engine.start()
            assert engine.task is not None
            if ops.health is not None:
                ops.health.engine_task = engine.task
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({engine.task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            if engine.task.done() and not engine.task.cancelled():
                engine.task.result()
            # Waits for a cycle in progress, so no order is left half recorded.
            await engine.stop()
        account = await core.broker.account()
        log.info(
            "stopping: %d cycles, balance %.2f, equity %.2f, open positions %d",
            core.trader.heartbeat.cycles,
            account.balance,
            account.equity,
            len(await core.broker.positions()),
        )
    finally:
        if ops is not None:
            await ops.stop()
        await core.close()
    return 0


async def data(args: argparse.Namespace) -> int:
    """`chattrader data list|import`."""
    settings = settings_from(args)
    storage = await open_storage(settings.app.db_path)
    try:
        if args.data_command == "import":
            timeframe = _timeframe(args.timeframe)
            report = await import_csv(
                storage.bars,
                Path(args.file),
                args.symbol.upper(),
                timeframe,
                utc_offset_hours=args.utc_offset,
            )
            print(f"imported {args.symbol.upper()} {timeframe.value}: {report.summary()}")
            return 0
        catalog = CachedData(storage.bars, BundledData())
        ranges = await catalog.ranges()
        print(f"{'symbol':8} {'tf':4} {'bars':>8}  {'from':16}  {'to':16}  source")
        for r in sorted(ranges, key=lambda r: (r.symbol, r.timeframe.minutes)):
            label = r.source + (f" - {r.note}" if r.note else "")
            print(
                f"{r.symbol:8} {r.timeframe.value:4} {r.bars:8,}  "
                f"{r.start:%Y-%m-%d %H:%M}  {r.end:%Y-%m-%d %H:%M}  {label}"
            )
        return 0
    finally:
        await storage.close()


def _timeframe(text: str) -> Timeframe:
    try:
        return Timeframe.parse(text)
    except ValueError as exc:
        raise BadArguments(f"--timeframe: {exc}", code="bad_timeframe") from None


async def db(args: argparse.Namespace) -> int:
    """`chattrader db migrate`: create or upgrade the schema of DB_PATH."""
    settings = settings_from(args)
    database = await Database.open(settings.app.db_path)
    try:
        before = await migrations.current_version(database)
        applied = await migrations.migrate(database)
        after = await migrations.current_version(database)
    finally:
        await database.close()
    if applied:
        done = ", ".join(str(v) for v in applied)
        print(
            f"{settings.app.db_path}: migrated from version {before} to {after} (applied {done})"
        )
    else:
        print(f"{settings.app.db_path}: schema version {after}, up to date")
    return 0
