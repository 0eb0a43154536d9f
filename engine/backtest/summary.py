"""Results as plain rows and files: the CLI's summary table, metrics JSON and trades CSV.

English labels with the numbers formatted for people; the chat renders its own localized text
from ``Metrics`` and ``RunInfo`` and may reuse ``metric_rows`` for its values.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from engine.backtest.metrics import Metrics
from engine.backtest.runner import BacktestResult

SKIP_TEXT = {
    "same_side": "signal on the side already held",
    "invalid_stops": "levels the broker would refuse",
    "no_money": "not enough free margin",
}


def duration(value: timedelta | None) -> str:
    """``3d 4h``, ``5h 20m``, ``45m`` (or ``-``)."""
    if value is None:
        return "-"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def _num(value: float | None, fmt: str = ",.2f", suffix: str = "") -> str:
    if value is None:
        return "-"
    if value == float("inf"):
        return "inf"
    return f"{value:{fmt}}{suffix}"


def metric_rows(m: Metrics, currency: str = "USD") -> list[tuple[str, str]]:
    """(label, value) for every metric, in reading order."""
    c = f" {currency}"
    dd_time = duration(m.max_drawdown_duration)
    if not m.max_drawdown_recovered:
        dd_time += " (not recovered)"
    return [
        ("Net profit", f"{_num(m.net_profit, '+,.2f', c)} ({m.return_pct:+.2f}%)"),
        ("CAGR", _num(m.cagr_pct, "+.2f", "%")),
        ("Trades", f"{m.trades} ({_num(m.trades_per_week, '.1f')} per week)"),
        ("Win rate", _num(m.win_rate_pct, ".1f", "%")),
        ("Profit factor", _num(m.profit_factor, ".2f")),
        ("Expectancy", f"{_num(m.expectancy, '+,.2f', c)} ({_num(m.expectancy_r, '+.2f')} R)"),
        ("Average win / loss", f"{_num(m.avg_win, ',.2f')} / {_num(m.avg_loss, ',.2f')}"),
        ("Payoff ratio", _num(m.payoff_ratio, ".2f")),
        ("Max drawdown", f"{_num(m.max_drawdown, ',.2f', c)} ({m.max_drawdown_pct:.2f}%)"),
        ("Drawdown duration", dd_time),
        ("Sharpe / Sortino", f"{_num(m.sharpe, '.2f')} / {_num(m.sortino, '.2f')}"),
        ("Calmar", _num(m.calmar, ".2f")),
        ("Exposure", f"{m.exposure_pct:.1f}%"),
        ("Average holding", duration(m.avg_holding)),
        ("Best / worst trade", f"{_num(m.best_trade, '+,.2f')} / {_num(m.worst_trade, '+,.2f')}"),
        ("Win / loss streak", f"{m.max_win_streak} / {m.max_loss_streak}"),
    ]


def run_rows(result: BacktestResult) -> list[tuple[str, str]]:
    """What was run, on which data, with which costs and rules."""
    info = result.info
    rows = [
        ("Symbol", f"{info.symbol} {info.timeframe}"),
        ("Period", f"{info.start:%Y-%m-%d %H:%M} .. {info.end:%Y-%m-%d %H:%M} UTC"),
        ("Bars", f"{info.bars:,} (+{info.warmup_bars:,} warm-up)"),
        ("Data", info.labels.note or info.labels.source or "-"),
        ("Strategy", f"{info.strategy} {info.params}"),
        ("Sizing", info.sizing),
        ("Costs", info.costs),
        ("Gates", ", ".join(info.gates) or "off"),
    ]
    if info.skipped:
        rows.append(("Signals not traded", skipped_text(info.skipped)))
    if info.ambiguous_exits:
        rows.append(
            (
                "Bars touching SL and TP",
                f"{info.ambiguous_exits} (SL first; {info.m1_resolved} settled on M1 bars)",
            )
        )
    return rows


def skipped_text(skipped: Mapping[str, int]) -> str:
    parts = []
    for code, count in skipped.items():
        if code.startswith("gate:"):
            what = f"{code[5:]} gate"
        elif code.startswith("size:"):
            what = f"sizing ({code[5:].replace('_', ' ')})"
        else:
            what = SKIP_TEXT.get(code, code)
        parts.append(f"{count} {what}")
    return ", ".join(parts)


def table(rows: list[tuple[str, str]]) -> str:
    """Two aligned columns of text."""
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def write_files(result: BacktestResult, out: Path) -> list[Path]:
    """``metrics.json``, ``trades.csv`` and ``equity.csv`` into ``out`` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    info = result.info
    meta = {
        "symbol": info.symbol,
        "timeframe": info.timeframe,
        "strategy": info.strategy,
        "params": info.params,
        "start": info.start.isoformat(),
        "end": info.end.isoformat(),
        "bars": info.bars,
        "warmup_bars": info.warmup_bars,
        "sizing": info.sizing,
        "costs": info.costs,
        "gates": list(info.gates),
        "currency": info.currency,
        "data": {
            "source": info.labels.source,
            "simulated": info.labels.simulated,
            "note": info.labels.note,
        },
        "signals_not_traded": dict(info.skipped),
        "ambiguous_exits": info.ambiguous_exits,
        "m1_resolved": info.m1_resolved,
    }
    written = []
    path = out / "metrics.json"
    payload = {"run": meta, "metrics": result.metrics.to_json()}
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    written.append(path)
    path = out / "trades.csv"
    result.trades.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    written.append(path)
    path = out / "equity.csv"
    result.equity.to_csv(path, date_format="%Y-%m-%dT%H:%M:%SZ")
    written.append(path)
    return written


def write_charts(charts: Mapping[str, bytes], out: Path) -> list[Path]:
    """One ``NAME.png`` per chart into ``out`` (``write_files`` made it)."""
    written = []
    for name, png in charts.items():
        path = out / f"{name}.png"
        path.write_bytes(png)
        written.append(path)
    return written
