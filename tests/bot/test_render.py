"""Rendering: verdict sentences from codes and numbers in each language, user text escaped,
times in the display zone, cards stating the numbers a person decides on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import cards, render, verdicts
from bot.i18n import build_i18n, localized
from engine.decide import Action, Decision, Signal
from engine.models import Account, Role, Side
from engine.risk import BreakerCode, GateCode, RiskLimits, RiskState, Session, Verdict
from engine.views import ForcePreview, ForceTicket, StatusView
from tests.fakes.telegram_html import parse_html

NOW = datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
UB = ZoneInfo("Asia/Ulaanbaatar")  # UTC+8, no DST
I18N = build_i18n()


def say(locale: str, verdict: Verdict) -> str:
    with localized(I18N, locale):
        return verdicts.line(verdict, UB, NOW)


@pytest.mark.parametrize(
    ("verdict", "en", "ru", "mn"),
    [
        (
            Verdict.block(GateCode.MAX_TRADES, "5 of 5 trades today", trades=5, limit=5),
            "⛔ <b>Trades per day</b>: 5 of 5 trades today",
            "⛔ <b>Сделок в день</b>: сегодня 5 из 5 сделок",
            "⛔ <b>Өдрийн арилжаа</b>: өнөөдөр 5-аас 5 арилжаа",
        ),
        (
            Verdict.block(
                GateCode.COOLDOWN, "x", after="loss", until="2024-03-05T11:30:00+00:00", minutes=60
            ),
            "⛔ <b>Cooldown</b>: cooling down after a loss until 19:30 +08",
            "⛔ <b>Пауза между сделками</b>: пауза после убытка до 19:30 +08",
            "⛔ <b>Хүлээлт</b>: алдагдлын дараах хүлээлт 19:30 +08 хүртэл",
        ),
        (
            Verdict.allow(GateCode.SPREAD, "spread 18 points (max 50)", points=18, limit=50.0),
            "✅ <b>Spread</b>: 18 points (max 50)",
            "✅ <b>Спред</b>: 18 пунктов (максимум 50)",
            "✅ <b>Спред</b>: 18 пойнт (дээд тал нь 50)",
        ),
    ],
)
def test_verdicts_read_in_each_language(verdict: Verdict, en: str, ru: str, mn: str) -> None:
    assert [say("en", verdict), say("ru", verdict), say("mn", verdict)] == [en, ru, mn]


def test_a_breaker_until_a_person_resets_it_and_the_next_day() -> None:
    held = Verdict.block(GateCode.BREAKER, "x", breaker="drawdown", why="equity ...", until="")
    assert say("en", held) == (
        "⛔ <b>Circuit breaker</b>: tripped (drawdown from the equity peak) until a person "
        "resets it (/reset_breaker)"
    )
    tomorrow = Verdict.block(
        GateCode.BREAKER, "x", breaker="daily_loss", until="2024-03-05T16:00:00+00:00"
    )
    assert say("ru", tomorrow) == (
        "⛔ <b>Аварийный стоп</b>: сработал (дневной лимит убытка) до 2024-03-06 00:00 +08"
    )


def test_user_text_is_escaped_and_records_without_detail_fall_back() -> None:
    paused = Verdict.block(GateCode.PAUSED, "x", who="<b>Eve</b>", why="a & b < c")
    line = say("en", paused)
    assert line == "⛔ <b>Pause</b>: paused by &lt;b&gt;Eve&lt;/b&gt;: a &amp; b &lt; c"
    assert parse_html(line)[0] == "⛔ Pause: paused by <b>Eve</b>: a & b < c"
    stored = Verdict(allowed=False, code=GateCode.SESSION, reason="outside sessions <LONDON>")
    with localized(I18N, "en"):
        assert verdicts.line(stored, UB, NOW, detailed=False) == (
            "⛔ <b>Trading session</b>: blocked: outside sessions &lt;LONDON&gt;"
        )
    with localized(I18N, "ru"):  # the engine's English line is for English readers only
        assert verdicts.line(stored, UB, NOW, detailed=False) == (
            "⛔ <b>Торговая сессия</b>: заблокировано"
        )


def status_view(state: RiskState) -> StatusView:
    account = Account(7, "USD", 10_000.0, 9_950.0, 200.0, 9_750.0, 100)
    return StatusView(
        broker="paper", live=False, connected=True, account=account, state=state,
        limits=RiskLimits(), open_positions=1, realised_today=-20.0, floating=-50.0,
        daily_loss_limit=300.6, sessions_open=(Session.LONDON,),
        next_session=(Session.NEWYORK, NOW + timedelta(hours=2)), decisions=(),
        symbols=("XAUUSD",), timeframe="M15", strategy="ma_rsi",
        started_at=NOW - timedelta(days=1, hours=2, minutes=5), now=NOW, cycles=98, failures=1,
    )  # fmt: skip


def test_status_states_the_pause_breaker_and_today() -> None:
    state = RiskState(
        trades_today=2, paused=True, paused_by="@tom <1002>", paused_reason="NFP & CPI",
        paused_at=NOW - timedelta(minutes=30), breaker=BreakerCode.LOSS_STREAK,
        breaker_until=NOW + timedelta(hours=3),
    )  # fmt: skip
    with localized(I18N, "en"):
        text = render.status(status_view(state), UB)
    plain, _ = parse_html(text)
    lines = plain.split("\n")
    assert lines[0] == "Status · paper account · broker connected"
    assert "Margin 200.00 USD, free 9750.00 USD, level 4975%" in lines
    assert "⏸ Paused by @tom <1002> since 17:30 +08: NFP & CPI" in lines
    assert "⛔ Circuit breaker (losses in a row) until 21:00 +08" in lines
    assert "Trades today: 2 of 5" in lines
    assert "Today's PnL: -70.00 USD (realised -20.00 USD), loss limit 300.60 USD" in lines
    assert "Sessions now: London; next New York at 20:00 +08" in lines
    assert lines[-1] == "Up 1 d 2 h 5 min; 98 cycles, 1 failed"


def test_force_card_shows_what_confirm_would_do() -> None:
    signal = Signal(Side.BUY, 1.77, 3.54, "manual", "manual")
    decision = Decision(
        Action.ORDER, signal, (), None, volume=0.56, price=1320.81, sl=1319.04, tp=1324.35,
        risk_money=99.12,
    )  # fmt: skip
    preview = ForcePreview(decision, ForceTicket("XAUUSD", Side.BUY, 0.56, 1.77, 3.54),
                           10_000.0, "USD", 2)  # fmt: skip
    with localized(I18N, "ru"):
        text = cards.force_card(preview, UB, NOW, 60)
    assert parse_html(text)[0].split("\n") == [
        "Ручная сделка: покупка 0.56 XAUUSD",
        "Цена около 1320.81",
        "Стоп-лосс 1319.04, тейк-профит 1324.35",
        "Под риском: 99.12 USD (0.99% средств)",
        "Подтвердите в течение 60 с; карточка срабатывает один раз.",
    ]


def test_role_refusal_names_both_roles() -> None:
    with localized(I18N, "mn"):
        assert (
            render.needs_role(Role.ADMIN, Role.VIEWER) == "Үүнд админ эрх хэрэгтэй; таных үзэгч."
        )
