"""``diagnose``: what ``chattrader diag`` prints about the MT5 terminal, account and symbols.

Every check says in plain words what blocks trading (terminal not found, login failed, no
connection to the trade server, Algo Trading button off, Python API disabled, account not allowed
to trade, symbol disabled, no filling mode, server time offset unknown). It never raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.brokers import mt5_mapping as mp
from engine.brokers.mt5_requests import FILLING_NAMES, filling_modes
from engine.errors import EngineError
from engine.models import MarginMode, TradeMode

if TYPE_CHECKING:
    from engine.brokers.mt5 import MT5Broker

_ACCOUNT_MODES = {0: "demo", 1: "contest", 2: "real"}


@dataclass(frozen=True, slots=True)
class TerminalReport:
    """``ok`` when orders can be sent; ``facts`` are (label, value) lines in display order."""

    ok: bool
    problems: tuple[str, ...]
    facts: tuple[tuple[str, str], ...] = ()


async def diagnose(broker: MT5Broker, symbols: Sequence[str]) -> TerminalReport:
    problems: list[str] = []
    facts: list[tuple[str, str]] = []
    session = broker.session
    if not session.up:
        try:
            await broker.connect()
        except EngineError as exc:
            return TerminalReport(False, (str(exc),))
    try:
        version = await session.value("version")
        term = await session.value("terminal_info")
        acc = await session.value("account_info")
        blocked = await session.blocked_reason()
    except EngineError as exc:
        return TerminalReport(False, (str(exc),))
    facts.append(("terminal", f"{term.name} {version[0]} build {version[1]} ({term.company})"))
    facts.append(("terminal path", term.path))
    facts.append(("ping", f"{term.ping_last / 1000:.1f} ms"))
    facts.append(("max bars in chart", str(term.maxbars)))
    mode = _ACCOUNT_MODES.get(int(acc.trade_mode), str(acc.trade_mode))
    margin = MarginMode.from_mt5(int(acc.margin_mode)).value
    facts.append(("account", f"{acc.login} on {acc.server} ({mode}, {margin})"))
    facts.append(("balance", f"{acc.balance:.2f} {acc.currency}, equity {acc.equity:.2f}"))
    if blocked:
        problems.append(blocked[1])
    offset = broker.server_offset
    for name in symbols:
        try:
            info = await broker.symbol_info(name)
            tick = await broker.tick(name)
        except EngineError as exc:
            problems.append(str(exc))
            continue
        spec = mp.spec_from_info(info)
        modes = filling_modes(spec.filling_mode, int(info.trade_exemode))
        fills = "/".join(FILLING_NAMES[m] for m in modes) or "none"
        facts.append(
            (
                name,
                f"bid {tick.bid:.{spec.digits}f} ask {tick.ask:.{spec.digits}f}, "
                f"{spec.trade_mode.name.lower()}, filling {fills}, "
                f"stops level {spec.stops_level} points, lots {spec.volume_min:g}-"
                f"{spec.volume_max:g} step {spec.volume_step:g}",
            )
        )
        if spec.trade_mode is not TradeMode.FULL:
            problems.append(f"{name} trade mode is {spec.trade_mode.name.lower()}, not full")
        if not modes:
            problems.append(f"{name} allows no filling mode for market orders")
        offset = broker.server_offset
    if offset is None:
        problems.append(
            "the broker's server time offset is not known yet (the market may be closed): "
            "configure it or run diag while the market trades"
        )
    else:
        facts.append(("server time", f"UTC{offset.total_seconds() / 3600:+.1f} h"))
    return TerminalReport(not problems, tuple(problems), tuple(facts))
