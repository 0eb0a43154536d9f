"""Notification kinds a chat can mute with ``/notify``; the notifier checks them per chat.

Values are stored in ``chat_prefs.muted`` (storage.repos.chats), so they are short and stable.
"""

from __future__ import annotations

from enum import StrEnum


class NotifyKind(StrEnum):
    FILLS = "fill"  # an order filled (strategy or /force)
    CLOSES = "close"  # a position closed (SL, TP, by hand)
    BLOCKS = "block"  # a signal a risk gate refused
    RISK = "risk"  # pause/resume, circuit breaker tripped or reset
    BROKER = "broker"  # broker link lost or back
    ERRORS = "error"  # a trading cycle failed
    NEWS = "news"  # upcoming high-impact releases
    SUMMARY = "summary"  # the daily summary
