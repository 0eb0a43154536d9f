"""`/backtest XAUUSD 90d` in the chat path: the message reaching the bot to the album of charts
sent and the progress message edited to "done", through the real dispatcher and the fake Bot
API on loopback (HTTP both ways, multipart uploads), the job in the bot's process pool.

    PYTHONPATH=. .venv/bin/python benchmarks/chat_backtest_roundtrip.py [RUNS]

The first run starts the pool's worker processes (spawn: each imports the engine); later runs
find them warm. Progress edits are throttled to one a second as in production.

Measured on the project's 2-core machine (90 days of M15 bars, 5,796 bars, 65 trades, three
PNG charts drawn in the worker): first run 2.6 s, warm best 1.14 s, median 1.31 s.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path


async def main(runs: int) -> None:
    # Imported here: the pool's spawned workers import this module as their __main__, and a
    # bot's entry point (``chattrader run``) imports nothing heavy at module level either.
    import pytest  # noqa: PLC0415

    from bot.backtest_jobs import BacktestJobs  # noqa: PLC0415
    from tests.bot.harness import running_bot  # noqa: PLC0415
    from tests.fakes.telegram_api import FakeTelegram  # noqa: PLC0415

    times: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        patch = pytest.MonkeyPatch()
        telegram = FakeTelegram()
        await telegram.start()
        try:
            async with running_bot(telegram, Path(tmp), patch) as rig:
                jobs = rig.data["backtests"]
                assert isinstance(jobs, BacktestJobs)
                for _ in range(runs):
                    albums = len(telegram.calls("sendMediaGroup"))
                    started = time.perf_counter()
                    telegram.send_text(rig.trader, "/backtest XAUUSD 90d")
                    await telegram.wait_for("sendMediaGroup", albums + 1, timeout=60)
                    await jobs.idle()  # the progress message shows "done"
                    times.append(time.perf_counter() - started)
                    await asyncio.sleep(0.1)  # the next getUpdates confirms the update
        finally:
            patch.undo()
            await telegram.stop()
    print(f"first (pool starts): {times[0]:.2f} s")
    if len(times) > 1:
        warm = times[1:]
        print(f"warm: best {min(warm):.2f} s, median {sorted(warm)[len(warm) // 2]:.2f} s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 4))
