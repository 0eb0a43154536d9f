"""One redaction layer: secrets never reach a log line (terminal or JSON, message, arguments,
tracebacks, httpx and aiohttp URLs), an error text or an audit row, in any form."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, quote_plus

import aiohttp
import httpx
import pytest
from aiohttp import web

from bot.exports import write_audit_csv
from bot.logs import CLIENT_ID, LogContextMiddleware, log_context
from bot.redact import RedactingAuditRepo, Redactor, scrub, settings_secrets
from engine.models import AuditEntry
from storage import open_storage
from tests.ops.conftest import (
    PASSWORD,
    PROXY,
    PROXY_PASSWORD,
    SECRETS,
    TE_KEY,
    TOKEN,
    Logs,
    secret_settings,
)

TOKEN_URL = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
ENCODED = (quote(PASSWORD, safe=""), quote_plus(PASSWORD), quote(TOKEN, safe=""))


def leaks(text: str) -> list[str]:
    """Every secret, or encoded form of one, still present in ``text``."""
    found = [s for s in (*SECRETS, *ENCODED) if s in text]
    half = TOKEN.split(":", 1)[1]
    return found + ([half] if half in text else [])


# ---------------------------------------------------------------- the redactor itself


def test_settings_secrets_finds_every_secret_field(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = secret_settings(monkeypatch, tmp_path)
    assert set(settings_secrets(settings)) == {TOKEN, PROXY, PASSWORD, TE_KEY}


def test_redactor_masks_every_form(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    r = Redactor.from_settings(secret_settings(monkeypatch, tmp_path))
    half = TOKEN.split(":", 1)[1]
    cases = {
        TOKEN_URL: "https://api.telegram.org/bot***/sendMessage",
        f"token={quote(TOKEN, safe='')}": "token=***",
        f"secret half {half} alone": "secret half *** alone",
        f"login 5012345 password {PASSWORD}": "login 5012345 password ***",
        f"pw={quote_plus(PASSWORD)}&x=1": "pw=***&x=1",
        f"proxy {PROXY} down": "proxy *** down",
        f"auth failed for trader:{PROXY_PASSWORD}": "auth failed for trader:***",
        f"GET /calendar?c={TE_KEY}&f=json": "GET /calendar?c=***&f=json",
        "nothing secret here 12:34": "nothing secret here 12:34",
    }
    for raw, clean in cases.items():
        assert r.text(raw) == clean


def test_token_shaped_text_is_masked_even_when_not_configured() -> None:
    other = "5550001112:BBxotherTokenFromSomewhereElse_12345678"  # pragma: allowlist secret
    assert Redactor().text(f"GET /bot{other}/getMe") == "GET /bot***/getMe"
    assert scrub(f"x {other} y") == "x *** y"


def test_error_text_of_an_exception(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    r = Redactor.from_settings(secret_settings(monkeypatch, tmp_path))
    error = ConnectionError(f"cannot reach {TOKEN_URL} with {PASSWORD}")
    assert r.error(error) == (
        "ConnectionError: cannot reach https://api.telegram.org/bot***/sendMessage with ***"
    )
    assert r.error(TimeoutError()) == "TimeoutError"


# ---------------------------------------------------------------- logging


def test_log_message_and_arguments_are_masked(logs: Logs) -> None:
    log = logging.getLogger("chattrader.test")
    log.info("sending to %s", TOKEN_URL)
    log.warning("MT5 login with password %s failed", PASSWORD)
    log.error("proxy %s refused, key %s", PROXY, TE_KEY)
    log.info("%d is not a number", TOKEN)  # a broken format string with a secret argument
    console, jsonl = logs.console.getvalue(), logs.json_text()
    assert leaks(console) == [] and leaks(jsonl) == []
    assert "sending to https://api.telegram.org/bot***/sendMessage" in console
    assert "MT5 login with password *** failed" in console
    lines = [json.loads(line) for line in jsonl.splitlines()]
    assert [line["msg"] for line in lines[:3]] == [
        "sending to https://api.telegram.org/bot***/sendMessage",
        "MT5 login with password *** failed",
        "proxy *** refused, key ***",
    ]
    assert lines[3]["msg"].startswith("unformattable log message '%d is not a number'")


def test_tracebacks_and_chained_exceptions_are_masked(logs: Logs) -> None:
    log = logging.getLogger("chattrader.test")
    try:
        try:
            raise ValueError(f"bad token {TOKEN}")
        except ValueError as inner:
            raise RuntimeError(f"login failed: {PASSWORD} via {PROXY}") from inner
    except RuntimeError:
        log.exception("broker start failed")
    console, jsonl = logs.console.getvalue(), logs.json_text()
    assert "Traceback" in console and "ValueError: bad token ***" in console
    assert "RuntimeError: login failed: *** via ***" in console
    assert leaks(console) == [] and leaks(jsonl) == []
    record = json.loads(jsonl.splitlines()[-1])
    assert "ValueError: bad token ***" in record["exc"] and record["level"] == "ERROR"


def test_uncaught_exceptions_go_through_the_filter(logs: Logs) -> None:
    try:
        raise OSError(f"connect to {TOKEN_URL}")
    except OSError:
        sys.excepthook(*sys.exc_info())
    console = logs.console.getvalue()
    assert "uncaught exception" in console and "bot***/sendMessage" in console
    assert leaks(console) == []


async def test_httpx_request_lines_are_masked(logs: Logs) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, json={"ok": False}))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get(TOKEN_URL, params={"c": TE_KEY})
    console, jsonl = logs.console.getvalue(), logs.json_text()
    assert "HTTP Request: GET https://api.telegram.org/bot***/sendMessage?c=***" in console
    assert leaks(console) == [] and leaks(jsonl) == []
    assert json.loads(jsonl.splitlines()[-1])["component"] == "httpx"


@pytest.fixture
async def refusing_server() -> AsyncIterator[str]:
    """A local HTTP server answering 401 to everything (a Bot API with a revoked token)."""

    async def refuse(_request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 401}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_aiohttp_errors_carrying_the_url_are_masked(
    logs: Logs, refusing_server: str
) -> None:
    url = f"{refusing_server}/bot{TOKEN}/getMe"
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        with pytest.raises(aiohttp.ClientResponseError) as caught:
            await session.get(url)
    assert TOKEN in str(caught.value)  # the raw error does carry the token
    logging.getLogger("aiogram.session").error("request failed: %s", caught.value)
    try:
        raise caught.value
    except aiohttp.ClientResponseError:
        logging.getLogger("aiogram.session").exception("polling failed")
    console, jsonl = logs.console.getvalue(), logs.json_text()
    assert f"url='{refusing_server}/bot***/getMe'" in console
    assert leaks(console) == [] and leaks(jsonl) == []


# ---------------------------------------------------------------- context fields


async def test_lines_carry_component_symbol_client_id_and_user(logs: Logs) -> None:
    log = logging.getLogger("engine.trader")
    with log_context(symbol="XAUUSD"):
        log.info("filled %s", "ma_rsi-XAUUSD-M15-1704207600-b")
    log.info("paper fill %s %g %s", "buy", 0.1, "EURUSD")  # symbol found among the arguments

    async def handler(_event: object, _data: dict[str, object]) -> None:
        logging.getLogger("chattrader.bot").info("handled /status")

    class Who:
        id = 4242

    class Where:
        id = -100777

    await LogContextMiddleware()(
        handler, object(), {"event_from_user": Who(), "event_chat": Where()}
    )
    logging.getLogger("chattrader.bot").info("outside an update")
    lines = [json.loads(line) for line in logs.json_text().splitlines()]
    assert lines[0] == {
        "ts": lines[0]["ts"],
        "level": "INFO",
        "component": "engine.trader",
        "msg": "filled ma_rsi-XAUUSD-M15-1704207600-b",
        "symbol": "XAUUSD",
        "client_id": "ma_rsi-XAUUSD-M15-1704207600-b",
    }
    assert lines[1]["symbol"] == "EURUSD" and "client_id" not in lines[1]
    assert (lines[2]["user_id"], lines[2]["chat_id"], lines[2]["component"]) == (
        4242,
        -100777,
        "chattrader.bot",
    )
    assert "user_id" not in lines[3]
    assert lines[0]["ts"].endswith("Z") and len(lines[0]["ts"]) == len("2024-01-02T03:04:05.678Z")
    console = logs.console.getvalue().splitlines()
    assert " engine.trader [XAUUSD order=ma_rsi-XAUUSD-M15-1704207600-b]: filled " in console[0]
    assert " chattrader.bot [user=4242 chat=-100777]: handled /status" in console[2]


def test_client_id_shapes() -> None:
    for key in ("ma_rsi-XAUUSD-M15-1704207600-b", "manual-AbC_dEf-1234567", "close-k9-123456"):
        assert CLIENT_ID.fullmatch(key)
    for text in ("XAUUSD", "2024-01-02", "ma_rsi"):
        assert not CLIENT_ID.fullmatch(text)


# ---------------------------------------------------------------- audit rows


async def test_audit_rows_are_masked_when_written_and_exported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = secret_settings(monkeypatch, tmp_path)
    redactor = Redactor.from_settings(settings)
    storage = await open_storage(tmp_path / "audit.db")
    try:
        repo = RedactingAuditRepo(storage.audit, redactor)
        at = datetime(2024, 5, 6, 13, 30, tzinfo=UTC)
        await repo.add(AuditEntry(at, 42, 42, "/settings", "failed: " + PASSWORD, TOKEN_URL))
        # A row written around the wrapper (older data) is still masked on export.
        await storage.audit.add(AuditEntry(at, 43, 43, "message", "ignored", f"key {TE_KEY}"))
        stored = await storage.audit.recent(10)
        assert [(e.outcome, e.detail) for e in reversed(stored)] == [
            ("failed: ***", "https://api.telegram.org/bot***/sendMessage"),
            ("ignored", f"key {TE_KEY}"),
        ]
        out = io.StringIO()
        written = write_audit_csv(list(reversed(stored)), out, {42: "alice"}, redactor)
    finally:
        await storage.close()
    assert written.rows == 2
    assert out.getvalue().splitlines() == [
        "time_utc,user_id,user_name,chat_id,action,outcome,detail",
        "2024-05-06T13:30:00+00:00,42,alice,42,/settings,failed: ***,"
        "https://api.telegram.org/bot***/sendMessage",
        "2024-05-06T13:30:00+00:00,43,,43,message,ignored,key ***",
    ]
