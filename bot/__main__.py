"""``chattrader`` console script: parse, run one command, turn errors into one readable line."""

from __future__ import annotations

import asyncio
import logging
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


if __name__ == "__main__":
    sys.exit(main())
