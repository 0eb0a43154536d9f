"""The news gate: no entries from ``news_before`` ahead of an important release until
``news_after`` after it, for the currencies a symbol moves with.

Events come from the ``Calendar`` port, read from memory (gates never touch the network). An
unconfigured calendar allows and says so (there are no made-up events); a configured calendar
that is stale or unreachable follows the gate's ``NewsPolicy`` (block by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import ClassVar

from engine.models import SymbolSpec
from engine.risk.context import RiskContext
from engine.risk.limits import NewsPolicy
from engine.risk.periods import local_text
from engine.risk.verdict import GateCode, Verdict


def _pair(a: str, b: str) -> frozenset[str]:
    return frozenset({a, b})


# Metals and US indices move with USD releases; FX pairs with both legs' releases.
DEFAULT_CURRENCIES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "XAUUSD": frozenset({"USD"}),
        "XAGUSD": frozenset({"USD"}),
        "EURUSD": _pair("EUR", "USD"),
        "GBPUSD": _pair("GBP", "USD"),
        "USDJPY": _pair("USD", "JPY"),
        "USDCHF": _pair("USD", "CHF"),
        "AUDUSD": _pair("AUD", "USD"),
        "NZDUSD": _pair("NZD", "USD"),
        "USDCAD": _pair("USD", "CAD"),
        "US500": frozenset({"USD"}),
        "US30": frozenset({"USD"}),
        "NAS100": frozenset({"USD"}),
    }
)


def currencies_for(symbol: str, spec: SymbolSpec | None = None) -> frozenset[str] | None:
    """Currencies whose news moves ``symbol``; None means "all" (nothing known: fail safe).

    Looks up the name, then its first six letters (broker suffixes such as ``XAUUSDm``), then
    the spec's base/profit currencies, skipping metal codes that have no releases.
    """
    name = symbol.upper()
    for key in (name, name[:6]):
        if key in DEFAULT_CURRENCIES:
            return DEFAULT_CURRENCIES[key]
    if spec is not None:
        found = {c for c in (spec.currency_base, spec.currency_profit) if c}
        found -= {"XAU", "XAG", "XPT", "XPD"}
        if found:
            return frozenset(found)
    return None


_TINY = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class NewsGate:
    """Blocks inside a window around calendar events at or above ``news_min_importance``.

    The window of an event at ``t`` is ``t - news_before <= now < t + news_after``.
    ``policy`` overrides ``ctx.limits.news_policy`` when given.
    """

    policy: NewsPolicy | None = None
    code: ClassVar[GateCode] = GateCode.NEWS

    def check(self, ctx: RiskContext) -> Verdict:
        lim = ctx.limits
        status = ctx.calendar.status()
        if not status.configured:
            return Verdict.allow(
                self.code,
                f"{status.reason or 'calendar not configured'}; news not checked",
                calendar="not_configured",
            )
        if not status.ok:
            policy = self.policy or lim.news_policy
            text = f"calendar unavailable ({status.reason or 'no reason given'})"
            if policy is NewsPolicy.BLOCK:
                return Verdict.block(
                    self.code,
                    f"{text}; news policy blocks entries",
                    calendar="unavailable",
                    policy=policy.value,
                    why=status.reason,
                )
            return Verdict.allow(
                self.code,
                f"{text}; news policy allows entries",
                calendar="unavailable",
                policy=policy.value,
                why=status.reason,
            )
        before, after = lim.news_before, lim.news_after
        if not before and not after:
            return Verdict.allow(self.code, "news window off")
        wanted = ctx.currencies or currencies_for(ctx.symbol, ctx.spec)
        which = ",".join(sorted(wanted)) if wanted else "all currencies"
        events = ctx.calendar.events_between(ctx.now - after, ctx.now + before + _TINY, wanted)
        hits = sorted(
            (
                e
                for e in events
                if e.importance.rank >= lim.news_min_importance.rank
                and e.time - before <= ctx.now < e.time + after
            ),
            key=lambda e: e.time,
        )
        if not hits:
            return Verdict.allow(
                self.code,
                f"no {lim.news_min_importance} news for {which} within "
                f"-{before.total_seconds() / 60:g}/+{after.total_seconds() / 60:g} min",
                currencies=which,
            )
        first = hits[0]
        until = max(e.time for e in hits) + after
        at = local_text(first.time, ctx.zone, now=ctx.now)
        more = f" and {len(hits) - 1} more" if len(hits) > 1 else ""
        return Verdict.block(
            self.code,
            f"news window: {first.title} ({first.currency}) at {at}{more}; "
            f"no entries until {local_text(until, ctx.zone, now=ctx.now)}",
            event=first.title,
            currency=first.currency,
            at=first.time.isoformat(),
            until=until.isoformat(),
            events=len(hits),
        )
