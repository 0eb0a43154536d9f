"""/healthz and /metrics over HTTP, against a paper engine replaying real EURUSD H1 bars.

The engine runs as a task through the real wiring; a gate in its bar feed holds it between two
cycles (no cycle half done), the test scrapes both endpoints while the task is alive, and every
number is checked against an independent source: the SQLite rows, a second event subscriber
that collects the events itself, the broker's account, the trader's heartbeat.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.health import HealthServer
from bot.metrics import Metrics, ObservedFeed
from bot.wiring import build_core
from engine.clock import SimClock
from engine.config import Settings, load_settings
from engine.events import GateBlocked
from engine.models import Bar, OutboxMessage, Timeframe
from engine.ports import BarFeed
from engine.watchdog import surely_open

PAUSE_AT, TOTAL = 260, 320
HOUR = timedelta(hours=1)


def replay_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    env = {
        "SYMBOLS": "EURUSD",
        "TIMEFRAME": "H1",
        "SESSIONS": "LONDON",
        "COOLDOWN_MINUTES": "0",
        "COOLDOWN_AFTER_LOSS_MINUTES": "0",
        "MAX_TRADES_PER_DAY": "10",
        "CALENDAR_ENABLED": "false",
        "DB_PATH": str(tmp_path / "health.db"),
        "DATA_DIR": str(tmp_path),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(None)


class GatedFeed:
    """Passes bars through; before bar ``at + 1`` it signals ``paused`` and waits for
    ``resume``, so the trader sits between two cycles."""

    def __init__(self, inner: BarFeed, at: int) -> None:
        self.inner, self.at = inner, at
        self.paused, self.resume = asyncio.Event(), asyncio.Event()
        self.held: Bar | None = None

    async def closed_bars(self, symbol: str, timeframe: Timeframe) -> AsyncIterator[Bar]:
        count = 0
        async for bar in self.inner.closed_bars(symbol, timeframe):
            if count == self.at:
                self.held = bar
                self.paused.set()
                await self.resume.wait()
            count += 1
            yield bar


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **want: str
) -> float:
    return sum(
        v
        for (n, labels), v in found.items()
        if n == name and all(dict(labels).get(k) == x for k, x in want.items())
    )


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def test_endpoints_report_the_running_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = replay_settings(tmp_path, monkeypatch)
    core = await build_core(settings, replay=True, speed=1e9)
    metrics = Metrics()
    metrics.subscribe(core.bus)
    blocks: list[GateBlocked] = []

    async def collect(event: object) -> None:
        if isinstance(event, GateBlocked):
            blocks.append(event)

    core.bus.subscribe(collect)
    gate = GatedFeed(core.feed, PAUSE_AT)
    core.feed = ObservedFeed(gate, metrics)
    await core.start()
    engine = asyncio.create_task(core.run(max_bars=TOTAL))
    server = HealthServer(core, 0, metrics=metrics, engine_task=engine)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        await asyncio.wait_for(gate.paused.wait(), timeout=60)
        for chat in (11, 12):
            await core.storage.outbox.enqueue(OutboxMessage(chat, "fill", "filled"))
        async with aiohttp.ClientSession() as session:
            status, kind, text = await get(session, f"{base}/metrics")
            health_status, _, health_text = await get(session, f"{base}/healthz")
            async with session.get(f"{base}/healthz") as response:
                health = await response.json()
        assert not engine.done()
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        found = samples(text)
        db = core.storage.db
        filled = (await db.fetchone("SELECT COUNT(*) FROM orders WHERE status = 'filled'"))[0]
        closed = (await db.fetchone("SELECT COUNT(*) FROM closed_trades"))[0]
        balance = (await db.fetchone("SELECT balance FROM paper_account"))[0]
        account = await core.broker.account()
        assert filled > 0 and blocks, "the replay must trade and be blocked at least once"
        assert total(found, "chattrader_orders_total", outcome="filled") == filled
        assert total(found, "chattrader_positions_closed_total") == closed
        by_gate = Counter(b.code for b in blocks)
        for code, count in by_gate.items():
            assert total(found, "chattrader_gate_blocks_total", gate=code) == count
        assert total(found, "chattrader_gate_blocks_total") == len(blocks)
        assert total(found, "chattrader_balance") == pytest.approx(balance, abs=1e-9)
        assert total(found, "chattrader_equity") == pytest.approx(account.equity, abs=1e-9)
        positions = len(await core.broker.positions())
        assert total(found, "chattrader_open_positions") == positions
        assert total(found, "chattrader_cycles") == PAUSE_AT == core.trader.heartbeat.cycles
        # Every cycle before the pause was timed; the one in progress never started.
        assert total(found, "chattrader_cycle_latency_seconds_count", symbol="EURUSD") == PAUSE_AT
        assert total(found, "chattrader_outbox_backlog") == 2
        assert total(found, "chattrader_broker_connected") == 1
        assert total(found, "chattrader_breaker_tripped") == 0
        # The replay moved the clock to the close of the bar held back at the gate, so the
        # last processed bar is as old as the gap between the two bars' open times.
        assert gate.held is not None
        last_bar = core.trader.heartbeat.last_bar["EURUSD"]
        age = (gate.held.time - last_bar).total_seconds()
        assert age >= 3600 and core.clock.now() == gate.held.time + HOUR
        assert total(found, "chattrader_last_bar_age_seconds", symbol="EURUSD") == age

        assert health_status == 200 and '"status": "ok"' in health_text
        assert health["engine_loop_alive"] is True and health["broker_connected"] is True
        assert health["outbox_backlog"] == 2 and health["cycles"] == PAUSE_AT
        assert health["symbols"]["EURUSD"]["last_bar"] == last_bar.isoformat()
        assert health["symbols"]["EURUSD"]["last_bar_age_s"] == age
        assert health["symbols"]["EURUSD"]["stall_after_s"] == 2 * 3600
        assert health["mode"] == "paper (replay x1e+09)"

        gate.resume.set()
        await asyncio.wait_for(engine, timeout=60)
        # The engine finished its bars: the loop is no longer alive.
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as response:
                after = await response.json()
                assert response.status == 503
            _, _, text = await get(session, f"{base}/metrics")
        assert after["status"] == "stalled" and after["engine_loop_alive"] is False
        assert after["cycles"] == TOTAL
        found = samples(text)
        filled = (await db.fetchone("SELECT COUNT(*) FROM orders WHERE status = 'filled'"))[0]
        assert total(found, "chattrader_orders_total", outcome="filled") == filled
        # A cycle is timed when the trader asks for the next bar; after its last bar
        # (max_bars) it never asks again, so that one cycle stays untimed.
        assert total(found, "chattrader_cycle_latency_seconds_count") == TOTAL - 1

        # Hours of open market later without a cycle, the watchdog's verdict says stalled too.
        clock = core.clock
        assert isinstance(clock, SimClock)
        later = clock.now() + 3 * HOUR
        while not all(surely_open(later - timedelta(minutes=m)) for m in range(0, 181)):
            later += HOUR
        clock.advance_to(later)
        server.engine_task = None
        healthy, body = await server.report()
        lag = body["symbols"]["EURUSD"]  # type: ignore[index]
        assert not healthy and lag["stalled"] is True and lag["silent_s"] > 2 * 3600
    finally:
        gate.resume.set()
        if not engine.done():
            engine.cancel()
            with pytest.raises(asyncio.CancelledError):
                await engine
        await server.stop()
        await core.close()


def test_last_bar_age_counts_from_the_bar_close() -> None:
    # A bar opened 10:00 on H1 closes 11:00; at 11:30 it is 1800 s old.
    opened = datetime.fromisoformat("2024-01-03T10:00:00+00:00")
    now = datetime.fromisoformat("2024-01-03T11:30:00+00:00")
    assert (now - (opened + Timeframe.H1.delta)).total_seconds() == 1800
