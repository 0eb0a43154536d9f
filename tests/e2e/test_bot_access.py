"""Who the bot serves, end to end over the fake Bot API: strangers get silence, an audit row
and one rate-limited admin alert; the allow-list is exact; every command's role is enforced for
each role, and a button's role is checked again when it is pressed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import render
from bot.command_list import COMMANDS
from bot.i18n import build_i18n, localized
from engine.models import Role
from tests.bot.harness import (
    ADMIN,
    GROUP,
    STRANGER,
    VIEWER,
    audit_outcomes,
    keyboard_data,
    running_bot,
    texts,
)
from tests.fakes.telegram_api import FakeTelegram

ARGS = {"lang": "en", "pause": "role check", "close": "all", "force": "buy"}
ARGS |= {"grant": "2001 viewer", "revoke": "2001", "chart": "XAUUSD M15 30"}


def needs(role: Role, have: Role) -> str:
    with localized(build_i18n(), "en"):
        return render.needs_role(role, have)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.TRADER, Role.ADMIN])
async def test_every_command_for_each_role(
    role: Role, telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        user = {Role.VIEWER: rig.viewer, Role.TRADER: rig.trader, Role.ADMIN: rig.admin}[role]
        for spec in COMMANDS:
            text = f"/{spec.name} {ARGS.get(spec.name, '')}".strip()
            replies = await rig.ask(user, text)
            assert replies, f"{text}: no reply"
            refused = texts(replies) == [needs(spec.role, role)]
            assert refused == (not role.covers(spec.role)), f"{text} as {role}: {texts(replies)}"
        rows = await rig.core.storage.audit.recent(200)
    denied = {r.action for r in rows if r.outcome == "denied"}
    assert denied == {f"/{s.name}" for s in COMMANDS if not role.covers(s.role)}
    assert {r.action for r in rows} >= {f"/{s.name}" for s in COMMANDS}  # each one audited


async def test_strangers_get_silence_an_audit_row_and_one_alert(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        replies = await rig.ask(rig.stranger, "/start")
        assert [c.params["chat_id"] for c in replies] == [ADMIN]  # only the admin's alert
        [alert] = telegram.sent_texts(ADMIN)
        assert alert.startswith("⚠️ Someone without access wrote to the bot: @eve (1009).")
        await rig.ask(rig.stranger, "/force buy")
        await rig.ask(rig.stranger, "hello")
        assert telegram.sent_texts(STRANGER) == []
        assert telegram.sent_texts(ADMIN) == [alert]  # rate-limited: one alert per hour
        rows = await rig.core.storage.audit.recent(10)
        assert await rig.core.broker.positions() == []
    ignored = [(r.user_id, r.chat_id, r.action, r.outcome, r.detail) for r in reversed(rows)]
    assert ignored == [
        (STRANGER, STRANGER, "/start", "ignored: unknown user", ""),
        (STRANGER, STRANGER, "/force", "ignored: unknown user", "buy"),
        (STRANGER, STRANGER, "message", "ignored: unknown user", "hello"),
    ]


async def test_an_allow_list_is_exact_and_buttons_recheck_the_role(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"TELEGRAM_ALLOWED_CHAT_IDS": str(GROUP)}
    async with running_bot(telegram, tmp_path, monkeypatch, **env) as rig:
        telegram.group(GROUP, "Desk")
        # The admin's private chat is not on the list: no reply there, audited as a chat
        # refusal; the alert goes to the allowed chat, where admins read.
        alerts = await rig.ask(rig.admin, "/status")
        assert [c.params["chat_id"] for c in alerts] == [GROUP]
        assert telegram.sent_texts(ADMIN) == []
        [forced] = await rig.ask(rig.admin, "/force buy 0.1", chat_id=GROUP)
        yes = keyboard_data(forced)[0]
        assert yes.startswith("cf:") and yes.endswith(":y")
        # A stranger in the allowed group presses the admin's Confirm: ignored, not answered.
        assert await rig.press(rig.stranger, forced, yes) == []
        assert telegram.calls("answerCallbackQuery") == []
        # Someone else's card: refused, and the card stays usable for the admin.
        await rig.press(rig.viewer, forced, yes)
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == (
            "Only the person who asked can answer this card."
        )
        await rig.press(rig.admin, forced, yes)
        [position] = await rig.core.broker.positions()
        # A trader's position list in the group: the viewer's press on Close is refused.
        [listing] = await rig.ask(rig.trader, "/positions", chat_id=GROUP)
        close = f"p:c:{position.ticket}"
        assert close in keyboard_data(listing)
        assert await rig.press(rig.viewer, listing, close) == []
        answer = telegram.calls("answerCallbackQuery")[-1]
        assert answer.params["text"] == needs(Role.TRADER, Role.VIEWER)
        assert answer.params["show_alert"] is True
        # Demoted between the card and the press: Confirm checks the role again.
        await rig.ask(rig.admin, "/grant 2001 admin", chat_id=GROUP)
        deputy = telegram.user(2001, "Dan", "en", username="dan")
        [card] = await rig.ask(deputy, "/force sell 0.1", chat_id=GROUP)
        await rig.ask(rig.admin, "/grant 2001 viewer", chat_id=GROUP)
        assert await rig.press(deputy, card, keyboard_data(card)[0]) == []
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == needs(
            Role.ADMIN, Role.VIEWER
        )
        assert await rig.core.broker.positions() == [position]
        rows = await rig.core.storage.audit.recent(50)
    assert audit_outcomes(rows, "/status") == ["ignored: chat not allowed"]
    assert audit_outcomes(rows, "button") == [
        "ignored: unknown user", "not_yours", "confirmed", "denied", "denied",
    ]  # fmt: skip
    assert [r.user_id for r in rows if r.outcome == "denied"] == [2001, VIEWER]
