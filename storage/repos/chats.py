"""Per-chat preferences: the language a chat's notifications are written in and the
notification kinds it muted (``/lang`` and ``/notify``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True, slots=True)
class ChatPrefs:
    chat_id: int
    locale: str | None = None  # None: the default language
    muted: frozenset[str] = frozenset()  # notification kinds this chat does not want


class SqliteChatPrefsRepo:
    """Chat preferences on ``chat_prefs``; a chat without a row has the defaults."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, chat_id: int) -> ChatPrefs:
        row = await self._db.fetchone(
            "SELECT locale, muted FROM chat_prefs WHERE chat_id = ?", (chat_id,)
        )
        if row is None:
            return ChatPrefs(chat_id)
        return ChatPrefs(chat_id, row[0], frozenset(json.loads(row[1])))

    async def set_locale(self, chat_id: int, locale: str) -> None:
        await self._db.execute(
            "INSERT INTO chat_prefs (chat_id, locale) VALUES (?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET locale = excluded.locale",
            (chat_id, locale),
        )

    async def toggle(self, chat_id: int, kind: str) -> bool:
        """Mute ``kind`` if it was on, else unmute it, in one transaction; True = now on."""
        async with self._db.transaction():
            muted = set((await self.get(chat_id)).muted)
            now_on = kind in muted
            if now_on:
                muted.discard(kind)
            else:
                muted.add(kind)
            await self._db.execute(
                "INSERT INTO chat_prefs (chat_id, muted) VALUES (?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET muted = excluded.muted",
                (chat_id, json.dumps(sorted(muted))),
            )
        return now_on

    async def all(self) -> list[ChatPrefs]:
        """Every chat with stored preferences, by chat id (the notifier reads these)."""
        rows = await self._db.fetchall("SELECT chat_id, locale, muted FROM chat_prefs ORDER BY 1")
        return [ChatPrefs(r[0], r[1], frozenset(json.loads(r[2]))) for r in rows]
