"""Logging for every command: readable lines on the terminal, JSON lines in a rotating file.

Standard library ``logging`` rather than structlog: aiogram, httpx, aiohttp, aiosqlite and the
engine all log through it already, so one filter on the root handlers sees every line (the
redaction guarantee needs exactly that), and a JSON formatter is a few lines, not a dependency.

Each line carries its ``component`` (the logger name: ``engine.trader``, ``chattrader.bot``,
``httpx`` ...) and, where there is one, the ``symbol``, order ``client_id``, Telegram
``user_id`` and ``chat_id``. They come from, in order: ``extra={...}`` on the call; the
context bound with ``log_context`` / ``bind`` (``LogContextMiddleware`` binds the user and chat
of each update, ``bot.metrics.ObservedFeed`` the symbol of each cycle); the call's arguments
(a configured symbol name, or a string shaped like an order client id).

Every handler carries a ``RedactFilter``: the message, the formatted traceback and the stack
are rendered and masked by the process-wide ``bot.redact`` redactor *before* any formatter sees
them, so neither format can leak a secret, and a message whose arguments do not format is
replaced by a masked description instead of reaching ``logging``'s own error printout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from bot.redact import Redactor, current, install
from engine.config import Settings

if TYPE_CHECKING:  # aiogram is slow to import; only the bot needs the middleware
    from aiogram.types import Chat, TelegramObject, User

FIELDS = ("symbol", "client_id", "user_id", "chat_id")
LOG_FILE = "chattrader.jsonl"
MAX_BYTES = 10 * 1024 * 1024  # per file; with BACKUPS old files this caps the logs at 60 MiB
BACKUPS = 5
QUIET = {"aiosqlite": logging.WARNING, "asyncio": logging.WARNING, "matplotlib": logging.WARNING}

# Client ids as engine.trader.client_id, the service's /force and /close keys write them.
CLIENT_ID = re.compile(
    r"[a-z][a-z0-9_]*-[A-Za-z0-9._]+-(?:MN|[MHDW])\d+-\d{6,}-[bs]"
    r"|manual-[A-Za-z0-9_-]+|close-[A-Za-z0-9_-]+-\d+"
)

# Never mutated in place: ``bind`` sets a new dict, so tasks that copied the context keep theirs.
_context: ContextVar[dict[str, object] | None] = ContextVar("chattrader_log", default=None)


def bind(**fields: object) -> Token[dict[str, object] | None]:
    """Add ``fields`` to the log context of the current task (and tasks it starts later)."""
    return _context.set({**(_context.get() or {}), **fields})


def bound() -> dict[str, object]:
    """The fields bound in the current context."""
    return dict(_context.get() or {})


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Lines logged inside the block carry ``fields`` (``symbol=``, ``user_id=`` ...)."""
    token = bind(**fields)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Sets ``component`` and the ``FIELDS`` attributes on every record (None when absent)."""

    def __init__(self, symbols: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.symbols = symbols

    def filter(self, record: logging.LogRecord) -> bool:
        record.component = record.name
        fields = _context.get() or {}
        args = record.args if isinstance(record.args, tuple) else ()
        texts = [a for a in args if isinstance(a, str)]
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, fields.get(name))
        if record.symbol is None:  # type: ignore[attr-defined]
            record.symbol = next((t for t in texts if t in self.symbols), None)
        if record.client_id is None:  # type: ignore[attr-defined]
            record.client_id = next((t for t in texts if CLIENT_ID.fullmatch(t)), None)
        return True


class RedactFilter(logging.Filter):
    """Renders message, traceback and stack of a record and masks secrets in all three."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor  # None = the process-wide one at the time of each record

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self._redactor or current()
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not print raw arguments anywhere
            message = f"unformattable log message {record.msg!r} with arguments {record.args!r}"
        record.msg, record.args = redactor.text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.text(record.exc_text)
        if record.stack_info:
            record.stack_info = redactor.text(record.stack_info)
        for name in FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, redactor.text(value))
        return True


class ConsoleFormatter(logging.Formatter):
    """``2026-01-05 14:00:03Z INFO    engine.trader [XAUUSD order=... user=42]: text``."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)sZ %(levelname)-7s %(component)s%(where)s: %(message)s")
        self.datefmt = "%Y-%m-%d %H:%M:%S"

    def format(self, record: logging.LogRecord) -> str:
        tags = [str(record.symbol)] if getattr(record, "symbol", None) else []
        for name, label in (("client_id", "order"), ("user_id", "user"), ("chat_id", "chat")):
            if (value := getattr(record, name, None)) is not None:
                tags.append(f"{label}={value}")
        record.where = f" [{' '.join(tags)}]" if tags else ""
        if not hasattr(record, "component"):
            record.component = record.name
        return super().format(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ms), level, component, msg, the context fields that
    are set, and ``exc`` / ``stack`` when present."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line: dict[str, object] = {
            "ts": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "component": getattr(record, "component", record.name),
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


@dataclass(frozen=True, slots=True)
class LogSetup:
    """What ``configure_logging`` installed: the JSON file (None if off) and the redactor."""

    json_path: Path | None
    redactor: Redactor


_OURS = "_chattrader_handler"


def configure_logging(
    settings: Settings,
    level: str | None = None,
    *,
    stream: TextIO | None = None,
    log_dir: Path | None = None,
    json_file: bool = True,
) -> LogSetup:
    """Install the terminal and JSON-file handlers on the root logger, replacing earlier ones.

    ``level`` defaults to LOG_LEVEL; ``stream`` to the current ``sys.stderr``; the JSON file is
    ``<log_dir or DATA_DIR/logs>/chattrader.jsonl``, rotated at 10 MiB with 5 old files kept.
    If the directory cannot be created the terminal still logs, with one warning. Also makes
    the settings' redactor process-wide and routes uncaught exceptions (main thread and other
    threads) through logging, so their tracebacks are masked too.
    """
    redactor = Redactor.from_settings(settings)
    install(redactor)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    context = ContextFilter(frozenset(settings.trading.symbols))
    console = logging.StreamHandler(stream or sys.stderr)
    console.setFormatter(ConsoleFormatter())
    handlers: list[logging.Handler] = [console]
    path: Path | None = None
    problem = ""
    if json_file:
        folder = log_dir or settings.app.data_dir / "logs"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / LOG_FILE
            rotating = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
            )
            rotating.setFormatter(JsonFormatter())
            handlers.append(rotating)
        except OSError as exc:
            path, problem = None, f"no JSON log file in {folder}: {exc.strerror or exc}"
    for handler in handlers:
        handler.addFilter(context)
        handler.addFilter(RedactFilter())
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel((level or settings.app.log_level).upper())
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught
    if problem:
        logging.getLogger("chattrader").warning("%s", problem)
    return LogSetup(path, redactor)


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    logging.getLogger("chattrader").critical("uncaught exception", exc_info=(kind, exc, tb))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("chattrader").critical(
        "uncaught exception in thread %s", name, exc_info=(args.exc_type, args.exc_value, None)
    )


Handler = Callable[["TelegramObject", dict[str, Any]], Awaitable[Any]]


class LogContextMiddleware:
    """Outer middleware on ``dp.update`` (aiogram takes any such callable): lines logged while
    an update is handled carry the Telegram user id and chat id. Register it before the access
    middleware (``dp.update.outer_middleware(LogContextMiddleware())`` first), so refusals are
    attributed too."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        fields = {"user_id": user.id if user else None, "chat_id": chat.id if chat else None}
        with log_context(**fields):
            return await handler(event, data)
