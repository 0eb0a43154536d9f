"""`chattrader backtest | optimize | compare`: the chat's backtests, written to files.

``add_backtest_parsers(subparsers)`` adds the three commands to the main parser; each command
coroutine returns an exit code. Bars come from the MT5 terminal when BROKER=mt5 and it can be
reached, else from the bars cache (imported CSVs, stored broker history) with the bundled data
behind it. Arguments after the period use the chat's syntax (``fast=10 lots=0.1 gates=off``), so
a command line and a /backtest message mean the same thing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import BrokerUnavailable, ConfigError

if TYPE_CHECKING:  # the engine's backtest modules load pandas: only when a command runs
    from engine.backtest.jobs import Progress
    from engine.backtest.optimize_run import OptimizationReport
    from engine.backtest.service import BacktestDefaults, BacktestReport
    from engine.backtest.warm_process import WarmProcess
    from engine.config import Settings
    from engine.ports import MarketData

log = logging.getLogger("chattrader.backtest")

OPTION_HELP = (
    "strategy parameters and options as name=value, e.g. fast=10 slow=40; options: lots=0.1 "
    "(fixed lots instead of risk sizing), risk=1%%, gates=on|off, spread=POINTS, "
    "slippage=POINTS, commission=MONEY_PER_LOT_ROUND_TURN, balance=10000"
)


class _Intermixed(argparse.ArgumentParser):
    """Lets ``name=value`` tokens follow the options (``XAUUSD 90d --tf M15 fast=10``): the
    positionals are read after every option, as ``parse_intermixed_args`` does."""

    _mixing = False

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._mixing:  # parse_known_intermixed_args calls back into this method
            return super().parse_known_args(args, namespace)
        self._mixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False


def add_backtest_parsers(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``backtest``, ``optimize`` and ``compare`` to the CLI's subcommands."""
    # argparse builds every subparser from one class; ours need intermixed positionals.
    previous = subparsers._parser_class
    subparsers._parser_class = _Intermixed
    try:
        _add_parsers(subparsers)
    finally:
        subparsers._parser_class = previous


def _add_parsers(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bt = subparsers.add_parser(
        "backtest",
        help="backtest a strategy on history: summary table, charts, metrics JSON, trades CSV",
        description="e.g. chattrader backtest XAUUSD 90d --tf M15 --strategy ma_rsi fast=10",
    )
    _common(bt)
    bt.add_argument("--strategy", default=None, help="strategy name (default: STRATEGY setting)")
    bt.add_argument("--no-charts", action="store_true", help="skip the PNG charts")

    opt = subparsers.add_parser(
        "optimize",
        help="grid search of strategy parameters with an in/out-of-sample split",
        description="e.g. chattrader optimize XAUUSD 1y fast=5..30:5 slow=20..100:10",
    )
    _common(opt)
    opt.add_argument("--strategy", default=None, help="strategy name (default: STRATEGY setting)")
    opt.add_argument("--metric", default="sharpe", help="ranking metric (default: sharpe)")
    opt.add_argument("--split", type=float, default=0.7, help="in-sample share (default: 0.7)")
    opt.add_argument("--top", type=int, default=10, help="rows to print (default: 10)")
    opt.add_argument(
        "--scheduler",
        default=os.environ.get("DASK_SCHEDULER_ADDRESS"),
        help="Dask scheduler address (tcp://host:8786) to run the grid on a cluster; "
        "default: DASK_SCHEDULER_ADDRESS, else local processes",
    )
    opt.add_argument("--workers", type=int, default=2, help="local worker processes")

    cmp = subparsers.add_parser(
        "compare",
        help="run strategies side by side on the same bars",
        description="e.g. chattrader compare XAUUSD 90d ma_rsi bb_reversion",
    )
    _common(cmp, params_help="two to four strategy names, then options as name=value")


def _common(parser: argparse.ArgumentParser, params_help: str = OPTION_HELP) -> None:
    parser.add_argument("symbol", help="e.g. XAUUSD")
    parser.add_argument("period", help="90d, 12w, 6m, 1y or 2025-01-01..2025-03-31")
    parser.add_argument("params", nargs="*", help=params_help)
    parser.add_argument("--tf", "--timeframe", dest="tf", default=None, help="e.g. M15, H1")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder for the files (default: DATA_DIR/backtests)"
    )


def _tokens(args: argparse.Namespace, *extra: str) -> list[str]:
    tokens = [args.symbol, args.period]
    if args.tf:
        tokens.append(args.tf)
    tokens += list(args.params)
    if getattr(args, "strategy", None) and not any(p.startswith("strategy=") for p in args.params):
        tokens.append(f"strategy={args.strategy}")
    return tokens + list(extra)


