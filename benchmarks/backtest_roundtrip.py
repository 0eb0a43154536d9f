"""`/backtest XAUUSD 90d` round trips, charts included (target: under 3 s for the command).

    .venv/bin/python benchmarks/backtest_roundtrip.py

1. The whole command, ``chattrader backtest XAUUSD 90d`` through the installed console script
   in a fresh process (interpreter start-up, imports, settings, SQLite bars cache, bundled
   data, backtest, three charts, files, exit): best of five, with the start-up imports as
   they are after the first run.
2. The same on a fresh install: a copy of the source tree with no compiled ``.pyc`` files
   and an empty matplotlib cache (its font list is built on first use), as after
   ``pip install -e .`` on a new machine.
3. The chat's path in a running bot: ``run_backtest_async`` with a warm ``BacktestPool`` (the
   worker already imported the engine), request parsing to chart PNGs.
4. The same in a thread of this process (no pool).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.backtest.pool import BacktestPool
from engine.backtest.request import BacktestRequest
from engine.backtest.service import run_backtest_async
from engine.data.sources import BundledData

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("bot", "engine", "storage", "locales")


def whole_command(runs: int = 5, *, fresh: bool = False) -> list[float]:
    exe = Path(sys.executable).with_name("chattrader")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DB_PATH=f"{tmp}/db.sqlite", DATA_DIR=f"{tmp}/data")
        if fresh:
            tree = Path(tmp, "src")
            for name in SOURCES:
                shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("*.pyc"))
            # Ahead of the editable install's finder: these modules compile on first import.
            env.update(PYTHONPATH=str(tree), MPLCONFIGDIR=f"{tmp}/mpl")
        for k in range(runs):
            argv = [str(exe), "backtest", "XAUUSD", "90d", "--out", f"{tmp}/out{k}"]
            started = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True, cwd=tmp, env=env)
            times.append(time.perf_counter() - started)
            pngs = sorted(p.name for p in Path(f"{tmp}/out{k}").glob("*.png"))
            assert pngs == ["equity.png", "returns.png", "trades.png"], pngs
    return times


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
    times = whole_command()
    print("chattrader backtest XAUUSD 90d, whole process with 3 charts:")
    print(
        f"  best of {len(times)} {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s"
    )
    fresh = whole_command(2, fresh=True)
    print(f"  fresh install (no .pyc, no matplotlib cache): first run {fresh[0]:.2f} s,")
    print(f"  second run {fresh[1]:.2f} s")
    with BacktestPool(1) as pool:
        await pool.warm()
        pooled = await in_process(pool)
    print(f"/backtest XAUUSD 90d in a running bot (warm process pool): {pooled:.2f} s")
    print(f"same in a thread of this process: {await in_process(None):.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
