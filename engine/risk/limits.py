"""The risk knobs (``RiskLimits``) every gate, the governor and sizing read.

Percentages are fractions of money, as in the settings: ``0.03`` means 3%. ``None`` turns a
limit off (the gate then allows and says so). Defaults mirror ``engine.config.RiskSettings`` so a
context built without settings behaves like a fresh install. The margin floor is free margin
left *after* the order as a fraction of equity (not a margin-level percentage): "keep at least
half of equity free" reads the same on every leverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from engine.errors import ConfigError
from engine.models import Importance
from engine.risk.sessions import Session


class NewsPolicy(StrEnum):
    """What the news gate does when a configured calendar is stale or unreachable."""

    BLOCK = "block"  # fail safe: no entries while we cannot see the calendar
    ALLOW = "allow"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    risk_pct: float = 0.01  # equity fraction lost if the stop is hit
    allow_min_lot: bool = False  # trade the minimum lot even when it risks more than risk_pct
    max_trades_per_day: int | None = 5
    cooldown: timedelta = timedelta(minutes=15)  # after any entry; 0 = off
    cooldown_after_loss: timedelta = timedelta(minutes=60)  # after a losing close; 0 = off
    max_open_positions: int | None = 1
    max_daily_loss_pct: float | None = 0.03  # of the day-start balance, realised + floating
    max_weekly_loss_pct: float | None = 0.06  # of the week-start balance, realised + floating
    max_spread_points: float | None = 50.0
    min_free_margin_pct: float | None = 0.5  # free margin after the order, of equity
    sessions: tuple[Session, ...] = (Session.LONDON, Session.NEWYORK)
    weekend_closed: bool = True  # metals/FX: no entries Friday 21:00 to Sunday 22:00 UTC
    max_tick_age: timedelta | None = timedelta(minutes=5)  # older last price = market closed
    news_before: timedelta = timedelta(minutes=30)  # no entries this long before an event
    news_after: timedelta = timedelta(minutes=30)  # ... and this long after it
    news_min_importance: Importance = Importance.HIGH
    news_policy: NewsPolicy = NewsPolicy.BLOCK
    # circuit breaker (RiskGovernor)
    max_drawdown_pct: float | None = 0.10  # from the equity peak; needs a person to reset
    max_consecutive_losses: int | None = 3
    loss_pause: timedelta = timedelta(minutes=240)  # then trading resumes by itself
    # position management, both off by default
    breakeven_at_r: float | None = None  # e.g. 1.0: stop to entry after +1R
    breakeven_offset_points: int = 0  # stop to entry + this many points (cover the spread)
    trailing_atr_mult: float | None = None  # e.g. 2.0: stop trails 2 x ATR behind price

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", tuple(Session(s) for s in self.sessions))
        _fraction("risk_pct", self.risk_pct, allow_none=False)
        for name in ("max_daily_loss_pct", "max_weekly_loss_pct", "max_drawdown_pct"):
            _fraction(name, getattr(self, name), allow_none=True)
        if self.min_free_margin_pct is not None and not 0 <= self.min_free_margin_pct < 1:
            msg = f"min_free_margin_pct is a fraction in [0, 1): got {self.min_free_margin_pct}"
            raise ConfigError(msg, code="bad_risk_limit", name="min_free_margin_pct")
        for name in ("max_trades_per_day", "max_open_positions", "max_consecutive_losses"):
            value = getattr(self, name)
            if value is not None and value < 1:
                msg = f"{name} must be at least 1 (or None for no limit): got {value}"
                raise ConfigError(msg, code="bad_risk_limit", name=name)
        for name in ("cooldown", "cooldown_after_loss", "loss_pause", "news_before", "news_after"):
            if getattr(self, name) < timedelta(0):
                msg = f"{name} cannot be negative: got {getattr(self, name)}"
                raise ConfigError(msg, code="bad_risk_limit", name=name)
        for name in ("max_spread_points", "breakeven_at_r", "trailing_atr_mult"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                msg = f"{name} must be a positive number (or None for off): got {value}"
                raise ConfigError(msg, code="bad_risk_limit", name=name)
        if self.breakeven_offset_points < 0:
            msg = f"breakeven_offset_points cannot be negative: got {self.breakeven_offset_points}"
            raise ConfigError(msg, code="bad_risk_limit", name="breakeven_offset_points")
        if not self.sessions:
            msg = "sessions cannot be empty; use (Session.ANY,) to trade at any hour"
            raise ConfigError(msg, code="bad_risk_limit", name="sessions")


def _fraction(name: str, value: float | None, *, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if value is None or not (math.isfinite(value) and 0 < value <= 1):
        msg = f"{name} is a fraction in (0, 1]: 0.03 means 3%; got {value}"
        raise ConfigError(msg, code="bad_risk_limit", name=name)
