"""The notifier on a real SQLite outbox and chat preferences, a paper broker for the account
currency and digits: every event kind becomes the right message (kind, dedup key and exact
English text, written by hand below), muted kinds are skipped per chat, each chat reads its own
language, a key reaches a chat once, failed cycles are scrubbed and rate limited, and calendar
reminders go out once even across a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import build_i18n
from bot.notifier import ErrorBudget, Notifier
from bot.reminders import NewsReminders, currencies_of
from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.brokers.paper import PaperBroker
from engine.calendar import CachedCalendar
from engine.clock import SimClock
from engine.events import (
    CycleFailed,
    GateBlocked,
    LoopRecovered,
    LoopStalled,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    SignalSkipped,
    StopMoved,
)
from engine.models import (
    DealReason,
    EconomicEvent,
    Importance,
    OutboxMessage,
    RejectReason,
    Side,
    Timeframe,
)
from engine.ports import CalendarBatch, CalendarFetch
from engine.risk import BreakerCode
from engine.risk.events import BreakerReset, BreakerTripped, Paused, Resumed
from engine.symbols import DEFAULT_SPECS
from storage import Storage, open_storage
from storage.repos.chats import SqliteChatPrefsRepo

T0 = datetime(2024, 5, 7, 10, 0, tzinfo=UTC)  # 18:00 in Ulaanbaatar (+08)
ADMIN, GROUP = 1001, -1001234567890
ZONE = ZoneInfo("Asia/Ulaanbaatar")
M15 = Timeframe.M15


@dataclass
class Rig:
    storage: Storage
    clock: SimClock
    notifier: Notifier
    chats: SqliteChatPrefsRepo
    seconds: list[float]

    async def stored(self) -> list[OutboxMessage]:
        return await self.storage.outbox.due(T0 + timedelta(days=365), 1000)


async def make_rig(path: Path, per_hour: int = 2) -> tuple[Rig, Storage]:
    clock = SimClock(T0)
    storage = await open_storage(path, clock)
    broker = PaperBroker(storage.paper, clock, {"XAUUSD": DEFAULT_SPECS["XAUUSD"]})
    await broker.connect()
    seconds = [0.0]
    chats = SqliteChatPrefsRepo(storage.db)
    notifier = Notifier(
        storage.outbox,
        chats,
        build_i18n(),
        clock,
        targets=(ADMIN, GROUP, ADMIN),  # a repeated id is one target
        default_locale="en",
        zone=ZONE,
        broker=broker,
        errors=ErrorBudget(per_hour, now=lambda: seconds[0]),
    )
    return Rig(storage, clock, notifier, chats, seconds), storage


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    made, storage = await make_rig(tmp_path / "notify.db")
    yield made
    await storage.close()


FILLED = OrderFilled(
    T0, "c-1", "XAUUSD", Side.BUY, 0.12, 2325.4, 7, 2320.0, 2336.2, "ma_rsi",
    "SMA20 crossed above SMA50, RSI 55.2 < 70", risk_money=64.8,
)  # fmt: skip
CLOSED = PositionClosed(
    T0, 7, "XAUUSD", Side.BUY, 0.12, 2325.4, 2336.2, 129.6, DealReason.TP, "c-1", 2.0
)
STAMP = "2024-05-07T10:00:00+00:00"

CASES = [
    (
        FILLED,
        "fill",
        "fill:c-1",
        "🟢 <b>Opened buy 0.12 XAUUSD at 2325.40</b> · #7\n"
        "SL 2320.00, TP 2336.20 · risk 64.80 USD\nStrategy ma_rsi\n"
        "SMA20 crossed above SMA50, RSI 55.2 &lt; 70",
    ),
    (
        OrderFilled(
            T0,
            "manual-n1",
            "XAUUSD",
            Side.SELL,
            0.5,
            2330.0,
            8,
            2335.0,
            None,
            "manual",
            "manual",
            manual=True,
        ),  # fmt: skip
        "fill",
        "fill:manual-n1",
        "🟢 <b>Opened sell 0.5 XAUUSD at 2330.00</b> · #8\nSL 2335.00, TP —\n"
        "Manual trade (/force)",
    ),
    (
        CLOSED,
        "close",
        "close:7",
        "💰 <b>Closed buy 0.12 XAUUSD: +129.60 USD</b> · #7\n"
        "2325.40 → 2336.20 · take profit hit · +2.00R",
    ),
    (
        PositionClosed(T0, 9, "XAUUSD", Side.SELL, 0.3, 2330.0, 2335.0, -150.0, DealReason.SL),
        "close",
        "close:9",
        "🔻 <b>Closed sell 0.3 XAUUSD: -150.00 USD</b> · #9\n2330.00 → 2335.00 · stop loss hit",
    ),
    (
        PositionClosed(
            T0,
            10,
            "XAUUSD",
            Side.BUY,
            0.4,
            2330.0,
            2328.5,
            -60.0,
            DealReason.EXPERT,
            on_signal=True,
        ),  # fmt: skip
        "close",
        "close:10",
        "🔻 <b>Closed buy 0.4 XAUUSD: -60.00 USD</b> · #10\n"
        "2330.00 → 2328.50 · closed on the opposite signal",
    ),
    (
        StopMoved(T0, 7, "XAUUSD", 2320.0, 2325.5, "breakeven"),
        "fill",
        "breakeven:7",
        "🛡 <b>Stop loss of #7 XAUUSD moved to break-even</b>: 2320.00 → 2325.50",
    ),
    (
        OrderRejected(T0, "c-2", "XAUUSD", Side.SELL, 0.1, RejectReason.NO_MONEY, "No money"),
        "error",
        "reject:c-2",
        "⚠️ <b>Order refused: sell 0.1 XAUUSD</b>\nnot enough money (No money)",
    ),
    (
        GateBlocked(T0, "XAUUSD", Side.BUY, "spread", "spread 80 points > 50"),
        "block",
        f"block:XAUUSD:buy:{STAMP}",
        "⛔ <b>Signal to buy XAUUSD blocked</b>: Spread\nspread 80 points &gt; 50",
    ),
    (
        SignalSkipped(T0, "XAUUSD", Side.SELL, "min lot 0.01 risks 12.00 > 10.00"),
        "block",
        f"skip:XAUUSD:sell:{STAMP}",
        "⛔ <b>Signal to sell XAUUSD not traded</b>: the order cannot be sized\n"
        "min lot 0.01 risks 12.00 &gt; 10.00",
    ),
    (
        BreakerTripped(BreakerCode.LOSS_STREAK, "3 losses in a row", T0 + timedelta(hours=4), T0),
        "risk",
        f"breaker:loss_streak:{STAMP}",
        "⛔ <b>Circuit breaker tripped: losses in a row</b>\nNo new trades until 22:00 +08.\n"
        "3 losses in a row",
    ),
    (
        BreakerTripped(BreakerCode.DRAWDOWN, "drawdown 10.5% > 10%", None, T0),
        "risk",
        f"breaker:drawdown:{STAMP}",
        "⛔ <b>Circuit breaker tripped: drawdown from the equity peak</b>\n"
        "No new trades until a person resets it (/reset_breaker).\ndrawdown 10.5% &gt; 10%",
    ),
    (
        BreakerReset("reset by @ada", BreakerCode.DRAWDOWN, "@ada (1001)", T0),
        "risk",
        f"breaker-reset:{STAMP}",
        "✅ <b>Circuit breaker reset by @ada (1001)</b>\nNew trades are allowed again.\n"
        "reset by @ada",
    ),
    (
        BreakerReset("new trading day", BreakerCode.DAILY_LOSS),  # no time: the clock's now
        "risk",
        f"breaker-reset:{STAMP}",
        "✅ <b>Circuit breaker released (daily loss limit)</b>\nNew trades are allowed again.\n"
        "new trading day",
    ),
    (
        Paused("@ada (1001)", "NFP <soon>", T0),
        "risk",
        f"pause:{STAMP}",
        "⏸ <b>Trading paused by @ada (1001)</b>: NFP &lt;soon&gt;\n"
        "No new trades until /resume; open positions keep their stops.",
    ),
    (
        Resumed("@ada (1001)", T0),
        "risk",
        f"resume:{STAMP}",
        "▶️ <b>Trading resumed by @ada (1001)</b>\nNew trades are allowed again.",
    ),
    (
        BrokerDisconnected("terminal not answering (IPC timeout)"),
        "broker",
        f"broker-down:mt5:{STAMP}",
        "🔌 <b>Broker connection lost (mt5)</b>\n"
        "No orders are sent until it is back; reconnecting.\n"
        "terminal not answering (IPC timeout)",
    ),
    (
        BrokerReconnected(attempts=3),
        "broker",
        f"broker-up:mt5:{STAMP}",
        "✅ <b>Broker connection is back (mt5)</b>\n"
        "Reconnected after 3 attempt(s); trading continues.",
    ),
    (
        LoopStalled(T0, "XAUUSD", M15, T0 - timedelta(minutes=40), 2400.0),
        "error",
        f"stall:XAUUSD:{STAMP}",
        "⚠️ <b>No trading cycle for XAUUSD M15</b>\n"
        "40 min of open market without a cycle; last cycle: 17:20 +08.\n"
        "Check the broker link and the terminal.",
    ),
    (
        LoopStalled(T0, "XAUUSD", M15, None, 1860.0),
        "error",
        f"stall:XAUUSD:{STAMP}",
        "⚠️ <b>No trading cycle for XAUUSD M15</b>\n"
        "31 min of open market without a cycle; last cycle: none since the start.\n"
        "Check the broker link and the terminal.",
    ),
    (
        LoopRecovered(T0, "XAUUSD", M15, T0 - timedelta(hours=1)),
        "error",
        f"recover:XAUUSD:{STAMP}",
        "✅ <b>Trading cycles for XAUUSD M15 run again</b>\nThe stall was reported at 17:00 +08.",
    ),
    (
        CycleFailed(T0, "XAUUSD", M15, "RuntimeError: boom <here>"),
        "error",
        f"cycle:XAUUSD:{STAMP}",
        "❗ <b>A trading cycle failed (XAUUSD M15)</b>\n"
        "<code>RuntimeError: boom &lt;here&gt;</code>",
    ),
]


@pytest.mark.parametrize(("event", "kind", "key", "text"), CASES)
async def test_each_event_becomes_one_message_per_chat(
    rig: Rig, event: object, kind: str, key: str, text: str
) -> None:
    assert await rig.notifier.on_event(event) == 2
    stored = await rig.stored()
    assert [(m.chat_id, m.kind, m.dedup_key, m.photo) for m in stored] == [
        (ADMIN, kind, key, None),
        (GROUP, kind, key, None),
    ]
    assert [m.text for m in stored] == [text, text]
    # Published again (a restart reconciling, a retried publish): no chat gets it twice.
    assert await rig.notifier.on_event(event) == 0


@pytest.mark.parametrize(
    "event",
    [
        StopMoved(T0, 7, "XAUUSD", 2325.5, 2327.0, "trailing"),  # follows every bar in a trend
        object(),
        "not an event",
    ],
)
async def test_what_is_not_announced(rig: Rig, event: object) -> None:
    assert await rig.notifier.on_event(event) == 0
    assert await rig.stored() == []


async def test_muted_kinds_are_skipped_per_chat(rig: Rig) -> None:
    assert await rig.chats.toggle(GROUP, "fill") is False  # now muted in the group
    assert await rig.chats.toggle(ADMIN, "close") is False
    await rig.notifier.on_event(FILLED)
    await rig.notifier.on_event(CLOSED)
    stored = await rig.stored()
    assert [(m.chat_id, m.kind) for m in stored] == [(ADMIN, "fill"), (GROUP, "close")]
    await rig.chats.toggle(ADMIN, "close")  # on again: later closes reach the admin
    later = PositionClosed(T0, 11, "XAUUSD", Side.BUY, 0.1, 1.0, 1.0, 0.0, DealReason.CLIENT)
    assert await rig.notifier.on_event(later) == 2


async def test_each_chat_reads_its_own_language(rig: Rig) -> None:
    await rig.chats.set_locale(GROUP, "ru")
    await rig.chats.set_locale(ADMIN, "mn")
    await rig.notifier.on_event(FILLED)
    await rig.notifier.on_event(Paused("@ada (1001)", "NFP", T0))
    by_chat = {(m.chat_id, m.kind): m.text for m in await rig.stored()}
    # The engine's English reason line is for English readers only.
    assert by_chat[(GROUP, "fill")] == (
        "🟢 <b>Открыта покупка 0.12 XAUUSD по 2325.40</b> · #7\n"
        "SL 2320.00, TP 2336.20 · риск 64.80 USD\nСтратегия ma_rsi"
    )
    assert by_chat[(ADMIN, "fill")] == (
        "🟢 <b>XAUUSD 0.12 лот авах позиц 2325.40-д нээлээ</b> · #7\n"
        "SL 2320.00, TP 2336.20 · эрсдэл 64.80 USD\nСтратеги ma_rsi"
    )
    assert by_chat[(GROUP, "risk")] == (
        "⏸ <b>@ada (1001) поставил торговлю на паузу</b>: NFP\n"
        "Новых сделок не будет до /resume; у открытых позиций остаются их стопы."
    )


async def test_an_unknown_stored_locale_falls_back_to_the_default(rig: Rig) -> None:
    await rig.chats.set_locale(GROUP, "de")
    await rig.notifier.on_event(Resumed("@ada (1001)", T0))
    texts = {m.chat_id: m.text for m in await rig.stored()}
    english = "▶️ <b>Trading resumed by @ada (1001)</b>\nNew trades are allowed again."
    assert texts[GROUP] == texts[ADMIN] == english


async def test_failed_cycles_are_scrubbed_and_rate_limited(rig: Rig) -> None:
    token = "123456789:AAFakeTelegramTokenForTests_0123456789"
    for minute in range(4):  # budget 2 an hour: the 3rd and 4th are counted, not sent
        rig.seconds[0] = minute * 60.0
        at = T0 + timedelta(minutes=minute)
        error = f"ConnectError: https://api.telegram.org/bot{token}/getMe #{minute}"
        await rig.notifier.on_event(CycleFailed(at, "XAUUSD", M15, error))
    rig.seconds[0] = 3600.0  # the first failure left the window: one more may go
    await rig.notifier.on_event(CycleFailed(T0 + timedelta(hours=1), "XAUUSD", M15, "E: x"))
    texts = [m.text for m in await rig.stored() if m.chat_id == ADMIN]
    assert texts == [
        "❗ <b>A trading cycle failed (XAUUSD M15)</b>\n"
        "<code>ConnectError: https://api.telegram.org/bot***/getMe #0</code>",
        "❗ <b>A trading cycle failed (XAUUSD M15)</b>\n"
        "<code>ConnectError: https://api.telegram.org/bot***/getMe #1</code>",
        "❗ <b>A trading cycle failed (XAUUSD M15)</b>\n<code>E: x</code>\n"
        "2 more failures were not sent (at most 2 an hour).",
    ]


def test_error_budget_is_a_sliding_hour() -> None:
    now = [0.0]
    budget = ErrorBudget(3, now=lambda: now[0])
    seen = []
    for t in (0, 10, 20, 30, 40, 3600, 3605, 3615, 3620):
        now[0] = float(t)
        seen.append(budget.take())
    # Allowed at 0, 10, 20; refused at 30, 40; at 3600 the one from 0 left, at 3610 the one
    # from 10: 3605 is refused (10 is still inside), 3615 allowed, 3620 allowed (20 left).
    assert seen == [
        (True, 0), (True, 0), (True, 0), (False, 1), (False, 2),
        (True, 2), (False, 1), (True, 1), (True, 0),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="per_hour"):
        ErrorBudget(-1)


async def test_no_targets_store_nothing(tmp_path: Path) -> None:
    made, storage = await make_rig(tmp_path / "none.db")
    try:
        made.notifier.targets = ()
        assert await made.notifier.on_event(FILLED) == 0
        assert await made.stored() == []
    finally:
        await storage.close()


NFP = EconomicEvent(
    T0 + timedelta(minutes=15), "USD", "United States", "Non-Farm Payrolls", Importance.HIGH,
    forecast="180K", previous="175K",
)  # fmt: skip
CPI_EUR = EconomicEvent(T0 + timedelta(minutes=10), "EUR", "Euro Area", "CPI y/y", Importance.HIGH)
LOW = EconomicEvent(T0 + timedelta(minutes=5), "USD", "United States", "Redbook", Importance.LOW)


async def seed_calendar(storage: Storage) -> None:
    events = (LOW, CPI_EUR, NFP)
    batch = CalendarBatch("manual", LOW.time, NFP.time + timedelta(minutes=1), events)
    await storage.calendar.store((batch,), CalendarFetch(T0, "manual"))


async def test_calendar_reminders_go_out_once_even_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    made, storage = await make_rig(path)
    try:
        await seed_calendar(storage)
        calendar = await CachedCalendar.open(storage.calendar, made.clock)
        gold = currencies_of({"XAUUSD": frozenset({"USD"})})
        reminders = NewsReminders(
            made.notifier, calendar, made.clock, timedelta(minutes=15), currencies=gold
        )
        assert await reminders.check() == 2  # NFP at +15 min, for both chats; EUR and LOW not
        assert await reminders.check() == 0
        [admin, _group] = await made.stored()
        assert (admin.kind, admin.dedup_key) == ("news", "news:2024-05-07T10:15:00+00:00:USD:"
                                                         "Non-Farm Payrolls")  # fmt: skip
        assert admin.text == (
            "📰 <b>Non-Farm Payrolls (USD) in 15 min, at 18:15 +08</b>\n"
            "Forecast 180K, previous 175K"
        )
    finally:
        await storage.close()
    again, storage = await make_rig(path)
    try:
        calendar = await CachedCalendar.open(storage.calendar, again.clock)
        reminders = NewsReminders(again.notifier, calendar, again.clock, timedelta(minutes=15))
        assert await reminders.check() == 2  # all currencies now: EUR CPI; NFP not again
        texts = [m.text for m in await again.stored() if m.chat_id == ADMIN]
        assert texts[1] == "📰 <b>CPI y/y (EUR) in 10 min, at 18:10 +08</b>"
    finally:
        await storage.close()


def test_currencies_of_the_traded_symbols() -> None:
    usd, eur = frozenset({"USD"}), frozenset({"EUR", "USD"})
    assert currencies_of({"XAUUSD": usd, "EURUSD": eur}) == eur
    assert currencies_of({"XAUUSD": usd, "ODD": None}) is None  # unknown: every currency
    assert currencies_of({}) == frozenset()
