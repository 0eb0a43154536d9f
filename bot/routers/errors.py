"""The errors router: every exception a handler raises ends here and gets one reply in the
user's language. Expected failures are named (broker down, bad arguments with the usage line,
missing data); anything else is logged with the update id and answered generically. No reply
ever repeats an exception's text, a token or a password.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

from aiogram import Bot, Router, html
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent

from bot import render
from bot.command_list import BY_NAME
from bot.i18n import _, __
from bot.middlewares import describe
from bot.verdicts import english
from engine.errors import BadArguments, BrokerUnavailable, DataUnavailable, EngineError
from engine.limit_edits import EDITABLE
from engine.service import TradingService

log = logging.getLogger("chattrader.bot")
router = Router(name=__name__)

# Code -> sentence; {fields} come from the error's params (quoted before formatting).
TEXTS = {
    "unknown_symbol": __("Unknown symbol {symbol}; this bot trades {symbols}."),
    "out_of_range": __("The number must be from {min} to {max}."),
    "bad_volume": __("{value} lots is not a valid volume: {min} to {max} in steps of {step}."),
    "bad_ticket": __("{value} is not a ticket number."),
    "unknown_ticket": __("No open position #{ticket}."),
    "not_ours": __("Position #{ticket} was not opened by this bot; close it in the terminal."),
    "bad_timeframe": __("Unknown timeframe {value}; use M1, M5, M15, M30, H1, H4, D1 or W1."),
    "bad_symbol": __("{symbol} is not a symbol name."),
    "unknown_setting": __("{name} cannot be changed from the chat. These can: {names}."),
    "bad_number": __("{value} is not a valid value for {name}."),
    "fraction_range": __("{name} must be above 0 and at most {max_pct}% (write 0.5% or 0.005)."),
    "bad_value": __("That value for {name} breaks a risk rule."),
    "pinned_user": __("User {user_id} has a role from the settings file; change it there."),
    "own_role": __("You cannot change your own role."),
    "data_unavailable": __("No market data for {symbol} {timeframe}."),
    "too_few_bars": __("Not enough bars for a chart ({got} of {need})."),
    "warming_up": __("No stop distance yet: the strategy is still warming up. Try again later."),
}


def explain(error: EngineError, extra: Mapping[str, object]) -> str:
    """A localized sentence for an engine error's code and params (unknown codes: generic)."""
    template = TEXTS.get(error.code)
    if template is None:
        return _("That did not work ({code}).").format(code=html.quote(error.code))
    fields = {k: html.quote(_text(v)) for k, v in {**error.params, **extra}.items()}
    text = str(template).format_map(_Blank(fields))
    if error.code in ("bad_value", "data_unavailable") and english():
        text += f"\n{html.quote(str(error))}"
    return text


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"  # 100.0 -> "100", 0.01 -> "0.01"
    return str(value)


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


async def _say(event: ErrorEvent, bot: Bot, text: str) -> None:
    update = event.update
    chat_id = None
    if update.message is not None:
        chat_id = update.message.chat.id
    elif update.callback_query is not None and update.callback_query.message is not None:
        chat_id = update.callback_query.message.chat.id
    if chat_id is None:
        return
    with contextlib.suppress(TelegramAPIError):  # the reply itself may be what failed
        await bot.send_message(chat_id, text)


@router.errors(ExceptionTypeFilter(BrokerUnavailable))
async def on_broker_down(event: ErrorEvent, bot: Bot) -> None:
    log.warning("update %s: broker unavailable: %s", event.update.update_id, event.exception)
    await _say(event, bot, "⚠️ " + _("The broker is unavailable right now. Try again shortly."))


@router.errors(ExceptionTypeFilter(BadArguments))
async def on_bad_arguments(event: ErrorEvent, bot: Bot, service: TradingService) -> None:
    error = event.exception
    assert isinstance(error, BadArguments)
    action, _detail = describe(event.update)
    command = action.lstrip("/")
    lines = []
    if error.code != "usage":
        extra = {"symbols": ", ".join(service.symbols), "names": ", ".join(EDITABLE)}
        lines.append(explain(error, extra))
    if command in BY_NAME:
        lines.append(render.usage(command))
    await _say(event, bot, "\n".join(lines) or explain(error, {}))


@router.errors(ExceptionTypeFilter(DataUnavailable))
async def on_no_data(event: ErrorEvent, bot: Bot) -> None:
    error = event.exception
    assert isinstance(error, DataUnavailable)
    await _say(event, bot, explain(error, {}))


@router.errors()
async def on_anything(event: ErrorEvent, bot: Bot) -> None:
    log.error(
        "update %s failed: %s",
        event.update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    if isinstance(event.exception, TelegramAPIError):
        return  # talking to Telegram is what failed; a reply would most likely fail too
    text = _("Something went wrong; it was logged (update {id}). Please try again.")
    await _say(event, bot, "⚠️ " + text.format(id=event.update.update_id))
