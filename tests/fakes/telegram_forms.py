"""Request bodies of the fake Bot API decoded into typed parameters and uploaded files.

Bot API clients send urlencoded forms, multipart forms (when uploading) or JSON. In a form
every value is a string: aiogram JSON-encodes objects (`reply_markup`, `media`, `commands`,
`scope`, ...) and numbers and flags as JSON scalars. Decoding follows the parameter's declared
type in the Bot API, so a message text "123" or "[x]" stays a string.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.telegram_types import UploadedFile, bad_request

JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "user_id",
        "max_connections",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
    }
)


def _decode_value(name: str, raw: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    if name in INT_FIELDS:
        try:
            return int(raw)
        except ValueError:
            return raw  # "@channelusername" is a valid chat_id
    if name in BOOL_FIELDS:
        return raw.lower() in {"true", "1"}
    return raw


def decode_fields(fields: dict[str, str]) -> dict[str, Any]:
    """Typed parameters from string form fields (see the module docstring for the rules)."""
    return {name: _decode_value(name, raw) for name, raw in fields.items()}


async def _read_multipart(
    request: web.Request,
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise bad_request("unsupported multipart part")
        data = await part.read(decode=True)
        if part.filename is not None:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            files[part.name] = UploadedFile(part.name, part.filename, content_type, bytes(data))
        else:
            fields[part.name] = data.decode(part.get_charset(default="utf-8"))
    return fields, files


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Decoded parameters and uploaded files of one Bot API request (query string included)."""
    fields: dict[str, str] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return decode_fields(fields), files
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request("can't parse JSON request body") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        params = decode_fields(fields)
        params.update(body)
        return params, files
    if content_type.startswith("multipart/"):
        form_fields, files = await _read_multipart(request)
        fields.update(form_fields)
        return decode_fields(fields), files
    form = await request.post()
    fields.update({name: value for name, value in form.items() if isinstance(value, str)})
    return decode_fields(fields), files
