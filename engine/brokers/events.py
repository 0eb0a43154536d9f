"""Broker connection events, emitted by adapters when the link to the broker drops or returns.

The notifier turns them into messages; the trader stops sending orders between the two.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BrokerDisconnected:
    """The broker stopped answering; ``reason`` is a plain sentence (no secrets)."""

    reason: str
    broker: str = "mt5"


@dataclass(frozen=True, slots=True)
class BrokerReconnected:
    """The broker answers again after a ``BrokerDisconnected``; ``attempts`` it took."""

    broker: str = "mt5"
    attempts: int = 1
