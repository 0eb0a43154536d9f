"""`/backtest XAUUSD 90d` round trips, charts included (target: under 3 s for the command).

    .venv/bin/python benchmarks/backtest_roundtrip.py

1. The whole command, ``chattrader backtest XAUUSD 90d`` in a fresh process (interpreter
   start-up, imports, settings, SQLite bars cache, bundled data, backtest, three charts, files):
   the first run and the best of three. While ``bot/cli.py`` does not list the command yet, the
   same coroutine runs behind an equivalent parser.
2. The chat's path in a running bot: ``run_backtest_async`` with a warm ``BacktestPool`` (the
   worker already imported the engine), request parsing to chart PNGs.
3. The same in a thread of this process (no pool).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.backtest.pool import BacktestPool
from engine.backtest.request import BacktestRequest
from engine.backtest.service import run_backtest_async
from engine.data.sources import BundledData

HARNESS = """
import argparse, asyncio, sys
from bot.cli_backtest import add_backtest_parsers, backtest_command
if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="chattrader")
    parser.add_argument("--env-file", default=".env")
    parser.add_argument("--log-level", default=None)
    add_backtest_parsers(parser.add_subparsers(dest="command"))
    sys.exit(asyncio.run(backtest_command(parser.parse_args(sys.argv[1:]))))
"""


def command() -> list[str]:
    """``chattrader`` when it knows ``backtest``, else the equivalent harness."""
    exe = Path(sys.executable).with_name("chattrader")
    if exe.exists():
        probe = subprocess.run(
            [str(exe), "backtest", "--help"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [str(exe)]
    return [sys.executable, "-c", HARNESS]


def whole_command(runs: int = 3) -> tuple[list[float], str]:
    base = command()
    label = "chattrader" if len(base) == 1 else "harness (bot/cli.py has no backtest yet)"
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DB_PATH=f"{tmp}/db.sqlite", DATA_DIR=f"{tmp}/data")
        for k in range(runs):
            argv = [*base, "backtest", "XAUUSD", "90d", "--out", f"{tmp}/out{k}"]
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, cwd=tmp, env=env)
            times.append(time.perf_counter() - started)
            pngs = sorted(p.name for p in Path(f"{tmp}/out{k}").glob("*.png"))
            assert pngs == ["equity.png", "returns.png", "trades.png"], pngs
    return times, label


async def in_process(pool: BacktestPool | None, runs: int = 3) -> float:
    data = BundledData()
    request = BacktestRequest.parse("XAUUSD 90d")
    await run_backtest_async(request, data, pool=pool)  # warm: data cache, fonts, imports
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        report = await run_backtest_async(request, data, pool=pool)
        best = min(best, time.perf_counter() - started)
        assert len(report.charts) == 3
    return best


async def main() -> None:
    times, label = whole_command()
    print(f"chattrader backtest XAUUSD 90d ({label}), whole process with 3 charts:")
    print(f"  first run {times[0]:.2f} s, best of {len(times)} {min(times):.2f} s")
    with BacktestPool(1) as pool:
        await pool.warm()
        pooled = await in_process(pool)
    print(f"/backtest XAUUSD 90d in a running bot (warm process pool): {pooled:.2f} s")
    print(f"same in a thread of this process: {await in_process(None):.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
