"""Sending replies for a message or a button press: long text split under Telegram's limit,
charts as in-memory uploads, confirmation cards edited in place."""

from __future__ import annotations

import contextlib

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
)

from bot.html_split import CAPTION_LIMIT, split_html, utf16_len

Event = Message | CallbackQuery


def chat_of(event: Event) -> int:
    if isinstance(event, Message):
        return event.chat.id
    if event.message is not None:
        return event.message.chat.id
    return event.from_user.id


async def reply(event: Event, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send ``text`` to the event's chat in as many messages as it needs; the keyboard goes
    with the last part. Returns the last message sent."""
    parts = split_html(text)
    bot = event.bot
    assert bot is not None
    sent: Message | None = None
    for index, part in enumerate(parts):
        keyboard = markup if index == len(parts) - 1 else None
        if isinstance(event, Message):
            sent = await event.answer(part, reply_markup=keyboard)
        else:
            sent = await bot.send_message(chat_of(event), part, reply_markup=keyboard)
    assert sent is not None
    return sent


async def photo(event: Event, png: bytes, filename: str, caption: str) -> Message:
    """A PNG from memory (``BufferedInputFile``) with an HTML caption cut to 1024 units."""
    if utf16_len(caption) > CAPTION_LIMIT:
        caption = split_html(caption, CAPTION_LIMIT)[0]
    bot = event.bot
    assert bot is not None
    return await bot.send_photo(
        chat_of(event), BufferedInputFile(png, filename=filename), caption=caption
    )


async def edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace a card's text (and drop its buttons unless ``markup``); an identical text is
    not an error."""
    text = split_html(text)[0]
    with contextlib.suppress(TelegramBadRequest):  # "message is not modified"
        await message.edit_text(text, reply_markup=markup)
