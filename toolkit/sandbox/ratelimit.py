"""Token buckets: the rate-limit model the venues use, kept pure so it can be tested without a server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    capacity: float
    refill_per_second: float
    tokens: float
    updated: float


class TokenBuckets:
    """Named buckets that refill continuously; ``take`` spends tokens or says how long to wait."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._buckets: dict[object, Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: object, cost: float, capacity: float, refill_per_second: float) -> float:
        """Spend ``cost`` from bucket ``key``: 0.0 when allowed, else the seconds until it would be."""
        with self._lock:
            now = self._now()
            bucket = self._buckets.get(key)
            if bucket is None or bucket.capacity != capacity or bucket.refill_per_second != refill_per_second:
                bucket = self._buckets[key] = Bucket(capacity, refill_per_second, capacity, now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * refill_per_second)
            bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / refill_per_second

    def reset(self, key: object | None = None) -> None:
        with self._lock:
            if key is None:
                self._buckets.clear()
            else:
                self._buckets.pop(key, None)
