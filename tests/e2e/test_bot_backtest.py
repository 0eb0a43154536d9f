"""/backtest, /optimize and /compare through the real dispatcher over the fake Bot API: the
progress message edited while the job runs in the process pool, the album of charts with the
key metrics as its caption, the trades CSV behind its button (rows equal to an independent run
of the engine), usage with examples on bad input, one job per user, Cancel, and roles."""

from __future__ import annotations

import asyncio
import csv
import io
import math
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from bot.backtest_jobs import BacktestJobs
from engine.backtest.request import BacktestRequest
from engine.backtest.service import BacktestDefaults, run_backtest_async
from engine.models import DataRange, Timeframe
from tests.bot.harness import (
    GROUP,
    Rig,
    audit_outcomes,
    keyboard_data,
    replay_press,
    running_bot,
    texts,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_types import Call, TgUser

PNG = b"\x89PNG\r\n\x1a\n"


def jobs(rig: Rig) -> BacktestJobs:
    found = rig.data["backtests"]
    assert isinstance(found, BacktestJobs)
    return found


def edits_of(rig: Rig, message: Call) -> list[Call]:
    message_id = message.result["message_id"]
    return [
        c
        for c in rig.telegram.calls("editMessageText")
        if c.ok and c.params.get("message_id") == message_id
    ]


def plain(call: Call) -> str:
    return str(call.result.get("text") or call.result.get("caption") or "")


async def independent_run(rig: Rig, args: str) -> pd.DataFrame:
    """The same backtest run by the engine directly (in a thread, no charts)."""
    report = await run_backtest_async(
        BacktestRequest.parse(args),
        jobs(rig).data,
        defaults=BacktestDefaults.from_settings(rig.core.settings),
        charts=False,
    )
    return report.result.trades


async def test_backtest_album_csv_then_optimize_and_compare(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        jobs(rig).edit_every = 0.0  # every stage shows (the throttle has its own unit test)
        started = (await rig.ask(rig.trader, "/backtest XAUUSD 30d"))[0]  # edits may follow
        assert texts([started]) == ["⏳ Backtest XAUUSD 30d ma_rsi\nstarting"]
        [cancel] = keyboard_data(started)
        job_id = cancel.removeprefix("bt:x:")
        assert cancel == f"bt:x:{job_id}" and len(job_id) == 8
        await jobs(rig).idle()

        edits = edits_of(rig, started)
        stages = [plain(e).split("\n")[1] for e in edits[:-1]]
        assert "simulating trades" in stages  # the job's progress reached the chat
        assert all(keyboard_data(e) == [cancel] for e in edits[:-1])  # Cancel while running
        expected = await independent_run(rig, "XAUUSD 30d strategy=ma_rsi")
        trades = len(expected)
        assert trades > 0
        assert plain(edits[-1]) == (
            "✅ Backtest XAUUSD 30d ma_rsi\n"
            f"Done: {trades} trades. The trades table is one tap away."
        )
        assert keyboard_data(edits[-1]) == [f"bt:c:{job_id}"]

        [album] = telegram.calls("sendMediaGroup")
        assert album.ok and len(album.result) == 3
        assert {m["media_group_id"] for m in album.result} == {album.result[0]["media_group_id"]}
        uploads = list(album.files.values())
        assert len(uploads) == 3 and all(u.data.startswith(PNG) for u in uploads)
        assert sorted(u.filename for u in uploads) == ["equity.png", "returns.png", "trades.png"]
        caption = album.result[0]["caption"].split("\n")
        assert caption[0] == "XAUUSD M15 · ma_rsi"
        assert caption[1].startswith("fast=20 slow=50 ")
        first, last = expected["entry_time"].min(), expected["exit_time"].max()
        span = re.fullmatch(r"Period: (\S+ \S+) → (\S+ \S+) UTC, (\d+) bars", caption[2])
        assert span is not None
        start, end = (datetime.fromisoformat(span[i] + "+00:00") for i in (1, 2))
        assert start <= first.to_pydatetime() and last.to_pydatetime() <= end
        assert 29 * 24 * 60 <= (end - start).total_seconds() / 60 <= 30 * 24 * 60 + 15
        assert caption[3] == "⚠️ Simulated intraday from real daily closes."
        net = round(float(expected["net"].sum()), 2) + 0.0
        assert caption[4].startswith(f"Net profit: {net:+.2f} USD (")
        wins = (expected["net"] > 0).sum()
        assert caption[5].startswith(f"Trades: {trades}, won {wins / trades * 100:.1f}%")
        assert len(album.result[0]["caption"]) <= 1024

        assert await rig.press(rig.trader, edits[-1], f"bt:c:{job_id}") == []  # a document
        [document] = telegram.calls("sendDocument")
        upload = document.file("document")
        assert upload is not None and upload.filename.endswith("_trades.csv")
        assert document.result["caption"] == f"{trades} trades, times in UTC."
        rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8"))))
        assert len(rows) == trades
        for row, (_, want) in zip(rows, expected.iterrows(), strict=True):
            assert row["entry_time"] == f"{want['entry_time']:%Y-%m-%dT%H:%M:%SZ}"
            assert row["side"] == want["side"]
            assert math.isclose(float(row["net"]), want["net"], abs_tol=1e-9)

        opt = (await rig.ask(rig.trader, "/optimize XAUUSD 60d fast=10..20:10 slow=40..60:20"))[0]
        assert texts([opt])[0].startswith("⏳ Optimisation XAUUSD 60d M15 ma_rsi")
        await jobs(rig).idle()
        heatmap = next(c for c in telegram.calls("sendPhoto") if c.ok)
        picture = heatmap.file("photo")
        assert picture is not None and picture.data.startswith(PNG)
        lines = heatmap.result["caption"].split("\n")
        assert lines[0] == "XAUUSD M15 · ma_rsi · sharpe"
        assert lines[1] == "4 parameter sets; ranked by the in-sample sharpe."
        assert lines[2].startswith("In sample ") and "out of sample" in lines[2]
        table = next(c for c in telegram.calls("sendMessage") if "Top 4 of 4" in plain(c))
        body = plain(table).split("\n")
        assert body[1].split() == ["#", "fast", "slow", "IS", "n", "OOS", "n", "OOS", "net"]
        scores = [float(line.split()[3]) for line in body[2:6]]
        assert scores == sorted(scores, reverse=True)  # ranked by the in-sample metric
        assert sorted((line.split()[1], line.split()[2]) for line in body[2:6]) == [
            ("10", "40"), ("10", "60"), ("20", "40"), ("20", "60"),
        ]  # fmt: skip
        assert plain(edits_of(rig, opt)[-1]) == "✅ Optimisation XAUUSD 60d M15 ma_rsi\nDone."

        cmp = (await rig.ask(rig.trader, "/compare XAUUSD 30d ma_rsi bb_reversion"))[0]
        await jobs(rig).idle()
        chart = [c for c in telegram.calls("sendPhoto") if c.ok][-1]
        shown = chart.result["caption"].split("\n")
        assert shown[0] == "XAUUSD M15: ma_rsi vs bb_reversion"
        assert shown[3].split() == ["ma_rsi", "bb_reversion"]
        net_row = next(line for line in shown if line.startswith("Net profit"))
        assert net_row.split()[2] == f"{net:+.2f}"  # the same bars and defaults as /backtest
        trades_row = next(line for line in shown if line.startswith("Trades"))
        assert trades_row.split()[1] == str(trades)
        assert plain(edits_of(rig, cmp)[-1]).endswith("Done.")

        rows = await rig.core.storage.audit.recent(50)
    assert audit_outcomes(rows, "/backtest") == [
        f"started {job_id}",
        f"done: {trades} trades",
    ]
    assert audit_outcomes(rows, "/optimize")[-1] == "done: 4 points"
    assert audit_outcomes(rows, "/compare")[-1] == "done: 2 strategies"


async def stale_press(rig: Rig, user: TgUser, message: Call, data: str) -> list[Call]:
    """Press ``data`` on ``message`` as first sent, after its buttons were removed."""
    before = len(rig.telegram.calls())
    return await rig.answered(replay_press(rig.telegram, user, message, data), before)


class StuckData:
    """Market data that never answers: a job on it runs until it is cancelled."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()

    async def available(self, symbol: str, timeframe: Timeframe) -> DataRange | None:
        self.asked.set()
        await asyncio.Event().wait()
        return None

    async def history(
        self,
        symbol: str,
        timeframe: Timeframe,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        await asyncio.Event().wait()
        return pd.DataFrame()


async def test_bad_input_one_job_per_user_cancel_and_roles(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"TELEGRAM_ALLOWED_CHAT_IDS": str(GROUP)}  # a desk where several people can press
    async with running_bot(telegram, tmp_path, monkeypatch, **env) as rig:
        telegram.group(GROUP, "Desk")

        async def ask(user: TgUser, text: str) -> list[Call]:
            return await rig.ask(user, text, chat_id=GROUP)

        [usage] = await ask(rig.trader, "/backtest XAUUSD 90x")
        lines = texts([usage])[0].split("\n")
        assert lines[0] == "90x is not a period."
        assert lines[1] == "Usage: /backtest SYMBOL PERIOD [TF] [strategy=NAME] [param=value ...]"
        assert lines[2] == "PERIOD: 90d, 12w, 6m, 1y or 2025-01-01..2025-03-31"
        assert lines[-4:] == [
            "Examples:",
            "/backtest XAUUSD 90d",
            "/backtest XAUUSD 6m H1 strategy=bb_reversion",
            "/backtest XAUUSD 2025-01-01..2025-03-31 M15 fast=10 slow=40 lots=0.1",
        ]
        [bare] = await ask(rig.trader, "/backtest")
        assert texts([bare])[0].startswith("Usage: /backtest SYMBOL PERIOD")
        [unknown] = await ask(rig.trader, "/backtest XAUUSD 90d strategy=turtle")
        assert texts([unknown])[0].startswith(
            "Unknown strategy turtle; choose ma_rsi, bb_reversion."
        )
        [symbol] = await ask(rig.trader, "/backtest GBPJPY 90d")
        assert texts([symbol])[0].startswith("Unknown symbol GBPJPY; backtests know ")
        [compare] = await ask(rig.trader, "/compare XAUUSD 90d ma_rsi")
        assert texts([compare])[0].startswith("Name 2 to 4 different strategies (got 1).")
        assert jobs(rig).running(rig.trader.id) is None
        assert telegram.calls("editMessageText") == []  # nothing started

        [refused] = await ask(rig.viewer, "/backtest XAUUSD 30d")
        assert texts([refused]) == ["This needs the trader role; yours is viewer."]

        stuck = StuckData()
        jobs(rig).data = stuck
        started = (await ask(rig.trader, "/backtest XAUUSD 30d"))[0]
        await asyncio.wait_for(stuck.asked.wait(), 5)
        [busy] = await ask(rig.trader, "/optimize XAUUSD 1y fast=5..30:5")
        assert texts([busy]) == [
            "One job at a time: your backtest is still running. Wait for it or press Cancel."
        ]
        [cancel] = keyboard_data(started)
        assert await rig.press(rig.viewer, started, cancel) == []  # role checked on the button
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == (
            "This needs the trader role; yours is viewer."
        )
        await rig.press(rig.trader, started, cancel)
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == "Cancelling…"
        await asyncio.wait_for(jobs(rig).idle(), 5)
        [ended] = edits_of(rig, started)[-1:]
        assert plain(ended) == ("✖️ Backtest XAUUSD 30d ma_rsi\nCancelled; nothing was kept.")
        assert keyboard_data(ended) == []
        await stale_press(rig, rig.trader, started, cancel)  # a press after the end
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == (
            "That job has already ended."
        )
        again = (await ask(rig.trader, "/backtest XAUUSD 30d"))[0]  # the slot is free again
        assert texts([again])[0].startswith("⏳ Backtest XAUUSD 30d")
        await rig.press(rig.admin, again, keyboard_data(again)[0])  # an admin may cancel
        await asyncio.wait_for(jobs(rig).idle(), 5)
        # A cancelled job kept no CSV: its (forged) CSV button says so.
        await stale_press(rig, rig.trader, again, f"bt:c:{keyboard_data(again)[0][5:]}")
        rows = await rig.core.storage.audit.recent(50)
    assert (
        telegram.calls("answerCallbackQuery")[-1]
        .params["text"]
        .startswith("The trades of that report are gone")
    )
    outcomes = audit_outcomes(rows, "/backtest")
    assert outcomes[:5] == ["usage", "usage", "usage", "usage", "denied"]
    assert outcomes[-2:] == [f"started {keyboard_data(again)[0][5:]}", "cancelled"]
    assert "busy" in audit_outcomes(rows, "/optimize")
