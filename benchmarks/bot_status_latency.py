"""`/status` round trip through the real bot: a user's message queued at the fake Telegram Bot
API (tests/fakes/telegram_api.FakeTelegram on loopback HTTP) until the bot's sendMessage
answering it arrives there.

The path measured is the product's: aiogram long-polls the fake (getUpdates answered as soon
as the update is queued), runs the one Dispatcher with every middleware (access, locale,
throttle, audit, role) and the /status handler over a paper Core on SQLite (replayed gold,
as the chat tests use), renders the HTML reply and posts it. Requests go one at a time; the
first WARMUP are not counted. Run from the repository root:

    .venv/bin/python benchmarks/bot_status_latency.py [REQUESTS]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_bot, workflow_data  # noqa: E402
from bot.middlewares import TokenBucket  # noqa: E402
from engine.config import load_settings  # noqa: E402
from tests.bot.harness import ADMIN, listening, paper_core, shared_dispatcher  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

WARMUP = 20


async def measure(requests: int, folder: Path) -> list[float]:
    """Seconds from queueing each /status to its reply reaching the fake Bot API."""
    telegram = FakeTelegram()
    await telegram.start()
    os.environ.update(
        {
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_BASE": telegram.base_url,
            "TELEGRAM_ADMIN_IDS": str(ADMIN),
            "DB_PATH": str(folder / "bench.db"),
            "DATA_DIR": str(folder),
            "LOG_LEVEL": "WARNING",
        }
    )
    settings = load_settings(None)
    core = await paper_core(settings)
    rtts: list[float] = []
    try:
        data = workflow_data(core, throttle=TokenBucket(rate=1e6, burst=10**6))
        await data["access"].bootstrap(core.clock.now())
        bot = build_bot(settings.telegram)
        user = telegram.user(ADMIN, "Ada", "en", username="ada")
        dp = shared_dispatcher()
        async with listening(dp, bot, telegram, handle_as_tasks=False, **data):
            for i in range(WARMUP + requests):
                before = len(telegram.calls("sendMessage"))
                started = time.monotonic()
                telegram.send_text(user, "/status")
                calls = await telegram.wait_for("sendMessage", before + 1, timeout=10)
                reply = calls[before]
                assert reply.ok and reply.result["text"].startswith("Status · paper account")
                if i >= WARMUP:
                    rtts.append(reply.at - started)
    finally:
        await core.close()
        await telegram.stop()
    return rtts


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # no stray .env
        rtts = asyncio.run(measure(requests, Path(tmp)))
    ms = sorted(r * 1000 for r in rtts)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"/status round trip over loopback HTTP, {len(ms)} requests after {WARMUP} warm-up")
    print(f"p50 {cuts[49]:.1f} ms   p95 {cuts[94]:.1f} ms   mean {statistics.fmean(ms):.1f} ms")
    print(f"min {ms[0]:.1f} ms   max {ms[-1]:.1f} ms   (target p50 < 50 ms)")


if __name__ == "__main__":
    main()
