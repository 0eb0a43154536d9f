"""Values shared by the fake Telegram Bot API: recorded calls, uploaded files, users, chats,
injected faults and the error the method handlers raise to answer `{"ok": false, ...}`.

Everything here is plain data; JSON shapes follow the Bot API (`User`, `Chat`) so the builders
can put them straight into updates and results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ATTACH_PREFIX = "attach://"


class ApiError(Exception):
    """A Bot API refusal: answered as `{"ok": false, "error_code", "description", ...}`.

    `retry_after` (seconds) becomes `parameters.retry_after`, as Telegram sends with 429.
    """

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        """The error body Telegram sends for this refusal."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 with Telegram's "Bad Request: <detail>" description."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One multipart file part exactly as received: field name, filename, type and bytes."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made, recorded after it was answered.

    `params` are decoded (JSON form fields such as `reply_markup` or `media` become dicts and
    lists, ids become ints, flags become bools); `files` maps multipart part names to their
    content. `at` is `time.monotonic()` seconds when the request arrived. `status` is the HTTP
    status answered, 0 when the connection was dropped without an answer. `result` is the
    `"result"` sent when `status == 200`, `description` the error text otherwise.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    status: int
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """True when Telegram answered `{"ok": true}`."""
        return self.status == 200

    def file(self, name: str) -> UploadedFile | None:
        """The upload a parameter refers to: `photo="attach://k"` → part `k`, or part `name`."""
        value = self.params.get(name)
        if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
            return self.files.get(value.removeprefix(ATTACH_PREFIX))
        return self.files.get(name)


@dataclass(frozen=True, slots=True)
class TgUser:
    """A Telegram user as the fake presents them in updates."""

    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    last_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API `User` object (is_bot false)."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True, slots=True)
class TgChat:
    """A chat: private (id is the user's id) or group/supergroup (negative id, a title)."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The Bot API `Chat` object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title is not None:
            data["title"] = self.title
        if self.first_name is not None:
            data["first_name"] = self.first_name
        if self.username is not None:
            data["username"] = self.username
        return data


ParamsPredicate = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected failure for one call: an error answer, or a dropped connection (status 0).

    `after_processing` (drops only) performs the method first, so the effect happened but the
    bot never hears of it. `where` restricts the fault to calls whose decoded params match.
    """

    status: int
    description: str = ""
    retry_after: int | None = None
    after_processing: bool = False
    where: ParamsPredicate | None = field(default=None, compare=False)

    @property
    def drops(self) -> bool:
        """True when the connection is closed instead of answered."""
        return self.status == 0
