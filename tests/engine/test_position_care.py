"""The position rule on its own: which held positions a new signal keeps, or closes first."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.decide import Signal
from engine.journal import Tracked
from engine.models import Position, Side
from engine.position_care import holding

T0 = datetime(2024, 1, 2, 10, tzinfo=UTC)
BUY = Signal(Side.BUY, sl_dist=5.0, tp_dist=10.0, reason="r", reason_code="c")
SELL = Signal(Side.SELL, sl_dist=5.0, tp_dist=10.0, reason="r", reason_code="c")


def tracked(ticket: int, side: Side, symbol: str = "XAUUSD", strategy: str = "ma_rsi") -> Tracked:
    return Tracked(ticket, f"c{ticket}", symbol, side, strategy, T0, 2000.0, 1995.0, 100.0)


def position(ticket: int, side: Side, symbol: str = "XAUUSD") -> Position:
    return Position(ticket, symbol, side, 0.1, 2000.0, T0)


def test_flat_means_a_plain_entry() -> None:
    assert holding([], {}, "ma_rsi", "XAUUSD", BUY) == (None, ())


def test_the_same_side_changes_nothing_and_says_so() -> None:
    summary, closing = holding(
        [tracked(7, Side.BUY)], {7: position(7, Side.BUY)}, "ma_rsi", "XAUUSD", BUY
    )
    assert (summary, closing) == ("buy signal: already holding buy #7", ())


def test_the_opposite_side_closes_the_strategys_own_positions_only() -> None:
    book = [
        tracked(7, Side.BUY),  # ours: closed first
        tracked(8, Side.BUY, strategy="manual"),  # /force: left alone
        tracked(9, Side.BUY, symbol="EURUSD"),  # another symbol
        tracked(10, Side.BUY),  # already closed at the broker: nothing to do
    ]
    open_now = {t: position(t, Side.BUY, "EURUSD" if t == 9 else "XAUUSD") for t in (7, 8, 9)}
    summary, closing = holding(book, open_now, "ma_rsi", "XAUUSD", SELL)
    assert summary is None
    assert [p.ticket for p in closing] == [7]
