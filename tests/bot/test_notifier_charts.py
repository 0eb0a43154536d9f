"""Trade charts are drawn after the event is published, not during it: the message is stored
at once but held, later messages to the same chat wait behind it, the chart shows the bars as
they were at the event, a failed drawing still releases the text, and a stop while drawing
leaves the message held until the next start sends it as text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from bot.i18n import build_i18n
from bot.notifications import Notifications
from bot.notifier import Notifier
from bot.trade_charts import TradeCharts
from engine.data.synthetic import generate_bars
from engine.events import OrderFilled
from engine.models import Side, Timeframe
from engine.risk import BreakerCode
from engine.risk.events import BreakerTripped
from storage import Storage, open_storage
from storage.repos.chats import SqliteChatPrefsRepo
from tests.bot.harness import paper_core, settings_for

T0 = datetime(2024, 5, 7, 10, 0, tzinfo=UTC)
ADMIN, GROUP = 1001, -1001234567890
PNG = b"\x89PNG\r\n\x1a\nchart"
FILLED = OrderFilled(
    T0, "c-1", "XAUUSD", Side.BUY, 0.12, 2325.4, 7, 2320.0, 2336.2, "ma_rsi", "why",
    risk_money=64.8,
)  # fmt: skip
BREAKER = BreakerTripped(BreakerCode.DAILY_LOSS, "daily loss 3.1% >= 3%", None, at=T0)


class GatedRender:
    """A chart renderer that waits for ``gate`` and records the bars it was given."""

    def __init__(self, *, fail: bool = False) -> None:
        self.gate = asyncio.Event()
        self.frames: list[pd.DataFrame] = []
        self.fail = fail

    async def __call__(self, frame: pd.DataFrame, **kwargs: Any) -> bytes:
        self.frames.append(frame)
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("matplotlib fell over")
        return PNG


class Window:
    """The trader's bar window as the charts see it (``bars`` makes a fresh frame each call)."""

    def __init__(self, bars: pd.DataFrame) -> None:
        self.rows = bars
        self.config = SimpleNamespace(timeframe=Timeframe.M15)

    def bars(self, symbol: str) -> pd.DataFrame:
        return self.rows.copy()


def bars(count: int) -> pd.DataFrame:
    made = generate_bars(Timeframe.M15, T0 - timedelta(days=30), T0, seed=7)
    return made.iloc[:count]


async def make(tmp_path: Path, render: GatedRender, window: Window) -> tuple[Notifier, Storage]:
    storage = await open_storage(tmp_path / "n.db")
    charts = TradeCharts(window, storage.trades, render=render)  # type: ignore[arg-type]
    notifier = Notifier(
        storage.outbox,
        SqliteChatPrefsRepo(storage.db),
        build_i18n(),
        SimpleNamespace(now=lambda: T0),  # type: ignore[arg-type]
        targets=(ADMIN, GROUP),
        default_locale="en",
        zone=ZoneInfo("UTC"),
        charts=charts,
    )
    return notifier, storage


async def due(storage: Storage) -> list[tuple[int, str, bytes | None]]:
    stored = await storage.outbox.due(datetime(2100, 1, 1, tzinfo=UTC), 100)
    return [(m.chat_id, m.kind, m.photo) for m in stored]


async def test_publishing_stores_the_message_at_once_and_the_chart_follows(tmp_path: Path) -> None:
    render = GatedRender()
    window = Window(bars(200))
    notifier, storage = await make(tmp_path, render, window)
    try:
        # Returns while the chart is still being drawn (the gate is closed).
        assert await asyncio.wait_for(notifier.on_event(FILLED), 5) == 2
        assert await notifier.on_event(BREAKER) == 2  # a later event, same chats
        assert await storage.outbox.backlog() == 4
        assert await due(storage) == []  # the fill is held, and the breaker waits behind it
        window.rows = bars(230)  # the next bars arrive while drawing
        assert not await notifier.drain(timeout=0.05)

        render.gate.set()
        assert await notifier.drain(timeout=5)
        assert await due(storage) == [
            (ADMIN, "fill", PNG),
            (GROUP, "fill", PNG),
            (ADMIN, "risk", None),
            (GROUP, "risk", None),
        ]
        [frame] = render.frames  # one drawing for both chats, of the bars at the fill
        assert len(frame) == 200
    finally:
        await storage.close()


async def test_a_chart_that_fails_still_sends_the_text(tmp_path: Path) -> None:
    render = GatedRender(fail=True)
    notifier, storage = await make(tmp_path, render, Window(bars(200)))
    try:
        assert await notifier.on_event(FILLED) == 2
        render.gate.set()
        assert await notifier.drain(timeout=5)
        assert await due(storage) == [(ADMIN, "fill", None), (GROUP, "fill", None)]
    finally:
        await storage.close()


async def test_too_few_bars_is_no_chart_and_no_wait(tmp_path: Path) -> None:
    render = GatedRender()
    notifier, storage = await make(tmp_path, render, Window(bars(3)))
    try:
        assert await notifier.on_event(FILLED) == 2
        assert await notifier.drain(timeout=5)  # nothing to draw: released at once
        assert render.frames == []
        assert await due(storage) == [(ADMIN, "fill", None), (GROUP, "fill", None)]
    finally:
        await storage.close()


async def test_a_stop_while_drawing_sends_the_text_after_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch)
    core = await paper_core(settings)
    render = GatedRender()  # never opens: the drawing outlives the stop
    try:
        made = Notifications.build(core, build_i18n())
        window = Window(bars(200))
        made.notifier.charts = TradeCharts(window, core.storage.trades, render=render)  # type: ignore[arg-type]
        await core.bus.publish(FILLED)
        await made.stop(flush_timeout=0.2)
        held = await core.storage.db.fetchall("SELECT kind FROM outbox WHERE held = 1")
        assert [r[0] for r in held] == ["fill"]
    finally:
        await core.close()
    core = await paper_core(settings)  # the next start, same database
    try:
        made = Notifications.build(core, build_i18n())
        await made.catch_up()
        [message] = await core.storage.outbox.due(datetime(2100, 1, 1, tzinfo=UTC))
        assert (message.kind, message.photo, message.held) == ("fill", None, False)
        assert message.text.startswith("🟢 <b>Opened buy 0.12 XAUUSD at 2325.40</b>")
    finally:
        await core.close()
