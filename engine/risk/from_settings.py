"""The settings -> ``RiskLimits`` mapping, shared by the live wiring and the backtester."""

from __future__ import annotations

from datetime import timedelta

from engine.config import Settings
from engine.models import Importance
from engine.risk.limits import NewsPolicy, RiskLimits
from engine.risk.sessions import Session


def limits_from_settings(settings: Settings) -> RiskLimits:
    """``RiskLimits`` from the RISK_*, SESSIONS and NEWS_* settings: the one mapping used by
    live trading, paper trading and backtests (fractions stay fractions)."""
    r, c = settings.risk, settings.calendar
    return RiskLimits(
        risk_pct=r.risk_pct,
        allow_min_lot=r.allow_min_lot,
        max_trades_per_day=r.max_trades_per_day,
        cooldown=timedelta(minutes=r.cooldown_minutes),
        cooldown_after_loss=timedelta(minutes=r.cooldown_after_loss_minutes),
        max_open_positions=r.max_open_positions,
        max_daily_loss_pct=r.max_daily_loss_pct,
        max_weekly_loss_pct=r.max_weekly_loss_pct,
        max_spread_points=r.max_spread_points,
        min_free_margin_pct=r.min_free_margin_pct or None,
        sessions=tuple(Session(s.value) for s in settings.trading.sessions),
        max_drawdown_pct=r.max_drawdown_pct,
        max_consecutive_losses=r.max_consecutive_losses,
        loss_pause=timedelta(minutes=r.loss_pause_minutes),
        breakeven_at_r=r.breakeven_at_r,
        trailing_atr_mult=r.trailing_atr_mult,
        news_before=timedelta(minutes=c.news_before_minutes),
        news_after=timedelta(minutes=c.news_after_minutes),
        news_min_importance=Importance(c.news_min_importance),
        news_policy=NewsPolicy(c.news_policy),
    )
