"""Updates the fake Telegram queues as its users act, and getUpdates long polling over them.

Telegram semantics: updates wait in a queue until a getUpdates call confirms them with an
`offset` greater than their id (a negative offset keeps only the last -offset ones); a call
returns at once when something is queued and otherwise waits up to `timeout` seconds; a newer
getUpdates terminates a waiting older one with 409; `allowed_updates` (remembered across calls)
discards other update types. Message updates carry a `bot_command` entity for a leading
/command, as Telegram's do.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from tests.fakes.telegram_html import utf16_len
from tests.fakes.telegram_state import BotApiState
from tests.fakes.telegram_types import ApiError, Call, TgChat, TgUser

FIRST_UPDATE_ID = 700_000_001
FIRST_CALLBACK_ID = 4_200_000_000_000_000_001
MAX_UPDATES = 100
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,})?")
TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


def update_type(update: dict[str, Any]) -> str:
    """The kind of an update: its one key besides `update_id`."""
    return next(key for key in update if key != "update_id")


class UpdateQueue:
    """Queued updates, the user-side builders that fill it, and long polling that drains it."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: list[str] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._next_callback_id = FIRST_CALLBACK_ID
        self._wakeup = asyncio.Event()
        self._poll_seq = 0
        self.waiting = 0
        self.poll_waiting = asyncio.Event()
        self.closing = False

    def _wake(self) -> None:
        # Replacing the event wakes exactly the waiters that hold the old one.
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def close(self) -> None:
        """Make every waiting getUpdates return its (empty) answer now."""
        self.closing = True
        self._wake()

    def queue(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue one update (`{"message": {...}}` etc.); returns it with its `update_id`."""
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        self.updates.append(update)
        self._wake()
        return update

    def user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None,
        last_name: str | None,
    ) -> TgUser:
        """A user who has started the bot (their private chat is known)."""
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        user = TgUser(user_id, first_name, language_code, username, last_name)
        self.state.add_user(user)
        return user

    def _chat_for(self, user: TgUser, chat_id: int | None) -> TgChat:
        if user.id not in self.state.users:
            self.state.add_user(user)
        if chat_id is None or chat_id == user.id:
            return self.state.chats[user.id]
        if chat_id > 0:
            raise ValueError(f"a private chat's id is its user's id ({user.id}), got {chat_id}")
        known = self.state.chats.get(chat_id)
        return known if known is not None else self.state.add_group(chat_id, "Group")

    def send_text(self, user: TgUser, text: str, chat_id: int | None) -> dict[str, Any]:
        """Queue a text message from `user` (in a group when `chat_id` is negative)."""
        chat = self._chat_for(user, chat_id)
        content: dict[str, Any] = {"text": text}
        command = _COMMAND.match(text)
        if command is not None:
            length = utf16_len(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self.state.new_message(chat, user.to_json(), content)
        return self.queue({"message": dict(message)})

    def press_button(
        self, user: TgUser, message: Call | dict[str, Any], data: str
    ) -> tuple[str, dict[str, Any]]:
        """Queue a callback query for a button on the bot's message; (query id, update)."""
        sent = message.result if isinstance(message, Call) else message
        if not isinstance(sent, dict) or "message_id" not in sent:
            raise ValueError("press_button needs one bot message (a Call or its result)")
        chat_id = sent["chat"]["id"]
        current = self.state.message(chat_id, sent["message_id"])
        if current is None:
            raise ValueError(f"message {sent['message_id']} in chat {chat_id} no longer exists")
        if chat_id > 0 and chat_id != user.id:
            raise ValueError(f"user {user.id} cannot see private chat {chat_id}")
        rows = current.get("reply_markup", {}).get("inline_keyboard", [])
        offered = [b["callback_data"] for row in rows for b in row if "callback_data" in b]
        if data not in offered:
            raise ValueError(f"no button with callback_data {data!r}; offered: {offered}")
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self.state.pending_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": dict(current),
            "chat_instance": str(-chat_id * 7919 + 12345),
            "data": data,
        }
        return query_id, self.queue({"callback_query": query})

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    def _ready(self, limit: int) -> list[dict[str, Any]]:
        if self.allowed_updates:
            allowed = set(self.allowed_updates)
            self.updates = [u for u in self.updates if update_type(u) in allowed]
        return self.updates[:limit]

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Answer one getUpdates call (see the module docstring); waits at most `timeout` s."""
        if self.state.webhook_url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or MAX_UPDATES), 1), MAX_UPDATES)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        self._confirm(offset)
        self._poll_seq += 1
        mine = self._poll_seq
        self._wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._poll_seq != mine:
                raise ApiError(409, TERMINATED)
            ready = self._ready(limit)
            remaining = deadline - loop.time()
            if ready or self.closing or remaining <= 0:
                return ready
            event = self._wakeup
            self.waiting += 1
            self.poll_waiting.set()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
            finally:
                self.waiting -= 1
                if not self.waiting:
                    self.poll_waiting.clear()

    def drop_pending(self) -> None:
        """Forget every queued update (deleteWebhook with drop_pending_updates)."""
        self.updates.clear()
