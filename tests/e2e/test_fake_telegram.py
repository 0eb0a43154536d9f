"""The fake Telegram Bot API speaks HTTP well enough for aiogram: a real Dispatcher polls it,
handlers' sends are recorded with decoded params and intact uploads, Telegram's limits and
error shapes reach aiogram as the right exceptions, and polling stops cleanly."""

from __future__ import annotations

import asyncio
import html
import struct
import zlib

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
)

from tests.e2e.conftest import BotFactory
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_html import EntityParseError, parse_html
from tests.fakes.telegram_polling import polling

ALICE = 1001
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="Close", callback_data="pos:c:42"),
            InlineKeyboardButton(text="Docs", url="https://example.org/docs"),
        ]
    ]
)


def png(width: int, height: int) -> bytes:
    """A valid 8-bit greyscale PNG with a gradient (built by hand: signature, IHDR, IDAT)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data)
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(x % 256 for x in range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def build_dispatcher(chart: bytes) -> Dispatcher:
    """/start greets in HTML, /chart sends a photo, /menu shows a keyboard whose button
    edits the message; any other text is echoed escaped."""
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def cmd_start(message: Message) -> None:
        await message.answer(f"Hello, <b>{html.escape(message.from_user.first_name)}</b>!")

    @dp.message(Command("chart"))
    async def cmd_chart(message: Message) -> None:
        photo = BufferedInputFile(chart, filename="xauusd.png")
        await message.answer_photo(photo, caption="<i>XAUUSD</i> H1")

    @dp.message(Command("menu"))
    async def cmd_menu(message: Message) -> None:
        await message.answer("Position #42", reply_markup=KEYBOARD)

    @dp.callback_query(F.data == "pos:c:42")
    async def on_close(query: CallbackQuery) -> None:
        await query.answer("Closing")
        await query.message.edit_text("Position #42 <s>open</s> closed")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(html.escape(message.text or ""))

    return dp


async def test_dispatcher_round_trip_over_http(telegram: FakeTelegram, bot: Bot) -> None:
    chart = png(640, 480)
    dp = build_dispatcher(chart)
    shutdowns: list[str] = []
    dp.shutdown.register(lambda: shutdowns.append("done"))
    alice = telegram.user(ALICE, "Alice <3")
    async with polling(dp, bot, telegram):
        start = telegram.send_text(alice, "/start")
        assert start["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        telegram.send_text(alice, "1 < 2 & 3")
        await telegram.wait_for("sendMessage", count=2)
        telegram.send_text(alice, "/chart")
        [photo_call] = await telegram.wait_for("sendPhoto")
        telegram.send_text(alice, "/menu")
        [menu] = await telegram.wait_for("sendMessage", where=lambda c: "reply_markup" in c.params)
        query_id = telegram.press_button(alice, menu, "pos:c:42")
        [answer] = await telegram.wait_for("answerCallbackQuery")
        [edit] = await telegram.wait_for("editMessageText")
    assert shutdowns == ["done"]

    greet = telegram.calls("sendMessage")[0]
    assert greet.params == {
        "chat_id": ALICE,
        "text": "Hello, <b>Alice &lt;3</b>!",
        "parse_mode": "HTML",
    }
    assert greet.result["text"] == "Hello, Alice <3!"
    # "Hello, " is 7 UTF-16 units; "Alice <3" is 8.
    assert greet.result["entities"] == [{"type": "bold", "offset": 7, "length": 8}]
    assert telegram.sent_texts(ALICE) == ["Hello, Alice <3!", "1 < 2 & 3", "Position #42"]

    upload = photo_call.file("photo")
    assert upload is not None
    assert upload.data == chart
    assert upload.filename == "xauusd.png"
    assert photo_call.params["caption"] == "<i>XAUUSD</i> H1"
    assert photo_call.result["caption"] == "XAUUSD H1"
    assert photo_call.result["caption_entities"] == [{"type": "italic", "offset": 0, "length": 6}]
    # 640x480 scaled to longest sides 90 and 320, then the original (800 >= 640).
    sizes = [(s["width"], s["height"]) for s in photo_call.result["photo"]]
    assert sizes == [(90, 67), (320, 240), (640, 480)]

    assert menu.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Close", "callback_data": "pos:c:42"},
                {"text": "Docs", "url": "https://example.org/docs"},
            ]
        ]
    }
    assert answer.params == {"callback_query_id": query_id, "text": "Closing"}
    assert edit.params["message_id"] == menu.result["message_id"]
    assert edit.result["text"] == "Position #42 open closed"
    assert "reply_markup" not in edit.result  # no reply_markup in an edit removes the keyboard
    with pytest.raises(ValueError, match="no button"):
        telegram.press_button(alice, menu, "pos:c:42")
    assert telegram.calls("getMe")[0].ok


async def test_update_is_delivered_once_across_restart(telegram: FakeTelegram, bot: Bot) -> None:
    dp = build_dispatcher(png(2, 2))
    alice = telegram.user(ALICE, "Alice")
    async with polling(dp, bot, telegram):
        telegram.send_text(alice, "ping")
        await telegram.wait_for("sendMessage")
        # The reply came after the poll that delivered the update returned, so a poll
        # waiting now is a later one, which confirmed the update with its offset.
        await telegram.wait_polling()
        assert telegram.pending_updates == 0
    assert telegram.sent_texts(ALICE) == ["ping"]
    assert telegram.pending_updates == 0

    # Written while the bot was down: delivered once polling restarts (same bot, new session).
    telegram.send_text(alice, "pong")
    async with polling(build_dispatcher(png(2, 2)), bot, telegram):
        await telegram.wait_for("sendMessage", count=2)
    assert telegram.sent_texts(ALICE) == ["ping", "pong"]


async def test_get_updates_offset_and_long_poll(telegram: FakeTelegram, bot: Bot) -> None:
    alice = telegram.user(ALICE, "Alice")
    first = telegram.send_text(alice, "one")["update_id"]
    second = telegram.send_text(alice, "two")["update_id"]
    unconfirmed = await bot.get_updates(offset=0, timeout=0)
    again = await bot.get_updates(offset=0, timeout=0)
    assert [u.update_id for u in unconfirmed] == [first, second]
    assert [u.update_id for u in again] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
    assert await bot.get_updates(offset=second + 1, timeout=0) == []
    assert telegram.pending_updates == 0

    waiting = asyncio.create_task(bot.get_updates(offset=second + 1, timeout=30))
    await telegram.wait_polling()
    third = telegram.send_text(alice, "three")["update_id"]
    # Returns as soon as the update is queued, far inside the 30 s poll.
    delivered = await asyncio.wait_for(waiting, timeout=5)
    assert [u.update_id for u in delivered] == [third]
    assert delivered[0].message.text == "three"

    await bot.set_webhook("https://example.org/hook")
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert telegram.pending_updates == 1  # "three" was delivered but never confirmed
    await bot.delete_webhook(drop_pending_updates=True)
    assert telegram.pending_updates == 0


async def test_group_messages_and_media_group(telegram: FakeTelegram, bot: Bot) -> None:
    alice = telegram.user(ALICE, "Alice")
    update = telegram.send_text(alice, "/status@chattrader_test_bot", chat_id=-1001234567890)
    chat = update["message"]["chat"]
    assert chat == {"id": -1001234567890, "type": "supergroup", "title": "Group"}
    assert update["message"]["entities"][0]["length"] == 27
    images = [png(300, 100), png(100, 300)]
    media = [
        InputMediaPhoto(media=BufferedInputFile(images[0], "a.png"), caption="<b>A</b>"),
        InputMediaPhoto(media=BufferedInputFile(images[1], "b.png")),
    ]
    sent = await bot.send_media_group(chat["id"], media)
    assert [m.message_id for m in sent] == [2, 3]  # the user's message was 1 in this chat
    assert sent[0].media_group_id == sent[1].media_group_id is not None
    assert sent[0].caption == "A"
    [call] = telegram.calls("sendMediaGroup")
    received = [
        call.files[item["media"].removeprefix("attach://")].data for item in call.params["media"]
    ]
    assert received == images
    assert [p.width for p in sent[1].photo] == [30, 100]  # 100x300 → 30x90, then original


async def test_limits_reach_aiogram_as_bad_requests(telegram: FakeTelegram, bot: Bot) -> None:
    telegram.user(ALICE, "Alice")
    await bot.send_message(ALICE, "a" * 4096)
    await bot.send_message(ALICE, "<b>" + "a" * 4096 + "</b>")  # 4096 after parsing
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "\N{GRINNING FACE}" * 2049)  # 4098 UTF-16 units
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ALICE, BufferedInputFile(png(2, 2), "p.png"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(ALICE, BufferedInputFile(b"not an image", "p.png"))
    ok = InlineKeyboardButton(text="ok", callback_data="x" * 64)
    await bot.send_message(ALICE, "k", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[ok]]))
    too_long = InlineKeyboardButton(text="no", callback_data="x" * 65)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            ALICE, "k", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[too_long]])
        )
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await bot.send_message(ALICE, "price < 2000")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(4242, "hi")
    sent = await bot.send_message(ALICE, "same", reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await sent.edit_text("same", reply_markup=KEYBOARD)
    assert await bot.delete_message(ALICE, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    assert [c.status for c in telegram.calls("sendMessage")] == [
        200,
        200,
        400,
        400,
        200,
        400,
        400,
        400,
        200,
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<font>x</font>", 'Unsupported start tag "font" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("x </b>", "Unexpected end tag at byte offset 2"),
        ("R&D", 'Unsupported HTML entity or unescaped "&" at byte offset 1'),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("€<b", "Unclosed start tag at byte offset 3"),  # € is 3 bytes in UTF-8
    ],
)
def test_html_refusals(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(text)
    assert str(caught.value) == error


def test_html_entities_in_utf16_units() -> None:
    text = (
        '\N{GRINNING FACE} <b>up <i>1%</i></b> &lt;&#60;&#x3C; <a href="https://x.org/?a=1&amp;b=2">'
        'link</a> <pre><code class="language-python">x = 1</code></pre>'
        ' <span class="tg-spoiler">s</span> <blockquote expandable>q</blockquote>'
    )
    plain, entities = parse_html(text)
    assert plain == "\N{GRINNING FACE} up 1% <<< link x = 1 s q"
    # The emoji counts 2 UTF-16 units, so "up 1%" starts at 3 and "1%" at 6.
    assert entities == [
        {"type": "bold", "offset": 3, "length": 5},
        {"type": "italic", "offset": 6, "length": 2},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.org/?a=1&b=2"},
        {"type": "pre", "offset": 18, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 24, "length": 1},
        {"type": "expandable_blockquote", "offset": 26, "length": 1},
    ]


async def test_injected_faults(telegram: FakeTelegram, bot: Bot) -> None:
    telegram.user(ALICE, "Alice")
    telegram.fail_next("sendMessage", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as flood:
        await bot.send_message(ALICE, "first")
    assert flood.value.retry_after == 7
    assert telegram.calls("sendMessage")[0].description == "Too Many Requests: retry after 7"

    telegram.drop_next("sendMessage", times=2)
    for _ in range(2):
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(ALICE, "lost")
    telegram.drop_next("sendMessage", after_processing=True)
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE, "delivered, unacknowledged")
    telegram.fail_next("sendMessage", status=403, where=lambda p: p["text"] == "blocked")
    await bot.send_message(ALICE, "not matched")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "blocked")
    telegram.fail_next("sendMessage", status=500, description="Internal Server Error: boom")
    with pytest.raises(TelegramServerError, match="boom"):
        await bot.send_message(ALICE, "oops")
    await bot.send_message(ALICE, "finally")

    statuses = [c.status for c in telegram.calls("sendMessage")]
    assert statuses == [429, 0, 0, 0, 200, 403, 500, 200]
    assert telegram.sent_texts(ALICE) == ["delivered, unacknowledged", "not matched", "finally"]


async def test_wrong_token_unknown_method_and_raw_bodies(
    telegram: FakeTelegram, make_bot: BotFactory
) -> None:
    stranger = make_bot(token="987654321:wrong-token")
    with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
        await stranger.get_me()
    telegram.user(ALICE, "Alice")
    url = f"{telegram.base_url}/bot{telegram.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/sendTeleport", data={"chat_id": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        body = {"chat_id": ALICE, "text": "[json]", "reply_markup": {"inline_keyboard": []}}
        async with http.post(f"{url}/SENDMESSAGE", json=body) as resp:
            assert resp.status == 200
        async with http.get(f"{url}/getMe") as resp:
            assert (await resp.json())["result"]["id"] == 123456789
    [call] = telegram.calls("sendMessage")
    assert call.params == body
    assert [c.status for c in telegram.calls("getMe")] == [401, 200]


async def test_commands_and_callback_answers(telegram: FakeTelegram, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="status", description="Status"),
    ]
    assert await bot.set_my_commands(commands) is True
    assert await bot.set_my_commands(commands[:1], language_code="ru") is True
    assert [c.command for c in await bot.get_my_commands()] == ["start", "status"]
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == ["start"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []

    alice = telegram.user(ALICE, "Alice")
    sent = await bot.send_message(ALICE, "menu", reply_markup=KEYBOARD)
    query_id = telegram.press_button(
        alice, sent.model_dump(mode="json", by_alias=True), "pos:c:42"
    )
    assert await bot.answer_callback_query(query_id) is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    assert await bot.send_chat_action(ALICE, "typing") is True
    chat = await bot.get_chat(ALICE)
    assert (chat.type, chat.first_name) == ("private", "Alice")
