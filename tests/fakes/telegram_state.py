"""What the fake Telegram remembers between calls: the bot's identity, known users and chats,
every message in every chat (as its current Bot API JSON), callback queries awaiting an answer,
bot commands per scope and language, the webhook, and uploaded files.

Message ids count up per chat from 1, shared by the users' and the bot's messages, as in a
private chat on Telegram. A private chat is known once its user is created (the user "started"
the bot); sending to any other chat id is Telegram's 400 "chat not found".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.fakes.telegram_media import MediaStore
from tests.fakes.telegram_types import TgChat, TgUser, bad_request

SUPERGROUP_ID_BELOW = -1_000_000_000_000


class BotApiState:
    """Chats, messages, callbacks, commands and files of one fake Bot API server."""

    def __init__(self, bot_user: dict[str, Any], now: Callable[[], float]) -> None:
        self.bot_user = bot_user
        self.now = now
        self.media = MediaStore()
        self.users: dict[int, TgUser] = {}
        self.chats: dict[int, TgChat] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.pending_callbacks: set[str] = set()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self._last_message_id: dict[int, int] = {}
        self._media_groups = 0

    def date(self) -> int:
        """The current Unix time in whole seconds, as Telegram stamps messages."""
        return int(self.now())

    def add_user(self, user: TgUser) -> TgChat:
        """Register a user and their private chat with the bot."""
        self.users[user.id] = user
        chat = TgChat(user.id, "private", first_name=user.first_name, username=user.username)
        self.chats[user.id] = chat
        return chat

    def add_group(self, chat_id: int, title: str) -> TgChat:
        """Register a group (supergroup when the id has Telegram's -100… form)."""
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        kind = "supergroup" if chat_id <= SUPERGROUP_ID_BELOW else "group"
        chat = TgChat(chat_id, kind, title=title)
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: Any) -> TgChat:
        """The chat a method names, or Telegram's 400 "chat not found"."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def new_message(
        self, chat: TgChat, sender: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a message with the chat's next id and the current date; returns its JSON."""
        message_id = self._last_message_id.get(chat.id, 0) + 1
        self._last_message_id[chat.id] = message_id
        message = {
            "message_id": message_id,
            "from": sender,
            "chat": chat.to_json(),
            "date": self.date(),
            **content,
        }
        self.messages[(chat.id, message_id)] = message
        return message

    def message(self, chat_id: Any, message_id: Any) -> dict[str, Any] | None:
        """A stored message's current JSON, if it exists."""
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            return None
        return self.messages.get((chat_id, message_id))

    def bot_message(self, params: dict[str, Any], missing: str) -> dict[str, Any]:
        """The bot's own message named by chat_id and message_id, or a 400 (`missing` text)."""
        if "inline_message_id" in params:
            raise bad_request("inline messages are not supported by the fake")
        self.chat(params.get("chat_id"))
        message = self.message(params.get("chat_id"), params.get("message_id"))
        if message is None:
            raise bad_request(missing)
        if message["from"].get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return message

    def next_media_group_id(self) -> str:
        """A fresh `media_group_id`."""
        self._media_groups += 1
        return f"{13_000_000_000_000 + self._media_groups}"

    def commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        """Storage key of a command list: its scope (default "default") and language code."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
