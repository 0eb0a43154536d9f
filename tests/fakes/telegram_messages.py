"""The fake Bot API's message methods: send text, photos, documents and albums, edit text,
captions and keyboards, delete. Each checks what Telegram checks and a bot can get wrong:
text 1..4096 and captions up to 1024 UTF-16 code units after entity parsing, valid HTML for
`parse_mode=HTML`, callback_data 1..64 bytes, editing to identical content, missing messages.

Only HTML is parsed; a Markdown or MarkdownV2 text is measured as sent. Lengths count UTF-16
code units, Telegram's unit for entities, so a splitter that keeps parts within 4096 of them
is safe whichever way Telegram counts.

Handlers take the server state, decoded params and uploaded files, and return the `result`
JSON or raise ApiError. Errors carry Telegram's descriptions.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_html import EntityParseError, parse_html, utf16_len
from tests.fakes.telegram_state import BotApiState
from tests.fakes.telegram_types import ATTACH_PREFIX, UploadedFile, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
MEDIA_GROUP_SIZES = range(2, 11)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


def formatted(
    params: dict[str, Any], key: str, entities_key: str, limit: int, too_long: str
) -> dict[str, Any]:
    """`{key: plain, entities_key: [...]}` for a text or caption parameter, checked."""
    raw = params.get(key)
    if raw is None:
        return {}
    text = str(raw)
    entities = params.get(entities_key)
    mode = str(params.get("parse_mode") or "")
    if entities is None and mode.lower() == "html":
        try:
            text, entities = parse_html(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif entities is None and mode not in {"", "Markdown", "MarkdownV2"}:
        raise bad_request("unsupported parse_mode")
    if utf16_len(text) > limit:
        raise bad_request(too_long)
    content: dict[str, Any] = {key: text}
    if entities:
        content[entities_key] = entities
    return content


def text_content(params: dict[str, Any]) -> dict[str, Any]:
    """Checked `text` and `entities` of a text message."""
    content = formatted(params, "text", "entities", TEXT_LIMIT, "message is too long")
    if not content.get("text", "").strip():
        raise bad_request("message text is empty")
    return content


def caption_content(params: dict[str, Any]) -> dict[str, Any]:
    """Checked `caption` and `caption_entities`, empty when no caption was given."""
    content = formatted(
        params, "caption", "caption_entities", CAPTION_LIMIT, "message caption is too long"
    )
    return content if content.get("caption") else {}


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    actions = _BUTTON_ACTIONS.intersection(button)
    if not actions:
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if "callback_data" in actions:
        data = button["callback_data"]
        size = len(data.encode("utf-8")) if isinstance(data, str) else 0
        if not 1 <= size <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions and not str(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")


def inline_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The inline keyboard a message will carry (None for none or a reply keyboard), checked."""
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard markup: field must be an Array of Arrays")
    for row in rows:
        for button in row:
            _check_button(button)
    return {"inline_keyboard": rows}


