"""Every risk gate allowing and blocking on hand-made contexts, and the gate order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.calendar import UnconfiguredCalendar
from engine.clock import SimClock
from engine.models import (
    Account,
    CalendarStatus,
    EconomicEvent,
    Importance,
    Side,
    SymbolSpec,
    Tick,
    TradeMode,
)
from engine.risk import (
    BreakerCode,
    BreakerGate,
    CooldownGate,
    DailyLossGate,
    GateCode,
    MarginGate,
    MarketClosedGate,
    MaxPositionsGate,
    MaxTradesGate,
    NewsGate,
    NewsPolicy,
    PausedGate,
    RiskContext,
    RiskLimits,
    RiskState,
    Session,
    SessionGate,
    SpreadGate,
    WeeklyLossGate,
    currencies_for,
    default_gates,
    evaluate,
    first_block,
)

ULN = ZoneInfo("Asia/Ulaanbaatar")  # UTC+8: 13:00 UTC is 21:00 local
NOW = datetime(2024, 5, 6, 13, 0, tzinfo=UTC)  # Monday, London/New York overlap
TODAY_ULN = "2024-05-06"

XAU = SymbolSpec(
    name="XAUUSD",
    digits=2,
    point=0.01,
    tick_size=0.01,
    tick_value=1.0,
    contract_size=100.0,
    volume_min=0.01,
    volume_max=100.0,
    volume_step=0.01,
    currency_base="XAU",
    currency_profit="USD",
    currency_margin="XAU",
)
EUR = SymbolSpec(
    name="EURUSD",
    digits=5,
    point=0.00001,
    tick_size=0.00001,
    tick_value=1.0,
    contract_size=100_000.0,
    volume_min=0.01,
    volume_max=500.0,
    volume_step=0.01,
    currency_base="EUR",
    currency_profit="USD",
)


def account(
    balance: float = 10_000.0, equity: float | None = None, free: float | None = None
) -> Account:
    eq = balance if equity is None else equity
    return Account(
        login=1,
        currency="USD",
        balance=balance,
        equity=eq,
        margin=0.0,
        free_margin=eq if free is None else free,
        leverage=100,
    )


def tick(bid: float = 2300.00, ask: float = 2300.20, t: datetime = NOW) -> Tick:
    return Tick(symbol="XAUUSD", time=t, bid=bid, ask=ask)


class FakeCalendar:
    """A configured calendar holding fixed events; records what the gate asked for."""

    def __init__(self, events: list[EconomicEvent], *, ok: bool = True, reason: str = "") -> None:
        self.events = events
        self._status = CalendarStatus(configured=True, ok=ok, reason=reason, source="test")
        self.asked: list[frozenset[str] | None] = []

    def status(self) -> CalendarStatus:
        return self._status

    def events_between(
        self, start: datetime, end: datetime, currencies: frozenset[str] | None = None
    ) -> list[EconomicEvent]:
        self.asked.append(currencies)
        return [
            e
            for e in self.events
            if start <= e.time < end and (currencies is None or e.currency in currencies)
        ]


def ctx(**changes: Any) -> RiskContext:
    """A context on which every default gate allows; ``changes`` override fields."""
    base = RiskContext(
        now=NOW,
        zone=ULN,
        symbol="XAUUSD",
        side=Side.BUY,
        spec=XAU,
        tick=tick(),
        account=account(),
        open_positions=0,
        state=RiskState(),
        limits=RiskLimits(),
        calendar=UnconfiguredCalendar(),
    )
    return replace(base, **changes)


def limits(**changes: Any) -> RiskLimits:
    return replace(RiskLimits(), **changes)


EXPECTED_ORDER = [
    GateCode.PAUSED,
    GateCode.BREAKER,
    GateCode.SESSION,
    GateCode.NEWS,
    GateCode.MAX_TRADES,
    GateCode.COOLDOWN,
    GateCode.MAX_POSITIONS,
    GateCode.DAILY_LOSS,
    GateCode.WEEKLY_LOSS,
    GateCode.MARKET_CLOSED,
    GateCode.SPREAD,
    GateCode.MARGIN,
]


# ----------------------------------------------------------------- pipeline


def test_default_gates_order_and_clean_pass() -> None:
    c = ctx()
    verdicts = evaluate(default_gates(c.limits), c)
    assert [v.code for v in verdicts] == EXPECTED_ORDER
    assert all(v.allowed for v in verdicts), [v.reason for v in verdicts if not v.allowed]
    summary = first_block(default_gates(c.limits), c)
    assert (summary.allowed, summary.code) == (True, GateCode.OK)
    assert summary.reason == "all 12 risk gates allow"


def test_first_block_is_the_earliest_refusal_and_evaluate_lists_all() -> None:
    state = RiskState(day_key=TODAY_ULN, trades_today=5, paused=True, paused_by="ann")
    c = ctx(state=state, open_positions=1)
    gates = default_gates(c.limits)
    assert first_block(gates, c).code is GateCode.PAUSED
    blocked = [v.code for v in evaluate(gates, c) if not v.allowed]
    assert blocked == [GateCode.PAUSED, GateCode.MAX_TRADES, GateCode.MAX_POSITIONS]
    assert first_block(gates, replace(c, state=replace(state, paused=False))).code is (
        GateCode.MAX_TRADES
    )


def test_default_gates_pass_the_news_policy_on() -> None:
    news = [
        g for g in default_gates(limits(news_policy=NewsPolicy.ALLOW)) if isinstance(g, NewsGate)
    ]
    assert len(news) == 1 and news[0].policy is NewsPolicy.ALLOW


# ----------------------------------------------------------------- paused / breaker


def test_paused_gate() -> None:
    assert PausedGate().check(ctx()).allowed
    state = RiskState(
        paused=True,
        paused_by="alice",
        paused_reason="FOMC tonight",
        paused_at=datetime(2024, 5, 6, 12, tzinfo=UTC),
    )
    v = PausedGate().check(ctx(state=state))
    assert not v.allowed and v.code is GateCode.PAUSED
    assert v.reason == "paused by alice since 20:00 Asia/Ulaanbaatar: FOMC tonight"
    assert v.detail["who"] == "alice"


def test_breaker_gate_blocks_until_expiry_in_display_zone() -> None:
    clock = SimClock(NOW)
    state = RiskState(
        breaker=BreakerCode.LOSS_STREAK,
        breaker_reason="3 losses in a row",
        breaker_until=NOW + timedelta(minutes=30),
    )
    v = BreakerGate().check(ctx(state=state, now=clock.now()))
    assert not v.allowed
    assert (
        v.reason == "circuit breaker (loss_streak) until 21:30 Asia/Ulaanbaatar: 3 losses in a row"
    )
    clock.advance_to(NOW + timedelta(minutes=30))
    assert BreakerGate().check(ctx(state=state, now=clock.now())).allowed
    forever = replace(state, breaker=BreakerCode.DRAWDOWN, breaker_until=None)
    v = BreakerGate().check(ctx(state=forever, now=NOW + timedelta(days=9)))
    assert not v.allowed and "until a person resets it" in v.reason
    assert BreakerGate().check(ctx()).allowed


# ----------------------------------------------------------------- session


def test_session_gate_allows_inside_and_names_the_close() -> None:
    v = SessionGate().check(ctx(limits=limits(sessions=(Session.LONDON,))))
    assert v.allowed
    # London closes 16:00 UTC = 00:00 next day in Ulaanbaatar.
    assert v.reason == "LONDON session open until 2024-05-07 00:00 Asia/Ulaanbaatar"


def test_session_gate_blocks_outside_and_names_the_next_open() -> None:
    late = NOW.replace(hour=17)  # 01:00 local on the 7th
    v = SessionGate().check(
        ctx(now=late, tick=tick(t=late), limits=limits(sessions=(Session.LONDON,)))
    )
    assert not v.allowed and v.code is GateCode.SESSION
    # Next London open: Tuesday 07:00 UTC = 15:00 local, same local day as "now".
    assert v.reason == "outside sessions LONDON; LONDON opens 15:00 Asia/Ulaanbaatar"
    assert v.detail["opens"] == "2024-05-07T07:00:00+00:00"


def test_session_gate_any() -> None:
    sat = datetime(2024, 5, 11, 3, tzinfo=UTC)
    assert SessionGate().check(ctx(now=sat, limits=limits(sessions=(Session.ANY,)))).allowed
    assert not SessionGate().check(ctx(now=sat)).allowed  # default LONDON, NEWYORK


# ----------------------------------------------------------------- news


def event(
    minutes: int, currency: str = "USD", importance: Importance = Importance.HIGH
) -> EconomicEvent:
    return EconomicEvent(
        time=NOW + timedelta(minutes=minutes),
        currency=currency,
        country="US",
        title="Non-Farm Payrolls",
        importance=importance,
    )


def test_news_gate_allows_and_says_when_calendar_is_not_configured() -> None:
    v = NewsGate().check(ctx())
    assert v.allowed and v.code is GateCode.NEWS
    assert "calendar not configured" in v.reason
    assert UnconfiguredCalendar().events_between(NOW, NOW + timedelta(days=7)) == []


@pytest.mark.parametrize(
    ("offset", "blocked"),
    [(-31, False), (-30, True), (0, True), (29, True), (30, False)],
)
def test_news_window_edges(offset: int, blocked: bool) -> None:
    # Event at NOW + 20 min; window is [event - 30 min, event + 30 min).
    cal = FakeCalendar([event(20)])
    now = NOW + timedelta(minutes=20 + offset)
    v = NewsGate().check(ctx(calendar=cal, now=now, tick=tick(t=now)))
    assert v.allowed is not blocked, v.reason


def test_news_block_reason_in_display_zone() -> None:
    cal = FakeCalendar([event(20), event(25, importance=Importance.MEDIUM)])
    v = NewsGate().check(ctx(calendar=cal))
    assert not v.allowed
    assert v.reason == (
        "news window: Non-Farm Payrolls (USD) at 21:20 Asia/Ulaanbaatar; "
        "no entries until 21:50 Asia/Ulaanbaatar"
    )
    assert cal.asked == [frozenset({"USD"})]


def test_news_ignores_other_currencies_and_low_importance() -> None:
    cal = FakeCalendar([event(5, currency="EUR"), event(5, importance=Importance.MEDIUM)])
    assert NewsGate().check(ctx(calendar=cal)).allowed
    eur = ctx(calendar=cal, symbol="EURUSD", spec=EUR)
    assert not NewsGate().check(eur).allowed  # the EUR release matters to EURUSD
    assert (
        NewsGate()
        .check(ctx(calendar=cal, limits=limits(news_min_importance=Importance.MEDIUM)))
        .allowed
        is False
    )


def test_news_policy_when_calendar_is_stale() -> None:
    stale = FakeCalendar([], ok=False, reason="last refresh failed: HTTP 503")
    v = NewsGate().check(ctx(calendar=stale))
    assert not v.allowed and "HTTP 503" in v.reason and "blocks" in v.reason
    assert NewsGate(policy=NewsPolicy.ALLOW).check(ctx(calendar=stale)).allowed
    assert (
        NewsGate().check(ctx(calendar=stale, limits=limits(news_policy=NewsPolicy.ALLOW))).allowed
    )


def test_currencies_for_symbols() -> None:
    assert currencies_for("XAUUSD") == frozenset({"USD"})
    assert currencies_for("EURUSD") == frozenset({"EUR", "USD"})
    assert currencies_for("xauusdm") == frozenset({"USD"})  # broker suffix
    odd = replace(XAU, name="XAUAUD", currency_profit="AUD")
    assert currencies_for("XAUAUD", odd) == frozenset({"AUD"})
    assert currencies_for("MYSTERY") is None


# ----------------------------------------------------------------- trades, cooldown, positions


def test_max_trades_per_day() -> None:
    state = RiskState(day_key=TODAY_ULN, trades_today=3)
    v = MaxTradesGate().check(ctx(state=state, limits=limits(max_trades_per_day=3)))
    assert not v.allowed and v.reason == "3 of 3 trades today"
    v = MaxTradesGate().check(
        ctx(state=replace(state, trades_today=2), limits=limits(max_trades_per_day=3))
    )
    assert v.allowed and v.reason == "2 of 3 trades today"
    assert MaxTradesGate().check(ctx(state=state, limits=limits(max_trades_per_day=None))).allowed


def test_max_trades_resets_at_local_midnight_not_utc() -> None:
    # Three trades on the local day 2024-05-06; 16:01 UTC is already the 7th in Ulaanbaatar.
    state = RiskState(day_key="2024-05-06", trades_today=3)
    lim = limits(max_trades_per_day=3, sessions=(Session.ANY,))
    before = datetime(2024, 5, 6, 15, 59, tzinfo=UTC)
    after = datetime(2024, 5, 6, 16, 1, tzinfo=UTC)
    assert not MaxTradesGate().check(ctx(state=state, now=before, limits=lim)).allowed
    v = MaxTradesGate().check(ctx(state=state, now=after, limits=lim))
    assert v.allowed and v.reason == "0 of 3 trades today"
    assert (
        not MaxTradesGate()
        .check(ctx(state=state, now=after, zone=ZoneInfo("UTC"), limits=lim))
        .allowed
    )


def test_cooldown_after_entry() -> None:
    state = RiskState(last_entry_at=NOW - timedelta(minutes=10))
    v = CooldownGate().check(ctx(state=state))  # 15 min cooldown: until 13:05 UTC
    assert not v.allowed
    assert v.reason == "cooldown after the last entry until 21:05 Asia/Ulaanbaatar"
    assert CooldownGate().check(ctx(state=state, now=NOW + timedelta(minutes=5))).allowed
    assert CooldownGate().check(ctx(state=state, limits=limits(cooldown=timedelta(0)))).allowed


def test_longer_cooldown_after_a_loss_wins() -> None:
    state = RiskState(
        last_entry_at=NOW - timedelta(minutes=10), last_loss_at=NOW - timedelta(minutes=15)
    )
    v = CooldownGate().check(ctx(state=state))  # loss at 12:45 + 60 min = 13:45 UTC
    assert not v.allowed
    assert v.reason == "cooldown after a loss until 21:45 Asia/Ulaanbaatar"
    assert v.detail["after"] == "loss"
    assert not CooldownGate().check(ctx(state=state, now=NOW + timedelta(minutes=44))).allowed
    assert CooldownGate().check(ctx(state=state, now=NOW + timedelta(minutes=45))).allowed


def test_max_open_positions() -> None:
    v = MaxPositionsGate().check(ctx(open_positions=2, limits=limits(max_open_positions=2)))
    assert not v.allowed and v.reason == "2 of 2 positions open"
    assert (
        MaxPositionsGate()
        .check(ctx(open_positions=1, limits=limits(max_open_positions=2)))
        .allowed
    )


# ----------------------------------------------------------------- daily / weekly loss


def test_daily_loss_counts_realised_and_floating() -> None:
    # Realised -200 today: day-start balance 9800 + 200 = 10000; 3% limit = 300.
    state = RiskState(day_key=TODAY_ULN, realised_today=-200.0)
    v = DailyLossGate().check(ctx(state=state, account=account(9800.0, equity=9750.0)))
    assert v.allowed
    assert v.reason == (
        "daily loss 250.00 of 300.00 USD limit (3% of 10000.00; realised -200.00, floating -50.00)"
    )
    v = DailyLossGate().check(ctx(state=state, account=account(9800.0, equity=9700.0)))
    assert not v.allowed and v.detail["loss"] == 300.0 and v.detail["limit"] == 300.0


def test_daily_loss_of_yesterday_does_not_count() -> None:
    state = RiskState(day_key="2024-05-05", realised_today=-500.0)
    v = DailyLossGate().check(ctx(state=state, account=account(9500.0)))
    assert v.allowed and v.detail["realised"] == 0.0


def test_weekly_loss() -> None:
    # Realised -550 this week: week-start balance 10000; 6% limit = 600.
    state = RiskState(day_key=TODAY_ULN, week_key="2024-W19", realised_week=-550.0)
    assert WeeklyLossGate().check(ctx(state=state, account=account(9450.0, equity=9440.0))).allowed
    v = WeeklyLossGate().check(ctx(state=state, account=account(9450.0, equity=9400.0)))
    assert not v.allowed and v.code is GateCode.WEEKLY_LOSS
    assert v.reason.startswith("weekly loss 600.00 of 600.00 USD limit")
    # A new ISO week (Monday 2024-05-13 local) forgets last week's losses.
    monday = datetime(2024, 5, 13, 1, tzinfo=UTC)
    assert WeeklyLossGate().check(ctx(state=state, now=monday, account=account(9450.0))).allowed


# ----------------------------------------------------------------- market, spread, margin


def test_market_closed_without_a_price_or_on_the_weekend() -> None:
    v = MarketClosedGate().check(ctx(tick=None))
    assert not v.allowed and v.reason == "no price for XAUUSD"
    sat = datetime(2024, 5, 11, 3, tzinfo=UTC)
    v = MarketClosedGate().check(ctx(now=sat, tick=tick(t=sat)))
    assert not v.allowed
    # Reopens Sunday 22:00 UTC = Monday 06:00 in Ulaanbaatar.
    assert v.reason == "weekend: market closed until 2024-05-13 06:00 Asia/Ulaanbaatar"
    assert (
        MarketClosedGate()
        .check(ctx(now=sat, tick=tick(t=sat), limits=limits(weekend_closed=False)))
        .allowed
    )


def test_market_closed_on_a_stale_price() -> None:
    v = MarketClosedGate().check(ctx(tick=tick(t=NOW - timedelta(minutes=12))))
    assert not v.allowed and v.reason == "last XAUUSD price is 12.0 min old (limit 5 min)"
    assert MarketClosedGate().check(ctx(tick=tick(t=NOW - timedelta(minutes=4)))).allowed


@pytest.mark.parametrize(
    ("mode", "side", "allowed"),
    [
        (TradeMode.DISABLED, Side.BUY, False),
        (TradeMode.CLOSEONLY, Side.BUY, False),
        (TradeMode.LONGONLY, Side.SELL, False),
        (TradeMode.LONGONLY, Side.BUY, True),
        (TradeMode.SHORTONLY, Side.BUY, False),
        (TradeMode.SHORTONLY, Side.SELL, True),
    ],
)
def test_market_closed_by_trade_mode(mode: TradeMode, side: Side, allowed: bool) -> None:
    c = ctx(spec=replace(XAU, trade_mode=mode), side=side)
    assert MarketClosedGate().check(c).allowed is allowed


def test_spread_gate() -> None:
    v = SpreadGate().check(ctx())
    assert v.allowed and v.reason == "spread 20 points (max 50)"
    v = SpreadGate().check(ctx(tick=tick(ask=2300.60)))
    assert not v.allowed and v.reason == "spread 60 points (max 50)"
    assert not SpreadGate().check(ctx(tick=None)).allowed
    assert (
        SpreadGate()
        .check(ctx(tick=tick(ask=2310.0), limits=limits(max_spread_points=None)))
        .allowed
    )


def test_margin_gate_with_broker_margin() -> None:
    # Floor: 50% of equity 10000 = 5000.
    v = MarginGate().check(ctx(required_margin=4000.0))
    assert v.allowed and v.detail["free_after"] == 6000.0
    v = MarginGate().check(ctx(required_margin=5500.0))
    assert not v.allowed
    assert v.reason == (
        "free margin after the order 4500.00 USD, floor 5000.00 (50% of equity 10000.00)"
    )


def test_margin_gate_estimates_from_volume() -> None:
    # 1 lot x 100 oz x ask 2300.20 / leverage 100 = 2300.20 margin; 3 lots = 6900.60.
    v = MarginGate().check(ctx(volume=1.0))
    assert v.allowed and v.detail["required"] == 2300.2 and v.detail["source"] == "estimate"
    v = MarginGate().check(ctx(volume=3.0))
    assert not v.allowed and v.detail["free_after"] == 3099.4


def test_margin_gate_without_order_margin_judges_free_margin_now() -> None:
    v = MarginGate().check(ctx(account=account(10_000.0, free=4000.0)))
    assert not v.allowed and v.reason.endswith("(order margin unknown)")
    # A profit currency other than the account's: no estimate without a conversion rate.
    jpy = replace(XAU, currency_profit="JPY")
    v = MarginGate().check(ctx(spec=jpy, volume=50.0))
    assert v.allowed and v.detail["source"] == "unknown"
    assert (
        MarginGate()
        .check(ctx(required_margin=9000.0, limits=limits(min_free_margin_pct=None)))
        .allowed
    )
