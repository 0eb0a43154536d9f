"""Captions and tables of finished backtests, optimisations and comparisons.

Numbers come from the engine's reports (``BacktestReport``, ``OptimizationReport``,
``ComparisonReport``); the words are translated here. Every date range shown is the real window
the period resolved to on the data, in UTC (bars are stamped in UTC), and a report on simulated
bars says so in its caption. Tables are ``<pre>`` blocks, one column per value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from aiogram import html

from bot import render
from bot.i18n import _
from bot.verdicts import english
from engine.backtest.market import DataLabels
from engine.backtest.metrics import Metrics
from engine.backtest.optimize_run import OptimizationReport
from engine.backtest.period import DateRange
from engine.backtest.runner import BacktestResult
from engine.backtest.service import BacktestReport, ComparisonReport

SIMULATED_NOTE = "simulated intraday from real daily closes"  # engine.data.bundled_series
TOP_ROWS = 10


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
