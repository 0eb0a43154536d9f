"""Inline keyboards: the main menu, per-position Close/Chart, Confirm/Cancel, toggles.

Labels are translated when the keyboard is built (inside the update's locale). Every button's
handler checks the presser's role again, so a button shown to one person and pressed by
another (in a group), or pressed after a role was revoked, is refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from bot.callbacks import (
    Answer,
    ConfirmCb,
    LangCb,
    MenuCb,
    MenuItem,
    NotifyCb,
    PosAction,
    PosCb,
)
from bot.i18n import LANGUAGE_NAMES, _
from bot.prefs import NotifyKind
from engine.models import Position


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def main_menu() -> InlineKeyboardMarkup:
    def item(text: str, which: MenuItem) -> InlineKeyboardButton:
        return _button(text, MenuCb(item=which).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                item("📊 " + _("Status"), MenuItem.STATUS),
                item("📂 " + _("Positions"), MenuItem.POSITIONS),
            ],
            [item("🛡 " + _("Risk"), MenuItem.RISK), item("📈 " + _("Chart"), MenuItem.CHART)],
            [item("🧾 " + _("Trades"), MenuItem.TRADES), item("📅 " + _("PnL"), MenuItem.PNL)],
            [item("❓ " + _("Help"), MenuItem.HELP)],
        ]
    )


def positions(items: Iterable[Position], ours: frozenset[int]) -> InlineKeyboardMarkup | None:
    """Close (this bot's positions only) and Chart per position; None when there are none."""
    rows = []
    for p in items:
        row = []
        if p.ticket in ours:
            close = _("Close #{ticket}").format(ticket=p.ticket)
            row.append(
                _button("✖️ " + close, PosCb(action=PosAction.CLOSE, ticket=p.ticket).pack())
            )
        chart = _("Chart #{ticket}").format(ticket=p.ticket)
        row.append(_button("📈 " + chart, PosCb(action=PosAction.CHART, ticket=p.ticket).pack()))
        rows.append(row)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def confirm(nonce: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button("✅ " + _("Confirm"), ConfirmCb(nonce=nonce, answer=Answer.YES).pack()),
                _button("✖️ " + _("Cancel"), ConfirmCb(nonce=nonce, answer=Answer.NO).pack()),
            ]
        ]
    )


def notify(muted: frozenset[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(render.notify_label(kind, muted), NotifyCb(kind=kind).pack())]
            for kind in NotifyKind
        ]
    )


def languages() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(name, LangCb(locale=code).pack()) for code, name in LANGUAGE_NAMES.items()]
        ]
    )
