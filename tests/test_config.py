"""Settings: defaults, env and .env for every group, fix-it errors, secrets, .env.example."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from engine.config import (
    AppSettings,
    Settings,
    TradingSession,
    env_var_names,
    load_settings,
)
from engine.errors import ConfigError
from engine.models import Timeframe

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working directory and no chattrader variables, so the repo's .env never leaks."""
    names = set(env_var_names())
    for key in list(os.environ):
        if key.upper() in names:  # pydantic-settings matches names case-insensitively
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_env(directory: Path, text: str, name: str = ".env") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(**env: str) -> ConfigError:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        with pytest.raises(ConfigError) as info:
            load_settings()
    return info.value


def test_defaults_are_paper_and_safe() -> None:
    s = load_settings()
    assert s.broker.kind == "paper"
    assert s.telegram.token is None
    assert not s.telegram.enabled
    assert s.telegram.api_base is None
    assert s.telegram.admin_ids == ()
    assert s.telegram.allowed_chat_ids == ()
    assert s.broker.login is None
    assert s.broker.password is None
    assert s.trading.symbols == ("XAUUSD",)
    assert s.trading.timeframe is Timeframe.M15
    assert s.trading.strategy == "ma_rsi"
    assert s.trading.sessions == (TradingSession.LONDON, TradingSession.NEWYORK)
    assert s.risk.risk_pct == 0.01
    assert s.risk.max_daily_loss_pct == 0.03
    assert s.risk.max_open_positions == 1
    assert s.risk.allow_min_lot is False
    assert s.risk.breakeven_at_r is None
    assert s.risk.trailing_atr_mult is None
    assert s.paper.balance == 10_000.0
    assert s.paper.spread_points is None
    assert s.paper.feed == "synthetic"
    assert s.app.display_tz == "UTC"
    assert s.app.db_path == Path("data/chattrader.db")
    assert s.app.data_dir == Path("data")
    assert s.app.default_lang == "en"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "TELEGRAM_API_BASE": "http://127.0.0.1:8081/",
        "BROKER": "MT5",
        "MT5_LOGIN": "5012345",
        "MT5_PASSWORD": "pw",
        "MT5_SERVER": "MetaQuotes-Demo",
        "MT5_SERVER_UTC_OFFSET": "3",
        "SYMBOLS": "XAUUSDm, EURUSD",
        "TIMEFRAME": "1h",
        "SESSIONS": "ldn_ny",
        "RISK_PCT": "0.005",
        "MAX_TRADES_PER_DAY": "2",
        "ALLOW_MIN_LOT": "true",
        "BREAKEVEN_AT_R": "1.5",
        "PAPER_FEED": "Replay",
        "PAPER_CURRENCY": "eur",
        "DISPLAY_TZ": "Asia/Ulaanbaatar",
        "LOG_LEVEL": "debug",
        "DEFAULT_LANG": "MN",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    s = load_settings()
    assert s.telegram.enabled
    assert s.telegram.token is not None
    assert s.telegram.token.get_secret_value() == "123:abc"
    assert s.telegram.api_base == "http://127.0.0.1:8081"  # trailing slash dropped
    assert s.broker.kind == "mt5"
    assert s.broker.login == 5012345
    assert isinstance(s.broker.password, SecretStr)
    assert s.broker.password.get_secret_value() == "pw"
    assert s.broker.server == "MetaQuotes-Demo"
    assert s.broker.server_utc_offset == 3
    assert s.trading.symbols == ("XAUUSDm", "EURUSD")  # broker spelling kept
    assert s.trading.timeframe is Timeframe.H1
    assert s.trading.sessions == (TradingSession.LDN_NY,)
    assert s.risk.risk_pct == 0.005
    assert s.risk.max_trades_per_day == 2
    assert s.risk.allow_min_lot is True
    assert s.risk.breakeven_at_r == 1.5
    assert s.paper.feed == "replay"
    assert s.paper.currency == "EUR"
    assert s.app.tz.key == "Asia/Ulaanbaatar"
    assert s.app.log_level == "DEBUG"
    assert s.app.default_lang == "mn"


