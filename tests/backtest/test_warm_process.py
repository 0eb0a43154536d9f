"""The CLI's warm helper process: calls, errors, death, and never outliving its parent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.backtest.warm_process import HelperUnavailable, WarmProcess

ROOT = Path(__file__).resolve().parents[2]


async def test_a_call_runs_in_the_helper_after_its_imports() -> None:
    with WarmProcess(("colorsys",)) as helper:
        assert await helper.call(os.getpid) == helper.pid != os.getpid()
        loaded = "__import__('sys').modules.__contains__('colorsys')"
        assert await helper.call(eval, loaded) is True
        assert await helper.call(divmod, 17, 5) == (3, 2)  # calls in a row reuse the process


async def test_an_error_in_the_call_comes_back_as_itself() -> None:
    with WarmProcess() as helper:
        with pytest.raises(ValueError, match="invalid literal"):
            await helper.call(int, "x")
        assert await helper.call(int, "7") == 7  # the helper survives its call's error


async def test_a_dead_or_closed_helper_says_so() -> None:
    helper = WarmProcess()
    helper._process.kill()
    helper._process.join()
    with pytest.raises(HelperUnavailable, match="ended"):
        await helper.call(os.getpid)
    helper.close()
    with pytest.raises(HelperUnavailable, match="closed"):
        await helper.call(os.getpid)


def test_close_stops_the_helper_at_once() -> None:
    helper = WarmProcess(("pandas",))  # still importing: close must not wait for it
    helper.close()
    assert not helper._process.is_alive()


def test_the_helper_ends_when_its_parent_dies_without_closing_it() -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from engine.backtest.warm_process import WarmProcess
        helper = WarmProcess()
        print(helper.pid, flush=True)
        os._exit(0)  # no close, no atexit: a crashed parent
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - CI runs on Linux
        out = subprocess.run(["tasklist", "/FI", f"PID eq {pid}"], capture_output=True, text=True)
        return str(pid) in out.stdout
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # An orphan is reaped by init; a zombie left meanwhile counts as ended.
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


async def test_an_argument_that_cannot_travel_is_refused_and_the_helper_goes_on() -> None:
    with WarmProcess() as helper:
        with pytest.raises(HelperUnavailable, match="cannot be sent"):
            await helper.call(len, lambda: None)  # a lambda does not pickle
        assert await helper.call(len, "abc") == 3
