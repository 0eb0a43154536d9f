"""A fake Telegram Bot API server on loopback for end-to-end tests of the real dispatcher.

aiogram is pointed at `FakeTelegram.base_url` (`TelegramAPIServer.from_base`), so it speaks
real HTTP: `POST {base}/bot{token}/{method}` with urlencoded or multipart forms. The server
checks the token, decodes the body, records every call as a `Call`, answers with Bot API JSON
(`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters"}`)
and keeps chats and messages so edits, deletes and button presses behave as on Telegram.
Tests act as users (`send_text`, `press_button`), inject faults (`fail_next`, `drop_next`) and
wait for the bot's calls (`wait_for`) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.telegram_forms import read_params
from tests.fakes.telegram_methods import GET_UPDATES, METHODS, canonical_method
from tests.fakes.telegram_state import BotApiState
from tests.fakes.telegram_types import (
    ApiError,
    Call,
    Fault,
    ParamsPredicate,
    TgChat,
    TgUser,
    UploadedFile,
)
from tests.fakes.telegram_updates import UpdateQueue

DEFAULT_TOKEN = "123456789:AAFakeTelegramTokenForTests_0123456789"
CallPredicate = Callable[[Call], bool]
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class FakeTelegram:
    """The fake Bot API server: start it, point a Bot at `base_url`, act as users, assert calls.

    `token` is the only token accepted (others get 401 Unauthorized); the bot's id is the
    token's numeric prefix. `now` gives Unix seconds for message dates.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "chattrader_test_bot",
        bot_name: str = "ChatTrader Test",
        now: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.partition(":")[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.state = BotApiState(self.bot_user, now)
        self.updates = UpdateQueue(self.state)
        self.internal_errors: list[BaseException] = []
        self._calls: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._recorded = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    # lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Answer waiting long polls, close connections and stop listening."""
        self.updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`: the value for TELEGRAM_API_BASE / `from_base`."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_id(self) -> int:
        """The bot's user id (the token's numeric prefix)."""
        return int(self.bot_user["id"])

    # acting as users

    def user(
        self,
        user_id: int,
        first_name: str = "Tester",
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> TgUser:
        """A user who has started the bot; their private chat id equals `user_id`."""
        return self.updates.user(user_id, first_name, language_code, username, last_name)

    def group(self, chat_id: int, title: str = "Traders") -> TgChat:
        """A group the bot is in (negative id; -100… ids are supergroups)."""
        return self.state.add_group(chat_id, title)

    def send_text(self, user: TgUser, text: str, chat_id: int | None = None) -> dict[str, Any]:
        """Queue a message update from `user`; `chat_id` None is their private chat, a
        negative id a group. Returns the update (its `message` is the user's message)."""
        return self.updates.send_text(user, text, chat_id)

    def press_button(self, user: TgUser, message: Call | dict[str, Any], data: str) -> str:
        """Queue a callback query as `user` presses the button with `data` on the bot's
        `message` (a recorded send/edit Call or its result). Returns the query id the bot
        must answer. Raises ValueError when that message shows no such button."""
        query_id, _ = self.updates.press_button(user, message, data)
        return query_id

    def queue_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue any update body (`{"edited_message": {...}}`); returns it with `update_id`."""
        return self.updates.queue(payload)

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return len(self.updates.updates)

    # faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        where: ParamsPredicate | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (matching `where(params)`) with an error.

        429 defaults to retry_after=1 and "Too Many Requests: retry after N" with
        `parameters.retry_after`, as Telegram sends it; other statuses default to a
        Telegram description for that status.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
        fault = Fault(status, text, retry_after, where=where)
        self._faults.setdefault(self._method(method), []).extend([fault] * times)

    def drop_next(
        self,
        method: str,
        *,
        times: int = 1,
        after_processing: bool = False,
        where: ParamsPredicate | None = None,
    ) -> None:
        """Close the connection of the next `times` calls of `method` without answering
        (aiogram raises TelegramNetworkError). With `after_processing` the method takes effect
        first: the message is sent, the bot just never learns it."""
        fault = Fault(0, after_processing=after_processing, where=where)
        self._faults.setdefault(self._method(method), []).extend([fault] * times)

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        queue = self._faults.get(method, [])
        for index, fault in enumerate(queue):
            if fault.where is None or fault.where(params):
                return queue.pop(index)
        return None

    # inspection

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls in the order they were answered (all, or of one method)."""
        if method is None:
            return list(self._calls)
        name = self._method(method)
        return [call for call in self._calls if call.method == name]

    def clear(self) -> None:
        """Forget the recorded calls (chats, messages and queued updates stay)."""
        self._calls.clear()

    def sent_texts(self, chat_id: int) -> list[str]:
        """Texts of the sendMessage calls that reached `chat_id`, as the user sees them
        (after HTML parsing), in order. A call dropped after processing counts: the user got
        it even though the bot saw a network error."""
        return [
            call.result["text"]
            for call in self._calls
            if call.method == "sendMessage"
            and call.result is not None
            and call.result["chat"]["id"] == chat_id
        ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message's current JSON (after edits), None if it never existed or was deleted."""
        return self.state.message(chat_id, message_id)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: CallPredicate | None = None,
    ) -> list[Call]:
        """All recorded calls of `method` matching `where` (failed ones too; filter with
        `lambda c: c.ok`) once there are at least `count`; AssertionError after `timeout` s."""
        name = self._method(method)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matched = [c for c in self._calls if c.method == name and (where is None or where(c))]
            remaining = deadline - loop.time()
            if len(matched) >= count:
                return matched
            if remaining <= 0:
                seen = ", ".join(f"{c.method}:{c.status}" for c in self._calls[-20:]) or "none"
                raise AssertionError(
                    f"waited {timeout} s for {count} {name} call(s), matched {len(matched)}; "
                    f"last calls: {seen}"
                )
            event = self._recorded
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_polling(self, timeout: float = 5.0) -> None:
        """Return once a getUpdates long poll is waiting on the server (the bot is idle and
        listening); AssertionError after `timeout` s."""
        try:
            await asyncio.wait_for(self.updates.poll_waiting.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no getUpdates long poll arrived within {timeout} s") from None

    # HTTP

    @staticmethod
    def _method(name: str) -> str:
        return canonical_method(name) or name

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._recorded.set()
        self._recorded = asyncio.Event()

    async def _answer(
        self, method: str, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        if method == GET_UPDATES:
            return await self.updates.get_updates(params)
        result = METHODS[method](self.state, params, files)
        if method == "deleteWebhook" and params.get("drop_pending_updates"):
            self.updates.drop_pending()
        if method == "getWebhookInfo":
            result = {**result, "pending_update_count": self.pending_updates}
        return result

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        method = self._method(request.match_info["method"])
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        fault: Fault | None = None
        try:
            params, files = await read_params(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if canonical_method(method) is None:
                raise ApiError(404, "Not Found")
            fault = self._take_fault(method, params)
            if fault is not None and not fault.drops:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            if fault is not None and not fault.after_processing:
                return self._drop(request, Call(method, params, files, arrived, 0))
            result = await self._answer(method, params, files)
        except ApiError as error:
            body = error.to_json()
            self._record(
                Call(method, params, files, arrived, error.status, None, error.description)
            )
            return web.json_response(body, status=error.status)
        except Exception as exc:
            self.internal_errors.append(exc)
            raise
        text = json.dumps({"ok": True, "result": result})
        call = Call(method, params, files, arrived, 200, json.loads(text)["result"])
        if fault is not None:
            return self._drop(request, Call(method, params, files, arrived, 0, call.result))
        self._record(call)
        return web.Response(text=text, content_type="application/json")

    def _drop(self, request: web.Request, call: Call) -> web.StreamResponse:
        self._record(call)
        if request.transport is not None:
            request.transport.close()
        return web.Response()
