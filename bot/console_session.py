"""A Bot API that lives in the terminal: ``ConsoleSession`` is an aiogram ``BaseSession`` that
never touches the network. Each Bot API call the handlers (or the outbox worker) make is
answered here as Telegram would answer it, and what a person would see is written to a text
stream instead: messages as plain text (HTML tags dropped), photos and documents saved under a
folder with their paths printed, inline keyboards as numbered buttons.

Results are built as Bot API JSON and parsed by aiogram's own ``check_response``, so handlers
get the same typed objects as from Telegram; a method the console cannot act out gets a 400
(``TelegramBadRequest``). The last keyboard shown is what ``pressable`` returns; the console
(``bot.console``) turns a typed number into a press of that button.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    DeleteMyCommands,
    DeleteWebhook,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetMyCommands,
    SendChatAction,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, InputMediaDocument, InputMediaPhoto
from aiogram.utils.i18n import I18n

from bot.i18n import _, localized

_TAG = re.compile(r"<[^>]+>")
_TRUE = (DeleteMessage, DeleteMyCommands, DeleteWebhook, SendChatAction, SetMyCommands, SetWebhook)


def plain(text: str) -> str:
    """What a person reads of Telegram HTML: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text))


class Refused(Exception):
    """A call the console answers with 400 Bad Request (the text is the description)."""


@dataclass(frozen=True, slots=True)
class Button:
    """A pressable button of the last keyboard: its label, callback data and message."""

    number: int
    label: str
    data: str
    message_id: int


