"""``trades export`` and ``audit export`` write the stored rows as CSV; ``/audit [N]``'s query."""

from __future__ import annotations

import argparse
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli_ops import COMMANDS, add_ops_parsers, parse_time
from bot.exports import AUDIT_MAX, recent_audit
from engine.errors import BadArguments
from engine.models import AuditEntry, ClosedTrade, DealReason, Role, Side, User
from storage import open_storage
from tests.ops.conftest import undo_logging

T0 = datetime(2024, 5, 6, 8, 0, tzinfo=UTC)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="chattrader")
    p.add_argument("--env-file", default=".env")
    p.add_argument("--log-level", default=None)
    add_ops_parsers(p.add_subparsers(dest="command"))
    return p


@pytest.fixture
async def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "chattrader.db"
    monkeypatch.setenv("DB_PATH", str(path))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    storage = await open_storage(path)
    try:
        await storage.trades.add(
            ClosedTrade(
                101, "XAUUSD", Side.BUY, 0.1, 2000.5, 2010.25, T0, T0 + timedelta(hours=2),
                profit=97.5, commission=-0.7, swap=-0.15, sl=1995.0, tp=2010.25,
                reason=DealReason.TP, client_id="ma_rsi-XAUUSD-M15-1714982400-b",
                strategy="ma_rsi", risk_money=55.0,
            )
        )  # fmt: skip
        await storage.trades.add(
            ClosedTrade(
                102, "XAUUSD", Side.SELL, 0.2, 2012.0, 2016.0, T0 + timedelta(days=1),
                T0 + timedelta(days=1, hours=1), profit=-80.0, commission=-1.4,
                reason=DealReason.SL, strategy="manual",
            )
        )  # fmt: skip
        await storage.users.upsert(User(42, Role.ADMIN, name="alice"))
        for i, (action, outcome) in enumerate(
            [("/pause", "ok"), ("/force", "confirmed"), ("/close", "refused: role")]
        ):
            entry = AuditEntry(T0 + timedelta(hours=i), 42 if i < 2 else 7, -100, action, outcome)
            await storage.audit.add(entry)
    finally:
        await storage.close()
    return path


async def test_trades_export_csv(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "trades.csv"
    try:
        args = parser().parse_args(["trades", "export", "--out", str(out)])
        assert await COMMANDS["trades"](args) == 0
    finally:
        undo_logging()
    # Net = profit + commission + swap: 97.5 - 0.7 - 0.15 = 96.65 and -80 - 1.4 = -81.40;
    # together 15.25. R = 96.65 / 55 = 1.757... -> 1.76.
    assert capsys.readouterr().out.strip() == (
        f"2 closed trades, net 15.25 (account currency) -> {out}"
    )
    with out.open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [row["position_id"] for row in table] == ["101", "102"]
    first = table[0]
    assert first == {
        "position_id": "101",
        "symbol": "XAUUSD",
        "side": "buy",
        "volume": "0.1",
        "opened_utc": "2024-05-06T08:00:00+00:00",
        "price_open": "2000.5",
        "closed_utc": "2024-05-06T10:00:00+00:00",
        "price_close": "2010.25",
        "profit": "97.50",
        "commission": "-0.70",
        "swap": "-0.15",
        "net": "96.65",
        "close_reason": "tp",
        "sl": "1995.0",
        "tp": "2010.25",
        "risk_money": "55.00",
        "r_multiple": "1.76",
        "strategy": "ma_rsi",
        "client_id": "ma_rsi-XAUUSD-M15-1714982400-b",
    }
    assert (table[1]["net"], table[1]["sl"], table[1]["r_multiple"]) == ("-81.40", "", "")


async def test_trades_export_period_to_stdout(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        args = parser().parse_args(
            ["trades", "export", "--since", "2024-05-07", "--until", "2024-05-08", "--out", "-"]
        )
        assert await COMMANDS["trades"](args) == 0
    finally:
        undo_logging()
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("102,XAUUSD,sell,0.2,")
    assert captured.err.strip().endswith("1 closed trades, net -81.40 (account currency) -> -")


async def test_audit_export_csv(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "audit.csv"
    try:
        args = parser().parse_args(
            ["audit", "export", "--since", "2024-05-06T09:00", "--out", str(out)]
        )
        assert await COMMANDS["audit"](args) == 0
    finally:
        undo_logging()
    assert capsys.readouterr().out.strip() == f"2 audit rows since 2024-05-06 09:00 UTC -> {out}"
    assert out.read_text(encoding="utf-8").splitlines() == [
        "time_utc,user_id,user_name,chat_id,action,outcome,detail",
        "2024-05-06T09:00:00+00:00,42,alice,-100,/force,confirmed,",
        "2024-05-06T10:00:00+00:00,7,,-100,/close,refused: role,",
    ]


async def test_recent_audit_for_the_chat_command(db_path: Path) -> None:
    storage = await open_storage(db_path)
    try:
        newest = await recent_audit(storage.audit, 2)
        assert [e.action for e in newest] == ["/close", "/force"]
        for bad in (0, AUDIT_MAX + 1):
            with pytest.raises(BadArguments) as caught:
                await recent_audit(storage.audit, bad)
            assert caught.value.code == "out_of_range"
            assert dict(caught.value.params) == {"min": 1, "max": 100, "value": bad}
    finally:
        await storage.close()


def test_parse_time() -> None:
    assert parse_time("2024-05-06", "--since") == T0 - timedelta(hours=8)
    assert parse_time("2024-05-06T13:30", "--since") == datetime(2024, 5, 6, 13, 30, tzinfo=UTC)
    assert parse_time("2024-05-06T13:30+02:00", "--since") == datetime(
        2024, 5, 6, 11, 30, tzinfo=UTC
    )
    assert parse_time(None, "--since") is None
    with pytest.raises(BadArguments, match="--until: expected a date"):
        parse_time("last week", "--until")