def _extras(state: BotApiState, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    markup = inline_markup(params)
    if markup is not None:
        extras["reply_markup"] = markup
    reply = params.get("reply_parameters") or {}
    reply_to = reply.get("message_id", params.get("reply_to_message_id"))
    if reply_to is not None:
        target = state.message(reply.get("chat_id", chat_id), reply_to)
        if target is not None:
            extras["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        elif not (
            reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")
        ):
            raise bad_request("message to be replied not found")
    return extras


def send_message(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """sendMessage → the sent Message."""
    chat = state.chat(params.get("chat_id"))
    content = text_content(params)
    return state.new_message(chat, state.bot_user, {**content, **_extras(state, chat.id, params)})


def _upload(
    value: Any, field: str, files: dict[str, UploadedFile], missing: str
) -> UploadedFile | str:
    if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
        upload = files.get(value.removeprefix(ATTACH_PREFIX))
        if upload is None:
            raise bad_request(missing)
        return upload
    if value is None and field in files:
        return files[field]
    if not value:
        raise bad_request(missing)
    if str(value).startswith(("http://", "https://")):
        raise bad_request("failed to get HTTP URL content")
    return str(value)


def _media_json(state: BotApiState, kind: str, source: UploadedFile | str) -> Any:
    if isinstance(source, str):
        return state.media.resend(source, kind)
    if kind == "photo":
        return state.media.store_photo(source)
    return state.media.store_document(source)


def _send_media(
    state: BotApiState, params: dict[str, Any], files: dict[str, UploadedFile], kind: str
) -> Any:
    chat = state.chat(params.get("chat_id"))
    source = _upload(params.get(kind), kind, files, f"there is no {kind} in the request")
    content = {kind: _media_json(state, kind, source), **caption_content(params)}
    return state.new_message(chat, state.bot_user, {**content, **_extras(state, chat.id, params)})


def send_photo(state: BotApiState, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
    """sendPhoto → the sent Message with its `photo` sizes."""
    return _send_media(state, params, files, "photo")


def send_document(
    state: BotApiState, params: dict[str, Any], files: dict[str, UploadedFile]
) -> Any:
    """sendDocument → the sent Message with its `document`."""
    return _send_media(state, params, files, "document")


def send_media_group(
    state: BotApiState, params: dict[str, Any], files: dict[str, UploadedFile]
) -> Any:
    """sendMediaGroup → the list of sent Messages sharing one `media_group_id`."""
    chat = state.chat(params.get("chat_id"))
    media = params.get("media")
    if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
        raise bad_request("media group must contain 2-10 items")
    prepared: list[dict[str, Any]] = []
    for item in media:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind not in {"photo", "document"}:
            raise bad_request("the fake supports photo and document albums only")
        source = _upload(item.get("media"), "", files, "can't parse InputMedia: media not found")
        item_params = {**item, "parse_mode": item.get("parse_mode", params.get("parse_mode"))}
        prepared.append({kind: _media_json(state, kind, source), **caption_content(item_params)})
    group_id = state.next_media_group_id()
    extras = _extras(state, chat.id, {k: v for k, v in params.items() if k != "reply_markup"})
    return [
        state.new_message(chat, state.bot_user, {**content, "media_group_id": group_id, **extras})
        for content in prepared
    ]


def edit_message_text(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """editMessageText → the edited Message (an absent reply_markup removes the keyboard)."""
    message = state.bot_message(params, "message to edit not found")
    if "text" not in message:
        raise bad_request("there is no text in the message to edit")
    content: dict[str, Any] = text_content(params)
    markup = inline_markup(params)
    if markup is not None:
        content["reply_markup"] = markup
    return _edit(state, message, content, ("text", "entities"))


def edit_message_caption(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """editMessageCaption → the edited Message."""
    message = state.bot_message(params, "message to edit not found")
    if not {"photo", "document"}.intersection(message):
        raise bad_request("there is no caption in the message to edit")
    content = caption_content(params)
    markup = inline_markup(params)
    if markup is not None:
        content["reply_markup"] = markup
    return _edit(state, message, content, ("caption", "caption_entities"))


def edit_message_reply_markup(
    state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]
) -> Any:
    """editMessageReplyMarkup → the edited Message (no reply_markup removes the keyboard)."""
    message = state.bot_message(params, "message to edit not found")
    markup = inline_markup(params)
    return _edit(state, message, {} if markup is None else {"reply_markup": markup}, ())


def _edit(
    state: BotApiState, message: dict[str, Any], content: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    watched = (*keys, "reply_markup")
    before = {key: message.get(key) for key in watched}
    after = {key: content.get(key) for key in watched}
    if before == after:
        raise bad_request(NOT_MODIFIED)
    for key in watched:
        message.pop(key, None)
    message.update(content)
    message["edit_date"] = state.date()
    return message


def delete_message(state: BotApiState, params: dict[str, Any], _: dict[str, UploadedFile]) -> Any:
    """deleteMessage → True; a missing message is a 400."""
    chat = state.chat(params.get("chat_id"))
    message = state.message(chat.id, params.get("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    del state.messages[(chat.id, message["message_id"])]
    return True
