"""The generated docs match the code; the hand-written ones cover what the code can say."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.docs_gen import DOCS, PAGES, configuration_md, env_comments, main, stale
from engine.brokers.mt5_retcodes import _LAST_ERRORS, RETCODES
from engine.config import env_var_names

ROOT = Path(__file__).resolve().parents[2]


def test_generated_pages_are_up_to_date() -> None:
    assert stale() == [], "docs are stale: run .venv/bin/python -m bot.docs_gen"


def test_a_drifted_page_is_reported(tmp_path: Path) -> None:
    for name in PAGES:
        shutil.copy(DOCS / name, tmp_path / name)
    page = tmp_path / "configuration.md"
    page.write_text(page.read_text(encoding="utf-8").replace("`0.01`", "`0.02`"), "utf-8")
    (tmp_path / "commands.md").unlink()
    assert stale(tmp_path) == ["configuration.md", "commands.md"]


def test_check_mode_exits_non_zero_on_a_stale_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("bot.docs_gen.DOCS", tmp_path)
    (tmp_path / "configuration.md").write_text("old", encoding="utf-8")
    monkeypatch.setattr("bot.docs_gen.PAGES", {"configuration.md": configuration_md})
    assert main(["--check"]) == 1
    assert main([]) == 0 and main(["--check"]) == 0


def test_configuration_lists_every_variable_once_with_its_comment() -> None:
    text = configuration_md()
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE)
    assert rows == env_var_names()
    comments = env_comments(ROOT / ".env.example")
    assert "| `RISK_PCT` | `0.01` | fraction, above 0 to 0.05 (0.01 = 1%) |" in text
    assert f"| {comments['DB_PATH']} |" in text
    assert "| `TELEGRAM_BOT_TOKEN` | empty | secret text" in text


def test_troubleshooting_covers_every_mt5_code() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    retcodes = {int(c) for c in re.findall(r"^\| (\d{5}) \|", text, flags=re.MULTILINE)}
    assert retcodes == set(RETCODES)
    for code, (reason, _) in RETCODES.items():
        assert re.search(rf"^\| {code} \| `{reason.value}` \|", text, flags=re.MULTILINE), code
    listed = set()
    for cell in re.findall(r"^\| (-\d+(?:, -\d+)*) \|", text, flags=re.MULTILINE):
        listed |= {int(c) for c in cell.split(", ")}
    assert listed == set(_LAST_ERRORS)


def test_docs_link_to_pages_that_exist() -> None:
    for page in DOCS.glob("*.md"):
        for target in re.findall(
            r"\]\(([a-z-]+\.md|[A-Z]+\.md)(?:#[a-z0-9-]+)?\)", page.read_text("utf-8")
        ):
            assert (DOCS / target).is_file(), f"{page.name} links to missing {target}"
