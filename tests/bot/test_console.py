"""Console mode driven by scripted input on a paper Core, through the process's real
dispatcher: /status prints as plain text, a /force buy card's Confirm is pressed by typing its
number, the fill notification arrives through the outbox with its chart saved as a PNG file,
and nothing ever reaches a network (the Bot's session is the console's)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from bot.console import LOCAL_ADMIN, run_console
from bot.wiring import Core
from engine.models import Side
from tests.bot.harness import ADMIN, paper_core, settings_for, shared_dispatcher


async def scripted(lines: Iterable[str]) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


async def chat(core: Core, lines: list[str]) -> str:
    out = io.StringIO()
    await run_console(core, scripted(lines), out, engine=None, dispatcher=shared_dispatcher())
    return out.getvalue()


async def test_status_and_a_forced_buy_pressed_by_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = await paper_core(settings_for(tmp_path, monkeypatch))
    try:
        text = await chat(core, ["/status", "/force buy", "1", "/quit", "/status"])
        positions = await core.broker.positions()
    finally:
        await core.close()
    blocks = text.split("\n\n")
    assert blocks[0].splitlines() == [
        "chattrader console: paper (replay x1e+09), no Telegram needed.",
        f"You are user {ADMIN} with the admin role. Type /help to begin.",
        f"Photos are saved under {tmp_path / 'console'}. /quit or Ctrl+D leaves.",
    ]
    status = blocks[1].splitlines()
    assert status[0] == "Status · paper account · broker connected"  # <b> tags dropped
    assert status[1] == "Balance 10000.00 USD, equity 10000.00 USD"
    card = blocks[2].splitlines()
    assert card[0].startswith("Manual trade: buy ")
    assert card[-3:] == [
        "  [1] ✅ Confirm   [2] ✖️ Cancel",
        "  Type a button's number to press it.",
        "> ✅ Confirm",  # what typing 1 pressed
    ]
    [position] = positions
    assert position.side is Side.BUY  # the card's Confirm traded: the numbers are the broker's
    fill = f"✎ ✅ Filled #{position.ticket}: buy {position.volume:g} at {position.price_open:.2f}"
    assert fill in text
    opened = (
        f"🟢 Opened buy {position.volume:g} XAUUSD at {position.price_open:.2f} · "
        f"#{position.ticket}\nSL {position.sl:.2f}, TP {position.tp:.2f} · risk "
    )
    assert opened in text and "\nManual trade (/force)\n" in text
    saved = tmp_path / "console" / "001-fill.png"
    assert f"  🖼 Photo saved: {saved}\n" in text
    assert saved.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # /quit ended the chat: the /status after it was never read.
    assert text.count("Status · paper account") == 1


async def test_a_number_without_buttons_is_plain_text_and_the_local_admin_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch, TELEGRAM_ADMIN_IDS="")
    core = await paper_core(settings)
    try:
        text = await chat(core, ["7", "/trades", "1"])
        assert await core.storage.users.get(LOCAL_ADMIN) is None  # only while it runs
        rows = await core.storage.audit.recent(10)
    finally:
        await core.close()
    assert f"You are user {LOCAL_ADMIN} with the admin role." in text
    assert "\nNo closed trades yet.\n" in text
    assert "Photo saved" not in text
    # Both numbers went to the bot as messages (no keyboard was shown): audited as such.
    assert [(r.user_id, r.action, r.detail) for r in reversed(rows)] == [
        (LOCAL_ADMIN, "message", "7"),
        (LOCAL_ADMIN, "/trades", ""),
        (LOCAL_ADMIN, "message", "1"),
    ]


async def test_a_backtest_in_the_console_saves_the_album_and_the_trades_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat's /backtest sends an album (sendMediaGroup): the console saves every chart,
    shows the caption once, and the trades button saves the CSV."""
    core = await paper_core(settings_for(tmp_path, monkeypatch))
    out = io.StringIO()

    async def until(condition: str, count: int = 1) -> None:
        for _ in range(1200):  # the job runs in the background: wait for what it prints
            if out.getvalue().count(condition) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"never printed {condition!r}:\n{out.getvalue()}")

    async def lines() -> AsyncIterator[str]:
        yield "/backtest XAUUSD 30d\n"
        await until("Photo saved", 3)
        await until("Type a button's number")  # the finished message with the CSV button
        yield "1\n"
        await until("File saved")
        yield "/quit\n"

    try:
        await run_console(core, lines(), out, engine=None, dispatcher=shared_dispatcher())
    finally:
        await core.close()
    text = out.getvalue()
    photos = sorted((tmp_path / "console").glob("*.png"))
    assert [p.name.split("-", 1)[1] for p in photos] == ["equity.png", "trades.png", "returns.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") for p in photos)
    for photo in photos:
        assert f"  🖼 Photo saved: {photo}\n" in text
    assert text.count("Net profit") == 1  # the album's caption, once
    # Progress edits repeat their text, not the Cancel button; the finished one shows its own.
    assert text.count("✖️ Cancel") == 1 and text.count("✎ ⏳ Backtest XAUUSD 30d") >= 2
    [csv] = (tmp_path / "console").glob("*.csv")
    header = csv.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("entry_time,")
    assert f"  📎 File saved: {csv}\n" in text


async def test_a_backtest_in_the_console_is_cancelled_by_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = await paper_core(settings_for(tmp_path, monkeypatch))
    out = io.StringIO()

    async def until(condition: str) -> None:
        for _ in range(1200):
            if condition in out.getvalue():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never printed {condition!r}:\n{out.getvalue()}")

    async def lines() -> AsyncIterator[str]:
        yield "/backtest XAUUSD 2018-01-01..2020-03-13\n"
        await until("✎ ⏳ Backtest")  # edited at least once: the button was not shown again
        yield "1\n"  # the progress message's button, still the one to press after its edits
        await until("Cancelled")
        yield "/quit\n"

    try:
        await run_console(core, lines(), out, engine=None, dispatcher=shared_dispatcher())
    finally:
        await core.close()
    text = out.getvalue()
    assert "> ✖️ Cancel" in text
    assert "Cancelled; nothing was kept." in text
    assert "Photo saved" not in text
