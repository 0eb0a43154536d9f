"""The `chattrader` console script end to end, in a temp directory (no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from engine import __version__

MT5_EXPORT = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
    "2024.01.02\t10:00:00\t2060.10\t2062.00\t2059.50\t2061.20\t812\t0\t25\n"
    "2024.01.02\t10:15:00\t2061.20\t2063.40\t2060.80\t2063.00\t790\t0\t24\n"
    "2024.01.02\t10:30:00\t2063.00\t2063.10\t2061.00\t2061.50\t655\t0\t26\n"
)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "BROKER", "SYMBOLS", "TIMEFRAME", "DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    # Point the calendar at a closed local port: diag must report it, never reach the internet.
    monkeypatch.setenv("CALENDAR_TE_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CALENDAR_FF_URL", "http://127.0.0.1:9/ff.json")
    return tmp_path


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"chattrader {__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: chattrader" in capsys.readouterr().out


def test_db_migrate_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate"]) == 0
    first = capsys.readouterr().out
    assert "migrated from version 0 to" in first
    assert main(["db", "migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_data_import_then_list(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workdir / "XAUUSD_M15.csv"
    path.write_text(MT5_EXPORT, encoding="utf-8")
    code = main(["data", "import", str(path), "--symbol", "xauusd", "--timeframe", "M15"])
    assert code == 0
    assert "imported XAUUSD M15" in capsys.readouterr().out
    assert main(["data", "list"]) == 0
    listing = capsys.readouterr().out
    assert "EURUSD   H1      6,225" in listing
    assert "simulated intraday from real daily closes" in listing
    assert "2024-01-02 10:00  2024-01-02 10:30" in listing


def test_bad_file_is_one_readable_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = MT5_EXPORT.replace("2063.40", "2062.90")  # row 2: high 2062.90 < close 2063.00
    path = workdir / "bad.csv"
    path.write_text(bad, encoding="utf-8")
    code = main(["data", "import", str(path), "--symbol", "XAUUSD", "--timeframe", "M15"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("chattrader: ") and err.count("\n") == 1
    assert "high" in err and "Traceback" not in err


def test_bad_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RISK_PCT", "5")
    assert main(["db", "migrate"]) == 2
    err = capsys.readouterr().err
    assert "RISK_PCT" in err and "0.01 means 1%" in err


def test_missing_env_file_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env-file", "prod.env", "db", "migrate"]) == 2
    assert "no such file: prod.env" in capsys.readouterr().err


def test_replay_run_trades_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--replay", "--speed", "1e9", "--max-bars", "120"])
    assert code == 0
    assert main(["db", "migrate"]) == 0  # the run left a usable, current database
    assert "up to date" in capsys.readouterr().out


def test_diag_reports_each_check_and_fails_on_the_calendar(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["diag"]) == 1
    out = capsys.readouterr().out
    for check in ("settings", "storage", "broker", "data", "telegram", "calendar"):
        assert f"] {check}" in out
    assert "[FAIL] calendar" in out and "connection failed" in out
    assert "problems found" in out


def test_diag_passes_without_calendar(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALENDAR_ENABLED", "false")
    assert main(["diag"]) == 0
    out = capsys.readouterr().out
    assert "all checks passed" in out and "[warn] calendar" in out


def test_diag_checks_an_mt5_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """BROKER=mt5 with the faithful fake in place of the Windows-only MetaTrader5 module."""
    import sys
    from datetime import UTC, datetime

    from tests.fakes.fake_mt5 import gold_terminal

    terminal = gold_terminal(lambda: datetime.now(UTC))
    terminal.terminal.trade_allowed = False  # the Algo Trading button is off
    monkeypatch.setitem(sys.modules, "MetaTrader5", terminal)
    monkeypatch.setenv("BROKER", "mt5")
    monkeypatch.setenv("MT5_SERVER_UTC_OFFSET", "2")
    monkeypatch.setenv("CALENDAR_ENABLED", "false")
    assert main(["diag"]) == 1
    out = capsys.readouterr().out
    assert "[ok  ] mt5        account:" in out
    assert "[FAIL] mt5" in out and "Algo Trading" in out


def test_run_with_mt5_without_the_package_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # import fails as on Linux
    monkeypatch.setenv("BROKER", "mt5")
    assert main(["run", "--max-bars", "1"]) == 2
    assert 'pip install -e ".[mt5]"' in capsys.readouterr().err


def test_every_subcommand_resolves_to_a_coroutine() -> None:
    import argparse
    import importlib
    import inspect

    from bot.cli import COMMANDS, build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(COMMANDS)
    for target in COMMANDS.values():
        module, name = target.split(":")
        assert inspect.iscoroutinefunction(getattr(importlib.import_module(module), name))


def _console(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script's code path (``entry``) in a fresh interpreter."""
    code = "import sys; from bot.__main__ import entry; sys.argv[1:] = sys.argv[1:]; entry()"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_the_console_script_flushes_everything_before_its_fast_exit(workdir: Path) -> None:
    # stdout is a pipe here (block-buffered): a lost flush would cut the table short.
    done = _console("backtest", "XAUUSD", "30d", "--out", str(workdir / "out"), cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Symbol")
    assert "Net profit" in done.stdout
    assert done.stdout.rstrip().splitlines()[-1].startswith("wrote 6 files to")
    assert sorted(p.name for p in (workdir / "out").glob("*.png")) == [
        "equity.png",
        "returns.png",
        "trades.png",
    ]


def test_the_console_script_keeps_the_exit_code_of_a_failure(workdir: Path) -> None:
    done = _console("backtest", "XAUUSD", "90x", cwd=workdir)
    assert done.returncode == 2
    assert done.stderr.startswith("chattrader: ")
    assert done.stdout == ""


def test_the_console_script_exits_1_when_a_command_crashes(workdir: Path) -> None:
    code = (
        "import sys, bot.__main__ as m\n"
        "async def dispatch(args): raise RuntimeError('unexpected')\n"
        "m.dispatch = dispatch\n"
        "sys.argv[1:] = ['data', 'list']\n"
        "m.entry()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "RuntimeError: unexpected" in done.stderr


@pytest.mark.parametrize(
    ("argv", "code"),
    [(["--help"], 0), (["--version"], 0), (["--no-such-option"], 2), ([], 2)],
)
def test_the_console_script_keeps_argparse_exit_codes(
    workdir: Path, argv: list[str], code: int
) -> None:
    done = _console(*argv, cwd=workdir)
    assert done.returncode == code, done.stderr
    if argv == ["--version"]:
        assert done.stdout.strip() == f"chattrader {__version__}"
