"""Splitting HTML replies under Telegram's 4096 UTF-16 units, at line ends, tags balanced."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import render
from bot.html_split import split_html, utf16_len
from bot.i18n import build_i18n, localized
from engine.models import ClosedTrade, DealReason, Side
from engine.views import TradesView
from tests.fakes.telegram_html import parse_html

T0 = datetime(2024, 3, 5, 10, tzinfo=UTC)


def test_short_text_is_one_part() -> None:
    assert split_html("<b>a</b>\nb") == ["<b>a</b>\nb"]
    assert split_html("\n\n") == []


def test_lines_are_never_cut_and_parts_fit() -> None:
    lines = [f"<code>{i:05d}</code> line &amp; text {'x' * (i % 50)}" for i in range(600)]
    text = "\n".join(lines)
    parts = split_html(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text  # nothing lost or reordered
    assert [line for p in parts for line in p.split("\n")] == lines  # cut only at line ends


def test_astral_characters_count_twice() -> None:
    line = "📈" * 1500  # 3000 UTF-16 units, 1500 code points
    parts = split_html(f"{line}\n{line}")
    assert parts == [line, line]


def test_an_overlong_line_is_cut_between_tags_and_reopened() -> None:
    text = "<b>" + "word " * 2000 + "&amp;</b>"
    parts = split_html(text, 1000)
    assert all(utf16_len(p) <= 1000 for p in parts)
    for part in parts:
        parse_html(part)  # Telegram's parser accepts every part
        assert part.startswith("<b>") and part.endswith("</b>")
    visible = "".join(re.sub(r"</?b>", "", p) for p in parts)
    assert visible == "word " * 2000 + "&amp;"


def test_a_long_trades_list_splits_and_stays_valid_html() -> None:
    trades = tuple(
        ClosedTrade(
            position_id=10_000 + i,
            symbol="XAUUSD",
            side=Side.BUY if i % 2 else Side.SELL,
            volume=0.25,
            price_open=2000.0 + i,
            price_close=2001.5 + i,
            opened_at=T0 + timedelta(minutes=i),
            closed_at=T0 + timedelta(minutes=i + 30),
            profit=37.5,
            commission=-1.75,
            reason=DealReason.TP,
            risk_money=50.0,
        )  # fmt: skip
        for i in range(150)
    )
    view = TradesView(trades, "USD", {"XAUUSD": 2})
    with localized(build_i18n(), "ru"):
        text = render.trades(view, ZoneInfo("Asia/Ulaanbaatar"), T0)
    assert utf16_len(text) > 4096
    parts = split_html(text)
    assert len(parts) >= 2 and all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    for part in parts:
        parse_html(part)
    assert text.count("+35.75 USD") == 150  # 37.50 profit - 1.75 commission each
    assert "#10000" in parts[0] and "#10149" in parts[-1]
