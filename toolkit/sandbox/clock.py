"""Simulated time: wall-clock time by default, moved forward by hand when a test or notebook asks.

A replay's clock is held instead: it stands still between advances (so a backtest run twice sees
the same moments) and never passes the end of the history it replays.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class ClockAtEnd(ValueError):
    """An advance past the end of a replay."""


class Clock:
    """The sandbox's notion of now, in milliseconds since the epoch (UTC).

    It follows the wall clock plus an offset; ``advance`` and ``advance_to`` grow the offset
    and never move time backwards, so trials expire and tokens age on demand. A ``held`` clock
    does not follow the wall: its offset is the time itself, moved only by advances, up to
    ``end_ms`` when one is set.
    """

    def __init__(
        self,
        offset_ms: int = 0,
        on_change: Callable[[int], None] | None = None,
        *,
        held: bool = False,
        end_ms: int | None = None,
    ) -> None:
        """``on_change`` receives the new offset before ``advance`` returns: a sandbox stores it, so a
        restart (even one after a crash in the middle of processing the advance) keeps the time."""
        self._offset_ms = offset_ms
        self._on_change = on_change
        self._lock = threading.Lock()
        self.held = held
        self.end_ms = end_ms

    def now_ms(self) -> int:
        return self._offset_ms if self.held else int(time.time() * 1000) + self._offset_ms

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
        if self.end_ms is not None and self.now_ms() + delta_ms > self.end_ms:
            raise ClockAtEnd(
                f"the replay ends at {iso(self.end_ms):%Y-%m-%d %H:%M} UTC; the clock cannot pass it "
                f"(now {iso(self.now_ms()):%Y-%m-%d %H:%M})"
            )
        self._offset_ms += delta_ms
        if self._on_change is not None:
            self._on_change(self._offset_ms)


def iso(ms: int | None) -> datetime | None:
    """A stored millisecond timestamp as a UTC datetime, to the second."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms // 1000, tz=UTC)
