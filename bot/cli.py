"""Command-line interface: the argument parser and the dispatch to each command's coroutine."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Awaitable, Callable

from engine import __version__

Command = Callable[[argparse.Namespace], Awaitable[int]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chattrader",
        description="Telegram-first automated trader for MetaTrader 5, with paper trading.",
        epilog="Settings come from the environment and ./.env (see .env.example).",
    )
    parser.add_argument("--version", action="version", version=f"chattrader {__version__}")
    parser.add_argument("--env-file", default=".env", help="settings file (default: ./.env)")
    parser.add_argument(
        "--log-level", default=None, help="DEBUG, INFO, WARNING (default: LOG_LEVEL setting)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run the engine (paper broker by default) and the bot")
    add_run_options(run)
    console = sub.add_parser(
        "console",
        help="run the engine with the chat in this terminal: no Telegram account needed "
        "(also what run does without a token on a terminal)",
    )
    add_run_options(console)

    data = sub.add_parser("data", help="market data: list what is available, import CSV files")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    data_sub.add_parser("list", help="list bundled and imported bar series")
    imp = data_sub.add_parser("import", help="import an MT5 export or a plain OHLC CSV")
    imp.add_argument("file", help="path to the CSV file")
    imp.add_argument("--symbol", required=True, help="e.g. XAUUSD")
    imp.add_argument("--timeframe", required=True, help="e.g. M15, H1, D1")
    imp.add_argument(
        "--utc-offset",
        type=float,
        default=0.0,
        help="hours the file's times are ahead of UTC (MT5 exports use server time, e.g. 2)",
    )

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("migrate", help="create or upgrade the SQLite schema")
    from bot.cli_ops import add_db_parsers, add_ops_parsers

    add_db_parsers(db_sub)
    add_ops_parsers(sub)

    from bot.cli_backtest import add_backtest_parsers

    add_backtest_parsers(sub)
    sub.add_parser(
        "diag",
        help="check settings, storage, broker, data, Telegram and calendar; non-zero on a problem",
    )
    return parser


def add_run_options(run: argparse.ArgumentParser) -> None:
    """The options of ``run`` (and ``console``, which runs the same engine)."""
    run.add_argument(
        "--replay",
        action="store_true",
        help="paper feed replays stored history instead of a synthetic live stream",
    )
    run.add_argument(
        "--speed", type=float, default=None, help="replay speed, x real time (e.g. 600)"
    )
    run.add_argument("--from", dest="replay_from", default=None, help="replay start, YYYY-MM-DD")
    run.add_argument(
        "--max-bars", type=int, default=None, help="stop after this many closed bars per symbol"
    )
    run.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="serve /healthz and Prometheus /metrics on this port (off by default)",
    )
    run.add_argument(
        "--health-host",
        default="127.0.0.1",
        help="address for --health-port (default 127.0.0.1; 0.0.0.0 inside a container)",
    )


# Command -> "module:coroutine", imported on use: `chattrader backtest` should not pay for
# the storage, bot and ops modules it never touches.
COMMANDS: dict[str, str] = {
    "run": "bot.commands:run",
    "console": "bot.commands:run",
    "data": "bot.commands:data",
    "db": "bot.cli_ops:db",
    "audit": "bot.cli_ops:audit",
    "trades": "bot.cli_ops:trades",
    "diag": "bot.diag:diag",
    "backtest": "bot.cli_backtest:backtest_command",
    "optimize": "bot.cli_backtest:optimize_command",
    "compare": "bot.cli_backtest:compare_command",
}


async def dispatch(args: argparse.Namespace) -> int:
    module, name = COMMANDS[args.command].split(":")
    command: Command = getattr(importlib.import_module(module), name)
    return await command(args)
