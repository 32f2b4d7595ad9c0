"""The inventory: every stored key as one DataFrame row, with a status worked out from its dates.

Pure: no HTTP, no files. Secrets are never columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from toolkit.keystore.store import CorruptEntry, Entry

STATUSES = ["active", "expiring soon", "expired", "revoked", "pending", "corrupt"]
# How early "expiring soon" starts, by kind: Lighter auth tokens live at most 8 hours.
SOON: dict[str, timedelta] = {"auth_token": timedelta(hours=1)}
DEFAULT_SOON = timedelta(days=7)
COLUMNS = [
    "venue", "network", "account", "kind", "key", "public", "label",
    "created", "expires", "status", "last_used", "id",
]  # fmt: skip


def parse_time(value: str | None) -> datetime | None:
    """An ISO time from an entry as a UTC datetime (naive means UTC), or None."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def status_of(entry: Entry, now: datetime, soon: timedelta | None = None) -> str:
    """revoked, expired, expiring soon or active, in that order of precedence."""
    if entry.status in ("revoked", "pending", "corrupt"):
        return entry.status  # pending: generated, not yet registered; corrupt: cannot be read
    expires = parse_time(entry.expires_at)
    if expires is None:
        return "active"
    if expires <= now:
        return "expired"
    if expires - now <= (soon or SOON.get(entry.kind, DEFAULT_SOON)):
        return "expiring soon"
    return "active"


def corrupt_entry(problem: CorruptEntry) -> Entry:
    """A stand-in for an entry that cannot be read: its id and the reason, nothing else trusted."""
    return Entry(
        venue="unknown", kind="unknown", network="", account="", key_ref="", label=str(problem),
        status="corrupt", id=problem.entry_id,
    )  # fmt: skip


def rows(entries: Iterable[Entry], now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per entry for the key table: venue, account, status and time left, never a secret."""
    now = now or datetime.now(UTC)
    return [
        {
            "venue": e.venue,
            "network": e.network,
            "account": e.account,
            "kind": e.kind,
            "key": e.key_ref,
            "public": e.public,
            "label": e.label,
            "created": parse_time(e.created_at),
            "expires": parse_time(e.expires_at),
            "status": status_of(e, now),
            "last_used": parse_time(e.last_used_at),
            "id": e.id,
        }
        for e in entries
    ]


def frame(
    entries: Iterable[Entry], kind: Literal["pandas", "polars"] = "pandas", now: datetime | None = None
) -> Any:
    """The inventory as a typed DataFrame: UTC datetimes, categorical venue, network and status."""
    data = rows(entries, now)
    if kind == "polars":
        import polars as pl

        schema = {c: pl.String for c in COLUMNS} | {
            c: pl.Datetime("us", "UTC") for c in ("created", "expires", "last_used")
        }
        df = pl.DataFrame(data, schema=schema, orient="row") if data else pl.DataFrame(schema=schema)
        return df.with_columns(
            pl.col("venue").cast(pl.Categorical),
            pl.col("network").cast(pl.Categorical),
            pl.col("status").cast(pl.Enum(STATUSES)),
        )
    import pandas as pd

    df = pd.DataFrame(data, columns=COLUMNS)
    for col in ("created", "expires", "last_used"):
        df[col] = pd.to_datetime(df[col], utc=True)
    for col in ("venue", "network"):
        df[col] = df[col].astype("category")
    df["status"] = pd.Categorical(df["status"], categories=STATUSES)
    return df


def expiring(entries: Iterable[Entry], now: datetime | None = None) -> list[str]:
    """A sentence per key that has expired or is about to."""
    now = now or datetime.now(UTC)
    out = []
    for e in entries:
        status = status_of(e, now)
        if status in ("expired", "expiring soon"):
            expires = parse_time(e.expires_at)
            assert expires is not None
            when = (
                f"expired {duration_words(now - expires)} ago"
                if status == "expired"
                else f"expires in {duration_words(expires - now)}"
            )
            out.append(f"{e.venue} {e.kind} {e.key_ref} ({e.label or e.account}) {when}")
    return out


def duration_words(delta: timedelta) -> str:
    """A time left as people say it: ``3 d 4 h``, ``2 h 5 min``, ``12 min``."""
    seconds = int(delta.total_seconds())
    if seconds >= 86_400:
        return f"{seconds // 86_400} d {seconds % 86_400 // 3600} h"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{max(seconds, 0) // 60} min"
