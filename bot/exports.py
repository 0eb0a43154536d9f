"""Audit and trade records as CSV (for the accountant, the tax return, a journal) and the
query behind the admin's ``/audit [N]``.

CSV files are UTF-8 with a header row, comma-separated, RFC 4180 quoting, times in UTC ISO 8601
(``2024-05-06T13:30:00+00:00``), money with 2 decimals in the account currency and prices and
volumes as the broker gave them. Every audit text passes through the redactor again on the way
out, so even rows written before redaction existed never carry a secret.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from bot.redact import Redactor, current
from engine.errors import BadArguments
from engine.models import AuditEntry, ClosedTrade
from engine.ports import AuditRepo

AUDIT_MAX = 100  # /audit shows at most this many rows (Telegram splits long replies anyway)
AUDIT_COLUMNS = ("time_utc", "user_id", "user_name", "chat_id", "action", "outcome", "detail")
TRADE_COLUMNS = (
    "position_id",
    "symbol",
    "side",
    "volume",
    "opened_utc",
    "price_open",
    "closed_utc",
    "price_close",
    "profit",
    "commission",
    "swap",
    "net",
    "close_reason",
    "sl",
    "tp",
    "risk_money",
    "r_multiple",
    "strategy",
    "client_id",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def recent_audit(repo: AuditRepo, count: int = 20) -> list[AuditEntry]:
    """The ``count`` newest audit rows, newest first, for ``/audit [N]`` (1..100).

    Raises ``BadArguments`` (code ``out_of_range``, params ``min``/``max``) for any other N,
    which the errors router turns into "The number must be from 1 to 100."
    """
    if not 1 <= count <= AUDIT_MAX:
        msg = f"N must be from 1 to {AUDIT_MAX}, got {count}"
        raise BadArguments(msg, code="out_of_range", min=1, max=AUDIT_MAX, value=count)
    return await repo.recent(count)


async def audit_between(
    repo: AuditRepo, since: datetime | None, until: datetime | None
) -> list[AuditEntry]:
    """Audit rows with ``since <= time < until`` (open ends when None), oldest first."""
    rows = await repo.since(since or EPOCH)
    return [e for e in rows if until is None or e.time < until]


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


@dataclass(frozen=True, slots=True)
class Written:
    rows: int


def write_audit_csv(
    entries: Iterable[AuditEntry],
    out: TextIO,
    names: Mapping[int, str] | None = None,
    redactor: Redactor | None = None,
) -> Written:
    """One row per entry (AUDIT_COLUMNS); ``names`` maps user ids to display names."""
    scrub = (redactor or current()).text
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    count = 0
    for e in entries:
        name = (names or {}).get(e.user_id, "") if e.user_id is not None else ""
        writer.writerow(
            (
                e.time.astimezone(UTC).isoformat(),
                "" if e.user_id is None else e.user_id,
                scrub(name),
                "" if e.chat_id is None else e.chat_id,
                scrub(e.action),
                scrub(e.outcome),
                scrub(e.detail),
            )
        )
        count += 1
    return Written(count)


def write_trades_csv(trades: Iterable[ClosedTrade], out: TextIO) -> Written:
    """One row per closed trade (TRADE_COLUMNS), in the order given."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TRADE_COLUMNS)
    count = 0
    for t in trades:
        r = t.r_multiple
        writer.writerow(
            (
                t.position_id,
                t.symbol,
                t.side.value,
                _number(t.volume),
                t.opened_at.astimezone(UTC).isoformat(),
                _number(t.price_open),
                t.closed_at.astimezone(UTC).isoformat(),
                _number(t.price_close),
                _money(t.profit),
                _money(t.commission),
                _money(t.swap),
                _money(t.net),
                t.reason.value,
                _number(t.sl),
                _number(t.tp),
                _money(t.risk_money),
                "" if r is None else f"{r:.2f}",
                t.strategy,
                t.client_id,
            )
        )
        count += 1
    return Written(count)
