"""SIGTERM in the middle of a session: ``chattrader run`` exits 0 and loses nothing.

A real process (``python -m bot run --replay``) replays EURUSD H1 into a temp database; once it
has run a few hundred cycles it gets SIGTERM. Then: exit code 0, no order left PENDING, every
filled order has its paper deal and every entry deal its order (nothing lost or doubled), and
the paper ledger adds up (balance = start + the net of every deal). A second run on the same
database, from the day after the last bar, starts from that balance and trades on.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.config import env_var_names

ROOT = Path(__file__).resolve().parents[2]
START_BALANCE = 10_000.0
CYCLES_BEFORE_STOP = 300
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.upper() not in set(env_var_names())}
    env.update(
        {
            "SYMBOLS": "EURUSD",
            "TIMEFRAME": "H1",
            "SESSIONS": "LONDON,NEWYORK",
            "COOLDOWN_MINUTES": "0",
            "CALENDAR_ENABLED": "false",
            "DB_PATH": str(tmp_path / "run.db"),
            "DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def cycles(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        return int(query(db, "SELECT COUNT(*) FROM equity_snapshots")[0][0])
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def check_ledger(db: Path) -> float:
    """The invariants after a stop; returns the balance."""
    assert query(db, "SELECT COUNT(*) FROM orders WHERE status = 'pending'") == [(0,)]
    filled = {r[0] for r in query(db, "SELECT client_id FROM orders WHERE status = 'filled'")}
    entries = query(db, "SELECT client_id FROM paper_deals WHERE entry = 0")
    assert len(entries) == len({r[0] for r in entries}), "an entry was filled twice"
    assert {r[0] for r in entries} == filled
    ((balance,),) = query(db, "SELECT balance FROM paper_account")
    ((net,),) = query(
        db, "SELECT COALESCE(SUM(profit + commission + swap + fee), 0) FROM paper_deals"
    )
    assert balance == pytest.approx(START_BALANCE + net, abs=1e-6)
    # Every closed position left exactly one round trip with the same money.
    trades = query(db, "SELECT position_id, profit + commission + swap FROM closed_trades")
    assert len(trades) == len({t[0] for t in trades})
    return float(balance)


def test_sigterm_mid_session_loses_nothing(tmp_path: Path) -> None:
    env = environment(tmp_path)
    db = tmp_path / "run.db"
    command = [sys.executable, "-m", "bot", "--env-file", str(tmp_path / "none.env")]
    (tmp_path / "none.env").write_text("", encoding="utf-8")
    run = subprocess.Popen(
        [*command, "run", "--replay", "--speed", "1e9"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while cycles(db) < CYCLES_BEFORE_STOP:
            assert run.poll() is None, run.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the replay did not get going"
            time.sleep(0.05)
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err[-2000:]
    assert "stopping:" in err and "Traceback" not in err
    stopped_at = cycles(db)
    assert stopped_at >= CYCLES_BEFORE_STOP
    assert query(db, "SELECT COUNT(*) FROM orders WHERE status = 'filled'")[0][0] > 0
    balance = check_ledger(db)
    # The JSON log has the same story, one object per line.
    jsonl = (tmp_path / "data" / "logs" / "chattrader.jsonl").read_text(encoding="utf-8")
    assert '"component": "chattrader"' in jsonl and "stopping:" in jsonl

    # Restart on the same database from the day after the last processed bar.
    ((last_ms,),) = query(db, "SELECT MAX(time_ms) FROM equity_snapshots")
    last = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(last_ms))
    resume = (last + timedelta(days=1)).strftime("%Y-%m-%d")
    again = subprocess.run(
        [*command, "run", "--replay", "--speed", "1e9", "--from", resume, "--max-bars", "40"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"balance {balance:.2f} USD" in again.stderr  # resumed the same account
    assert cycles(db) == stopped_at + 40
    check_ledger(db)
