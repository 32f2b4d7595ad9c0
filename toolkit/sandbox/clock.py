"""Simulated time: wall-clock time by default, moved forward by hand when a test or notebook asks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """The sandbox's notion of now, in milliseconds since the epoch (UTC).

    It follows the wall clock plus an offset; ``advance`` and ``advance_to`` grow the offset
    and never move time backwards, so trials expire and tokens age on demand.
    """

    def __init__(self, offset_ms: int = 0, on_change: Callable[[int], None] | None = None) -> None:
        """``on_change`` receives the new offset before ``advance`` returns: a sandbox stores it, so a
        restart (even one after a crash in the middle of processing the advance) keeps the time."""
        self._offset_ms = offset_ms
        self._on_change = on_change
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self._offset_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC)

    def advance(self, *, hours: float = 0, minutes: float = 0, seconds: float = 0) -> int:
        """Move forward by the given amount; return the new time in ms."""
        delta = int(((hours * 60 + minutes) * 60 + seconds) * 1000)
        if delta < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._shift(delta)
        return self.now_ms()

    def advance_to(self, ts_ms: int) -> int:
        """Move forward to ``ts_ms`` (ms since the epoch); refuse to go back."""
        with self._lock:
            now = self.now_ms()
            if ts_ms < now:
                raise ValueError("the clock only moves forward")
            self._shift(ts_ms - now)
        return self.now_ms()

    def _shift(self, delta_ms: int) -> None:
        """Grow the offset (under the lock) and report it before anyone acts on the new time."""
        self._offset_ms += delta_ms
        if self._on_change is not None:
            self._on_change(self._offset_ms)


def iso(ms: int | None) -> datetime | None:
    """A stored millisecond timestamp as a UTC datetime, to the second."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, tz=UTC)
