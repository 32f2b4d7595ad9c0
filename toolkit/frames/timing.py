"""Times as users type them, turned into the venues' milliseconds (``toolkit.times``)."""

from __future__ import annotations

from datetime import timedelta

from toolkit.times import TimeLike, to_ms

__all__ = ["TimeLike", "days_before", "to_ms"]


def days_before(end_ms: int, days: float) -> int:
    """The time ``days`` before ``end_ms``, in milliseconds."""
    return end_ms - int(timedelta(days=days).total_seconds() * 1000)
