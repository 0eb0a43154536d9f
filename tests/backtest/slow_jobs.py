"""Jobs for the pool tests: importable by worker processes, so not inside a test module."""

from __future__ import annotations

import time

from engine.backtest.jobs import checkpoint, report


def wait_for_cancel(limit_s: float) -> str:
    """Report "started", then spin on checkpoint() until cancelled (or ``limit_s`` passes)."""
    report("started")
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        checkpoint()
        time.sleep(0.005)
    return "not cancelled"


def count(n: int) -> int:
    for k in range(n):
        report("count", k + 1, n)
    return n