DOTENV_ALL_GROUPS = """\
TELEGRAM_ADMIN_IDS=111,222
MT5_MAGIC=4242
TIMEFRAME=H4
RISK_PCT=0.02
PAPER_BALANCE=2500
DISPLAY_TZ=Europe/London
"""


def assert_read_every_group(s: Settings) -> None:
    assert s.telegram.admin_ids == (111, 222)
    assert s.broker.magic == 4242
    assert s.trading.timeframe is Timeframe.H4
    assert s.risk.risk_pct == 0.02
    assert s.paper.balance == 2500.0
    assert s.app.display_tz == "Europe/London"


def test_dotenv_is_read_by_every_group(clean_env: Path) -> None:
    write_env(clean_env, DOTENV_ALL_GROUPS)
    assert_read_every_group(load_settings())


def test_dotenv_is_read_by_every_group_of_a_plain_settings(clean_env: Path) -> None:
    # The nested-settings trap (pydantic-settings #279): Settings() itself must reach .env too.
    write_env(clean_env, DOTENV_ALL_GROUPS)
    assert_read_every_group(Settings())


def test_named_env_file_and_none(clean_env: Path) -> None:
    path = write_env(clean_env, DOTENV_ALL_GROUPS, name="prod.env")
    assert_read_every_group(load_settings(path))
    assert_read_every_group(load_settings(str(path)))
    write_env(clean_env, DOTENV_ALL_GROUPS)
    assert load_settings(None).risk.risk_pct == 0.01  # None: environment only


def test_environment_beats_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env(clean_env, "RISK_PCT=0.02\nTELEGRAM_ADMIN_IDS=1,2\nPAPER_BALANCE=2500\n")
    monkeypatch.setenv("RISK_PCT", "0.03")
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "7")
    s = load_settings()
    assert s.risk.risk_pct == 0.03
    assert s.telegram.admin_ids == (7,)
    assert s.paper.balance == 2500.0  # not overridden, still from .env