class ConsoleSession(BaseSession):
    """Answers Bot API methods locally for one private chat and writes to ``out``."""

    def __init__(
        self,
        out: TextIO,
        files: Path,
        *,
        chat: dict[str, Any],
        i18n: I18n,
        locale: str,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.i18n = i18n
        self.locale = locale
        self.out = out
        self.files = files
        self.chat = chat
        self.messages: dict[int, dict[str, Any]] = {}
        self.saved: list[Path] = []
        self.pressable: list[Button] = []
        self._now = now
        self._ids = itertools.count(1)
        self._files = itertools.count(1)

    # ------------------------------------------------------------------ BaseSession

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        try:
            result = await self._answer(bot, method)
        except Refused as exc:  # what Telegram says to a bad edit or an unknown method
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}
            self.check_response(bot, method, 400, json.dumps(body))  # raises TelegramBadRequest
            raise
        response = self.check_response(
            bot, method, 200, json.dumps({"ok": True, "result": result})
        )
        return cast(TelegramType, response.result)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        msg = "the console has no files to download"
        raise RuntimeError(msg)
        yield b""  # an async generator, as the base class declares

    async def close(self) -> None:
        return None

    # ------------------------------------------------------------------ methods

    async def _answer(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return {
                "id": bot.id,
                "is_bot": True,
                "first_name": "chattrader",
                "username": "chattrader_console_bot",
            }
        if isinstance(method, _TRUE):
            return True
        if isinstance(method, GetMyCommands):
            return []
        if isinstance(method, AnswerCallbackQuery):
            if method.text:
                self._write(f"  » {method.text}")
            return True
        if isinstance(method, SendMessage):
            return self._show(bot, {"text": plain(method.text)}, method.reply_markup)
        if isinstance(method, SendPhoto | SendDocument):
            return await self._send_file(bot, method)
        if isinstance(method, SendMediaGroup):
            return await self._send_album(bot, method)
        if isinstance(method, EditMessageText | EditMessageCaption | EditMessageReplyMarkup):
            return self._edit(method)
        raise Refused(f"{type(method).__name__} is not available in the console")

    def _message(self, bot: Bot, fields: dict[str, Any], markup: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(self._now()),
            "chat": self.chat,
            "from": {"id": bot.id, "is_bot": True, "first_name": "chattrader"},
            **fields,
        }
        if isinstance(markup, InlineKeyboardMarkup):
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        self.messages[message["message_id"]] = message
        return message

    def _show(self, bot: Bot, fields: dict[str, Any], markup: Any) -> dict[str, Any]:
        message = self._message(bot, fields, markup)
        self._write("")
        self._write(message.get("text") or message.get("caption") or "")
        self._keyboard(message)
        return message

    async def _send_file(self, bot: Bot, method: SendPhoto | SendDocument) -> dict[str, Any]:
        item = method.photo if isinstance(method, SendPhoto) else method.document
        photo = isinstance(method, SendPhoto)
        fields, saved = await self._file_fields(bot, item, photo=photo)
        caption = plain(method.caption) if isinstance(method.caption, str) else ""
        if caption:
            fields["caption"] = caption
        message = self._show(bot, fields, method.reply_markup)
        self._write(saved)
        return message

    async def _send_album(self, bot: Bot, method: SendMediaGroup) -> list[dict[str, Any]]:
        """An album: the caption once (Telegram shows the first item's under the album),
        then each file's saved path."""
        for item in method.media:
            if not isinstance(item, InputMediaPhoto | InputMediaDocument):
                raise Refused(f"{type(item).__name__} albums are not available in the console")
        group = f"album-{next(self._files)}"
        messages, lines = [], []
        for item in method.media:
            photo = isinstance(item, InputMediaPhoto)
            fields, saved = await self._file_fields(bot, item.media, photo=photo)
            if isinstance(item.caption, str) and item.caption:
                fields["caption"] = plain(item.caption)
            messages.append(self._message(bot, {**fields, "media_group_id": group}, None))
            lines.append(saved)
        captions = [m["caption"] for m in messages if m.get("caption")]
        self._write("")
        self._write("\n".join(captions))
        for line in lines:
            self._write(line)
        return messages

    async def _file_fields(
        self, bot: Bot, item: Any, *, photo: bool
    ) -> tuple[dict[str, Any], str]:
        """The message fields of one sent file and the line telling where it was saved."""
        data = b""
        name = "file"
        if isinstance(item, InputFile):
            name = item.filename or name
            async for chunk in item.read(bot):
                data += chunk
        path = self._save(name, data)
        number = next(self._files)
        file_id = f"console-{number}"
        if photo:
            size = {"width": 1280, "height": 900}
            fields = {"photo": [{"file_id": file_id, "file_unique_id": file_id, **size}]}
            return fields, "  🖼 " + self._chrome(
                lambda: _("Photo saved: {path}").format(path=path)
            )
        fields = {"document": {"file_id": file_id, "file_unique_id": file_id, "file_name": name}}
        saved = self._chrome(lambda: _("File saved: {path}").format(path=path))
        return fields, f"  📎 {saved}"

    def _save(self, name: str, data: bytes) -> Path:
        self.files.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "file"
        path = self.files / f"{len(self.saved) + 1:03d}-{safe}"
        path.write_bytes(data)
        self.saved.append(path)
        return path

    def _edit(self, method: EditMessageText | EditMessageCaption | EditMessageReplyMarkup) -> Any:
        if method.message_id is None:
            return True  # an inline message: nothing shown here
        message = self.messages.get(method.message_id)
        if message is None:
            raise Refused("message to edit not found")
        if isinstance(method, EditMessageText):
            message["text"] = plain(method.text)
        elif isinstance(method, EditMessageCaption) and isinstance(method.caption, str):
            message["caption"] = plain(method.caption)
        before = message.get("reply_markup")
        markup = method.reply_markup
        if isinstance(markup, InlineKeyboardMarkup):
            message["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
        else:
            message.pop("reply_markup", None)
        # A progress edit keeps its Cancel button: shown once, still pressable, not repeated.
        shown = any(b.message_id == method.message_id for b in self.pressable)
        same_keys = shown and before is not None and message.get("reply_markup") == before
        if not isinstance(method, EditMessageReplyMarkup):
            self._write("")
            self._write(f"✎ {message.get('text') or message.get('caption') or ''}")
        if not same_keys:
            self.pressable = [b for b in self.pressable if b.message_id != method.message_id]
            self._keyboard(message)
        return message

    def _keyboard(self, message: dict[str, Any]) -> None:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if not rows:
            return
        self.pressable = []
        for row in rows:
            cells = []
            for button in row:
                if "callback_data" not in button:
                    cells.append(f"{button['text']} ({button.get('url', '')})")
                    continue
                number = len(self.pressable) + 1
                self.pressable.append(
                    Button(number, button["text"], button["callback_data"], message["message_id"])
                )
                cells.append(f"[{number}] {button['text']}")
            self._write("  " + "   ".join(cells))
        self._write("  " + self._chrome(lambda: _("Type a button's number to press it.")))

    def _chrome(self, make: Callable[[], str]) -> str:
        """The console's own words: in the update's language inside a handler, else in the
        console's (the outbox worker sends outside any update)."""
        if I18n.get_current(no_error=True) is not None:
            return make()
        with localized(self.i18n, self.locale):
            return make()

    def _write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()
