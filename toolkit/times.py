"""Times as users type them, in one unit: milliseconds since the epoch, UTC.

Accepted everywhere a time is asked for (frames, the sandbox clock): a ``datetime`` (naive means
UTC, as every venue stamps its history), a ``date``, ISO 8601 text, a ``pandas.Timestamp``, a
``numpy.datetime64``, or an integer of milliseconds. A number that can only be seconds (before 2001
read as milliseconds) is refused with a message that says so: read as milliseconds it would
silently mean January 1970.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

TimeLike = int | float | str | date | datetime
FIRST_MS = 978_307_200_000  # 2001-01-01T00:00:00Z: any millisecond time worth asking for is later


def iso_ms(ms: int) -> str:
    """A millisecond time as people read it: ``2026-01-31 12:00 UTC``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def to_ms(value: Any, name: str = "time") -> int:
    """``value`` as milliseconds since the epoch (``name`` says which argument, for the message)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a time, not a bool ({value!r})")
    if value is None:
        raise TypeError(f"{name} must be a time, not None")
    if type(value).__name__ == "datetime64":  # numpy, without importing it
        import numpy as np

        if np.isnat(value):
            raise ValueError(f"{name} is NaT, not a time")
        return int(value.astype("datetime64[ms]").astype("int64"))
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name}={text[:40]!r} is not a time: give ISO 8601 text such as 2026-01-31 or "
                             "2026-01-31T12:00Z, a datetime, or milliseconds") from None  # fmt: skip
    if isinstance(value, datetime):  # pandas.Timestamp included
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"cannot read {name}={value!r} as a time") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite time, not {value!r}")
    ms = int(number)
    if ms != 0 and abs(ms) < FIRST_MS:
        hint = f" ({iso_ms(int(number * 1000))} if it was seconds)" if abs(number * 1000) < 2**53 else ""
        raise ValueError(
            f"{name}={value!r} read as milliseconds is {iso_ms(ms)}, before 2001: a time in seconds{hint}? "
            "Give milliseconds (seconds x 1000), a datetime or ISO text"
        )
    return ms
