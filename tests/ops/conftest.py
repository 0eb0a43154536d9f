"""Fixtures for the operations tests: settings holding every kind of secret, a clean
environment, and logging configured into a string and a temp folder (undone afterwards)."""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import redact
from bot.logs import LogSetup, configure_logging
from engine.config import Settings, env_var_names, load_settings

# Fake secrets, shaped like the real ones. Characters that URL-encode differently are on purpose.
TOKEN = "7712345678:AAHfakeTokenForTests_0123456789abcdefg"  # pragma: allowlist secret
PASSWORD = "Pa55:w/rd&x?z"  # pragma: allowlist secret
PROXY_PASSWORD = "s3cretProxyPw"  # pragma: allowlist secret
PROXY = f"socks5://trader:{PROXY_PASSWORD}@127.0.0.1:1080"
TE_KEY = "tekey-5b2f9c0d1e7a4b38"  # pragma: allowlist secret
SECRETS = (TOKEN, PASSWORD, PROXY_PASSWORD, TE_KEY)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No chattrader variables from the outside and a temp working directory."""
    names = set(env_var_names())
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def secret_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **extra: str) -> Settings:
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_PROXY": PROXY,
        "MT5_LOGIN": "5012345",
        "MT5_PASSWORD": PASSWORD,
        "CALENDAR_TE_KEY": TE_KEY,
        "DB_PATH": str(tmp_path / "ops.db"),
        "DATA_DIR": str(tmp_path / "data"),
        "SYMBOLS": "XAUUSD,EURUSD",
        **extra,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings(None)


@dataclass
class Logs:
    setup: LogSetup
    console: io.StringIO

    def json_text(self) -> str:
        for handler in logging.getLogger().handlers:
            handler.flush()
        assert self.setup.json_path is not None
        return self.setup.json_path.read_text(encoding="utf-8")


def undo_logging() -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_chattrader_handler", False)]:
        root.removeHandler(handler)
        handler.close()
    sys.excepthook = sys.__excepthook__
    threading.excepthook = threading.__excepthook__
    redact.install(redact.Redactor())


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Logs]:
    """Logging configured from ``secret_settings`` at DEBUG into a string and tmp/logs."""
    settings = secret_settings(monkeypatch, tmp_path)
    console = io.StringIO()
    setup = configure_logging(settings, "DEBUG", stream=console, log_dir=tmp_path / "logs")
    try:
        yield Logs(setup, console)
    finally:
        undo_logging()
