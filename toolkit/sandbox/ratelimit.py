"""Token buckets: the rate-limit model the venues use, kept pure so it can be tested without a server."""

from __future__ import annotations

import math
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


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends

    def headers(self, now: float) -> dict[str, str]:
        """``X-RateLimit-*`` as PaperExchange sends them, and ``Retry-After`` on a refusal."""
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(1, math.ceil(self.reset - now)))
        return out


class FixedWindows:
    """Requests per key per fixed window (aligned to the epoch), the model ``X-RateLimit-*`` describes.

    Wall-clock time on purpose: moving the sandbox's simulated clock does not refill anyone.
    """

    def __init__(self, window_seconds: int, now: Callable[[], float] = time.time) -> None:
        self.window = window_seconds
        self._now = now
        self._counts: dict[object, tuple[int, int]] = {}  # key -> (window index, requests in it)
        self._lock = threading.Lock()

    def hit(self, key: object, limit: int) -> Verdict:
        """Count one request against ``key``; refused requests are not counted."""
        with self._lock:
            index = int(self._now() // self.window)
            current, used = self._counts.get(key, (index, 0))
            if current != index:
                used = 0
            reset = (index + 1) * self.window
            if used >= limit:
                return Verdict(False, limit, 0, reset)
            self._counts[key] = (index, used + 1)
            return Verdict(True, limit, limit - used - 1, reset)


@dataclass
class WindowStats:
    requests: int = 0
    refused: int = 0  # over the budget
    injected: int = 0  # 429s asked for by a test
    peak_weight: int = 0  # the most weight ever inside one window


class WeightWindow:
    """Hyperliquid's IP budget: the weight of the requests in any sliding ``window`` seconds stays
    within ``budget``. Off until ``configure``d, so notebooks polling the sandbox are never refused.

    A request is admitted when its base weight still fits; its full weight (with the per-item part,
    known only after answering) is then charged, and ``peak_weight`` shows whether a client ever
    overran. ``fail_next`` answers the next n requests with 429 whatever the budget, for tests of
    a client's backoff."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.budget: int | None = None
        self.window = 60.0
        self.retry_after = 1.0
        self._fail_next = 0
        self._charges: dict[object, list[tuple[float, int]]] = {}
        self.stats = WindowStats()

    def configure(
        self, budget: int | None, window: float = 60.0, fail_next: int = 0, retry_after: float = 1.0
    ) -> None:
        with self._lock:
            self.budget, self.window, self.retry_after = budget, window, retry_after
            self._fail_next = fail_next
            self._charges.clear()
            self.stats = WindowStats()

    def _used(self, key: object, now: float) -> int:
        charges = [c for c in self._charges.get(key, []) if c[0] > now - self.window]
        self._charges[key] = charges
        return sum(w for _, w in charges)

    def admit(self, key: object, base_weight: int) -> float:
        """0.0 when the request may proceed, else the seconds to wait (answer 429)."""
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                self.stats.injected += 1
                return self.retry_after
            if self.budget is None:
                return 0.0
            self.stats.requests += 1
            now = self._now()
            if self._used(key, now) + base_weight > self.budget:
                self.stats.refused += 1
                oldest = self._charges[key][0][0] if self._charges[key] else now
                return max(oldest + self.window - now, 0.001)
            return 0.0

    def charge(self, key: object, weight: int) -> None:
        with self._lock:
            if self.budget is None:
                return
            now = self._now()
            used = self._used(key, now) + weight
            self._charges[key].append((now, weight))
            self.stats.peak_weight = max(self.stats.peak_weight, used)
