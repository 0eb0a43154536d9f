"""Seeded random numbers that do not change when numpy is upgraded.

NumPy promises that a ``PCG64`` bit generator seeded the same way yields the same raw 64-bit
words forever, but it does not promise that ``Generator.normal`` keeps its algorithm. The bundled
XAUUSD M15 sample, the synthetic bars and the paper feed must stay identical for a given seed (a
backtest on them is a reference point), so this module turns the raw words into uniforms and
normals itself (53-bit uniforms, Box-Muller normals).
"""

from __future__ import annotations

import math

import numpy as np

_TWO_POW_53 = 2.0**-53


class StableRandom:
    """A seeded source of uniforms and standard normals, stable across numpy versions.

    ``stream`` selects an independent sequence for the same seed (e.g. prices vs spreads).
    """

    __slots__ = ("_bits", "_buffer", "_pos")

    def __init__(self, seed: int, stream: int = 0) -> None:
        if seed < 0 or stream < 0:
            msg = f"seed and stream must be non-negative, got seed={seed} stream={stream}"
            raise ValueError(msg)
        self._bits = np.random.PCG64([seed, stream])
        self._buffer = np.empty(0)
        self._pos = 0

    def uniforms(self, n: int) -> np.ndarray:
        """``n`` floats in the open interval (0, 1), 53 bits each."""
        raw = self._bits.random_raw(n)
        return ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_POW_53

    def normals(self, n: int) -> np.ndarray:
        """``n`` independent standard normal floats (Box-Muller on pairs of uniforms)."""
        pairs = (n + 1) // 2
        u = self.uniforms(2 * pairs)
        radius = np.sqrt(-2.0 * np.log(u[:pairs]))
        angle = 2.0 * math.pi * u[pairs:]
        return np.concatenate((radius * np.cos(angle), radius * np.sin(angle)))[:n]

    def normal(self) -> float:
        """One standard normal, drawn from a buffer of 1024 so per-tick use stays cheap."""
        if self._pos >= self._buffer.size:
            self._buffer = self.normals(1024)
            self._pos = 0
        value = float(self._buffer[self._pos])
        self._pos += 1
        return value
