"""Each storage class implements its engine port exactly: names, parameters, defaults, types."""

from __future__ import annotations

import inspect

import pytest

from engine import ports
from storage import Storage
from storage.db import Database
from storage.repos.audit import SqliteAuditRepo
from storage.repos.bars import SqliteBarRepo
from storage.repos.calendar import SqliteCalendarRepo
from storage.repos.equity import SqliteEquityRepo
from storage.repos.orders import SqliteOrderRepo
from storage.repos.outbox import SqliteOutboxRepo
from storage.repos.paper import SqlitePaperLedger
from storage.repos.state import SqliteStateRepo
from storage.repos.trades import SqliteTradeRepo
from storage.repos.users import SqliteUserRepo

PAIRS = [
    (ports.UnitOfWork, Database),
    (ports.OrderRepo, SqliteOrderRepo),
    (ports.TradeRepo, SqliteTradeRepo),
    (ports.PaperLedger, SqlitePaperLedger),
    (ports.StateRepo, SqliteStateRepo),
    (ports.AuditRepo, SqliteAuditRepo),
    (ports.UserRepo, SqliteUserRepo),
    (ports.OutboxRepo, SqliteOutboxRepo),
    (ports.BarRepo, SqliteBarRepo),
    (ports.EquityRepo, SqliteEquityRepo),
    (ports.CalendarRepo, SqliteCalendarRepo),
]


def port_methods(port: type) -> list[str]:
    return [n for n, v in vars(port).items() if inspect.isfunction(v) and not n.startswith("_")]


@pytest.mark.parametrize(("port", "impl"), PAIRS, ids=lambda p: p.__name__)
def test_implementation_matches_port(port: type, impl: type) -> None:
    names = port_methods(port)
    assert names, f"{port.__name__} declares no methods"
    for name in names:
        want, have = getattr(port, name), getattr(impl, name, None)
        assert have is not None, f"{impl.__name__} lacks {name}"
        assert inspect.iscoroutinefunction(have) == inspect.iscoroutinefunction(want), name
        want_sig, have_sig = inspect.signature(want), inspect.signature(have)
        assert [
            (p.name, p.kind, p.default, p.annotation) for p in have_sig.parameters.values()
        ] == [(p.name, p.kind, p.default, p.annotation) for p in want_sig.parameters.values()], (
            f"{impl.__name__}.{name}"
        )
        assert have_sig.return_annotation == want_sig.return_annotation, f"{impl.__name__}.{name}"


def test_storage_has_one_attribute_per_repository() -> None:
    fields = list(Storage.__dataclass_fields__)
    assert fields == [
        "db", "orders", "trades", "paper", "state", "audit", "users", "outbox", "bars", "equity",
        "calendar",
    ]  # fmt: skip
    by_field = {f.name: f.type for f in Storage.__dataclass_fields__.values()}
    assert by_field["db"] == "Database"
    assert sorted(by_field.values())[1:] == sorted(impl.__name__ for _, impl in PAIRS[1:])