@contextlib.asynccontextmanager
async def market_data(settings: Settings) -> AsyncIterator[tuple[MarketData, list[str]]]:
    """The broker's history first when BROKER=mt5 answers, then the cache, then bundled."""
    from engine.backtest.history import HistoryChain  # noqa: PLC0415
    from engine.clock import SystemClock  # noqa: PLC0415
    from engine.data.sources import BundledData, CachedData  # noqa: PLC0415
    from storage import open_storage  # noqa: PLC0415

    notes: list[str] = []
    storage = await open_storage(settings.app.db_path)
    sources: list[MarketData] = [CachedData(storage.bars, BundledData())]
    broker = None
    clock = SystemClock()
    if settings.broker.kind == "mt5":
        from bot.wiring import mt5_broker  # noqa: PLC0415 - the composition root is heavy

        try:
            broker = mt5_broker(settings, clock)
            await broker.connect()
            sources.insert(0, broker)  # type: ignore[arg-type]
        except (ConfigError, BrokerUnavailable) as exc:
            notes.append(f"MT5 history not used ({exc}); using stored and bundled bars")
            broker = None
    try:
        yield HistoryChain(sources, clock), notes
    finally:
        if broker is not None:
            await broker.close()
        await storage.close()


def _defaults(settings: Settings) -> BacktestDefaults:
    from engine.backtest.service import BacktestDefaults  # noqa: PLC0415

    return BacktestDefaults.from_settings(settings)


def _out_dir(settings: Settings, args: argparse.Namespace, name: str) -> Path:
    return args.out if args.out is not None else settings.app.data_dir / "backtests" / name


def _progress(stage: Progress) -> None:
    log.debug("backtest stage %s %s/%s", stage.stage, stage.done, stage.total)


async def backtest_command(args: argparse.Namespace) -> int:
    """`chattrader backtest SYMBOL PERIOD [params] [--tf] [--strategy] [--out]`."""
    started = time.perf_counter()
    helper = None if args.no_charts else _chart_helper()
    try:
        return await _backtest(args, helper, started)
    finally:
        if helper is not None:
            helper.close()


CHART_MODULES = ("engine.backtest.work", "engine.backtest.charts", "engine.charts")


def _chart_helper() -> WarmProcess | None:
    """A helper process started before anything heavy is imported here: it loads matplotlib
    and mplfinance on the other core while this process loads the data and runs the backtest,
    then draws two charts while this one writes the other files and draws the third. None
    when a process cannot be started (the charts are then drawn here)."""
    from engine.backtest.warm_process import WarmProcess  # noqa: PLC0415 - light

    try:
        return WarmProcess(CHART_MODULES)
    except (OSError, RuntimeError) as exc:
        log.debug("no chart helper process: %s", exc)
        return None


async def _backtest(args: argparse.Namespace, helper: WarmProcess | None, started: float) -> int:
    from engine.backtest.warm_process import imports_without_gc  # noqa: PLC0415

    with imports_without_gc():
        from bot.commands import settings_from  # noqa: PLC0415
        from engine.backtest import summary  # noqa: PLC0415
        from engine.backtest.request import BacktestRequest  # noqa: PLC0415
        from engine.backtest.service import run_backtest_async  # noqa: PLC0415

    settings = settings_from(args)
    if not any(p.startswith("strategy=") for p in args.params) and args.strategy is None:
        args.strategy = settings.trading.strategy
    request = BacktestRequest.parse(_tokens(args))
    async with market_data(settings) as (data, notes):
        report = await run_backtest_async(
            request, data, defaults=_defaults(settings), progress=_progress, charts=False
        )
    there = None if args.no_charts else _helper_charts(report, helper)
    await asyncio.sleep(0)  # the helper starts drawing now
    result = report.result
    info = result.info
    name = f"{info.symbol}_{info.timeframe}_{info.strategy}_{info.start:%Y%m%d}-{info.end:%Y%m%d}"
    out = _out_dir(settings, args, name)
    # The tables and data files, then our chart, while the helper draws its two.
    written = summary.write_files(result, out)
    print(summary.table(summary.run_rows(result)))
    print()
    print(summary.table(summary.metric_rows(result.metrics, info.currency)))
    for note in (*notes, *report.notes):
        print(f"note: {note}")
    if not args.no_charts:
        written += summary.write_charts(await _charts(report, there), out)
    print(f"\nwrote {len(written)} files to {out} in {time.perf_counter() - started:.2f} s")
    return 0


HELPER_CHARTS = ("trades", "returns")  # mplfinance (the candles) loads only in the helper


def _helper_charts(
    report: BacktestReport, helper: WarmProcess | None
) -> asyncio.Task[dict[str, bytes]] | None:
    from engine.backtest.work import render_charts  # noqa: PLC0415

    if helper is None:
        return None
    args = (report.market, report.result, report.request.params)
    return asyncio.create_task(helper.call(render_charts, HELPER_CHARTS, *args))


