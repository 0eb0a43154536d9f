from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from engine.events import EventBus, GateBlocked
from engine.models import Side

AT = datetime(2024, 1, 2, 10, 0, tzinfo=UTC)


async def test_publish_reaches_every_subscriber_in_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, object]] = []

    async def first(event: object) -> None:
        seen.append(("first", event))

    async def second(event: object) -> None:
        seen.append(("second", event))

    bus.subscribe(first)
    bus.subscribe(second)
    event = GateBlocked(AT, "XAUUSD", Side.BUY, "max_trades", "3 of 3 trades today")
    await bus.publish(event)
    assert seen == [("first", event), ("second", event)]
    assert bus.published == 1


async def test_a_failing_subscriber_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    seen: list[object] = []

    async def broken(event: object) -> None:
        raise RuntimeError("outbox full")

    async def fine(event: object) -> None:
        seen.append(event)

    bus.subscribe(broken)
    bus.subscribe(fine)
    with caplog.at_level(logging.ERROR, logger="engine.events"):
        await bus.publish("x")
    assert seen == ["x"]
    assert "event subscriber failed on str" in caplog.text


async def test_unsubscribe() -> None:
    bus = EventBus()
    seen: list[object] = []

    async def sub(event: object) -> None:
        seen.append(event)

    bus.subscribe(sub)
    bus.unsubscribe(sub)
    await bus.publish(1)
    assert seen == []
