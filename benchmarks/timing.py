"""Timing shared by the benchmarks: the best of several rounds, the least disturbed by a noisy machine."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_per_call(fn: Callable[[int], object], n: int, rounds: int = 5) -> float:
    """Best seconds per call of ``fn(i)`` for i in range(n), over ``rounds`` rounds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(i)
        best = min(best, (time.perf_counter() - start) / n)
    return best
