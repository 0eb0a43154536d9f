"""Callback data of every inline button, as aiogram ``CallbackData`` factories.

Packed values stay far below Telegram's 64 bytes: one- or two-letter prefixes and actions,
a ticket number, or a 16-character confirmation nonce (``cf:<nonce>:y`` is 21 bytes).
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.prefs import NotifyKind


class MenuItem(StrEnum):
    STATUS = "s"
    POSITIONS = "p"
    RISK = "r"
    TRADES = "t"
    PNL = "d"
    CHART = "c"
    HELP = "h"


class MenuCb(CallbackData, prefix="m"):
    item: MenuItem


class PosAction(StrEnum):
    CLOSE = "c"
    CHART = "g"


class PosCb(CallbackData, prefix="p"):
    action: PosAction
    ticket: int


class Answer(StrEnum):
    YES = "y"
    NO = "n"


class ConfirmCb(CallbackData, prefix="cf"):
    nonce: str
    answer: Answer


class NotifyCb(CallbackData, prefix="nt"):
    kind: NotifyKind


class LangCb(CallbackData, prefix="lg"):
    locale: str
