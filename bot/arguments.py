"""Reading command arguments: words after the command, whole numbers, lots.

Anything that does not fit raises ``BadArguments`` with code ``usage`` (the errors router then
shows the command's usage line) or a code naming the broken rule.
"""

from __future__ import annotations

import math

from aiogram.filters import CommandObject

from engine.errors import BadArguments
from engine.models import Timeframe


def words(command: CommandObject | None, *, most: int) -> list[str]:
    """The arguments split on spaces; more than ``most`` is a usage error."""
    found = (command.args or "").split() if command is not None else []
    if len(found) > most:
        raise BadArguments(f"at most {most} arguments, got {len(found)}", code="usage")
    return found


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadArguments(f"not a whole number: {text!r}", code="usage") from None


def number(text: str) -> float | None:
    """A positive finite number ("0.1", "0,1"), else None."""
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def is_timeframe(text: str) -> bool:
    try:
        Timeframe.parse(text)
    except ValueError:
        return False
    return True