def test_empty_value_means_default(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env(clean_env, "RISK_PCT=\nSYMBOLS=\nPAPER_SPREAD_POINTS=\n")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "   ")
    monkeypatch.setenv("MT5_PATH", "")
    s = load_settings()
    assert s.risk.risk_pct == 0.01
    assert s.trading.symbols == ("XAUUSD",)
    assert s.paper.spread_points is None
    assert s.telegram.token is None
    assert s.broker.path is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2, 3", (1, 2, 3)),
        (" 42 ", (42,)),
        ("", ()),
        (" , ", ()),
        ("5,5,6", (5, 6)),  # duplicates dropped, order kept
        ("-1001234567890,99", (-1001234567890, 99)),  # group chats are negative
    ],
)
@pytest.mark.parametrize("source", ["env", "dotenv"])
def test_comma_separated_ids(
    source: str,
    text: str,
    expected: tuple[int, ...],
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if source == "env":
        monkeypatch.setenv("TELEGRAM_ALLOWED_CHAT_IDS", text)
    else:
        write_env(clean_env, f"TELEGRAM_ALLOWED_CHAT_IDS={text}\n")
    assert load_settings().telegram.allowed_chat_ids == expected


@pytest.mark.parametrize("source", ["env", "dotenv"])
def test_comma_separated_user_ids_symbols_sessions(
    source: str, clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "TELEGRAM_ADMIN_IDS": "10",
        "TELEGRAM_TRADER_IDS": "20, 21",
        "TELEGRAM_VIEWER_IDS": "30,31,32",
        "TELEGRAM_NOTIFY_CHAT_IDS": "10,-100200",
        "SYMBOLS": "XAUUSD,EURUSD,XAUUSD",
        "SESSIONS": "tokyo, London",
    }
    if source == "env":
        for key, value in values.items():
            monkeypatch.setenv(key, value)
    else:
        write_env(clean_env, "".join(f"{k}={v}\n" for k, v in values.items()))
    s = load_settings()
    assert s.telegram.admin_ids == (10,)
    assert s.telegram.trader_ids == (20, 21)
    assert s.telegram.viewer_ids == (30, 31, 32)
    assert s.telegram.notify_chat_ids == (10, -100200)
    assert s.trading.symbols == ("XAUUSD", "EURUSD")
    assert s.trading.sessions == (TradingSession.TOKYO, TradingSession.LONDON)


ALL_TIMEFRAMES = (
    "M1, M2, M3, M4, M5, M6, M10, M12, M15, M20, M30, H1, H2, H3, H4, H6, H8, H12, D1, W1, MN1"
)


@pytest.mark.parametrize(
    ("env", "variable", "expected"),
    [
        ({"RISK_PCT": "5"}, "RISK_PCT", "got 5 (500%), but RISK_PCT is a fraction: 0.01 means 1%"),
        ({"RISK_PCT": "0.06"}, "RISK_PCT", "use a value above 0 up to 0.05"),
        ({"RISK_PCT": "0"}, "RISK_PCT", "use a value above 0 up to 0.05"),
        ({"RISK_PCT": "1%"}, "RISK_PCT", "'1%' has a percent sign; RISK_PCT is a fraction"),
        ({"RISK_PCT": "one"}, "RISK_PCT", "'one' is not a number; RISK_PCT is a fraction"),
        ({"MAX_DAILY_LOSS_PCT": "3"}, "MAX_DAILY_LOSS_PCT", "MAX_DAILY_LOSS_PCT is a fraction"),
        ({"MAX_DRAWDOWN_PCT": "0"}, "MAX_DRAWDOWN_PCT", "use a value above 0 up to 1"),
        ({"MIN_FREE_MARGIN_PCT": "50"}, "MIN_FREE_MARGIN_PCT", "use 0 up to 1"),
        ({"TIMEFRAME": "M7"}, "TIMEFRAME", f"unknown timeframe 'M7'; use one of {ALL_TIMEFRAMES}"),
        (
            {"DISPLAY_TZ": "Mars/Olympus"},
            "DISPLAY_TZ",
            "DISPLAY_TZ must be an IANA zone like Asia/Ulaanbaatar",
        ),
        ({"BROKER": "mt4"}, "BROKER", "Input should be 'paper' or 'mt5'"),
        ({"MT5_LOGIN": "123"}, "MT5_PASSWORD", "MT5_LOGIN is set, so MT5_PASSWORD must be set"),
        ({"MT5_PASSWORD": "pw"}, "MT5_PASSWORD", "MT5_PASSWORD is set without MT5_LOGIN"),
        ({"MT5_LOGIN": "abc"}, "MT5_LOGIN", "valid integer"),
        ({"TELEGRAM_ADMIN_IDS": "1,abc"}, "TELEGRAM_ADMIN_IDS", "'abc' is not a Telegram id"),
        ({"TELEGRAM_TRADER_IDS": "-100"}, "TELEGRAM_TRADER_IDS", "-100 looks like a group chat"),
        ({"TELEGRAM_API_BASE": "localhost:8081"}, "TELEGRAM_API_BASE", "http://localhost:8081"),
        ({"SESSIONS": "ASIA"}, "SESSIONS", "unknown session 'ASIA'"),
        ({"SESSIONS": "ANY,LONDON"}, "SESSIONS", "set SESSIONS=ANY alone"),
        ({"SYMBOLS": " , "}, "SYMBOLS", "SYMBOLS needs at least one symbol"),
        ({"SYMBOLS": "XAU USD"}, "SYMBOLS", "'XAU USD' contains a space"),
        ({"STRATEGY": "Ma-Rsi"}, "STRATEGY", "'Ma-Rsi' is not a strategy name"),
        ({"PAPER_FEED": "live"}, "PAPER_FEED", "'synthetic' or 'replay'"),
        ({"PAPER_CURRENCY": "dollars"}, "PAPER_CURRENCY", "3-letter code like USD"),
        ({"PAPER_BALANCE": "nan"}, "PAPER_BALANCE", "finite number"),
        ({"MAX_OPEN_POSITIONS": "0"}, "MAX_OPEN_POSITIONS", "greater than or equal to 1"),
        ({"MT5_SERVER_UTC_OFFSET": "20"}, "MT5_SERVER_UTC_OFFSET", "less than or equal to 14"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'"),
        ({"DEFAULT_LANG": "de"}, "DEFAULT_LANG", "'en', 'mn' or 'ru'"),
    ],
)
def test_error_names_the_variable_and_the_fix(
    env: dict[str, str], variable: str, expected: str
) -> None:
    err = config_error(**env)
    assert str(err).splitlines() == [str(err)]  # one bad variable, one line
    assert str(err).startswith(f"{variable}: ")
    assert expected in str(err)
    assert err.code == "bad_config"
    assert err.params["variables"] == (variable,)


def test_every_bad_variable_gets_its_own_line() -> None:
    err = config_error(RISK_PCT="5", TIMEFRAME="X", DISPLAY_TZ="Nowhere", TELEGRAM_ADMIN_IDS="a")
    lines = str(err).splitlines()
    names = ["TELEGRAM_ADMIN_IDS", "TIMEFRAME", "RISK_PCT", "DISPLAY_TZ"]  # group order
    assert [line.split(":", 1)[0] for line in lines] == names
    assert err.params["variables"] == tuple(names)


def test_errors_from_dotenv_use_the_variable_name(clean_env: Path) -> None:
    write_env(clean_env, "BROKER=mt4\n")
    with pytest.raises(ConfigError, match=r"^BROKER: Input should be 'paper' or 'mt5'$"):
        load_settings()


def test_mt5_attach_mode_needs_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKER", "mt5")
    s = load_settings()
    assert s.broker.kind == "mt5"
    assert s.broker.login is None
    assert s.broker.password is None


SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456:AAsecret-token-value",
    "MT5_PASSWORD": "hunter2-password",
    "TELEGRAM_PROXY": "socks5://me:proxy-pass@10.0.0.1:1080",
}


def test_secrets_never_appear_in_errors() -> None:
    # Each secret is set and every other group has an error, so the secrets' groups are
    # parsed next to failing fields (TELEGRAM_ADMIN_IDS, MT5_LOGIN).
    err = config_error(**SECRETS, RISK_PCT="5", TELEGRAM_ADMIN_IDS="x", MT5_LOGIN="oops")
    shown = "".join(traceback.format_exception(err)) + repr(err.params)
    assert "RISK_PCT" in shown
    assert "MT5_LOGIN" in shown
    for secret in SECRETS.values():
        assert secret not in shown


def test_secrets_are_secretstr_and_hidden_in_public_view(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MT5_LOGIN", "5012345")
    s = load_settings()
    view = s.public_view()
    for key, secret in SECRETS.items():
        assert view[key] == "set"
        assert secret not in repr(s)
        assert secret not in str(view)
    assert s.telegram.proxy is not None
    assert s.telegram.proxy.get_secret_value() == SECRETS["TELEGRAM_PROXY"]
    assert load_settings(None).public_view()["MT5_PASSWORD"] == "set"  # env still applies


def test_public_view_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_ADMIN_IDS", "1,2")
    monkeypatch.setenv("SESSIONS", "TOKYO,LDN_NY")
    view = load_settings().public_view()
    assert list(view) == env_var_names()
    assert view["TELEGRAM_BOT_TOKEN"] == "not set"
    assert view["TELEGRAM_ADMIN_IDS"] == "1,2"
    assert view["TELEGRAM_VIEWER_IDS"] == ""
    assert view["SESSIONS"] == "TOKYO,LDN_NY"
    assert view["TIMEFRAME"] == "M15"
    assert view["RISK_PCT"] == "0.01"
    assert view["PAPER_BALANCE"] == "10000"
    assert view["ALLOW_MIN_LOT"] == "false"
    assert view["BREAKEVEN_AT_R"] == "not set"
    assert view["DB_PATH"] == str(Path("data/chattrader.db"))


def test_settings_are_frozen() -> None:
    s = load_settings()
    with pytest.raises(ValidationError):
        s.risk.risk_pct = 0.05  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.risk = s.risk  # type: ignore[misc]


def test_display_tz_gives_a_zoneinfo() -> None:
    assert AppSettings(display_tz="America/New_York").tz.key == "America/New_York"


EXAMPLE = ROOT / ".env.example"


def example_variables() -> list[str]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    assert example_variables() == env_var_names()


def test_env_example_has_one_comment_line_above_each_variable() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert "=" in line, line
            assert lines[i - 1].startswith("# "), f"no comment above {line}"
            assert not lines[i - 2].startswith("#"), f"more than one comment above {line}"


def test_env_example_values_are_the_defaults() -> None:
    assert load_settings(EXAMPLE) == load_settings(None)
