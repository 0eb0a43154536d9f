"""Engine events -> outbox messages, one per notification chat, in each chat's language.

``Notifier.on_event`` is an ``EventBus`` subscriber: it maps an event to a notification kind
(``bot.prefs.NotifyKind``), a dedup key and a text, then enqueues one ``OutboxMessage`` per
target chat that has not muted that kind (``/notify``), written in the chat's language (``/lang``
stores it per chat; else the default). Targets are TELEGRAM_NOTIFY_CHAT_IDS, or the admins'
private chats when that list is empty. The outbox worker (``bot.outbox_worker``) delivers.

What is sent, by kind: fills (opened, with a chart of entry, SL and TP; a stop moved to
break-even), closes (with a chart), blocks (a signal a gate refused or that could not be sized),
risk (breaker tripped or reset, pause and resume with who and why), broker (link lost and
back), errors (failed cycles, at most NOTIFY_ERRORS_PER_HOUR an hour with the rest counted in
the next one; refused orders; loop stalled and recovered), news (calendar reminders) and the
daily summary. Trailing-stop steps are not announced: they follow every bar in a trend and
``/positions`` shows them.

Dedup keys name the fact (an order's client id, a ticket, a symbol and time), and the outbox
stores a key once per chat, so an event published again (a restart reconciling a fill, a
reminder or summary re-run) never reaches a chat twice. Publishing awaits this subscriber, so
when ``EventBus.publish`` returns the messages are stored in SQLite; a fill's or a close's
chart is drawn after that, in the background, while its message waits held in the outbox
(a stop meanwhile sends the text alone at the next start).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n

from bot import notify_text as text
from bot.i18n import localized
from bot.prefs import NotifyKind
from bot.redact import scrub
from bot.trade_charts import TradeCharts
from engine.brokers.events import BrokerDisconnected, BrokerReconnected
from engine.errors import EngineError
from engine.events import (
    CycleFailed,
    EventBus,
    GateBlocked,
    LoopRecovered,
    LoopStalled,
    OrderFilled,
    OrderRejected,
    PositionClosed,
    SignalSkipped,
    StopMoved,
)
from engine.models import EconomicEvent, OutboxMessage
from engine.ports import Broker, Clock, OutboxRepo
from engine.risk.events import BreakerReset, BreakerTripped, Paused, Resumed
from engine.symbols import DEFAULT_SPECS
from storage.repos.chats import ChatPrefs

log = logging.getLogger("chattrader.notify")

Text = Callable[[text.Context], str]
Chart = Callable[[], Awaitable[bytes | None]]


class ChatPrefsSource(Protocol):
    """Per-chat language and muted kinds (``storage.repos.chats.SqliteChatPrefsRepo``)."""

    async def get(self, chat_id: int) -> ChatPrefs: ...


@dataclass(frozen=True, slots=True)
class Note:
    """One notification before it is written per chat: kind, dedup key, how to write it,
    the symbol whose price digits it shows, and an optional chart to attach."""

    kind: NotifyKind
    key: str
    write: Text
    symbol: str | None = None
    chart: Chart | None = None


class ErrorBudget:
    """At most ``per_hour`` allowed in any sliding hour; ``take`` returns (allowed, the number
    refused since the last allowed one). Seconds come from ``now`` (monotonic by default)."""

    def __init__(self, per_hour: int, now: Callable[[], float] = time.monotonic) -> None:
        if per_hour < 0:
            msg = f"per_hour must be 0 or more, got {per_hour}"
            raise ValueError(msg)
        self.per_hour = per_hour
        self._now = now
        self._sent: deque[float] = deque()
        self._refused = 0

    def take(self) -> tuple[bool, int]:
        now = self._now()
        while self._sent and now - self._sent[0] >= 3600.0:
            self._sent.popleft()
        if len(self._sent) >= self.per_hour:
            self._refused += 1
            return False, self._refused
        self._sent.append(now)
        refused, self._refused = self._refused, 0
        return True, refused


class Notifier:
    """Turns engine events into stored outbox messages for the notification chats."""

    def __init__(
        self,
        outbox: OutboxRepo,
        chats: ChatPrefsSource,
        i18n: I18n,
        clock: Clock,
        *,
        targets: Iterable[int],
        default_locale: str,
        zone: ZoneInfo,
        broker: Broker | None = None,
        charts: TradeCharts | None = None,
        errors: ErrorBudget | None = None,
    ) -> None:
        self.outbox = outbox
        self.chats = chats
        self.i18n = i18n
        self.clock = clock
        self.targets = tuple(dict.fromkeys(targets))
        self.default_locale = default_locale
        self.zone = zone
        self.broker = broker
        self.charts = charts
        self.errors = errors or ErrorBudget(6)
        self.wake: Callable[[], None] | None = None  # the outbox worker's, once it runs
        self._currency = ""
        self._digits: dict[str, int] = {}
        self._drawing: set[asyncio.Task[None]] = set()  # charts being drawn for held messages

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(self.on_event)

    def unsubscribe(self, bus: EventBus) -> None:
        bus.unsubscribe(self.on_event)

    async def on_event(self, event: object) -> int:
        """Store the notification for ``event`` (if it is one); returns messages enqueued."""
        note = self.note(event)
        return 0 if note is None else await self.send(note)

    # ------------------------------------------------------------------ mapping

    def note(self, event: object) -> Note | None:
        """The notification an event makes, or None (not announced, or over the budget)."""
        now = self.clock.now()
        match event:
            case OrderFilled():
                charts = self.charts
                chart = charts.opened(event) if charts is not None else None
                return Note(
                    NotifyKind.FILLS,
                    f"fill:{event.client_id}",
                    lambda c: text.filled(event, c),
                    event.symbol,
                    chart,
                )
            case PositionClosed():
                charts = self.charts
                chart = charts.closed(event) if charts is not None else None
                return Note(
                    NotifyKind.CLOSES,
                    f"close:{event.ticket}",
                    lambda c: text.closed(event, c),
                    event.symbol,
                    chart,
                )
            case StopMoved(why="breakeven"):
                key = f"breakeven:{event.ticket}"
                return Note(
                    NotifyKind.FILLS, key, lambda c: text.breakeven(event, c), event.symbol
                )
            case OrderRejected():
                key = f"reject:{event.client_id}"
                return Note(NotifyKind.ERRORS, key, lambda c: text.rejected(event, c))
            case GateBlocked():
                key = f"block:{event.symbol}:{event.side.value}:{_iso(event.at)}"
                return Note(NotifyKind.BLOCKS, key, lambda c: text.blocked(event, c))
            case SignalSkipped():
                key = f"skip:{event.symbol}:{event.side.value}:{_iso(event.at)}"
                return Note(NotifyKind.BLOCKS, key, lambda c: text.skipped(event, c))
            case BreakerTripped():
                key = f"breaker:{event.reason_code.value}:{_iso(event.at or now)}"
                return Note(NotifyKind.RISK, key, lambda c: text.breaker_tripped(event, c))
            case BreakerReset():
                key = f"breaker-reset:{_iso(event.at or now)}"
                return Note(NotifyKind.RISK, key, lambda c: text.breaker_reset(event, c))
            case Paused():
                key = f"pause:{_iso(event.at or now)}"
                return Note(NotifyKind.RISK, key, lambda c: text.paused(event, c))
            case Resumed():
                key = f"resume:{_iso(event.at or now)}"
                return Note(NotifyKind.RISK, key, lambda c: text.resumed(event, c))
            case BrokerDisconnected():
                key = f"broker-down:{event.broker}:{_iso(now)}"
                return Note(NotifyKind.BROKER, key, lambda c: text.broker_down(event, c))
            case BrokerReconnected():
                key = f"broker-up:{event.broker}:{_iso(now)}"
                return Note(NotifyKind.BROKER, key, lambda c: text.broker_up(event, c))
            case LoopStalled():
                key = f"stall:{event.symbol}:{_iso(event.at)}"
                return Note(NotifyKind.ERRORS, key, lambda c: text.stalled(event, c))
            case LoopRecovered():
                key = f"recover:{event.symbol}:{_iso(event.at)}"
                return Note(NotifyKind.ERRORS, key, lambda c: text.recovered(event, c))
            case CycleFailed():
                return self._cycle_failed(event)
        return None

    def _cycle_failed(self, event: CycleFailed) -> Note | None:
        allowed, refused = self.errors.take()
        if not allowed:
            log.info("error notification %d over the hourly budget: not sent", refused)
            return None
        error = scrub(event.error)
        limit = self.errors.per_hour
        key = f"cycle:{event.symbol}:{_iso(event.at)}"
        return Note(
            NotifyKind.ERRORS, key, lambda c: text.cycle_failed(event, c, error, refused, limit)
        )

    def news_note(self, event: EconomicEvent) -> Note:
        """A reminder of an upcoming release (``bot.reminders`` decides when)."""
        key = f"news:{_iso(event.time)}:{event.currency}:{event.title}"[:200]
        return Note(NotifyKind.NEWS, key, lambda c: text.news(event, c))

    # ------------------------------------------------------------------ delivery

    async def send(self, note: Note) -> int:
        """Enqueue ``note`` for every target chat that wants its kind; returns messages stored
        (a key a chat already has is not stored again). A note with a chart is stored held
        and its chart drawn in the background (``drain`` waits for those): publishing an
        event never waits for matplotlib, and the chat still reads events in order."""
        wanted: list[tuple[int, str]] = []
        for chat_id in self.targets:
            prefs = await self.chats.get(chat_id)
            if note.kind.value not in prefs.muted:
                wanted.append((chat_id, self._locale(prefs.locale)))
        if not wanted:
            return 0
        context = await self._context(note.symbol)
        held = note.chart is not None
        texts: dict[str, str] = {}
        stored: list[int] = []
        for chat_id, locale in wanted:
            if locale not in texts:
                with localized(self.i18n, locale):
                    texts[locale] = note.write(context)
            message = OutboxMessage(
                chat_id, note.kind.value, texts[locale], dedup_key=note.key, held=held
            )
            message_id = await self.outbox.enqueue(message)
            if message_id is not None:
                stored.append(message_id)
        if stored and note.chart is not None:
            task = asyncio.create_task(self._attach(note.chart, stored), name="trade-chart")
            self._drawing.add(task)
            task.add_done_callback(self._drawing.discard)
        elif stored and self.wake is not None:
            self.wake()
        return len(stored)

    async def _attach(self, chart: Chart, message_ids: list[int]) -> None:
        """Draw the chart, attach it and lift the hold; on any failure the text goes alone."""
        photo = None
        try:
            photo = await chart()
        except Exception:
            log.exception("a notification chart failed; the message goes without it")
        try:
            await self.outbox.attach(message_ids, photo)
        except Exception:  # the database is failing: release_held() frees them at start-up
            log.exception("could not attach a chart to outbox messages %s", message_ids)
            return
        if self.wake is not None:
            self.wake()

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until every chart being drawn is attached; False when ``timeout`` passed."""
        pending = set(self._drawing)
        if not pending:
            return True
        _, late = await asyncio.wait(pending, timeout=timeout)
        return not late

    def abandon(self) -> None:
        """Stop drawing (at shutdown, past the flush deadline): those messages stay held and
        go out as text after the next start (``release_held``)."""
        for task in self._drawing:
            task.cancel()

    def _locale(self, chosen: str | None) -> str:
        if chosen is not None and chosen in self.i18n.available_locales:
            return chosen
        return self.default_locale

    async def _context(self, symbol: str | None) -> text.Context:
        return text.Context(
            self.zone,
            self.clock.now(),
            await self.currency(),
            await self._symbol_digits(symbol) if symbol else 2,
        )

    async def currency(self) -> str:
        """The account currency (asked of the broker once; "" while it cannot say)."""
        if not self._currency and self.broker is not None:
            try:
                self._currency = (await self.broker.account()).currency
            except EngineError as exc:  # the broker is down: amounts without a currency
                log.debug("no account currency for a notification: %s", exc)
        return self._currency

    async def _symbol_digits(self, symbol: str) -> int:
        if symbol not in self._digits:
            known = DEFAULT_SPECS.get(symbol)
            digits = known.digits if known is not None else 5
            if self.broker is not None:
                try:
                    digits = (await self.broker.symbol(symbol)).digits
                except EngineError as exc:
                    log.debug("no digits for %s: %s", symbol, exc)
                    return digits
            self._digits[symbol] = digits
        return self._digits[symbol]


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")
