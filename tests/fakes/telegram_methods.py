"""The fake Bot API's method table: every method it answers (except getUpdates, which the
server answers itself because it waits), looked up case-insensitively as Telegram does.

Besides the message methods: getMe, getChat, sendChatAction, answerCallbackQuery, the
getMyCommands / setMyCommands / deleteMyCommands trio per scope and language, and
setWebhook / deleteWebhook / getWebhookInfo (a set webhook makes getUpdates a 409, as on
Telegram). Command rules: 1..32 characters of a-z, 0-9 and _, description 1..256 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.fakes import telegram_messages as messages
from tests.fakes.telegram_state import BotApiState
from tests.fakes.telegram_types import UploadedFile, bad_request

Handler = Callable[[BotApiState, dict[str, Any], dict[str, UploadedFile]], Any]

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_MAX_COMMANDS = 100


def get_me(state: BotApiState, _: dict[str, Any], __: dict[str, UploadedFile]) -> Any:
    """getMe → the bot's User."""
    return state.bot_user


def get_chat(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """getChat → ChatFullInfo of a known chat."""
    chat = state.chat(params.get("chat_id"))
    return {
        **chat.to_json(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def send_chat_action(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """sendChatAction → True for a known action in a known chat."""
    state.chat(params.get("chat_id"))
    if params.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


def answer_callback_query(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """answerCallbackQuery → True, once per query the fake delivered."""
    query_id = params.get("callback_query_id")
    if query_id not in state.pending_callbacks:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    state.pending_callbacks.discard(query_id)
    return True


def set_my_commands(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """setMyCommands → True; stores the list for its scope and language."""
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > _MAX_COMMANDS:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        name = command.get("command") if isinstance(command, dict) else None
        if not isinstance(name, str) or _COMMAND.fullmatch(name) is None:
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    state.commands[state.commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


def get_my_commands(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """getMyCommands → the list stored for the scope and language (empty if none)."""
    return state.commands.get(state.commands_key(params), [])


def delete_my_commands(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """deleteMyCommands → True; forgets the list for the scope and language."""
    state.commands.pop(state.commands_key(params), None)
    return True


def set_webhook(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """setWebhook → True; an https URL is required."""
    url = str(params.get("url") or "")
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    state.webhook_url = url
    return True


def delete_webhook(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """deleteWebhook → True (pending updates are dropped by the server when asked)."""
    state.webhook_url = ""
    return True


def get_webhook_info(state: BotApiState, _: dict[str, Any], __: dict[str, UploadedFile]) -> Any:
    """getWebhookInfo → WebhookInfo (pending count is filled in by the server)."""
    return {"url": state.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}


METHODS: dict[str, Handler] = {
    "getMe": get_me,
    "getChat": get_chat,
    "sendMessage": messages.send_message,
    "sendPhoto": messages.send_photo,
    "sendDocument": messages.send_document,
    "sendMediaGroup": messages.send_media_group,
    "editMessageText": messages.edit_message_text,
    "editMessageCaption": messages.edit_message_caption,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "deleteMessage": messages.delete_message,
    "sendChatAction": send_chat_action,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
GET_UPDATES = "getUpdates"
_CANONICAL = {name.lower(): name for name in (*METHODS, GET_UPDATES)}


def canonical_method(name: str) -> str | None:
    """The method's Bot API spelling (Telegram matches names case-insensitively), or None."""
    return _CANONICAL.get(name.lower())
