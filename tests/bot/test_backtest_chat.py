"""The chat side of backtests, /news and /audit without Telegram: the progress message's edit
throttle on a controlled clock, one job per user and the trades CSV's time to live, refusals
and captions in each language, the calendar line and event lines, audit rows scrubbed again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import InlineKeyboardMarkup, Message

from bot import audit_render, backtest_render, backtest_reports, news_render
from bot.backtest_jobs import BacktestJobs, ProgressMessage
from bot.i18n import build_i18n, localized
from engine.backtest.jobs import Progress
from engine.backtest.metrics import Metrics
from engine.calendar import NewsWindow, UpcomingEvent
from engine.config import Settings, load_settings
from engine.errors import BadArguments, DataUnavailable
from engine.models import AuditEntry, CalendarStatus, EconomicEvent, Importance
from engine.risk import NewsPolicy
from tests.fakes.telegram_html import parse_html

NOW = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
UB = ZoneInfo("Asia/Ulaanbaatar")  # UTC+8, no DST
I18N = build_i18n()


class Ticks:
    """Monotonic seconds the test sets; ``sleep`` advances them instead of waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class FakeMessage:
    """What ``replies.edit`` calls on a message: ``edit_text``; edits recorded with the time."""

    clock: Ticks
    text: str = "start"
    edits: list[tuple[float, str, Any]] = field(default_factory=list)

    async def edit_text(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
        self.edits.append((self.clock.now, text, reply_markup))


async def drain(progress: ProgressMessage) -> None:
    task = progress._task
    if task is not None and not task.done():
        await task


async def test_progress_edits_at_most_once_per_interval_and_the_final_text_wins() -> None:
    ticks = Ticks()
    sent = FakeMessage(ticks)
    markup = InlineKeyboardMarkup(inline_keyboard=[])
    progress = ProgressMessage(
        cast(Message, sent), lambda p: f"{p.stage} {p.done}", markup, every=1.0, now=ticks,
        sleep=ticks.sleep,
    )  # fmt: skip
    progress.update(Progress("data"))
    await drain(progress)
    assert sent.edits == [(100.0, "data 0", markup)]  # the first stage shows at once
    ticks.now += 0.25
    for done in (1, 2, 3):  # three reports within the next second: only the last one shows
        progress.update(Progress("grid", done, 3))
    await drain(progress)
    assert sent.edits[1:] == [(101.0, "grid 3", markup)]
    assert ticks.slept == [0.75]  # waited out the rest of the second, no more
    progress.update(Progress("grid", 3, 3))  # the same text again: no edit
    await drain(progress)
    ticks.now += 0.5
    progress.update(Progress("charts", 1, 3))  # due at 102.0, still pending when it finishes
    await progress.finish("done")
    assert [text for _, text, _ in sent.edits] == ["data 0", "grid 3", "done"]
    assert sent.edits[-1][2] is None  # the final text drops the Cancel button
    progress.update(Progress("charts", 2, 3))  # a late report changes nothing
    await drain(progress)
    assert [text for _, text, _ in sent.edits] == ["data 0", "grid 3", "done"]
    assert progress.edits == 2


def jobs(now: Ticks) -> BacktestJobs:
    settings = Settings()
    return BacktestJobs(settings, broker=cast(Any, None), data=cast(Any, None), now=now)


async def test_one_job_per_user_and_the_trades_csv_expires_after_an_hour() -> None:
    ticks = Ticks()
    chat = jobs(ticks)
    first = chat.reserve(1, 10, "backtest")
    assert first is not None and chat.running(1) is first
    assert chat.reserve(1, 10, "optimize") is None  # one at a time, whatever the kind
    other = chat.reserve(2, 10, "compare")
    assert other is not None and other.id != first.id
    chat.release(first)
    assert chat.running(1) is None and chat.job(first.id) is None
    again = chat.reserve(1, 10, "backtest")
    assert again is not None

    chat.keep_trades(first, "a.csv", b"x\n", 1)
    assert chat.trades(first.id, 10) is not None
    assert chat.trades(first.id, 11) is None  # another chat does not get it
    chat.keep_trades(again, "b.csv", b"y\n", 1)  # the owner's newer report replaces it
    assert chat.trades(first.id, 10) is None
    kept = chat.trades(again.id, 10)
    assert kept is not None and (kept.filename, kept.data) == ("b.csv", b"y\n")
    ticks.now += 3600 - 0.001
    assert chat.trades(again.id, 10) is not None
    ticks.now += 0.001
    assert chat.trades(again.id, 10) is None  # KEEP_CSV is one hour
    assert chat.strategy_token("XAUUSD 90d") == "XAUUSD 90d strategy=ma_rsi"
    assert chat.strategy_token("XAUUSD 90d Strategy=bb_reversion") == (
        "XAUUSD 90d Strategy=bb_reversion"
    )


@pytest.mark.parametrize(
    ("error", "en", "ru", "mn"),
    [
        (
            BadArguments("x", code="bad_period", period="90x"),
            "90x is not a period.",
            "Не понимаю период 90x.",
            "90x гэсэн хугацааг ойлгосонгүй.",
        ),
        (
            DataUnavailable("x", code="too_few_bars", bars=7, need=10),
            "Only 7 bars in that period, 10 needed: ask for a longer one.",
            "В этом периоде только 7 баров, нужно 10: возьмите период подлиннее.",
            "Энэ хугацаанд ердөө 7 лаа байна, 10 хэрэгтэй: илүү урт хугацаа сонгоно уу.",
        ),
        (
            BadArguments("x", code="param_out_of_range", name="fast", min=2, max=200.0, value="1"),
            "fast must be from 2 to 200; got 1.",
            "fast должен быть от 2 до 200; получено 1.",
            "fast нь 2-ээс 200 хооронд байх ёстой; өгсөн нь 1.",
        ),
    ],
)
def test_refusals_are_sentences_in_each_language(
    error: BadArguments, en: str, ru: str, mn: str
) -> None:
    for locale, expected in (("en", en), ("ru", ru), ("mn", mn)):
        with localized(I18N, locale):
            assert backtest_render.reason(error) == expected


def test_unknown_codes_fall_back_to_the_engines_line_quoted() -> None:
    error = BadArguments("gates must be <on> or off", code="something_new")
    with localized(I18N, "ru"):
        assert backtest_render.reason(error) == "gates must be &lt;on&gt; or off"


def metrics(**changes: Any) -> Metrics:
    base = Metrics(
        initial_balance=10_000.0, final_equity=10_250.5, net_profit=250.5, return_pct=2.505,
        cagr_pct=None, trades=4, wins=3, losses=1, win_rate_pct=75.0, profit_factor=3.5,
        expectancy=62.625, expectancy_r=0.4, avg_win=111.5, avg_loss=-84.0, payoff_ratio=1.33,
        max_drawdown=120.0, max_drawdown_pct=1.19, max_drawdown_duration=timedelta(days=2),
        max_drawdown_recovered=True, sharpe=1.234, sortino=None, calmar=None, exposure_pct=8.0,
        avg_holding=timedelta(hours=5), best_trade=150.0, worst_trade=-84.0, max_win_streak=2,
        max_loss_streak=1, trades_per_week=1.0, days=28.0,
    )  # fmt: skip
    return replace(base, **changes)


def test_metric_lines_and_progress_bar() -> None:
    with localized(I18N, "en"):
        lines = backtest_reports.metric_lines(metrics(), "USD")
        bar = backtest_render.progress("Backtest XAUUSD 90d", Progress("grid", 5, 10))
    assert [parse_html(line)[0] for line in lines] == [
        "Net profit: +250.50 USD (+2.50%)",  # 2.505 rounds half to even in binary: 2.50
        "Trades: 4, won 75.0%, profit factor 3.50",
        "Expectancy: +62.62 USD per trade (+0.40 R)",
        "Max drawdown: 120.00 USD (1.19%)",
        "Sharpe 1.23, Sortino —, CAGR —",
    ]
    assert bar == "⏳ <b>Backtest XAUUSD 90d</b>\ntesting parameter sets ▰▰▰▰▰▱▱▱▱▱ 5/10"
    with localized(I18N, "ru"):
        assert backtest_reports.metric_lines(metrics(profit_factor=float("inf")), "USD")[1] == (
            "Сделок: 4, прибыльных 75.0%, профит-фактор ∞"
        )


def test_usage_shows_the_forms_and_examples_in_russian() -> None:
    with localized(I18N, "ru"):
        text = backtest_render.usage("compare", BadArguments("x", code="compare_count", count=1))
    assert parse_html(text)[0].split("\n") == [
        "Укажите от 2 до 4 разных стратегий (указано 1).",
        "Использование: /compare SYMBOL PERIOD [TF] NAME NAME [NAME ...]",
        "PERIOD: 90d, 12w, 6m, 1y или 2025-01-01..2025-03-31",
        "Стратегии: ma_rsi, bb_reversion.",
        "Примеры:",
        "/compare XAUUSD 90d ma_rsi bb_reversion",
    ]


@pytest.mark.parametrize(
    ("status", "policy", "en"),
    [
        (CalendarStatus(False, True, reason="calendar not configured"), NewsPolicy.BLOCK,
         "📅 Calendar not configured: news is not checked before entries."),
        (CalendarStatus(True, True, NOW - timedelta(hours=1), "", "faireconomy"),
         NewsPolicy.BLOCK, "📅 Calendar fresh, updated 17:00 +08 (faireconomy)."),
        (CalendarStatus(True, False, NOW - timedelta(days=1), "calendar data is 1 d old"),
         NewsPolicy.BLOCK,
         "⚠️ Calendar stale or unavailable (last update 2024-03-04 18:00 +08): entries are "
         "blocked.\ncalendar data is 1 d old\nTo trade without news checks, set "
         "NEWS_POLICY=allow or CALENDAR_ENABLED=false in .env."),
        (CalendarStatus(True, False, None, "no calendar data yet"), NewsPolicy.ALLOW,
         "⚠️ Calendar stale or unavailable (last update —): entries are allowed.\n"
         "no calendar data yet"),
    ],
)  # fmt: skip
def test_calendar_line(status: CalendarStatus, policy: NewsPolicy, en: str) -> None:
    with localized(I18N, "en"):
        assert news_render.calendar_line(status, policy, UB, NOW) == en
    with localized(I18N, "ru"):  # the engine's English reason is for English readers only
        ru = news_render.calendar_line(status, policy, UB, NOW)
    assert not status.reason or status.reason not in ru
    blocked = policy is NewsPolicy.BLOCK and status.configured and not status.ok
    assert ("задайте в .env NEWS_POLICY=allow" in ru) is blocked


def test_event_lines_count_down_and_mark_the_blocking_one() -> None:
    event = EconomicEvent(
        NOW + timedelta(days=1, hours=2, minutes=5), "USD", "US", "CPI <m/m>",
        Importance.HIGH, actual="", forecast="0.3%", previous="0.4%",
    )  # fmt: skip
    window = NewsWindow()
    soon = UpcomingEvent(event, event.time - NOW, event.time, event.time, blocks_now=False)
    with localized(I18N, "en"):
        line = news_render.event_line(soon, UB, NOW)
    assert line == (
        "🔴 <b>2024-03-06 20:05 +08</b> (in 1 d 2 h) USD CPI &lt;m/m&gt;\n"
        "    high, forecast 0.3%, previous 0.4%"
    )
    past = replace(soon, starts_in=timedelta(minutes=-20), blocks_now=True)
    with localized(I18N, "mn"):
        line = news_render.event_line(past, UB, NOW)
        assert line.endswith("20 мин-ийн өмнө) USD CPI &lt;m/m&gt;\n    өндөр, таамаг 0.3%, "
                             "өмнөх 0.4% · ⛔ одоо хориглож байна")  # fmt: skip
        assert news_render.window_line(window) == (
            "Цонх: «өндөр» ач холбогдолтой мэдээнээс 60 минутын өмнөөс 30 минутын дараа хүртэл."
        )


def test_audit_rows_are_scrubbed_and_quoted_on_the_way_out() -> None:
    token = "123456789:AAHk4sVx9y-secretsecretsecretsecret12"
    rows = [
        AuditEntry(NOW, 7, 7, "/pause", "ok", f"because {token} <b>"),
        AuditEntry(NOW - timedelta(days=1), 8, -100, "button", "denied", "bt:x:1a2b3c4d"),
        AuditEntry(NOW, None, 5, "message", "ignored: unknown user", "x" * 100),
    ]
    with localized(I18N, "en"):
        text = audit_render.audit(rows, {7: "Tom"}, UB, NOW)
    lines = text.split("\n")
    assert lines[0] == "<b>Audit log: the last 3 entries, newest first</b>"
    assert lines[1] == (
        "18:00 +08 · <code>7</code> Tom · private · <b>/pause</b> because *** &lt;b&gt; → ok"
    )
    assert lines[2] == (
        "2024-03-04 18:00 +08 · <code>8</code> · chat <code>-100</code> · <b>button</b> "
        "bt:x:1a2b3c4d → denied"
    )
    assert lines[3].endswith("<b>message</b> " + "x" * 59 + "… → ignored: unknown user")
    assert token not in text
    parse_html(text)  # Telegram accepts it
    with localized(I18N, "ru"):
        assert audit_render.audit([], {}, UB, NOW) == "Журнал аудита пуст."


def test_the_calendar_hint_names_settings_that_exist_with_valid_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status = CalendarStatus(True, False, None, "no calendar data yet")
    with localized(I18N, "en"):
        hint = news_render.calendar_line(status, NewsPolicy.BLOCK, UB, NOW).splitlines()[-1]
    pairs = re.findall(r"\b([A-Z_]+)=(\w+)", hint)
    assert [name for name, _ in pairs] == ["NEWS_POLICY", "CALENDAR_ENABLED"]
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    for name, value in pairs:
        monkeypatch.setenv(name, value)
        load_settings(None)  # raises on an unknown value
        monkeypatch.delenv(name)
