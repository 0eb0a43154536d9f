"""``chattrader`` console script: parse, run one command, turn errors into one readable line."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli import build_parser, dispatch
from engine.errors import EngineError

log = logging.getLogger("chattrader")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return asyncio.run(dispatch(args))
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except EngineError as exc:
        # Expected failures (bad settings, bad files, missing data) are one line, no traceback.
        print(f"chattrader: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"chattrader: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


def entry() -> None:
    """The console script: ``main``, then the usual exit work (non-daemon threads joined,
    every ``atexit`` handler run, logs and standard streams flushed) but not the interpreter's
    module teardown, which costs half a second once pandas and matplotlib are loaded."""
    code = [1]  # what Python answers when main raises
    # Registered before any command module is imported, so it runs after their handlers.
    atexit.register(lambda: _exit_now(code[0]))
    try:
        code[0] = main()
    except SystemExit as exc:  # argparse: --help and --version (0), a bad option (2)
        code[0] = _status(exc.code)
        raise
    sys.exit(code[0])


def _status(code: object) -> int:
    """The process status ``sys.exit(code)`` gives: None is 0, a message is 1."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def _exit_now(code: int) -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`), a closed stream
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    entry()