async def _charts(
    report: BacktestReport, there: asyncio.Task[dict[str, bytes]] | None
) -> dict[str, bytes]:
    """The equity chart here and the other two in the helper, at the same time (about even
    on two cores once matplotlib's import here is counted); all here without a helper."""
    from engine.backtest.warm_process import HelperUnavailable  # noqa: PLC0415
    from engine.backtest.work import CHART_NAMES, render_charts  # noqa: PLC0415

    args = (report.market, report.result, report.request.params)
    here = (
        CHART_NAMES if there is None else tuple(n for n in CHART_NAMES if n not in HELPER_CHARTS)
    )
    done = await asyncio.to_thread(render_charts, here, *args)
    if there is not None:
        try:
            done.update(await there)
        except HelperUnavailable as exc:
            log.warning("chart helper process failed (%s); drawing here", exc)
            done.update(await asyncio.to_thread(render_charts, HELPER_CHARTS, *args))
    return {name: done[name] for name in CHART_NAMES}


async def optimize_command(args: argparse.Namespace) -> int:
    """`chattrader optimize SYMBOL PERIOD name=a..b:step ... [--metric] [--scheduler]`."""
    from bot.commands import settings_from  # noqa: PLC0415
    from engine.backtest.optimize import OptimizeRequest, executor_for  # noqa: PLC0415
    from engine.backtest.optimize_run import run_optimize_async  # noqa: PLC0415

    started = time.perf_counter()
    settings = settings_from(args)
    if not any(p.startswith("strategy=") for p in args.params) and args.strategy is None:
        args.strategy = settings.trading.strategy
    extra = [f"metric={args.metric}", f"split={args.split}"]
    request = OptimizeRequest.parse(_tokens(args, *extra))
    executor, close = executor_for(args.scheduler, args.workers)
    where = f"Dask at {args.scheduler}" if args.scheduler else f"{args.workers} local processes"
    try:
        async with market_data(settings) as (data, notes):
            report = await run_optimize_async(
                request,
                data,
                executor,
                defaults=_defaults(settings),
                workers=args.workers,
                progress=_progress,
            )
    finally:
        close()
    tf = request.timeframe.value if request.timeframe else settings.trading.timeframe.value
    name = f"optimize_{request.symbol}_{tf}_{request.strategy.name}_{request.metric}"
    out = _out_dir(settings, args, name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "heatmap.png").write_bytes(report.heatmap)
    rows = optimisation_rows(report)
    (out / "grid.csv").write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    a, b = report.in_sample
    c, d = report.out_sample
    print(f"{request.symbol} {tf} {request.strategy.name}: {len(report.rows)} points on {where}")
    print(f"in sample     {a:%Y-%m-%d %H:%M} .. {b:%Y-%m-%d %H:%M} UTC")
    print(f"out of sample {c:%Y-%m-%d %H:%M} .. {d:%Y-%m-%d %H:%M} UTC\n")
    widths = [max(len(r[i]) for r in rows[: args.top + 1]) for i in range(len(rows[0]))]
    for row in rows[: args.top + 1]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    for note in (*notes, *report.notes):
        print(f"note: {note}")
    print(f"\nwrote heatmap.png and grid.csv to {out} in {time.perf_counter() - started:.2f} s")
    return 0


def optimisation_rows(report: OptimizationReport) -> list[list[str]]:
    """Header plus one row per grid point: axis values, then metric, trades and net profit
    in sample and out of sample."""
    metric = report.request.metric
    names = [a.name for a in report.request.axes]
    head = [
        *names,
        f"IS {metric}",
        "IS trades",
        "IS net",
        f"OOS {metric}",
        "OOS trades",
        "OOS net",
    ]
    rows = [head]
    for row in report.rows:
        values = [f"{v:g}" for _, v in row.values]
        cells = []
        for m, out in ((row.in_sample, False), (row.out_sample, True)):
            score = row.score(metric, out=out)
            cells += [f"{score:.3g}", str(m.trades), f"{m.net_profit:+.2f}"]
        rows.append(values + cells)
    return rows


async def compare_command(args: argparse.Namespace) -> int:
    """`chattrader compare SYMBOL PERIOD NAME NAME [...]`."""
    from bot.commands import settings_from  # noqa: PLC0415
    from engine.backtest import summary  # noqa: PLC0415
    from engine.backtest.request import CompareRequest  # noqa: PLC0415
    from engine.backtest.service import run_compare_async  # noqa: PLC0415

    settings = settings_from(args)
    request = CompareRequest.parse(_tokens(args))
    async with market_data(settings) as (data, notes):
        report = await run_compare_async(
            request,
            data,
            defaults=_defaults(settings),
            progress=_progress,
        )
    names = list(report.results)
    first = report.results[names[0]]
    rows = [("", "  |  ".join(names))]
    columns = [summary.metric_rows(r.metrics, r.info.currency) for r in report.results.values()]
    for i, (label, _) in enumerate(columns[0]):
        rows.append((label, "  |  ".join(col[i][1] for col in columns)))
    print(summary.table(summary.run_rows(first)[:4]))
    print()
    print(summary.table(rows))
    for note in (*notes, *report.notes):
        print(f"note: {note}")
    out = _out_dir(settings, args, f"compare_{request.symbol}_{'_'.join(names)}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.png").write_bytes(report.chart)
    print(f"\nwrote compare.png to {out}")
    return 0
