"""Operations commands: ``audit export``, ``trades export``, ``db backup`` and ``db restore``.

Wiring (``bot/cli.py``): ``add_ops_parsers(sub)`` adds ``audit`` and ``trades``,
``add_db_parsers(db_sub)`` adds ``backup`` and ``restore`` beside ``db migrate``, and
``COMMANDS`` maps command names to coroutines (its ``db`` handles backup/restore and hands
``migrate`` to ``bot.commands.db``). Each coroutine returns the process exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from engine.errors import BadArguments, EngineError

Command = Callable[[argparse.Namespace], Awaitable[int]]
DATE_HELP = "UTC date or time, e.g. 2024-05-01 or 2024-05-01T13:30"


def add_ops_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``audit export`` and ``trades export`` under the top-level subcommands."""
    audit = sub.add_parser("audit", help="the audit log: who did what, when, from which chat")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    export = audit_sub.add_parser("export", help="write audit rows to a CSV file")
    export.add_argument("--since", required=True, help=f"first row's time, {DATE_HELP}")
    export.add_argument("--until", default=None, help=f"rows before this time, {DATE_HELP}")
    export.add_argument("--out", required=True, help="CSV file to write, or - for stdout")

    trades = sub.add_parser("trades", help="closed trades (round trips)")
    trades_sub = trades.add_subparsers(dest="trades_command", metavar="ACTION", required=True)
    export = trades_sub.add_parser(
        "export", help="write closed trades to a CSV file (tax, journaling)"
    )
    export.add_argument("--since", default=None, help=f"closed at or after, {DATE_HELP}")
    export.add_argument("--until", default=None, help=f"closed before, {DATE_HELP}")
    export.add_argument("--out", required=True, help="CSV file to write, or - for stdout")


def add_db_parsers(db_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``db backup FILE`` and ``db restore FILE`` beside ``db migrate``."""
    backup = db_sub.add_parser(
        "backup", help="copy the database to FILE, consistent even while chattrader runs"
    )
    backup.add_argument("file", help="where to write the copy (overwritten)")
    restore = db_sub.add_parser(
        "restore", help="replace the database with a backup (stop chattrader first)"
    )
    restore.add_argument("file", help="a file written by `chattrader db backup`")


def parse_time(text: str | None, option: str) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` as UTC (an explicit offset is honoured)."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{option}: expected a date like 2024-05-01 or 2024-05-01T13:30, got {text!r}"
        raise BadArguments(msg, code="bad_date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@contextlib.contextmanager
def _output(path: str) -> Iterator[TextIO]:
    if path == "-":
        yield sys.stdout
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _say(args: argparse.Namespace, text: str) -> None:
    # With --out - the CSV owns stdout; the summary goes to stderr.
    print(text, file=sys.stderr if args.out == "-" else sys.stdout)


async def audit(args: argparse.Namespace) -> int:
    """``chattrader audit export --since ... --out FILE.csv``."""
    from bot.commands import settings_from  # noqa: PLC0415 - keeps --help fast
    from bot.exports import audit_between, write_audit_csv  # noqa: PLC0415
    from storage import open_storage  # noqa: PLC0415

    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    settings = settings_from(args)
    storage = await open_storage(settings.app.db_path)
    try:
        entries = await audit_between(storage.audit, since, until)
        names = {u.user_id: u.name for u in await storage.users.all() if u.name}
    finally:
        await storage.close()
    with _output(args.out) as out:
        written = write_audit_csv(entries, out, names)
    _say(args, f"{written.rows} audit rows since {since:%Y-%m-%d %H:%M} UTC -> {args.out}")
    return 0


async def trades(args: argparse.Namespace) -> int:
    """``chattrader trades export [--since] [--until] --out FILE.csv``."""
    from bot.commands import settings_from  # noqa: PLC0415
    from bot.exports import EPOCH, write_trades_csv  # noqa: PLC0415
    from storage import open_storage  # noqa: PLC0415

    since, until = parse_time(args.since, "--since"), parse_time(args.until, "--until")
    settings = settings_from(args)
    storage = await open_storage(settings.app.db_path)
    try:
        found = await storage.trades.between(
            since or EPOCH, until or datetime.max.replace(tzinfo=UTC)
        )
    finally:
        await storage.close()
    with _output(args.out) as out:
        written = write_trades_csv(found, out)
    net = sum(t.net for t in found)
    _say(args, f"{written.rows} closed trades, net {net:.2f} (account currency) -> {args.out}")
    return 0


async def db(args: argparse.Namespace) -> int:
    """``chattrader db backup|restore FILE``; ``db migrate`` goes to ``bot.commands.db``."""
    from bot.commands import db as migrate_command  # noqa: PLC0415
    from bot.commands import settings_from  # noqa: PLC0415
    from storage.backup import backup_file, restore_database  # noqa: PLC0415

    if args.db_command not in ("backup", "restore"):
        return await migrate_command(args)
    settings = settings_from(args)
    live = Path(settings.app.db_path)
    target = Path(args.file)
    try:
        if args.db_command == "backup":
            info = await backup_file(live, target)
            print(
                f"backed up {live} to {info.path} ({info.size:,} bytes, schema "
                f"v{info.schema_version}, integrity ok)"
            )
            return 0
        report = await restore_database(target, live, datetime.now(UTC))
    except (OSError, ValueError, sqlite3.Error) as exc:
        raise EngineError(f"db {args.db_command}: {exc}", code="db_backup") from None
    except RuntimeError as exc:  # storage.db.StorageError: the message says what to do
        raise EngineError(str(exc), code="db_backup") from None
    aside = f"; the previous database is now {report.moved_aside}" if report.moved_aside else ""
    print(
        f"restored {report.source} into {report.target} (schema v{report.from_version}"
        f" -> v{report.to_version}){aside}"
    )
    return 0


COMMANDS: dict[str, Command] = {"audit": audit, "trades": trades, "db": db}
