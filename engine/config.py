"""Settings read from the environment and a ``.env`` file, one group per concern.

Each group is its own ``BaseSettings`` that inherits ``env_file=".env"`` (so every group, not
only the top level, reads the file; pydantic-settings issue #279), and ``Settings`` aggregates
them. Variable names are the ones traders know from other MT5/Telegram bots (``RISK_PCT``,
``TELEGRAM_BOT_TOKEN`` ...). Real environment variables beat ``.env``; empty values mean "use
the default". ``load_settings`` turns validation failures into one ``ConfigError`` with a line
per bad variable, naming the variable and how to fix it, never echoing a secret. This module
does no I/O beyond reading the environment and the ``.env`` file. The groups live in
``engine.settings_groups``, their shared base in ``engine.settings_base``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from engine.errors import ConfigError
from engine.settings_base import SettingsGroup, TradingSession, env_var
from engine.settings_groups import (
    AppSettings,
    BrokerSettings,
    CalendarSettings,
    PaperSettings,
    RiskSettings,
    TelegramSettings,
    TradingSettings,
)

__all__ = [
    "GROUPS",
    "AppSettings",
    "BrokerSettings",
    "CalendarSettings",
    "PaperSettings",
    "RiskSettings",
    "Settings",
    "SettingsGroup",
    "TelegramSettings",
    "TradingSession",
    "TradingSettings",
    "env_var",
    "env_var_names",
    "load_settings",
]


GROUPS: dict[str, type[SettingsGroup]] = {
    "telegram": TelegramSettings,
    "broker": BrokerSettings,
    "trading": TradingSettings,
    "risk": RiskSettings,
    "paper": PaperSettings,
    "calendar": CalendarSettings,
    "app": AppSettings,
}


def env_var_names() -> list[str]:
    """Every variable chattrader reads, in group order (the order of ``.env.example``)."""
    return [env_var(cls, field) for cls in GROUPS.values() for field in cls.model_fields]


def _public(value: object) -> str:
    if isinstance(value, SecretStr):
        return "set"
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, tuple):
        return ",".join(_public(v) for v in value)
    return str(value)


class Settings(BaseModel):
    """All settings; read ``settings.<group>.<field>``. Build it with ``load_settings``."""

    model_config = ConfigDict(frozen=True)

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    trading: TradingSettings = Field(default_factory=TradingSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    paper: PaperSettings = Field(default_factory=PaperSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    app: AppSettings = Field(default_factory=AppSettings)

    def public_view(self) -> dict[str, str]:
        """Variable name -> value as text, safe to show: secrets read only "set"/"not set"."""
        view = {}
        for attr, cls in GROUPS.items():
            group = getattr(self, attr)
            for field in cls.model_fields:
                view[env_var(cls, field)] = _public(getattr(group, field))
        return view


def _why(error: ErrorDetails) -> str:
    # Our validators' text is written for people; pydantic's own messages never carry the
    # input, so neither form can leak a secret's value.
    if error["type"] == "value_error" and "ctx" in error:
        return str(error["ctx"]["error"])
    return error["msg"]


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read every group from the environment and ``env_file`` (None: environment only).

    Environment variables win over the file; a missing file is skipped (a fresh checkout has
    none). Raises ``ConfigError`` listing every bad variable, one ``NAME: why`` line each,
    with ``params["variables"]`` holding the names.
    """
    groups: dict[str, SettingsGroup] = {}
    bad: dict[str, str] = {}
    for attr, cls in GROUPS.items():
        try:
            groups[attr] = cls(_env_file=env_file)
        except ValidationError as exc:
            # An error's loc is the field name, or the alias for aliased fields (BROKER).
            names = {field: env_var(cls, field) for field in cls.model_fields}
            names |= {name: name for name in list(names.values())}
            for error in exc.errors(include_url=False, include_input=False):
                loc = str(error["loc"][0]) if error["loc"] else attr
                bad.setdefault(names.get(loc, loc.upper()), _why(error))
    if bad:
        # Raised outside the except on purpose: a chained ValidationError prints input values.
        lines = "\n".join(f"{name}: {why}" for name, why in bad.items())
        raise ConfigError(lines, variables=tuple(bad))
    return Settings(**groups)
