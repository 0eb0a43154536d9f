"""Fetching one JSON document for a calendar source, with every failure turned into a reason.

``get_json`` maps timeouts, connection errors, HTTP statuses and undecodable bodies to
``SourceError`` whose text names the source ("Trading Economics: HTTP 503"); that text goes to
logs and to ``/status``, so secrets are scrubbed from it first. The Trading Economics key travels
in the URL query, which httpx logs at INFO ("HTTP Request: GET ...?c=KEY"), so sources with a
secret also install ``RedactingFilter`` on the ``httpx`` logger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx

from engine import __version__
from engine.errors import EngineError
from engine.redaction import redact

USER_AGENT = f"chattrader/{__version__} (economic calendar)"


class SourceError(EngineError):
    """A calendar source could not be read; ``str(err)`` is the reason shown in ``/status``."""

    code = "calendar_source"


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Per-request HTTP settings of a source: timeout in seconds and the User-Agent sent."""

    timeout_s: float = 10.0
    user_agent: str = USER_AGENT

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            msg = f"timeout_s must be positive seconds: got {self.timeout_s}"
            raise ValueError(msg)


async def get_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    source: str,
    options: HttpOptions,
    params: Mapping[str, str] | None = None,
    secrets: Iterable[str] = (),
) -> object:
    """GET ``url`` and decode its JSON body; any failure raises ``SourceError`` naming ``source``.

    Redirects are followed (feeds move to CDNs). Nothing raised here carries a secret.
    """
    hidden = tuple(secrets)
    headers = {"User-Agent": options.user_agent, "Accept": "application/json"}
    try:
        response = await client.get(
            url,
            params=params,
            headers=headers,
            timeout=options.timeout_s,
            follow_redirects=True,
        )
    except httpx.TimeoutException as exc:
        msg = f"{source}: timed out after {options.timeout_s:g} s"
        raise SourceError(msg, source=source) from _scrubbed(exc, hidden)
    except httpx.HTTPError as exc:
        detail = redact(str(exc), hidden)[:120] or type(exc).__name__
        msg = f"{source}: connection failed ({detail})"
        raise SourceError(msg, source=source) from _scrubbed(exc, hidden)
    if response.status_code != httpx.codes.OK:
        msg = f"{source}: HTTP {response.status_code}{_hint(response.status_code)}"
        raise SourceError(msg, source=source, status=response.status_code)
    try:
        return json.loads(response.content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else ""
        msg = f"{source}: malformed JSON{where} ({len(response.content)} bytes)"
        raise SourceError(msg, source=source) from None


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (access refused: check the key)"
    if status == 429:
        return " (rate limited)"
    return ""


def _scrubbed(exc: Exception, secrets: tuple[str, ...]) -> Exception | None:
    """The cause to chain: the original unless its text holds a secret (then none)."""
    text = str(exc)
    return None if secrets and redact(text, secrets) != text else exc
