"""Chat users and their roles and languages."""

from __future__ import annotations

from engine.models import Role, User
from storage.columns import opt_from_ms, opt_to_ms
from storage.db import Database, Row, StorageError

_COLUMNS = "user_id, role, locale, name, added_by, created_ms"


class SqliteUserRepo:
    """``engine.ports.UserRepo`` on ``users``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> User | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM users WHERE user_id = ?", (user_id,)
        )
        return None if row is None else _user(row)

    async def upsert(self, user: User) -> None:
        """Insert, or update an existing user's role.

        On update, fields the caller does not know keep their stored value: ``locale``,
        ``added_by`` and ``created_at`` when None, ``name`` when "". So seeding admins from
        settings at every start never wipes the language a user chose with /lang.
        """
        await self._db.execute(
            f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, "
            "locale = COALESCE(excluded.locale, users.locale), "
            "name = CASE WHEN excluded.name = '' THEN users.name ELSE excluded.name END, "
            "added_by = COALESCE(excluded.added_by, users.added_by), "
            "created_ms = COALESCE(users.created_ms, excluded.created_ms)",
            (
                user.user_id,
                user.role.value,
                user.locale,
                user.name,
                user.added_by,
                opt_to_ms(user.created_at),
            ),
        )

    async def remove(self, user_id: int) -> bool:
        """Delete a user; False when there was none."""
        written = await self._db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        return written.rowcount == 1

    async def all(self) -> list[User]:
        """Every user, by user id."""
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM users ORDER BY user_id")
        return [_user(r) for r in rows]

    async def set_locale(self, user_id: int, locale: str) -> None:
        """Remember a user's language; ``StorageError`` when the user is unknown."""
        written = await self._db.execute(
            "UPDATE users SET locale = ? WHERE user_id = ?", (locale, user_id)
        )
        if written.rowcount != 1:
            msg = f"no user {user_id} to set the locale {locale!r} on"
            raise StorageError(msg)

    async def with_role(self, role: Role) -> list[User]:
        """Users whose role is exactly ``role``, by user id."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM users WHERE role = ? ORDER BY user_id", (role.value,)
        )
        return [_user(r) for r in rows]


def _user(row: Row) -> User:
    user_id, role, locale, name, added_by, created_ms = row
    return User(
        user_id=user_id,
        role=Role(role),
        locale=locale,
        name=name,
        added_by=added_by,
        created_at=opt_from_ms(created_ms),
    )
