"""Masking secrets in text and log records: every form a secret can take in a URL.

Shared by the calendar sources (a Trading Economics key travels in the query string, which
httpx logs) and the bot's log redaction; free of HTTP imports so logging can load it cheaply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret as written and as URL-encoded (both can appear in a logged URL)."""
    forms = {f for s in secrets if s for f in (s, quote(s, safe=""), quote_plus(s))}
    # Longest first, so a secret is masked whole before any shorter form inside it.
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``."""
    for form in secret_forms(secrets):
        text = text.replace(form, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in records of the logger it is attached to (formats, then scrubs)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = frozenset(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text, self.secrets)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def protect_logs(secrets: Iterable[str], loggers: Iterable[str] = ("httpx", "httpcore")) -> None:
    """Attach a ``RedactingFilter`` for ``secrets`` to each logger, once per set of secrets."""
    wanted = frozenset(s for s in secrets if s)
    if not wanted:
        return
    for name in loggers:
        logger = logging.getLogger(name)
        present = any(
            isinstance(f, RedactingFilter) and f.secrets >= wanted for f in logger.filters
        )
        if not present:
            logger.addFilter(RedactingFilter(wanted))
