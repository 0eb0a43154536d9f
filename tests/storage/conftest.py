"""Fixtures for storage tests: a migrated database in memory or in a temporary file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.clock import SimClock
from storage import Storage, open_storage

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture
async def storage(clock: SimClock) -> AsyncIterator[Storage]:
    """Migrated in-memory storage; fine wherever files, WAL or reopening do not matter."""
    opened = await open_storage(":memory:", clock)
    yield opened
    await opened.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "chattrader.db"


@pytest.fixture
async def file_storage(db_path: Path, clock: SimClock) -> AsyncIterator[Storage]:
    opened = await open_storage(db_path, clock)
    yield opened
    await opened.close()
