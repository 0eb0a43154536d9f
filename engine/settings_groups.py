"""The settings groups, one per concern: Telegram, broker, trading, risk, paper account,
economic calendar, application. A group's docstring heads its section of
``docs/configuration.md``; each variable's one-line meaning is its comment in ``.env.example``
(``bot.docs_gen`` builds the page, a test keeps both in step). Validators explain a bad value
in the trader's words.
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from engine.models import Timeframe
from engine.settings_base import SettingsGroup, TradingSession, split_list


class TelegramSettings(SettingsGroup):
    """Bot token, Bot API endpoint, and who may talk to the bot or hear from it."""

    model_config = SettingsConfigDict(env_prefix="TELEGRAM_")

    token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    api_base: str | None = None  # local Bot API server, e2e tests; None = api.telegram.org
    proxy: SecretStr | None = None  # proxy URLs often carry a password
    timeout_s: float = Field(default=30.0, gt=0)
    allowed_chat_ids: Annotated[tuple[int, ...], NoDecode] = ()
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    trader_ids: Annotated[tuple[int, ...], NoDecode] = ()
    viewer_ids: Annotated[tuple[int, ...], NoDecode] = ()
    notify_chat_ids: Annotated[tuple[int, ...], NoDecode] = ()
    notify_errors_per_hour: int = Field(default=6, ge=0, validation_alias="NOTIFY_ERRORS_PER_HOUR")
    daily_summary_time: str | None = Field(default=None, validation_alias="DAILY_SUMMARY_TIME")
    webhook_url: str | None = None  # https://host/path Telegram posts to; None = long polling
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None  # None = a fresh random secret at every start

    @property
    def enabled(self) -> bool:
        """True when a token is set; without one the engine runs headless."""
        return self.token is not None

    @field_validator("allowed_chat_ids", "notify_chat_ids", mode="before")
    @classmethod
    def _chat_ids(cls, value: object, info: ValidationInfo) -> object:
        return cls._ids(value, info, users=False)

    @field_validator("admin_ids", "trader_ids", "viewer_ids", mode="before")
    @classmethod
    def _user_ids(cls, value: object, info: ValidationInfo) -> object:
        return cls._ids(value, info, users=True)

    @property
    def summary_time(self) -> time | None:
        """DAILY_SUMMARY_TIME as a local wall time (DISPLAY_TZ); None = no daily summary."""
        if self.daily_summary_time is None:
            return None
        hours, minutes = self.daily_summary_time.split(":")
        return time(int(hours), int(minutes))

    @field_validator("daily_summary_time")
    @classmethod
    def _clock_time(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
        if match is None:
            msg = (
                f"{value!r} is not a time of day; {cls._var(info)} takes HH:MM in DISPLAY_TZ, "
                "e.g. 21:00, or stays empty for no daily summary"
            )
            raise ValueError(msg)
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://") or len(value) <= len("https://"):
            msg = (
                f"{value!r} is not an https URL; {cls._var(info)} is the public address "
                "Telegram posts updates to, e.g. https://bot.example.com/telegram (Telegram "
                "accepts only https), or stays empty for long polling"
            )
            raise ValueError(msg)
        return value

    @field_validator("api_base")
    @classmethod
    def _url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            msg = (
                f"{value!r} is not a URL; {cls._var(info)} must look like http://localhost:8081 "
                "(a local Bot API server), or stay empty for api.telegram.org"
            )
            raise ValueError(msg)
        return value.rstrip("/")


class BrokerSettings(SettingsGroup):
    """Which broker trades (paper by default) and how to reach a MetaTrader 5 terminal.

    With ``BROKER=mt5`` and no login, the adapter attaches to the account the terminal is
    already logged into; a login needs its password.
    """

    model_config = SettingsConfigDict(env_prefix="MT5_")
    _CASE: ClassVar[dict[str, str]] = {"kind": "lower"}

    kind: Literal["paper", "mt5"] = Field(default="paper", validation_alias="BROKER")
    path: Path | None = None  # terminal64.exe; None = the installed terminal
    login: int | None = Field(default=None, gt=0)
    password: SecretStr | None = None
    server: str | None = None
    magic: int = Field(default=770001, ge=0)  # marks this bot's orders on a shared account
    deviation_points: int = Field(default=20, ge=0)
    server_utc_offset: int | None = Field(default=None, ge=-12, le=14)  # hours; None = detect

    @field_validator("password")
    @classmethod
    def _login_needs_password(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if "login" not in info.data:  # the login itself was invalid; that error says enough
            return value
        login = info.data["login"]
        if login is not None and value is None:
            msg = (
                "MT5_LOGIN is set, so MT5_PASSWORD must be set too (or leave both empty to "
                "attach to the account the terminal is logged into)"
            )
            raise ValueError(msg)
        if login is None and value is not None:
            msg = (
                "MT5_PASSWORD is set without MT5_LOGIN; set MT5_LOGIN (and MT5_SERVER) or "
                "remove MT5_PASSWORD"
            )
            raise ValueError(msg)
        return value


class TradingSettings(SettingsGroup):
    """What to trade: symbols, bar timeframe, strategy name and allowed sessions."""

    symbols: Annotated[tuple[str, ...], NoDecode] = ("XAUUSD",)
    timeframe: Timeframe = Timeframe.M15
    strategy: str = "ma_rsi"
    # Gold's liquid hours; the Asian session and the rollover trade wide and thin.
    sessions: Annotated[tuple[TradingSession, ...], NoDecode] = (
        TradingSession.LONDON,
        TradingSession.NEWYORK,
    )

    @field_validator("symbols", mode="before")
    @classmethod
    def _symbols(cls, value: object, info: ValidationInfo) -> object:
        # Case is kept: brokers name symbols like "XAUUSDm" or "GOLD.a".
        items = split_list(value)
        if not isinstance(items, tuple):
            return items
        if not items:
            msg = f"{cls._var(info)} needs at least one symbol, e.g. XAUUSD or XAUUSD,EURUSD"
            raise ValueError(msg)
        if bad := [s for s in items if any(c.isspace() for c in s)]:
            msg = f"{bad[0]!r} contains a space; separate symbols with commas"
            raise ValueError(msg)
        return tuple(dict.fromkeys(items))

    @field_validator("strategy")
    @classmethod
    def _strategy(cls, value: str, info: ValidationInfo) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            msg = (
                f"{value!r} is not a strategy name; {cls._var(info)} is lowercase letters, "
                "digits and _, e.g. ma_rsi"
            )
            raise ValueError(msg)
        return value

    @field_validator("timeframe", mode="before")
    @classmethod
    def _timeframe(cls, value: object) -> object:
        return Timeframe.parse(value) if isinstance(value, str) else value

    @field_validator("sessions", mode="before")
    @classmethod
    def _sessions(cls, value: object, info: ValidationInfo) -> object:
        items = split_list(value)
        if not isinstance(items, tuple):
            return items
        name = cls._var(info)
        valid = ", ".join(s.value for s in TradingSession)
        if not items:
            msg = f"{name} needs at least one of {valid}"
            raise ValueError(msg)
        sessions = []
        for item in items:
            key = str(item).upper().replace("-", "_").replace(" ", "")
            if key not in TradingSession.__members__:
                msg = f"unknown session {item!r}; {name} takes any of {valid}, comma-separated"
                raise ValueError(msg)
            sessions.append(TradingSession(key))
        if TradingSession.ANY in sessions and len(set(sessions)) > 1:
            msg = f"ANY already covers every session; set {name}=ANY alone"
            raise ValueError(msg)
        return tuple(dict.fromkeys(sessions))


class RiskSettings(SettingsGroup):
    """Limits every trade passes through. ``*_PCT`` values are fractions: 0.01 means 1%."""

    risk_pct: float = 0.01  # of equity lost if the stop is hit
    max_trades_per_day: int = Field(default=5, ge=1)
    max_daily_loss_pct: float = 0.03
    max_weekly_loss_pct: float = 0.06
    max_open_positions: int = Field(default=1, ge=1)
    cooldown_minutes: int = Field(default=15, ge=0)
    cooldown_after_loss_minutes: int = Field(default=60, ge=0)
    max_drawdown_pct: float = 0.10  # from peak equity; trips the circuit breaker
    max_consecutive_losses: int = Field(default=3, ge=1)
    loss_pause_minutes: int = Field(default=240, ge=0)
    max_spread_points: float = Field(default=50.0, gt=0)
    min_free_margin_pct: float = 0.5  # free margin left after the order, of equity
    allow_min_lot: bool = False  # trade the minimum lot even when it risks more than RISK_PCT
    breakeven_at_r: float | None = Field(default=None, gt=0)  # None = off
    trailing_atr_mult: float | None = Field(default=None, gt=0)  # None = off

    RISK_PCT_MAX: ClassVar[float] = 0.05

    @field_validator("risk_pct", mode="before")
    @classmethod
    def _risk_pct(cls, value: object, info: ValidationInfo) -> float:
        return cls._fraction(value, info, high=cls.RISK_PCT_MAX)

    @field_validator(
        "max_daily_loss_pct", "max_weekly_loss_pct", "max_drawdown_pct", mode="before"
    )
    @classmethod
    def _loss_pct(cls, value: object, info: ValidationInfo) -> float:
        # 0 is refused rather than read as "off": a zero loss limit would block every trade.
        return cls._fraction(value, info, high=1.0)

    @field_validator("min_free_margin_pct", mode="before")
    @classmethod
    def _margin_pct(cls, value: object, info: ValidationInfo) -> float:
        return cls._fraction(value, info, high=1.0, zero_ok=True)


class PaperSettings(SettingsGroup):
    """The simulated account used when ``BROKER=paper``."""

    model_config = SettingsConfigDict(env_prefix="PAPER_")
    _CASE: ClassVar[dict[str, str]] = {"feed": "lower", "currency": "upper"}

    balance: float = Field(default=10_000.0, gt=0)
    currency: str = "USD"
    leverage: int = Field(default=100, ge=1)
    spread_points: float | None = Field(default=None, ge=0)  # None = spread from the data
    slippage_points: float = Field(default=2.0, ge=0)
    commission_per_lot: float = Field(default=7.0, ge=0)  # account currency, round turn
    feed: Literal["synthetic", "replay"] = "synthetic"
    replay_speed: float = Field(default=60.0, gt=0)  # simulated seconds per real second

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str, info: ValidationInfo) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value):
            msg = f"{value!r} is not a currency; {cls._var(info)} is a 3-letter code like USD"
            raise ValueError(msg)
        return value


class AppSettings(SettingsGroup):
    """Where data lives, log level, display time zone and default language."""

    _CASE: ClassVar[dict[str, str]] = {"log_level": "upper", "default_lang": "lower"}

    display_tz: str = "UTC"
    db_path: Path = Path("data/chattrader.db")
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    default_lang: Literal["en", "mn", "ru"] = "en"

    @property
    def tz(self) -> ZoneInfo:
        """The display time zone; all engine times stay UTC, this is only for people."""
        return ZoneInfo(self.display_tz)

    @field_validator("display_tz")
    @classmethod
    def _zone(cls, value: str, info: ValidationInfo) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = (
                f"unknown time zone {value!r}; {cls._var(info)} must be an IANA zone like "
                "Asia/Ulaanbaatar, Europe/London or UTC"
            )
            raise ValueError(msg) from None
        return value


class CalendarSettings(SettingsGroup):
    """Economic calendar sources and the news window that blocks entries around releases."""

    _CASE: ClassVar[dict[str, str]] = {"news_min_importance": "lower", "news_policy": "lower"}

    calendar_enabled: bool = True
    calendar_sources: Annotated[tuple[str, ...], NoDecode] = ("tradingeconomics", "faireconomy")
    calendar_te_key: SecretStr | None = None  # None = Trading Economics guest access (a sample)
    calendar_te_base_url: str = "https://api.tradingeconomics.com"
    calendar_te_countries: str = "All"
    calendar_ff_url: str = "https://nfs.faireconomy.media/ff_calendar_thisweek.json"
    calendar_timeout_s: float = Field(default=10.0, gt=0)
    calendar_refresh_minutes: int = Field(default=60, ge=5)
    calendar_stale_minutes: int = Field(default=360, ge=10)
    news_before_minutes: int = Field(default=60, ge=0)
    news_after_minutes: int = Field(default=30, ge=0)
    news_min_importance: Literal["low", "medium", "high"] = "high"
    news_policy: Literal["block", "allow"] = "block"
    news_remind_minutes: int = Field(default=15, ge=0)  # 0 = no reminders
    symbol_currencies: str = ""  # e.g. XAUUSD=USD;EURUSD=EUR,USD (defaults cover common ones)

    KNOWN_SOURCES: ClassVar[tuple[str, ...]] = ("tradingeconomics", "faireconomy")

    @field_validator("calendar_sources", mode="before")
    @classmethod
    def _sources(cls, value: object, info: ValidationInfo) -> object:
        items = split_list(value)
        if not isinstance(items, tuple):
            return items
        names = tuple(str(item).lower() for item in items)
        for name in names:
            if name not in cls.KNOWN_SOURCES:
                known = ", ".join(cls.KNOWN_SOURCES)
                msg = f"unknown source {name!r}; {cls._var(info)} takes {known}"
                raise ValueError(msg)
        return names
