"""Fixtures: a scripted HTTP server for both calendar hosts, storage in memory, a sim clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from engine.clock import SimClock
from storage import Storage, open_storage
from tests.calendar.payloads import FF_WEEK, TE_WEEK, body

T0 = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)  # Friday, 3.5 h before US payrolls
TE_KEY = "k3y-0f-th3-user:s3cr3t"


@dataclass
class Server:
    """Answers per host: ``(status, body)`` or an exception class; counts requests."""

    te: tuple[int, bytes] | type[Exception] = (200, body(TE_WEEK))
    ff: tuple[int, bytes] | type[Exception] = (200, body(FF_WEEK))
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        script = self.te if request.url.host == "api.tradingeconomics.com" else self.ff
        if isinstance(script, type):
            raise script("scripted failure", request=request)  # type: ignore[call-arg]
        status, content = script
        return httpx.Response(status, content=content)


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(server.handle)) as client:
        yield client


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
async def storage(clock: SimClock) -> AsyncIterator[Storage]:
    opened = await open_storage(":memory:", clock)
    yield opened
    await opened.close()
