"""The base of every settings group: how a variable is named, read from ``.env`` and checked.

``SettingsGroup`` is a ``BaseSettings`` that reads ``.env`` itself (so every group, not only the
top level, reads the file; pydantic-settings issue #279), ignores the other groups' variables,
treats an empty value as "use the default", and has the shared validators whose messages name
the variable and say how to fix it. ``env_var`` names the variable of a field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TradingSession(StrEnum):
    """Named market sessions a strategy may trade in; the risk gate owns their hours."""

    TOKYO = "TOKYO"
    LONDON = "LONDON"
    NEWYORK = "NEWYORK"
    LDN_NY = "LDN_NY"  # the London/New York overlap, gold's most liquid hours
    ANY = "ANY"


def env_var(group: type[BaseSettings], field: str) -> str:
    """The environment variable that sets ``field`` of ``group`` (alias, else prefix + name)."""
    alias = group.model_fields[field].validation_alias
    if isinstance(alias, str):
        return alias.upper()
    return f"{group.model_config.get('env_prefix', '')}{field}".upper()


def split_list(value: object) -> object:
    """Comma-separated text (or a list) -> tuple of items; anything else unchanged."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


class SettingsGroup(BaseSettings):
    # extra="ignore": every group reads the whole .env and keeps only its own variables.
    # env_ignore_empty: `VAR=` in .env means "default", so optional values can stay blank.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        populate_by_name=True,
        frozen=True,
        allow_inf_nan=False,
    )

    # Fields whose text is case-insensitive for people ("MT5", "debug") -> str.upper/str.lower.
    _CASE: ClassVar[dict[str, str]] = {}

    @classmethod
    def _var(cls, info: ValidationInfo) -> str:
        return env_var(cls, str(info.field_name))

    @field_validator("*", mode="before")
    @classmethod
    def _tidy_text(cls, value: object, info: ValidationInfo) -> object:
        # Env values are not stripped; "  " for an optional value (a token, a path) means unset.
        if not isinstance(value, str):
            return value
        field, text = str(info.field_name), value.strip()
        if case := cls._CASE.get(field):
            text = getattr(text, case)()
        if not text and cls.model_fields[field].default is None:
            return None
        return text

    @classmethod
    def _ids(cls, value: object, info: ValidationInfo, *, users: bool) -> object:
        items = split_list(value)
        if not isinstance(items, tuple):
            return items
        name, ids = cls._var(info), []
        for item in items:
            try:
                number = int(item)
            except (TypeError, ValueError):
                msg = (
                    f"{item!r} is not a Telegram id; {name} takes numeric ids separated by "
                    "commas, e.g. 123456789,987654321"
                )
                raise ValueError(msg) from None
            if users and number <= 0:
                msg = (
                    f"{number} looks like a group chat id; {name} takes user ids (positive), "
                    "put group chats in TELEGRAM_ALLOWED_CHAT_IDS"
                )
                raise ValueError(msg)
            if number not in ids:
                ids.append(number)
        return tuple(ids)

    @classmethod
    def _fraction(
        cls, value: object, info: ValidationInfo, *, high: float, zero_ok: bool = False
    ) -> float:
        """A share of equity written as a fraction (0.01 = 1%), in (0, high] or 0 if zero_ok."""
        rule = f"{cls._var(info)} is a fraction: 0.01 means 1%"
        if isinstance(value, str) and value.endswith("%"):
            msg = f"{value!r} has a percent sign; {rule}"
            raise ValueError(msg)
        try:
            number = float(value) if isinstance(value, int | float | str) else float("nan")
        except ValueError:
            number = float("nan")
        if number != number:  # NaN: not a number at all
            msg = f"{value!r} is not a number; {rule}"
            raise ValueError(msg)
        if not (0 < number <= high or (zero_ok and number == 0)):
            floor = "0" if zero_ok else "a value above 0"
            msg = f"got {number:g} ({number * 100:g}%), but {rule}; use {floor} up to {high:g}"
            raise ValueError(msg)
        return number
