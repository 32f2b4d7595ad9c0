"""Times as users type them, turned into the venues' milliseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

TimeLike = int | float | str | date | datetime


def to_ms(value: TimeLike) -> int:
    """Milliseconds since the epoch from ms, a datetime, a date or ISO text.

    Times without a zone are UTC: every venue's history is stamped in UTC."""
    if isinstance(value, bool):
        raise TypeError("a time, not a bool")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    raise TypeError(f"cannot read {value!r} as a time")


def days_before(end_ms: int, days: float) -> int:
    return end_ms - int(timedelta(days=days).total_seconds() * 1000)
