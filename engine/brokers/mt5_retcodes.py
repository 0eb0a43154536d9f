"""MT5 answers in plain words: trade-server retcodes to ``RejectReason``, ``last_error`` codes to
sentences a trader can act on (shared/reference/mt5_api.md §1.5, §2.7).

Trade-server refusals arrive as ``OrderSendResult.retcode``; module and terminal failures as
``last_error()`` tuples. Retcodes the table does not know are kept numerically (``ERROR``).
"""

from __future__ import annotations

from engine.models import OrderResult, RejectReason

R = RejectReason

DONE = 10009
DONE_PARTIAL = 10010
PLACED = 10008
CHECK_OK = 0  # order_check passes with retcode 0 and comment 'Done', never 10009
INVALID_FILL = 10030
NO_CHANGES = 10025

# Safe to send again with a fresh price: the server refused before executing anything.
RETRY_WITH_FRESH_PRICE = frozenset({10004, 10020, 10021})

RETCODES: dict[int, tuple[RejectReason, str]] = {
    10004: (R.REQUOTE, "the broker requoted the price"),
    10006: (R.REJECTED, "the broker rejected the request"),
    10007: (R.REJECTED, "the request was cancelled by the trader"),
    10011: (R.ERROR, "the trade server reported a processing error"),
    10012: (R.TIMEOUT, "the trade server cancelled the request after a timeout"),
    10013: (R.INVALID, "the trade server called the request invalid"),
    10014: (R.INVALID_VOLUME, "the broker refused the volume"),
    10015: (R.INVALID_PRICE, "the broker refused the price"),
    10016: (R.INVALID_STOPS, "the broker refused the stop loss or take profit"),
    10017: (R.TRADE_DISABLED, "trading is disabled for this account or symbol"),
    10018: (R.MARKET_CLOSED, "the market is closed for this symbol"),
    10019: (R.NO_MONEY, "not enough free margin for this order"),
    10020: (R.PRICE_CHANGED, "prices changed before the order was executed"),
    10021: (R.PRICE_OFF, "the broker has no prices for this symbol right now"),
    10022: (R.INVALID, "the order expiration is invalid"),
    10023: (R.REJECTED, "the order changed while the broker processed it"),
    10024: (R.REJECTED, "too many requests: the broker is throttling this account"),
    10025: (R.NO_CHANGES, "nothing to change: the levels are already set"),
    10026: (R.AUTOTRADING_DISABLED, "the broker's server disabled algo trading for this account"),
    10027: (
        R.AUTOTRADING_DISABLED,
        "Algo Trading is off in the terminal: press the Algo Trading button",
    ),
    10028: (R.REJECTED, "the request is locked for processing by the broker"),
    10029: (R.FROZEN, "the position is frozen: the price is within the broker's freeze level"),
    10030: (R.INVALID_FILL, "the broker does not accept this filling mode for the symbol"),
    10031: (R.CONNECTION, "the terminal has no connection to the trade server"),
    10032: (R.REJECTED, "this operation is allowed only on live accounts"),
    10033: (R.REJECTED, "the broker's limit on pending orders is reached"),
    10034: (R.LIMIT_VOLUME, "the broker's volume limit for this symbol is reached"),
    10035: (R.INVALID, "the order type is incorrect or prohibited"),
    10036: (R.POSITION_CLOSED, "the position is already closed"),
    10038: (R.INVALID_CLOSE_VOLUME, "the close volume exceeds the position volume"),
    10039: (R.REJECTED, "a close order already exists for this position"),
    10040: (R.LIMIT_POSITIONS, "the broker's limit on open positions is reached"),
    10041: (R.REJECTED, "the pending order activation was rejected and the order cancelled"),
    10042: (R.LONG_ONLY, "only long (buy) positions are allowed on this symbol"),
    10043: (R.SHORT_ONLY, "only short (sell) positions are allowed on this symbol"),
    10044: (R.CLOSE_ONLY, "only closing positions is allowed on this symbol"),
    10045: (R.FIFO_CLOSE, "this account closes positions first-in first-out: close the oldest"),
    10046: (R.HEDGE_PROHIBITED, "opposite positions on one symbol are forbidden on this account"),
}


def rejection(retcode: int, server_comment: str = "", detail: str = "") -> OrderResult:
    """An ``OrderResult`` for a refused request, with the plain reason and the server's words."""
    reason, text = RETCODES.get(retcode, (R.ERROR, f"the broker answered retcode {retcode}"))
    parts = [text]
    if detail:
        parts.append(detail)
    parts.append(f"(MT5 retcode {retcode}{': ' + server_comment if server_comment else ''})")
    return OrderResult.rejected(reason, " ".join(parts), retcode=retcode)


# ------------------------------------------------------------------ last_error

IPC_ERRORS = frozenset(range(-10005, -9999))  # -10000 .. -10005: the pipe to the terminal
NOT_FOUND = -4
AUTH_FAILED = -6
PYTHON_API_DISABLED = -8

_LAST_ERRORS: dict[int, str] = {
    -1: "the terminal could not complete the call",
    -2: "the terminal refused an argument of the call",
    -3: "the terminal ran out of memory",
    -4: "the terminal found nothing for the request",
    -5: "the terminal and the MetaTrader5 Python package do not match: update both",
    -6: (
        "login failed: check the account number, password and server name exactly as the "
        "terminal shows them"
    ),
    -7: "the terminal does not support this function",
    -8: (
        "the terminal forbids trading from Python: in Tools > Options > Expert Advisors, "
        "untick 'Disable algorithmic trading via external Python API'"
    ),
    -10000: "lost contact with the MetaTrader 5 terminal",
    -10001: "lost contact with the MetaTrader 5 terminal (sending failed)",
    -10002: "lost contact with the MetaTrader 5 terminal (receiving failed)",
    -10003: (
        "could not start or reach the MetaTrader 5 terminal: install the 64-bit terminal, "
        "give the path to terminal64.exe, and start it once by hand to log in"
    ),
    -10004: "not connected to the MetaTrader 5 terminal",
    -10005: "the MetaTrader 5 terminal did not answer in time",
}


def explain(code: int, text: str) -> str:
    """A plain sentence for a ``last_error()`` tuple, ending with the raw code and text."""
    plain = _LAST_ERRORS.get(code, "the MetaTrader 5 module reported an error")
    return f"{plain} (MT5 error {code}: {text})"
