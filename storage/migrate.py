"""Schema migrations: ``storage/migrations/NNNN_name.sql`` applied in version order.

Files are package data read through ``importlib.resources``; versions start at 1 and have no
gaps. Each migration runs in its own transaction together with its row in
``schema_migrations`` (version, name, SHA-256 of the file), so a crash leaves the database at
the previous version and running ``migrate`` again is a no-op. A database written by a newer
chattrader, or a migration file edited after it was applied, stops startup with
``MigrationError`` instead of guessing.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from storage.columns import to_ms
from storage.db import Database, StorageError

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_VERSIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    applied_ms  INTEGER NOT NULL
)
"""


class MigrationError(StorageError):
    """The migration files or the database's recorded versions are not what this code expects."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self) -> list[str]:
        """The script split into complete SQL statements (comments stay with the next one)."""
        out: list[str] = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                out.append(buffer.strip())
                buffer = ""
        rest = [ln for ln in buffer.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        if rest:
            msg = f"migration {self.version:04d}_{self.name} ends with an incomplete statement"
            raise MigrationError(msg)
        return out


def available() -> tuple[Migration, ...]:
    """Every migration shipped with the package, ordered by version (1, 2, ... without gaps)."""
    folder = resources.files("storage").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if match is None:
            msg = f"migration file {entry.name!r} is not named NNNN_lowercase_name.sql"
            raise MigrationError(msg)
        sql = entry.read_text(encoding="utf-8")
        found.append(Migration(int(match.group(1)), match.group(2), sql))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        msg = f"migration versions must be 1..n without gaps or repeats, found {versions}"
        raise MigrationError(msg)
    return tuple(found)


async def current_version(db: Database) -> int:
    """Highest applied version; 0 for an empty database."""
    exists = await db.fetchone(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
    )
    if exists is None:
        return 0
    row = await db.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
    assert row is not None
    return int(row[0])


async def migrate(db: Database, target: int | None = None) -> list[int]:
    """Apply pending migrations up to ``target`` (default: the latest); returns versions applied.

    Earlier versions already applied are checked against their recorded SHA-256.
    """
    migrations = available()
    latest = migrations[-1].version if migrations else 0
    goal = latest if target is None else target
    if not 0 <= goal <= latest:
        msg = f"target version {goal} is outside 0..{latest}"
        raise ValueError(msg)
    await db.execute(_CREATE_VERSIONS)
    recorded = {
        int(version): (str(name), str(digest))
        for version, name, digest in await db.fetchall(
            "SELECT version, name, sha256 FROM schema_migrations"
        )
    }
    if recorded and max(recorded) > latest:
        msg = (
            f"the database is at schema version {max(recorded)} but this chattrader knows only "
            f"up to {latest}: upgrade chattrader or use another database file"
        )
        raise MigrationError(msg)
    applied: list[int] = []
    for migration in migrations:
        if migration.version in recorded:
            _check_unchanged(migration, *recorded[migration.version])
            continue
        if migration.version > goal:
            break
        if await _apply(db, migration):
            applied.append(migration.version)
    return applied


async def _apply(db: Database, migration: Migration) -> bool:
    async with db.transaction():
        # Checked again under the write lock: another process may have migrated meanwhile.
        done = await db.fetchone(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        )
        if done is not None:
            return False
        for statement in migration.statements():
            await db.execute(statement)
        await db.execute(
            "INSERT INTO schema_migrations (version, name, sha256, applied_ms) "
            "VALUES (?, ?, ?, ?)",
            (migration.version, migration.name, migration.sha256, to_ms(datetime.now(UTC))),
        )
    return True


def _check_unchanged(migration: Migration, name: str, digest: str) -> None:
    if (name, digest) != (migration.name, migration.sha256):
        msg = (
            f"migration {migration.version:04d}_{migration.name} differs from the one applied to "
            f"this database ({migration.version:04d}_{name}); applied migrations must not change"
        )
        raise MigrationError(msg)
