"""Every command's reply through the real dispatcher over HTTP: the menu and its buttons,
status, positions with Close/Chart buttons, charts uploaded as multipart PNGs, risk, trades,
PnL, settings without secrets, users, language switch, notification toggles, usage replies on
bad arguments, and the command menus registered per language and role at startup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.command_list import BY_NAME
from bot.prefs import NotifyKind
from storage.repos.chats import SqliteChatPrefsRepo
from tests.bot.harness import ADMIN, TRADER, VIEWER, keyboard_data, running_bot, texts
from tests.fakes.telegram_api import FakeTelegram

PNG = b"\x89PNG\r\n\x1a\n"


async def test_menu_status_positions_and_charts(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        [menu] = await rig.ask(rig.viewer, "/start")
        assert keyboard_data(menu) == ["m:s", "m:p", "m:r", "m:c", "m:t", "m:d", "m:h"]
        assert texts([menu]) == ["chattrader\nYour role: viewer. Choose below or send /help."]
        [status] = await rig.press(rig.viewer, menu, "m:s")
        lines = texts([status])[0].split("\n")
        assert lines[0] == "Status · paper account · broker connected"
        assert "Balance 10000.00 USD, equity 10000.00 USD" in lines
        assert "Trades today: 0 of 5" in lines
        assert lines[-1] == "Up 0 d 0 h 15 min; 0 cycles, 0 failed"

        await rig.ask(rig.admin, "/force sell 0.2")
        card = telegram.calls("sendMessage")[-1]
        await rig.press(rig.admin, card, keyboard_data(card)[0])
        [position] = await rig.core.broker.positions()
        [listing] = await rig.ask(rig.trader, "/positions")
        text = texts([listing])[0]
        assert f"#{position.ticket} XAUUSD sell 0.2 · {position.price_open:.2f} → " in text
        assert f"SL {position.sl:.2f}, TP {position.tp:.2f}, opened 13:15 UTC" in text
        assert keyboard_data(listing) == [f"p:c:{position.ticket}", f"p:g:{position.ticket}"]
        [photo] = await rig.press(rig.trader, listing, f"p:g:{position.ticket}")
        upload = photo.file("photo")
        assert upload is not None and upload.data.startswith(PNG)
        assert upload.filename == f"XAUUSD_{position.ticket}.png"
        assert photo.result["caption"] == f"#{position.ticket} · XAUUSD M15, last 120 bars"

        [chart] = await rig.ask(rig.viewer, "/chart xauusd 60 m15")
        assert chart.method == "sendPhoto"
        assert chart.result["caption"] == "XAUUSD M15, last 60 bars"
        assert chart.result["caption_entities"] == [
            {"type": "bold", "offset": 0, "length": len("XAUUSD M15, last 60 bars")}
        ]
        picture = chart.file("photo")
        assert picture is not None and picture.data.startswith(PNG)
        [daily] = await rig.ask(rig.viewer, "/chart XAUUSD D1 30")
        assert daily.result["caption"] == "XAUUSD D1, last 30 bars"


async def test_risk_trades_pnl_settings_and_users(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        [risk] = await rig.ask(rig.viewer, "/risk")
        lines = texts([risk])[0].split("\n")
        assert lines[:2] == [
            "Risk gates for XAUUSD now",
            "Losses in a row: 0 (max 3); risk per trade 1%",
        ]
        assert "✅ Trades per day: 0 of 5 trades today" in lines
        assert "✅ Spread: 18 points (max 50)" in lines
        assert lines[-2:] == ["buy: would be allowed", "sell: would be allowed"]

        assert texts(await rig.ask(rig.viewer, "/trades")) == ["No closed trades yet."]
        [pnl] = await rig.ask(rig.viewer, "/pnl 2")
        assert texts([pnl]) == [
            "Profit and loss by day\n2019-06-03 +0.00 USD · 0 trades, 0 won\n"
            "2019-06-04 +0.00 USD · 0 trades, 0 won\nTotal +0.00 USD from 0 trades"
        ]

        [settings] = await rig.ask(rig.viewer, "/settings")
        shown = texts([settings])[0]
        assert "RISK_PCT = 1%" in shown and "COOLDOWN_MINUTES = 15 min" in shown
        assert "TELEGRAM_BOT_TOKEN = set" in shown
        assert "Change one:" not in shown  # only admins change limits
        for call in telegram.calls():
            assert telegram.token not in json.dumps(call.params)  # the token never leaves
        assert (
            "Change one: /settings NAME VALUE" in texts(await rig.ask(rig.admin, "/settings"))[0]
        )

        [users] = await rig.ask(rig.admin, "/users")
        assert texts([users])[0].split("\n") == [
            "Users",
            f"{ADMIN} · admin · from settings",
            f"{TRADER} · trader · from settings",
            f"{VIEWER} · viewer · from settings",
        ]
        assert texts(await rig.ask(rig.admin, "/grant 2001 trader")) == [
            "2001 now has the trader role."
        ]
        assert texts(await rig.ask(rig.admin, "/grant 2001 viewer")) == [
            "2001 now has the viewer role instead."
        ]
        assert texts(await rig.ask(rig.admin, "/revoke 2001")) == ["2001 has no access any more."]
        assert texts(await rig.ask(rig.admin, "/revoke 2001")) == [
            "2001 had no access; nothing changed."
        ]
        assert texts(await rig.ask(rig.admin, f"/grant {TRADER} admin")) == [
            f"User {TRADER} has a role from the settings file; change it there.\n"
            "Usage: /grant USER_ID viewer|trader|admin"
        ]


async def test_language_switch_and_notification_toggles(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        # A Russian Telegram app gets Russian before any /lang.
        ivan = telegram.user(TRADER, "Ivan", "ru", username="ivan")
        assert texts(await rig.ask(ivan, "/resume")) == ["Паузы нет; ничего не изменилось."]
        assert texts(await rig.ask(rig.viewer, "/lang mn")) == ["Хэл: Монгол."]
        [status] = await rig.ask(rig.viewer, "/status")
        assert texts([status])[0].split("\n")[0] == "Төлөв · туршилтын данс · брокер холбогдсон"
        [choice] = await rig.ask(rig.viewer, "/lang")
        assert keyboard_data(choice) == ["lg:en", "lg:mn", "lg:ru"]
        assert texts(await rig.press(rig.viewer, choice, "lg:ru")) == ["Язык: Русский."]
        assert texts(await rig.ask(rig.viewer, "/pnl x")) == ["Использование: /pnl [DAYS]"]
        viewer = await rig.data["access"].actor(VIEWER)
        assert viewer is not None and viewer.locale == "ru"
        chats: SqliteChatPrefsRepo = rig.data["chats"]
        assert (await chats.get(VIEWER)).locale == "ru"

        [toggles] = await rig.ask(rig.admin, "/notify")
        assert keyboard_data(toggles) == [f"nt:{kind.value}" for kind in NotifyKind]
        [edited] = await rig.press(rig.admin, toggles, "nt:fill")
        assert edited.method == "editMessageReplyMarkup"
        first_row = edited.result["reply_markup"]["inline_keyboard"][0][0]
        assert first_row["text"] == "🔕 Orders filled"
        assert telegram.calls("answerCallbackQuery")[-1].params["text"] == "Orders filled: off"
        assert (await chats.get(ADMIN)).muted == frozenset({"fill"})
        await rig.press(rig.admin, toggles, "nt:summary")
        await rig.press(rig.admin, toggles, "nt:fill")
        assert (await chats.get(ADMIN)).muted == frozenset({"summary"})


BAD = [
    ("/trades abc", "trades"),
    ("/trades 1 2", "trades"),
    ("/pnl 0", "pnl"),
    ("/chart A B C D", "chart"),
    ("/force", "force"),
    ("/force hold", "force"),
    ("/force buy XAUUSD EURUSD", "force"),
    ("/close", "close"),
    ("/grant x trader", "grant"),
    ("/grant 5 boss", "grant"),
    ("/revoke", "revoke"),
    ("/lang de", "lang"),
    ("/settings RISK_PCT", "settings"),
    ("/risk XAUUSD H1", "risk"),
]


async def test_bad_arguments_get_the_usage_line(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        for text, command in BAD:
            [reply] = texts(await rig.ask(rig.admin, text))
            assert reply.split("\n")[-1] == f"Usage: {BY_NAME[command].usage}", text
        rows = await rig.core.storage.audit.recent(len(BAD))
        assert await rig.core.broker.positions() == []
    assert all(row.outcome.startswith("error: ") for row in rows)


async def test_specific_refusals_say_why(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        cases = {
            "/pnl 0": "The number must be from 1 to 90.",
            "/force buy BTCUSD": "Unknown symbol BTCUSD; this bot trades XAUUSD.",
            "/force buy 0.015": (
                "0.015 lots is not a valid volume: 0.01 to 100 in steps of 0.01."
            ),
            "/close 77": "No open position #77.",
            "/chart GBPJPY": "No market data for GBPJPY M15.",
            "/settings MAGIC 1": "MAGIC cannot be changed from the chat. These can: RISK_PCT,",
            "/hello": "Unknown command. Send /help to see what you may do.",
        }
        for text, expected in cases.items():
            [reply] = texts(await rig.ask(rig.admin, text))
            assert reply.startswith(expected), (text, reply)
        assert texts(await rig.ask(rig.admin, "just text")) == [
            "Send /start for the menu or /help for the commands."
        ]


async def test_command_menus_per_language_and_role(
    telegram: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_bot(telegram, tmp_path, monkeypatch) as rig:
        calls = telegram.calls("setMyCommands")
        by_scope = {
            (json.dumps(c.params.get("scope")), c.params.get("language_code")): c.params
            for c in calls
        }
        default = by_scope[("null", None)]["commands"]
        assert [c["command"] for c in default][:3] == ["start", "help", "status"]
        assert "force" not in {c["command"] for c in default}
        russian = by_scope[("null", "ru")]["commands"]
        assert russian[0] == {"command": "start", "description": "Главное меню"}
        assert by_scope[("null", "mn")]["commands"][0]["description"] == "Үндсэн цэс"
        admin = by_scope[(json.dumps({"type": "chat", "chat_id": ADMIN}), None)]["commands"]
        assert [c["command"] for c in admin][-3:] == ["users", "grant", "revoke"]
        trader = by_scope[(json.dumps({"type": "chat", "chat_id": TRADER}), None)]["commands"]
        assert "close" in {c["command"] for c in trader} and "force" not in str(trader)
        await rig.ask(rig.admin, "/lang ru")
        mine = telegram.calls("setMyCommands")[-1].params
        assert mine["scope"] == {"type": "chat", "chat_id": ADMIN}
        assert mine["commands"][0]["description"] == "Главное меню"
