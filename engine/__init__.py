"""chattrader trading core: models, brokers, data, strategies, risk, backtests. No aiogram here."""

__version__ = "0.1.0"
