"""A client-side request-weight budget: what keeps a long fetch inside a venue's rate limit.

Hyperliquid allows 1,200 weight per minute per IP. A page's weight depends on how many rows it
returns, so each request reserves the most it could cost before it is sent and settles at its real
cost when the answer is in. A request counts from the moment it completes (never earlier than the
venue saw it), so the weight the venue sees in any window is never more than this budget allowed.
One budget per venue host is shared by every loader in the process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Reservation:
    weight: int
    done_at: float | None = None


@dataclass
class WeightBudget:
    """At most ``budget`` weight in any ``window`` seconds, counting requests still in flight."""

    budget: int = 1200
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _spent: deque[Reservation] = field(default_factory=deque, repr=False)
    _lock: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _paused_until: float = field(default=0.0, repr=False)
    waited: float = 0.0  # seconds spent waiting for room, in total

    def _used(self, now: float) -> int:
        while (
            self._spent and self._spent[0].done_at is not None and self._spent[0].done_at <= now - self.window
        ):
            self._spent.popleft()
        return sum(r.weight for r in self._spent if r.done_at is None or r.done_at > now - self.window)

    def _wait_for(self, weight: int, now: float) -> float:
        """Seconds until ``weight`` fits, or 0.0 now; inf while in-flight requests hold the room."""
        if now < self._paused_until:
            return self._paused_until - now
        used = self._used(now)
        if used + weight <= self.budget:
            return 0.0
        # the earliest a settled request leaves the window enough room
        free = self.budget - weight
        for r in sorted((r for r in self._spent if r.done_at is not None), key=lambda r: r.done_at or 0):
            used -= r.weight
            if used <= free:
                return max((r.done_at or now) + self.window - now, 0.001)
        return float("inf")

    def reserve(self, weight: int) -> Reservation:
        """Block until ``weight`` fits in the window, then hold it."""
        if weight > self.budget:
            raise ValueError(f"a request of weight {weight} can never fit a budget of {self.budget}")
        with self._lock:
            while (wait := self._wait_for(weight, self.clock())) > 0:
                start = self.clock()
                if wait == float("inf"):
                    self._lock.wait(timeout=1.0)  # woken when an in-flight request settles
                else:
                    self._lock.release()
                    try:
                        self.sleep(wait)
                    finally:
                        self._lock.acquire()
                self.waited += self.clock() - start
            reservation = Reservation(weight)
            self._spent.append(reservation)
            return reservation

    def settle(self, reservation: Reservation, weight: int) -> None:
        """The request completed and cost ``weight`` (at most what it reserved)."""
        with self._lock:
            reservation.weight = min(weight, reservation.weight)
            reservation.done_at = self.clock()
            self._lock.notify_all()

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a 429: the venue counts more than we do)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)

    def used(self) -> int:
        """The weight spent in the current window."""
        with self._lock:
            return self._used(self.clock())


_SHARED: dict[str, WeightBudget] = {}
_SHARED_LOCK = threading.Lock()


def shared_budget(host: str, budget: int, window: float = 60.0) -> WeightBudget:
    """The process-wide budget for ``host`` (one IP budget, however many loaders use it)."""
    with _SHARED_LOCK:
        found = _SHARED.get(host)
        if found is None or (found.budget, found.window) != (budget, window):
            found = _SHARED[host] = WeightBudget(budget, window)
        return found
