"""The dependency direction of DESIGN.md, checked from the AST of every module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BANNED = {"engine": {"aiogram", "bot", "storage"}, "storage": {"aiogram", "bot"}}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = list(ast.walk(tree))
    roots = {a.name.split(".")[0] for n in nodes if isinstance(n, ast.Import) for a in n.names}
    return roots | {
        n.module.split(".")[0]
        for n in nodes
        if isinstance(n, ast.ImportFrom) and n.module and n.level == 0
    }


@pytest.mark.parametrize("package", sorted(BANNED))
def test_dependency_direction(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    bad = {str(p.relative_to(ROOT)): sorted(imported_roots(p) & BANNED[package]) for p in files}
    assert not {p: m for p, m in bad.items() if m}


def test_storage_uses_only_engine_models_and_ports() -> None:
    allowed = {"engine.models", "engine.ports", "engine.errors"}
    offenders = []
    for path in (ROOT / "storage").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.level == 0
                and node.module.startswith("engine")
                and node.module not in allowed
            ):
                offenders.append(f"{path.name}: {node.module}")
    assert not offenders


def test_engine_never_reads_the_wall_clock() -> None:
    """Time comes from an injected Clock; only engine/clock.py may ask the system."""
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        if path.name == "clock.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("datetime.now(", "datetime.utcnow(", "time.time("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders


def test_a_cli_backtest_loads_no_http_client_no_plotting_and_no_bot_framework() -> None:
    """Start-up time is part of the `chattrader backtest` budget: the modules that run the
    backtest (in the CLI's own process) must not drag in httpx, matplotlib or aiogram."""
    code = (
        "import sys, bot.cli_backtest, engine.backtest.service, engine.backtest.summary;"
        "print(sorted(m for m in ('httpx', 'matplotlib', 'aiogram') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_calendar_package_resolves_every_exported_name() -> None:
    import engine.calendar as calendar  # noqa: PLC0415

    for name in calendar.__all__:
        assert getattr(calendar, name) is not None, name
    with pytest.raises(AttributeError):
        _ = calendar.NoSuchName


def test_a_headless_run_does_not_load_the_telegram_library() -> None:
    """`chattrader run` without a token starts trading in about two seconds; aiogram alone
    takes six to eight here, so only the chat's own modules may load it."""
    code = (
        "import sys, bot.commands, bot.engine_runner, bot.runtime, bot.wiring;"
        "print('aiogram' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
