"""What /backtest, /optimize and /compare say while they run: usage with examples, the reasons
a request was refused, progress, how a job ended, and the Cancel and CSV buttons. The captions
and tables of finished reports are in ``bot.backtest_reports``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from bot.i18n import _, __
from bot.verdicts import english
from engine.backtest.jobs import Progress
from engine.backtest.optimize import METRICS
from engine.errors import EngineError
from engine.strategies import strategy_names

BAR_CELLS = 10


class BtAction(StrEnum):
    CANCEL = "x"
    CSV = "c"


class BacktestCb(CallbackData, prefix="bt"):
    """``bt:x:1a2b3c4d`` (Cancel) or ``bt:c:1a2b3c4d`` (trades CSV): 13 bytes."""

    action: BtAction
    job: str


EXAMPLES = {
    "backtest": (
        "/backtest XAUUSD 90d",
        "/backtest XAUUSD 6m H1 strategy=bb_reversion",
        "/backtest XAUUSD 2025-01-01..2025-03-31 M15 fast=10 slow=40 lots=0.1",
    ),
    "optimize": (
        "/optimize XAUUSD 1y fast=5..30:5 slow=20..100:20",
        "/optimize XAUUSD 6m H1 strategy=bb_reversion period=10..40:10 k=1.5..3:0.5",
    ),
    "compare": ("/compare XAUUSD 90d ma_rsi bb_reversion",),
}

STAGES = {
    "start": __("starting"),
    "data": __("loading bars"),
    "signals": __("computing signals"),
    "simulate": __("simulating trades"),
    "charts": __("drawing charts"),
    "grid": __("testing parameter sets"),
    "done": __("finishing"),
}

# Code -> sentence; {fields} come from the error's params.
REASONS = {
    "bad_period": __("{period} is not a period."),
    "period_order": __("The period {period} ends before it starts."),
    "bad_symbol": __("{symbol} is not a symbol name."),
    "unknown_symbol": __("Unknown symbol {symbol}; backtests know {known}."),
    "bad_timeframe": __("Unknown timeframe {timeframe}; use one of {valid}."),
    "unknown_strategy": __("Unknown strategy {name}; choose {valid}."),
    "unknown_param": __("{strategy} has no parameter {name}; it has {valid}."),
    "param_out_of_range": __("{name} must be from {min} to {max}; got {value}."),
    "bad_option": __("{name}={value} is not allowed here."),
    "bad_token": __("Cannot read {token}: parameters are written name=value."),
    "duplicate_param": __("A parameter is given twice."),
    "compare_count": __("Name 2 to 4 different strategies (got {count})."),
    "bad_range": __("Cannot read the range {name}={value}: write a..b:step, a..b or a,b,c."),
    "no_grid": __("Give at least one parameter range, e.g. fast=5..30:5."),
    "grid_too_big": __("The grid has {points} points; at most {limit}."),
    "unknown_metric": __("Unknown metric {metric}; use one of {valid}."),
    "bad_lots": __("{value} lots is not a valid volume for this symbol."),
    "period_outside_data": __("No bars in that period: the data runs from {first} to {last}."),
    "too_few_bars": __("Only {bars} bars in that period, {need} needed: ask for a longer one."),
    "empty_grid": __("All {broken} parameter sets break a rule (fast must stay below slow)."),
    "data_unavailable": __("No market data for {symbol} {timeframe}."),
}
QUIET = ("missing_symbol", "missing_period", "usage")  # the usage line says it all


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    if len(text) >= 19 and text[4] == "-" and text[10] == "T":  # ISO time: minutes, UTC
        return f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M} UTC"
    return text


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def reason(error: EngineError) -> str:
    """One localized sentence for a refused request; the engine's English line for English
    readers, and for codes without a translation."""
    template = REASONS.get(error.code)
    if template is None:
        return html.quote(str(error))
    fields = _Blank({k: html.quote(_value(v)) for k, v in error.params.items()})
    text = str(template).format_map(fields)
    if error.code in ("bad_option", "period_outside_data") and english():
        text += f"\n{html.quote(str(error))}"
    return text


def usage(command: str, error: EngineError | None = None) -> str:
    """What was wrong (if it says more than the usage line), the usage, the forms and examples."""
    lines = []
    if error is not None and error.code not in QUIET:
        lines.append(reason(error))
    lines.append(render.usage(command))
    lines.append(_("PERIOD: 90d, 12w, 6m, 1y or 2025-01-01..2025-03-31"))
    names = ", ".join(strategy_names())
    if command == "optimize":
        lines.append(_("Ranges: name=a..b:step, a..b or a,b,c; metric=NAME ranks ({metrics})."))
        lines[-1] = lines[-1].format(metrics=html.quote(", ".join(METRICS)))
    else:
        lines.append(_("Strategies: {names}.").format(names=html.quote(names)))
    if command == "backtest":
        lines.append(_("Options: lots=0.1 or risk=1%, gates=on|off, spread=POINTS, balance=N."))
    lines.append(_("Examples:"))
    lines.extend(f"<code>{html.quote(example)}</code>" for example in EXAMPLES[command])
    return "\n".join(lines)


def busy() -> str:
    return _("One job at a time: your backtest is still running. Wait for it or press Cancel.")


# ---------------------------------------------------------------------- buttons


def _button(text: str, action: BtAction, job: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=BacktestCb(action=action, job=job).pack())


def cancel_keyboard(job: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button("✖️ " + _("Cancel"), BtAction.CANCEL, job)]]
    )


def csv_keyboard(job: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[_button("📄 " + _("Trades as CSV"), BtAction.CSV, job)]]
    )


# ---------------------------------------------------------------------- progress


def progress(title: str, step: Progress) -> str:
    """``⏳ <b>title</b>`` and the stage, with a bar when the stage counts units."""
    stage = str(STAGES.get(step.stage, STAGES["start"]))
    line = stage
    fraction = step.fraction
    if fraction is not None:
        full = min(BAR_CELLS, int(fraction * BAR_CELLS))
        bar = "▰" * full + "▱" * (BAR_CELLS - full)
        line = f"{stage} {bar} {step.done}/{step.total}"
    return f"⏳ <b>{title}</b>\n{line}"


def title(kind: str, what: str) -> str:
    texts = {
        "backtest": lambda: _("Backtest {what}"),
        "optimize": lambda: _("Optimisation {what}"),
        "compare": lambda: _("Comparison {what}"),
    }
    return texts[kind]().format(what=html.quote(what))


def cancelled(head: str) -> str:
    return f"✖️ <b>{head}</b>\n" + _("Cancelled; nothing was kept.")


def failed(head: str, why: str) -> str:
    return f"⚠️ <b>{head}</b>\n{why}"


def crashed(head: str) -> str:
    return failed(head, _("It failed unexpectedly; the error was logged. Please try again."))


def done(head: str, trades: int) -> str:
    if trades:
        return f"✅ <b>{head}</b>\n" + _(
            "Done: {n} trades. The trades table is one tap away."
        ).format(n=trades)
    return f"✅ <b>{head}</b>\n" + _("Done: no trades in this period.")


def finished(head: str) -> str:
    return f"✅ <b>{head}</b>\n" + _("Done.")


def csv_gone() -> str:
    return _("The trades of that report are gone (kept for an hour, not across restarts).")
