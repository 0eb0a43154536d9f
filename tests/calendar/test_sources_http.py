"""Both sources over httpx mock transports: requests sent, HTTP failures, redaction of the key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from engine.calendar import (
    FF_THIS_WEEK_URL,
    FairEconomySource,
    HttpOptions,
    SourceError,
    TradingEconomicsSource,
    redact,
)
from tests.calendar.payloads import FF_WEEK, TE_WEEK, body

KEY = "a1b2c3d4e5f6g7h:z9y8x7w6v5u4t3s"
START = datetime(2024, 1, 4, 12, 0, tzinfo=UTC)
END = datetime(2024, 1, 12, 12, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def answer(status: int = 200, content: bytes = b"[]") -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content)

    return handle


async def test_trading_economics_asks_the_date_range_with_key_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body(TE_WEEK))

    async with client(handle) as http:
        source = TradingEconomicsSource(http, KEY, base_url="https://te.example/")
        events = await source.fetch(START, END)
    [request] = seen
    assert request.url.path == "/calendar/country/All/2024-01-04/2024-01-12"
    assert dict(request.url.params) == {"c": KEY, "f": "json"}
    assert request.headers["user-agent"].startswith("chattrader/")
    assert len(events) == len(TE_WEEK)
    assert {e.source for e in events} == {"Trading Economics"}
    assert source.complete and source.name == "Trading Economics"


async def test_trading_economics_end_is_exclusive_at_midnight() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, content=b"[]")

    async with client(handle) as http:
        await TradingEconomicsSource(http, KEY, countries="united states").fetch(
            START, datetime(2024, 1, 6, tzinfo=UTC)
        )
    assert seen == ["/calendar/country/united states/2024-01-04/2024-01-05"]


async def test_without_a_key_trading_economics_is_a_guest_sample() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body(TE_WEEK[:2]))

    async with client(handle) as http:
        source = TradingEconomicsSource(http)
        events = await source.fetch(START, END)
    assert seen[0].url.params["c"] == "guest:guest"
    assert not source.complete
    assert source.name == "Trading Economics (guest)"
    assert {e.source for e in events} == {"Trading Economics (guest)"}


async def test_forexfactory_reads_its_weekly_page() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=body(FF_WEEK))

    async with client(handle) as http:
        source = FairEconomySource(http)
        events = await source.fetch(START, END)
    assert seen == [FF_THIS_WEEK_URL]
    assert [e.title for e in events][:2] == [
        "German Retail Sales m/m",
        "Non-Farm Employment Change",
    ]
    assert source.complete


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (503, "Trading Economics: HTTP 503"),
        (429, "Trading Economics: HTTP 429 (rate limited)"),
        (401, "Trading Economics: HTTP 401 (access refused: check the key)"),
        (404, "Trading Economics: HTTP 404"),
    ],
)
async def test_http_errors_become_reasons(status: int, reason: str) -> None:
    async with client(answer(status, b"<html>error</html>")) as http:
        with pytest.raises(SourceError) as caught:
            await TradingEconomicsSource(http, KEY).fetch(START, END)
    assert str(caught.value) == reason


async def test_redirect_is_followed() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "nfs.faireconomy.media":
            return httpx.Response(302, headers={"Location": "https://cdn.example/week.json"})
        return httpx.Response(200, content=body(FF_WEEK))

    async with client(handle) as http:
        assert len(await FairEconomySource(http).fetch(START, END)) == len(FF_WEEK)


async def test_timeout_and_connection_errors_become_reasons() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    options = HttpOptions(timeout_s=2.5)
    async with client(slow) as http:
        with pytest.raises(SourceError, match=r"^ForexFactory feed: timed out after 2.5 s$"):
            await FairEconomySource(http, options=options).fetch(START, END)
    async with client(down) as http:
        with pytest.raises(SourceError) as caught:
            await FairEconomySource(http).fetch(START, END)
    assert (
        str(caught.value)
        == "ForexFactory feed: connection failed ([Errno 111] Connection refused)"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"<!DOCTYPE html><title>Request Denied</title>", "malformed JSON at line 1 column 1"),
        (b'[{"title": "CPI m/m", ', "malformed JSON at line 1 column 23"),
        (b"\xff\xfe\x00", "malformed JSON"),
        (b'{"error": "busy"}', "malformed JSON: expected a list of events, got dict"),
    ],
)
async def test_malformed_bodies_become_reasons(content: bytes, reason: str) -> None:
    async with client(answer(200, content)) as http:
        with pytest.raises(SourceError) as caught:
            await FairEconomySource(http).fetch(START, END)
    assert str(caught.value).startswith(f"ForexFactory feed: {reason}")


async def test_the_key_never_reaches_reasons_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    def leak(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    caplog.set_level(logging.DEBUG)
    async with client(answer(200, body(TE_WEEK))) as http:
        await TradingEconomicsSource(http, KEY).fetch(START, END)  # httpx logs the URL at INFO
    async with client(leak) as http:
        with pytest.raises(SourceError) as caught:
            await TradingEconomicsSource(http, KEY).fetch(START, END)
    reason = str(caught.value)
    assert "connection failed (cannot reach https://api.tradingeconomics.com/" in reason
    assert "c=***" in reason
    assert caught.value.__cause__ is None  # the original exception holds the key
    assert "HTTP Request: GET https://api.tradingeconomics.com/calendar" in caplog.text
    assert "c=***" in caplog.text
    encoded = KEY.replace(":", "%3A")
    for text in (reason, caplog.text, repr(TradingEconomicsSource(httpx.AsyncClient(), KEY))):
        assert KEY not in text
        assert encoded not in text


def test_redact_masks_every_form_of_a_secret() -> None:
    text = f"a {KEY} b {KEY.replace(':', '%3A')} c"
    assert redact(text, [KEY]) == "a *** b *** c"
    assert redact("nothing here", [KEY, ""]) == "nothing here"


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive seconds"):
        HttpOptions(timeout_s=0)
