"""Performance metrics of a backtest, each defined here once.

Inputs: the trades table (``net`` = profit + commissions in account money, ``r_multiple``,
``entry_time``/``exit_time``) and the mark-to-market equity curve (a Series indexed by time, its
first point the initial balance at the period's start). The period runs from the first bar's
open to the last bar's close; a year is 365.25 days.

* net profit = final equity - initial balance; return % = net profit / initial x 100.
* CAGR % = ((final / initial) ** (1 / years) - 1) x 100; -100 when the account is wiped out;
  None for periods under 30 days, where annualising only magnifies noise (Calmar too).
* win rate % = trades with net > 0 / trades x 100 (a zero net is neither a win nor a loss).
* profit factor = sum of winning nets / -sum of losing nets (inf with wins and no losses).
* expectancy = mean net per trade (money); expectancy R = mean ``r_multiple`` (net / money
  at risk at the entry) over trades that had a stop.
* average win / loss = mean net of winning / losing trades (the loss is negative); payoff ratio
  = average win / -average loss.
* max drawdown: largest fall of equity from its running peak, in money and, separately, in % of
  that peak (the two can come from different falls). Its duration runs from the peak before
  the deepest % fall to the first time equity is back at that peak (or to the end: then
  ``max_drawdown_recovered`` is False).
* Sharpe = mean / sample standard deviation of daily returns x sqrt(252); Sortino = mean /
  downside deviation (root mean square of the negative daily returns, zeros elsewhere) x
  sqrt(252). Daily returns are of the last equity of each UTC day with bars, the first day
  measured from the initial balance; risk-free rate 0. Calmar = CAGR % / max drawdown %.
* exposure % = bars whose range a position lived through / bars x 100.
* average holding time = mean of exit time - entry time; best / worst trade = max / min net.
* longest win / loss streak = most consecutive winning / losing trades (a zero breaks both).
* trades per week = trades / (period days / 7).

A value that does not exist for the data (no trades, no losses, one day) is None.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

TRADING_DAYS = 252
MIN_CAGR_DAYS = 30
DAY_NS = 86_400 * 10**9
YEAR_DAYS = 365.25


@dataclass(frozen=True, slots=True)
class Metrics:
    initial_balance: float
    final_equity: float
    net_profit: float
    return_pct: float
    cagr_pct: float | None
    trades: int
    wins: int
    losses: int
    win_rate_pct: float | None
    profit_factor: float | None
    expectancy: float | None
    expectancy_r: float | None
    avg_win: float | None
    avg_loss: float | None
    payoff_ratio: float | None
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_duration: timedelta
    max_drawdown_recovered: bool
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    exposure_pct: float
    avg_holding: timedelta | None
    best_trade: float | None
    worst_trade: float | None
    max_win_streak: int
    max_loss_streak: int
    trades_per_week: float | None
    days: float

    def to_json(self) -> dict[str, object]:
        """JSON-safe: durations in seconds, an infinite profit factor as the string "inf"."""
        out: dict[str, object] = {}
        for key, value in asdict(self).items():
            if isinstance(value, timedelta):
                out[key + "_s"] = value.total_seconds()
            elif isinstance(value, float) and math.isinf(value):
                out[key] = "inf" if value > 0 else "-inf"
            else:
                out[key] = value
        return out

    def get(self, name: str) -> float | None:
        """A metric as a number for ranking (durations in days), None when undefined."""
        value = getattr(self, name)
        if isinstance(value, timedelta):
            return value.total_seconds() / 86_400
        return None if value is None else float(value)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def _streak(flags: np.ndarray) -> int:
    """Longest run of True."""
    if not flags.any():
        return 0
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return int((np.flatnonzero(edges < 0) - np.flatnonzero(edges > 0)).max())


def drawdown(equity: pd.Series) -> tuple[float, float, timedelta, bool]:
    """(max fall in money, max fall in % of the peak, duration of the deepest % fall,
    recovered) of an equity curve indexed by time."""
    values = equity.to_numpy(np.float64)
    if values.size == 0:
        return 0.0, 0.0, timedelta(0), True
    peak = np.maximum.accumulate(values)
    fall = peak - values
    pct = np.divide(fall, peak, out=np.zeros_like(fall), where=peak > 0) * 100
    deepest = int(pct.argmax())
    if pct[deepest] <= 0:
        return 0.0, 0.0, timedelta(0), True
    times = equity.index
    top = int(np.flatnonzero(values[: deepest + 1] >= peak[deepest])[-1])
    back = np.flatnonzero(values[deepest:] >= peak[deepest])
    recovered = back.size > 0
    until = times[deepest + int(back[0])] if recovered else times[-1]
    duration = pd.Timestamp(until) - pd.Timestamp(times[top])
    return float(fall.max()), float(pct[deepest]), duration.to_pytimedelta(), recovered


def daily_returns(equity: pd.Series, initial: float) -> np.ndarray:
    """Returns of the last equity of each UTC day, the first from ``initial``."""
    if equity.empty:
        return np.zeros(0)
    days = equity.index.as_unit("ns").asi8 // DAY_NS
    ends = np.flatnonzero(np.diff(days, append=days[-1] + 1))
    last = equity.to_numpy(np.float64)[ends]
    previous = np.concatenate(([initial], last[:-1]))
    return np.divide(last - previous, previous, out=np.zeros_like(last), where=previous != 0)


def ratios(returns: np.ndarray) -> tuple[float | None, float | None]:
    """(Sharpe, Sortino) of daily returns, annualised with sqrt(252)."""
    if returns.size < 2:
        return None, None
    mean, std = float(returns.mean()), float(returns.std(ddof=1))
    sharpe = mean / std * math.sqrt(TRADING_DAYS) if std > 0 else None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    sortino = mean / downside * math.sqrt(TRADING_DAYS) if downside > 0 else None
    return sharpe, sortino


def compute_metrics(
    trades: pd.DataFrame,
    equity: pd.Series,
    *,
    initial: float,
    start: datetime,
    end: datetime,
    exposure_pct: float,
) -> Metrics:
    """Every metric of the module docstring from one run's trades and equity curve."""
    net = trades["net"].to_numpy(np.float64) if len(trades) else np.zeros(0)
    final = float(equity.iloc[-1]) if len(equity) else initial
    days = (end - start).total_seconds() / 86_400
    years = days / YEAR_DAYS
    cagr = None
    if days >= MIN_CAGR_DAYS:
        cagr = -100.0 if final <= 0 else ((final / initial) ** (1 / years) - 1) * 100
    wins, losses = net[net > 0], net[net < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    if gross_loss > 0:
        profit_factor: float | None = gross_win / gross_loss
    else:
        profit_factor = math.inf if gross_win > 0 else None
    r = trades["r_multiple"].to_numpy(np.float64) if len(trades) else np.zeros(0)
    avg_win, avg_loss = _mean(wins), _mean(losses)
    payoff = avg_win / -avg_loss if avg_win is not None and avg_loss is not None else None
    dd, dd_pct, dd_time, recovered = drawdown(equity)
    sharpe, sortino = ratios(daily_returns(equity, initial))
    held = None
    if len(trades):
        held = (trades["exit_time"] - trades["entry_time"]).mean().to_pytimedelta()
    return Metrics(
        initial_balance=initial,
        final_equity=final,
        net_profit=round(final - initial, 2),
        return_pct=(final - initial) / initial * 100,
        cagr_pct=cagr,
        trades=int(net.size),
        wins=int(wins.size),
        losses=int(losses.size),
        win_rate_pct=wins.size / net.size * 100 if net.size else None,
        profit_factor=profit_factor,
        expectancy=_mean(net),
        expectancy_r=_mean(r[np.isfinite(r)]),
        avg_win=avg_win,
        avg_loss=avg_loss,
        payoff_ratio=payoff,
        max_drawdown=round(dd, 2),
        max_drawdown_pct=dd_pct,
        max_drawdown_duration=dd_time,
        max_drawdown_recovered=recovered,
        sharpe=sharpe,
        sortino=sortino,
        calmar=cagr / dd_pct if cagr is not None and dd_pct > 0 else None,
        exposure_pct=exposure_pct,
        avg_holding=held,
        best_trade=float(net.max()) if net.size else None,
        worst_trade=float(net.min()) if net.size else None,
        max_win_streak=_streak(net > 0),
        max_loss_streak=_streak(net < 0),
        trades_per_week=net.size / (days / 7) if days > 0 else None,
        days=days,
    )
