"""What /backtest, /optimize and /compare say: usage with examples, progress, captions, tables,
the reasons a request was refused, and the Cancel and CSV buttons.

Numbers come from the engine's reports (``BacktestReport``, ``OptimizationReport``,
``ComparisonReport``); the words are translated here. Every date range shown is the real window
the period resolved to on the data, in UTC (bars are stamped in UTC), and a report on simulated
bars says so in its caption.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from aiogram import html
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import render
from bot.i18n import _, __
from bot.verdicts import english
from engine.backtest.jobs import Progress
from engine.backtest.market import DataLabels
from engine.backtest.metrics import Metrics
from engine.backtest.optimize import METRICS
from engine.backtest.optimize_run import OptimizationReport
from engine.backtest.period import DateRange
from engine.backtest.runner import BacktestResult
from engine.backtest.service import BacktestReport, ComparisonReport
from engine.errors import EngineError
from engine.strategies import strategy_names

SIMULATED_NOTE = "simulated intraday from real daily closes"  # engine.data.bundled_series
TOP_ROWS = 10
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


# ---------------------------------------------------------------------- reports


def _utc(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}"


def window_line(start: datetime, end: datetime, bars: int | None = None) -> str:
    """The real window the report covers (UTC), with the bar count when known."""
    if bars is None:
        return _("Period: {start} → {end} UTC").format(start=_utc(start), end=_utc(end))
    return _("Period: {start} → {end} UTC, {bars} bars").format(
        start=_utc(start), end=_utc(end), bars=bars
    )


def data_lines(labels: DataLabels, window: DateRange) -> list[str]:
    """The simulated-data label and the clipping note, when they apply."""
    lines = []
    if labels.simulated:
        if labels.note == SIMULATED_NOTE:
            lines.append("⚠️ " + _("Simulated intraday from real daily closes."))
        else:
            lines.append("⚠️ " + _("Simulated data."))
            if labels.note and english():
                lines.append(html.quote(labels.note))
    if window.clipped:
        lines.append(_("The data does not cover the whole period asked for; shown as run."))
    return lines


def _num(value: float | None, spec: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:{spec}}"


def metric_lines(m: Metrics, currency: str) -> list[str]:
    """The key metrics, one per line (net, trades, expectancy, drawdown, ratios)."""
    return [
        _("Net profit: {net} ({pct}%)").format(
            net=render.bold(render.money(m.net_profit, currency, signed=True)),
            pct=_num(m.return_pct, "+.2f"),
        ),
        _("Trades: {n}, won {win}%, profit factor {pf}").format(
            n=m.trades, win=_num(m.win_rate_pct, ".1f"), pf=_num(m.profit_factor)
        ),
        _("Expectancy: {money} per trade ({r} R)").format(
            money=render.money(m.expectancy or 0.0, currency, signed=True),
            r=_num(m.expectancy_r, "+.2f"),
        ),
        _("Max drawdown: {money} ({pct}%)").format(
            money=render.money(m.max_drawdown, currency), pct=_num(m.max_drawdown_pct)
        ),
        _("Sharpe {sharpe}, Sortino {sortino}, CAGR {cagr}").format(
            sharpe=_num(m.sharpe),
            sortino=_num(m.sortino),
            cagr=_num(m.cagr_pct, "+.1f") + ("%" if m.cagr_pct is not None else ""),
        ),
    ]


def backtest_caption(report: BacktestReport) -> str:
    """The album caption: what ran on which real window, the data label, the key metrics."""
    result = report.result
    info = result.info
    lines = [
        render.bold(html.quote(f"{info.symbol} {info.timeframe} · {info.strategy}")),
        f"<code>{html.quote(info.params)}</code>",
        window_line(info.start, info.end, info.bars),
        *data_lines(info.labels, report.window),
        *metric_lines(result.metrics, info.currency),
    ]
    return "\n".join(lines)


def trades_filename(result: BacktestResult) -> str:
    info = result.info
    return (
        f"{info.symbol}_{info.timeframe}_{info.strategy}_"
        f"{info.start:%Y%m%d}-{info.end:%Y%m%d}_trades.csv"
    )


def optimize_caption(report: OptimizationReport, timeframe: str) -> str:
    """The heatmap's caption: grid, metric, the walk-forward split and the best point."""
    request = report.request
    head = f"{request.symbol} {timeframe} · {request.strategy.name} · {request.metric}"
    (a, b), (c, d) = report.in_sample, report.out_sample
    lines = [
        render.bold(html.quote(head)),
        _("{n} parameter sets; ranked by the in-sample {metric}.").format(
            n=len(report.rows), metric=html.quote(request.metric)
        ),
        _("In sample {a} → {b}, out of sample {c} → {d} (UTC).").format(
            a=_utc(a), b=_utc(b), c=_utc(c), d=_utc(d)
        ),
    ]
    if report.broken:
        lines.append(
            _("{n} combinations skipped: they break a parameter rule.").format(n=report.broken)
        )
    labels = DataLabels(simulated=_simulated(report.notes), note=SIMULATED_NOTE)
    lines.extend(data_lines(labels, report.window))
    best = report.best
    if best is not None:
        lines.append(
            _("Best: {values}: {metric} {inside} in sample, {outside} out of sample.").format(
                values=html.quote(_values(best.values)),
                metric=html.quote(request.metric),
                inside=_num(best.score(request.metric)),
                outside=_num(best.score(request.metric, out=True)),
            )
        )
    return "\n".join(lines)


