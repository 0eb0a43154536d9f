"""Confirmation cards end to end: /force, /close, /settings and /reset_breaker open a card;
Confirm acts once and the card becomes the outcome; Cancel, expiry (60 s on the engine's
clock), a double press handled concurrently and a replayed press never act twice; hard limits
still refuse and say which."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.models import OrderStatus, Side
from engine.risk import BreakerCode
from tests.bot.harness import (
    advance,
    audit_outcomes,
    keyboard_data,
    replay_press,
    running_bot,
    texts,
)
from tests.fakes.telegram_api import FakeTelegram


async def test_force_confirm_cancel_and_expiry(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        [card] = await rig.ask(rig.admin, "/force buy 0.1")
        lines = texts([card])[0].split("\n")
        assert lines[0] == "Manual trade: buy 0.1 XAUUSD"
        assert lines[-1] == "Confirm within 60 s; the card works once."
        yes, no = keyboard_data(card)
        nonce = yes.split(":")[1]
        assert (yes, no) == (f"cf:{nonce}:y", f"cf:{nonce}:n") and len(yes.encode()) <= 64
        [edited] = await rig.press(rig.admin, card, yes)
        assert edited.method == "editMessageText"
        assert edited.params["message_id"] == card.result["message_id"]
        assert "reply_markup" not in edited.result  # the buttons are gone
        [position] = await rig.core.broker.positions()
        assert texts([edited]) == [
            f"✅ Filled #{position.ticket}: buy 0.1 at {position.price_open:.2f}, "
            f"SL {position.sl:.2f}, TP {position.tp:.2f}"
        ]
        order = await rig.core.storage.orders.get(f"manual-{nonce}")
        assert order is not None and order.status is OrderStatus.FILLED

        [cancel_card] = await rig.ask(rig.admin, "/force sell")
        assert texts(await rig.press(rig.admin, cancel_card, keyboard_data(cancel_card)[1])) == [
            "✖️ Cancelled; nothing was done."
        ]
        [late_card] = await rig.ask(rig.admin, "/force sell 0.1")
        advance(rig.core, 60)
        assert texts(await rig.press(rig.admin, late_card, keyboard_data(late_card)[0])) == [
            "⌛ This card expired; nothing was done. Ask again."
        ]
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == (
            "⌛ This card expired; nothing was done. Ask again."
        )
        assert await rig.core.broker.positions() == [position]
        rows = await rig.core.storage.audit.recent(20)
    assert audit_outcomes(rows, "/force") == ["card", "card", "card"]
    assert audit_outcomes(rows, "button") == ["confirmed", "cancelled", "expired"]


async def test_a_double_press_and_a_replay_open_one_trade(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch, concurrent=True) as rig:
        telegram.send_text(rig.admin, "/force buy 0.1")
        [card] = await telegram.wait_for("sendMessage", where=lambda c: c.ok)
        yes = keyboard_data(card)[0]
        # Two presses in one getUpdates batch: aiogram handles them as concurrent tasks.
        telegram.press_button(rig.admin, card, yes)
        telegram.press_button(rig.admin, card, yes)
        answers = await telegram.wait_for("answerCallbackQuery", count=2)
        await telegram.wait_for("editMessageText")
        assert sorted(str(a.params.get("text")) for a in answers) == [
            "None",  # the winner's plain answer
            "This card was already answered.",
        ]
        assert len(await rig.core.broker.positions()) == 1
        # The same button data again later (a replayed update): nothing happens.
        replay_press(telegram, rig.admin, card, yes)
        await telegram.wait_for("answerCallbackQuery", count=3)
        await asyncio.sleep(0.05)  # let a (wrong) second order surface if there were one
        assert len(await rig.core.broker.positions()) == 1
        assert len(telegram.calls("editMessageText")) == 1
        orders = await rig.core.storage.orders.recent(10)
    assert [o.client_id.startswith("manual-") for o in orders] == [True]


async def test_hard_limits_still_refuse_and_say_which(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"MAX_OPEN_POSITIONS": "1"}
    async with running_bot(telegram, tmp_path, monkeypatch, **env) as rig:
        [card] = await rig.ask(rig.admin, "/force sell 0.1")
        await rig.press(rig.admin, card, keyboard_data(card)[0])
        [refused] = await rig.ask(rig.admin, "/force buy")
        assert texts([refused]) == [
            "Manual trade: buy\n⛔ Refused by a hard limit:\n"
            "⛔ Open positions: 1 of 1 positions open"
        ]
        assert keyboard_data(refused) == []
        # A card opened while there was room is judged again when confirmed.
        [ticket] = [p.ticket for p in await rig.core.broker.positions()]
        [close_card] = await rig.ask(rig.trader, f"/close {ticket}")
        [second] = await rig.ask(rig.admin, "/force buy 0.1")
        assert keyboard_data(second) == []  # still full
        await rig.press(rig.trader, close_card, keyboard_data(close_card)[0])
        [again] = await rig.ask(rig.admin, "/force buy 0.1")
        await rig.ask(rig.admin, "/pause news")
        [result] = await rig.press(rig.admin, again, keyboard_data(again)[0])
        assert texts([result]) == [
            "⛔ Not sent, a limit refused it now:\n⛔ Pause: paused by @ada (1001): news"
        ]
        assert await rig.core.broker.positions() == []


async def test_close_all_from_the_card_and_a_position_button(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        for side in ("buy", "sell"):
            [card] = await rig.ask(rig.admin, f"/force {side} 0.1")
            await rig.press(rig.admin, card, keyboard_data(card)[0])
        first, second = await rig.core.broker.positions()
        [listing] = await rig.ask(rig.trader, "/positions")
        [one] = await rig.press(rig.trader, listing, f"p:c:{first.ticket}")
        assert texts([one])[0].split("\n")[0] == "Close these positions?"
        [closed_one] = await rig.press(rig.trader, one, keyboard_data(one)[0])
        assert texts([closed_one])[0].startswith(f"Close\n✅ #{first.ticket} closed at ")
        assert await rig.core.broker.positions() == [second]
        [card] = await rig.ask(rig.trader, "/close all")
        assert f"#{second.ticket} XAUUSD sell 0.1 · now " in texts([card])[0]
        [done] = await rig.press(rig.trader, card, keyboard_data(card)[0])
        trades = (await rig.core.service.recent_trades(5)).trades
        assert {t.position_id for t in trades} == {first.ticket, second.ticket}
        net = next(t.net for t in trades if t.position_id == second.ticket)
        assert texts([done]) == [
            f"Close\n✅ #{second.ticket} closed at {trades[0].price_close:.2f}: {net:+.2f} USD"
        ]
        assert await rig.core.broker.positions() == []
        assert texts(await rig.ask(rig.trader, "/close all")) == [
            "No positions of this bot are open."
        ]
        assert all(t.side in (Side.BUY, Side.SELL) for t in trades)


async def test_settings_change_and_breaker_reset_need_a_confirm(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        [card] = await rig.ask(rig.admin, "/settings risk_pct 0.5%")
        assert texts([card])[0].split("\n")[:2] == ["Change a risk limit?", "RISK_PCT: 1% → 0.5%"]
        assert rig.core.trader.config.limits.risk_pct == 0.01  # nothing changes before Confirm
        assert texts(await rig.press(rig.admin, card, keyboard_data(card)[0])) == [
            "✅ RISK_PCT is now 0.5% (was 1%); it applies from the next decision."
        ]
        assert rig.core.trader.config.limits.risk_pct == 0.005
        assert "RISK_PCT = 0.5% ✏️" in texts(await rig.ask(rig.viewer, "/settings"))[0]
        assert texts(await rig.ask(rig.trader, "/settings RISK_PCT 1%")) == [
            "This needs the admin role; yours is trader."
        ]
        assert texts(await rig.ask(rig.admin, "/settings MAX_DAILY_LOSS_PCT 150%"))[0].startswith(
            "MAX_DAILY_LOSS_PCT must be above 0 and at most 100% (write 0.5% or 0.005)."
        )

        assert texts(await rig.ask(rig.trader, "/reset_breaker")) == [
            "The circuit breaker is not tripped; nothing changed."
        ]
        await rig.core.governor.on_equity(10_000.0)
        await rig.core.governor.on_equity(8_900.0)  # 11% below the peak: max 10%
        assert (await rig.core.governor.state()).breaker is BreakerCode.DRAWDOWN
        status = texts(await rig.ask(rig.viewer, "/status"))[0]
        assert "⛔ Circuit breaker (drawdown from the equity peak) until a person resets it" in (
            status
        )
        [reset] = await rig.ask(rig.trader, "/reset_breaker")
        assert texts([reset])[0].split("\n")[0] == "Reset the circuit breaker?"
        assert texts(await rig.press(rig.trader, reset, keyboard_data(reset)[0])) == [
            "✅ Circuit breaker reset by @tom (1002)."
        ]
        assert (await rig.core.governor.state()).breaker is None
