"""What runs beside the engine in `chattrader run`: metrics, the stall watchdog, daily backups
and (with ``--health-port``) the health and metrics endpoints. Started after the core, stopped
before it closes; a failure in any of them is logged and never stops trading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from bot.health import HealthServer
from bot.metrics import Metrics, ObservedFeed
from bot.wiring import Core
from engine.clock import SystemClock
from engine.watchdog import StallWatchdog
from storage.backup import BackupScheduler

log = logging.getLogger("chattrader.runtime")

BACKUP_KEEP_DAYS = 14


@dataclass
class Ops:
    metrics: Metrics
    watchdog: StallWatchdog
    health: HealthServer | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(
        cls, core: Core, *, health_port: int | None = None, health_host: str = "127.0.0.1"
    ) -> Ops:
        metrics = Metrics()
        metrics.subscribe(core.bus)
        core.feed = ObservedFeed(core.feed, metrics)
        watchdog = StallWatchdog(
            core.trader, core.clock, core.trader.config.timeframe, core.bus.publish
        )
        ops = cls(metrics, watchdog)
        ops.tasks.append(asyncio.create_task(watchdog.run(), name="stall-watchdog"))
        # Wall-clock time names and ages backups, even when the engine replays old dates.
        backups = BackupScheduler(
            core.storage.db,
            core.settings.app.data_dir / "backups",
            BACKUP_KEEP_DAYS,
            SystemClock(),
        )
        ops.tasks.append(asyncio.create_task(backups.run(), name="daily-backup"))
        if health_port is not None:
            ops.health = HealthServer(
                core, health_port, host=health_host, metrics=metrics, watchdog=watchdog
            )
            await ops.health.start()
            log.info("health: http://%s:%d/healthz and /metrics", health_host, ops.health.port)
        return ops

    async def stop(self) -> None:
        if self.health is not None:
            await self.health.stop()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
