"""``chattrader run --health-port N``: ``/healthz`` and Prometheus ``/metrics`` over HTTP.

``/healthz`` answers JSON with the engine loop's liveness (the stall watchdog's verdict per
symbol: open-market time since the last cycle against two bar periods, and the engine task when
one is given), the broker link, each symbol's last bar and its age, the outbox backlog, cycles
and failures; HTTP 200 when the loop is alive and the broker connected, else 503 (so Docker,
systemd or an uptime checker can act on the status alone). ``/metrics`` refreshes the gauges
from the running core and returns the registry in the Prometheus text format.

The server listens on 127.0.0.1 by default; pass ``host="0.0.0.0"`` only behind a firewall
(a container publishing the port, a Prometheus on another host). It never shows secrets,
account numbers or positions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.metrics import Metrics
from engine.watchdog import StallWatchdog

if TYPE_CHECKING:
    from bot.wiring import Core

log = logging.getLogger("chattrader.health")
# The classic text format generate_latest writes; every Prometheus version reads it.
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    """The health and metrics endpoints of one running ``Core``; ``await start()`` /
    ``await stop()``. ``port`` 0 picks a free port (read ``port`` after ``start``)."""

    def __init__(
        self,
        core: Core,
        port: int,
        *,
        host: str = "127.0.0.1",
        metrics: Metrics | None = None,
        watchdog: StallWatchdog | None = None,
        engine_task: asyncio.Task[None] | None = None,
    ) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.metrics = metrics or Metrics()
        self.watchdog = watchdog or StallWatchdog(
            core.trader, core.clock, core.trader.config.timeframe, None
        )
        self.engine_task = engine_task
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics_page)
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or ()  # aiohttp keeps no public port
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health on http://%s:%d/healthz, metrics on /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def report(self) -> tuple[bool, dict[str, object]]:
        """(healthy, the JSON body of ``/healthz``)."""
        core, trader = self.core, self.core.trader
        now = core.clock.now()
        period = trader.config.timeframe.delta
        lags = self.watchdog.lags()
        task = self.engine_task
        task_alive = task is None or not task.done()
        alive = task_alive and not any(lag.stalled for lag in lags)
        connected = core.broker.connected
        symbols: dict[str, object] = {}
        for lag in lags:
            age = None if lag.last_bar is None else (now - (lag.last_bar + period)).total_seconds()
            symbols[lag.symbol] = {
                "last_bar": lag.last_bar.isoformat() if lag.last_bar else None,
                "last_bar_age_s": age,
                "last_cycle": lag.last_cycle.isoformat() if lag.last_cycle else None,
                "silent_s": lag.silent_s,
                "stall_after_s": lag.limit_s,
                "stalled": lag.stalled,
            }
        healthy = alive and connected
        body: dict[str, object] = {
            "status": "ok" if healthy else ("stalled" if not alive else "broker_down"),
            "engine_loop_alive": alive,
            "broker_connected": connected,
            "mode": core.mode,
            "now": now.isoformat(),
            "timeframe": trader.config.timeframe.value,
            "symbols": symbols,
            "outbox_backlog": await core.storage.outbox.backlog(),
            "cycles": trader.heartbeat.cycles,
            "failures": trader.heartbeat.failures,
        }
        return healthy, body

    async def healthz(self, _request: web.Request) -> web.Response:
        healthy, body = await self.report()
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics_page(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh(self.core, self.watchdog)
        response = web.Response(body=self.metrics.render())
        response.headers["Content-Type"] = METRICS_TYPE
        return response