def _simulated(notes: Sequence[str]) -> bool:
    return any(SIMULATED_NOTE in note for note in notes)


def _values(values: Sequence[tuple[str, int | float]]) -> str:
    return " ".join(f"{name}={value:g}" for name, value in values)


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [" ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "<pre>" + html.quote("\n".join(lines)) + "</pre>"


def optimize_table(report: OptimizationReport, top: int = TOP_ROWS) -> str:
    """The best ``top`` points: parameters, metric and trades in and out of sample, and the
    out-of-sample net profit; a legend below."""
    metric = report.request.metric
    names = [a.name for a in report.request.axes]
    rows = [["#", *names, "IS", "n", "OOS", "n", "OOS net"]]
    for rank, row in enumerate(report.top(top), start=1):
        values = [f"{v:g}" for _, v in row.values]
        rows.append(
            [
                str(rank),
                *values,
                _num(row.score(metric)),
                str(row.in_sample.trades),
                _num(row.score(metric, out=True)),
                str(row.out_sample.trades),
                _num(row.out_sample.net_profit, "+.2f"),
            ]
        )
    legend = _("IS/OOS: {metric} in and out of sample; n: trades.").format(
        metric=html.quote(metric)
    )
    head = render.bold(_("Top {n} of {total}").format(n=len(rows) - 1, total=len(report.rows)))
    return f"{head}\n{_table(rows)}\n{legend}"


def compare_caption(report: ComparisonReport) -> str:
    request = report.request
    first = next(iter(report.results.values()))
    info = first.info
    names = " vs ".join(report.results)
    lines = [
        render.bold(html.quote(f"{request.symbol} {info.timeframe}: {names}")),
        window_line(info.start, info.end, info.bars),
        *data_lines(info.labels, report.window),
    ]
    return "\n".join(lines)


def compare_table(results: Mapping[str, BacktestResult]) -> str:
    """Side-by-side key metrics, one column per strategy."""
    labels = [
        (_("Net profit"), lambda m: _num(m.net_profit, "+.2f")),
        (_("Return %"), lambda m: _num(m.return_pct, "+.2f")),
        (_("Trades"), lambda m: str(m.trades)),
        (_("Win rate %"), lambda m: _num(m.win_rate_pct, ".1f")),
        (_("Profit factor"), lambda m: _num(m.profit_factor)),
        (_("Expectancy R"), lambda m: _num(m.expectancy_r, "+.2f")),
        (_("Max drawdown %"), lambda m: _num(m.max_drawdown_pct)),
        (_("Sharpe"), lambda m: _num(m.sharpe)),
    ]
    rows = [["", *results]]
    for label, cell in labels:
        rows.append([label, *(cell(r.metrics) for r in results.values())])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        row[0].ljust(widths[0])
        + " "
        + " ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        for row in rows
    ]
    currency = next(iter(results.values())).info.currency
    note = _("Money in {currency}.").format(currency=html.quote(currency))
    return "<pre>" + html.quote("\n".join(lines)) + f"</pre>\n{note}"
