"""Engine error tree. Expected trading outcomes are values (``OrderResult``); these are faults.

Each error carries a stable ``code`` and ``params`` so the bot can render a localized sentence;
``str(err)`` is an English one-liner that states the rule and the value, safe to log.
"""

from __future__ import annotations

from collections.abc import Mapping


class EngineError(Exception):
    code: str = "engine_error"

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.params: Mapping[str, object] = params

    def __reduce__(self) -> tuple[object, ...]:
        # Keep code and params across process boundaries (backtest workers, optimiser grids):
        # the default pickling would rebuild the error from its message alone.
        return (_rebuild, (type(self), str(self), self.code, dict(self.params)))


def _rebuild(
    cls: type[EngineError], message: str, code: str, params: dict[str, object]
) -> EngineError:
    return cls(message, code=code, **params)


class BrokerUnavailable(EngineError):
    """The broker cannot be reached now (disconnected, terminal closed, timeout)."""

    code = "broker_unavailable"


class DataUnavailable(EngineError):
    """Requested market data does not exist; the message says what is available."""

    code = "data_unavailable"


class BadArguments(EngineError):
    """User input that cannot be understood; ``code`` names the argument rule broken."""

    code = "bad_arguments"


class DataValidationError(EngineError):
    """An imported bar file breaks a rule (unsorted, duplicates, high below open/close ...)."""

    code = "bad_data"


class ConfigError(EngineError):
    """A setting is missing or wrong; the message names the variable and how to fix it."""

    code = "bad_config"
