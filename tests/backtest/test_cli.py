"""`chattrader backtest | optimize | compare` through their parser and coroutines, on the bundled
data, writing into a temporary folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from bot.cli_backtest import (
    add_backtest_parsers,
    backtest_command,
    compare_command,
    optimize_command,
)
from engine.errors import BadArguments

COMMANDS = {"backtest": backtest_command, "optimize": optimize_command, "compare": compare_command}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no ./.env here
    monkeypatch.setenv("DB_PATH", str(tmp_path / "db.sqlite"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    parser = argparse.ArgumentParser(prog="chattrader")
    parser.add_argument("--env-file", default=".env")
    parser.add_argument("--log-level", default="WARNING")
    add_backtest_parsers(parser.add_subparsers(dest="command"))

    async def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return await COMMANDS[args.command](args)

    return run


async def test_backtest_writes_files_and_prints_a_summary(
    cli,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "out"
    assert (
        await cli("backtest", "XAUUSD", "30d", "--tf", "M15", "--out", str(out), "gates=off") == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "equity.csv", "equity.png", "metrics.json", "returns.png", "trades.csv", "trades.png",
    ]  # fmt: skip
    meta = json.loads((out / "metrics.json").read_text())
    trades = pd.read_csv(out / "trades.csv")
    assert meta["metrics"]["trades"] == len(trades) > 0
    assert meta["run"]["data"]["simulated"] is True
    assert meta["run"]["gates"] == []
    assert trades["net"].sum() == pytest.approx(meta["metrics"]["net_profit"], abs=0.011)
    printed = capsys.readouterr().out
    assert "Net profit" in printed and "simulated intraday from real daily closes" in printed
    assert "XAUUSD M15" in printed


async def test_backtest_without_charts_to_the_default_folder(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("backtest", "EURUSD", "2017-03-01..2017-03-31", "--tf", "H1", "--no-charts")
    assert await cli(*args, "--strategy", "bb_reversion", "lots=1") == 0
    (folder,) = (tmp_path / "data" / "backtests").iterdir()
    assert folder.name == "EURUSD_H1_bb_reversion_20170301-20170331"  # the last bar's close
    assert sorted(p.name for p in folder.iterdir()) == ["equity.csv", "metrics.json", "trades.csv"]
    meta = json.loads((folder / "metrics.json").read_text())
    assert meta["run"]["sizing"] == "fixed 1 lots"


async def test_bad_arguments_are_refused(cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadArguments) as err:
        await cli("backtest", "XAUUSD", "90x", "--no-charts")
    assert err.value.code == "bad_period"


async def test_optimize_and_compare(
    cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "opt"
    argv = (
        "optimize",
        "EURUSD",
        "4m",
        "--tf",
        "H1",
        "fast=10..20:10",
        "slow=40",
        "--out",
        str(out),
    )
    assert await cli(*argv, "--workers", "1", "--metric", "net_profit", "gates=off") == 0
    assert sorted(p.name for p in out.iterdir()) == ["grid.csv", "heatmap.png"]
    grid = pd.read_csv(out / "grid.csv")
    assert list(grid["fast"]) == sorted(
        grid["fast"], key=lambda f: -grid.set_index("fast").loc[f, "IS net_profit"]
    )
    assert "in sample" in capsys.readouterr().out
    out = tmp_path / "cmp"
    assert await cli("compare", "XAUUSD", "30d", "ma_rsi", "bb_reversion", "--out", str(out)) == 0
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")
    printed = capsys.readouterr().out
    assert "ma_rsi  |  bb_reversion" in printed


def test_backtest_limits_match_the_live_wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    # The backtest builds RiskLimits itself (no composition root on the CLI's fast path):
    # they must stay what live trading uses, for default and changed settings alike.
    from bot.wiring import risk_limits
    from engine.backtest.service import limits_from_settings
    from engine.config import load_settings

    assert limits_from_settings(load_settings(None)) == risk_limits(load_settings(None))
    for name, value in {
        "RISK_PCT": "0.02",
        "MAX_TRADES_PER_DAY": "3",
        "COOLDOWN_MINUTES": "5",
        "SESSIONS": "LDN_NY",
        "MIN_FREE_MARGIN_PCT": "0",
        "BREAKEVEN_AT_R": "1.5",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(None)
    assert limits_from_settings(settings) == risk_limits(settings)
    assert limits_from_settings(settings).risk_pct == 0.02


async def test_charts_are_drawn_here_when_the_helper_process_dies(
    cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import bot.cli_backtest
    from engine.backtest.warm_process import WarmProcess

    helpers: list[WarmProcess] = []

    def killed_helper() -> WarmProcess:
        helper = WarmProcess()
        helper._process.kill()  # as the OOM killer would, before the charts are asked for
        helper._process.join()
        helpers.append(helper)
        return helper

    monkeypatch.setattr(bot.cli_backtest, "_chart_helper", killed_helper)
    out = tmp_path / "out"
    assert await cli("backtest", "XAUUSD", "30d", "--out", str(out)) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["equity.png", "returns.png", "trades.png"]
    assert all(png.read_bytes().startswith(b"\x89PNG") for png in out.glob("*.png"))
    assert helpers[0]._conn.closed  # closed by the command
