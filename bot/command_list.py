"""Every chat command once: name, the role it needs, usage line and a short description.

``/help`` prints the commands a role may use from this table, ``setMyCommands`` registers the
same list per language, and a test checks it against the routers' ``Command`` filters. Usage
lines stay in English (commands and argument names are typed as shown); descriptions are
translated.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import BotCommand
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot.i18n import __
from engine.models import Role


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    role: Role
    usage: str
    about: LazyProxy


COMMANDS = (
    CommandSpec("start", Role.VIEWER, "/start", __("Main menu")),
    CommandSpec("help", Role.VIEWER, "/help", __("What you may do here")),
    CommandSpec(
        "status",
        Role.VIEWER,
        "/status",
        __("Mode, account, pause and breaker, today's limits, sessions, last decision"),
    ),
    CommandSpec(
        "positions", Role.VIEWER, "/positions", __("Open positions with live profit and buttons")
    ),
    CommandSpec(
        "chart",
        Role.VIEWER,
        "/chart [SYMBOL] [TF] [BARS]",
        __("Candle chart with moving averages, Bollinger bands and RSI"),
    ),
    CommandSpec("risk", Role.VIEWER, "/risk [SYMBOL]", __("Every risk gate against its limit")),
    CommandSpec("trades", Role.VIEWER, "/trades [N]", __("The last N closed trades (10)")),
    CommandSpec("pnl", Role.VIEWER, "/pnl [DAYS]", __("Profit and loss per day (7 days)")),
    CommandSpec(
        "news",
        Role.VIEWER,
        "/news [SYMBOL] [24h|7d]",
        __("Upcoming economic news and whether a news window blocks entries now"),
    ),
    CommandSpec(
        "lang", Role.VIEWER, "/lang en|mn|ru", __("Your language, and this chat's notifications")
    ),
    CommandSpec("notify", Role.VIEWER, "/notify", __("Which notifications this chat gets")),
    CommandSpec(
        "settings",
        Role.VIEWER,
        "/settings [NAME VALUE]",
        __("Current settings; admins change risk limits"),
    ),
    CommandSpec("pause", Role.TRADER, "/pause [reason]", __("Stop opening trades until /resume")),
    CommandSpec("resume", Role.TRADER, "/resume", __("Lift the pause")),
    CommandSpec(
        "reset_breaker", Role.TRADER, "/reset_breaker", __("Reset a tripped circuit breaker")
    ),
    CommandSpec(
        "close", Role.TRADER, "/close TICKET|all", __("Close one position or all of this bot's")
    ),
    CommandSpec(
        "backtest",
        Role.TRADER,
        "/backtest SYMBOL PERIOD [TF] [strategy=NAME] [param=value ...]",
        __("Backtest a strategy on history: charts, key metrics, trades as CSV"),
    ),
    CommandSpec(
        "optimize",
        Role.TRADER,
        "/optimize SYMBOL PERIOD [TF] param=a..b:step ... [metric=NAME]",
        __("Grid search of parameters with an in-sample/out-of-sample split"),
    ),
    CommandSpec(
        "compare",
        Role.TRADER,
        "/compare SYMBOL PERIOD [TF] NAME NAME [NAME ...]",
        __("Strategies side by side on the same bars"),
    ),
    CommandSpec(
        "force", Role.ADMIN, "/force buy|sell [SYMBOL] [LOTS]", __("Open a trade by hand")
    ),
    CommandSpec("audit", Role.ADMIN, "/audit [N]", __("Who did what, when, from which chat (20)")),
    CommandSpec("users", Role.ADMIN, "/users", __("Who may use the bot, and their roles")),
    CommandSpec(
        "grant", Role.ADMIN, "/grant USER_ID viewer|trader|admin", __("Give a user a role")
    ),
    CommandSpec("revoke", Role.ADMIN, "/revoke USER_ID", __("Take a user's access away")),
)
BY_NAME = {spec.name: spec for spec in COMMANDS}


def allowed(role: Role) -> tuple[CommandSpec, ...]:
    """The commands ``role`` may use, in menu order."""
    return tuple(spec for spec in COMMANDS if role.covers(spec.role))


def bot_commands(role: Role) -> list[BotCommand]:
    """The command menu for ``role`` in the current language (inside ``localized``)."""
    return [BotCommand(command=spec.name, description=str(spec.about)) for spec in allowed(role)]
