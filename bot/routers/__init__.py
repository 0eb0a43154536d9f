"""One router per feature; ``ordered()`` gives them in match order (fallback last)."""

from __future__ import annotations

from aiogram import Router

from bot.routers import (
    admin,
    audit,
    backtest,
    chart,
    close,
    confirm,
    control,
    errors,
    fallback,
    force,
    help_cmd,
    history,
    lang,
    news,
    notify,
    positions,
    risk,
    settings,
    start,
    status,
)


def ordered() -> list[Router]:
    """Every feature router; ``fallback`` must stay last (it takes any leftover message)."""
    return [
        errors.router,
        start.router,
        help_cmd.router,
        status.router,
        positions.router,
        chart.router,
        risk.router,
        history.router,
        news.router,
        control.router,
        close.router,
        force.router,
        backtest.router,
        settings.router,
        admin.router,
        audit.router,
        lang.router,
        notify.router,
        confirm.router,
        fallback.router,
    ]
