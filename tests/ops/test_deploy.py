"""The deployment files agree with the code: what the Dockerfile copies exists and is not
ignored, its entry point is the console script, and the commands that compose.yaml and the
systemd unit run parse with the real CLI."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def ignored(path: str) -> bool:
    """``.dockerignore`` semantics for plain and negated patterns (last match wins)."""
    verdict = False
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            verdict = not negate
    return verdict


def test_everything_the_image_copies_exists_and_is_sent() -> None:
    sources = []
    for line in dockerfile().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    assert sources == [
        "pyproject.toml", "README.md", "LICENSE", "engine", "storage", "bot", "locales"
    ]  # fmt: skip
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is copied but .dockerignore drops it"
    for secret in (".env", "data/chattrader.db", "data"):
        assert ignored(secret), f"{secret} must never reach the image"
    # The migrations and bundled data the package needs at run time are inside what is copied.
    assert list((ROOT / "storage" / "migrations").glob("*.sql"))
    assert list((ROOT / "locales").glob("*/LC_MESSAGES/messages.mo"))


def test_image_runs_the_console_script_as_a_user_with_data_in_the_volume() -> None:
    text = dockerfile()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["scripts"]
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.MULTILINE).group(1))
    command = json.loads(re.search(r"^CMD (.+)$", text, re.MULTILINE).group(1))
    assert entry == ["chattrader"] and "chattrader" in scripts
    build_parser().parse_args(command)
    assert re.search(r"^USER chattrader$", text, re.MULTILINE)
    assert 'VOLUME ["/data"]' in text
    assert "DB_PATH=/data/chattrader.db" in text and "DATA_DIR=/data" in text


def test_compose_and_systemd_commands_parse() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    command = json.loads(re.search(r"^    command: (.+)$", compose, re.MULTILINE).group(1))
    args = build_parser().parse_args(command)
    assert args.command == "run" and args.health_port == 8080
    assert "http://127.0.0.1:8080/healthz" in compose

    unit = (ROOT / "deploy" / "chattrader.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.MULTILINE).group(1)
    binary, *rest = shlex.split(exec_start)
    assert binary.endswith("/.venv/bin/chattrader")
    args = build_parser().parse_args(rest)
    assert args.env_file == "/etc/chattrader/chattrader.env" and args.health_port == 9108
    for setting in ("Restart=on-failure", "KillSignal=SIGTERM", "RestartPreventExitStatus=2"):
        assert re.search(rf"^{setting}$", unit, re.MULTILINE), setting
