"""A local Parquet cache of fetched history: partitioned by venue, coin and month, with a record of
which time ranges are complete, so a repeated request fetches only what is new.

Layout (Hive-style, readable by any Parquet tool or ``pl.scan_parquet(root, hive_partitioning=True)``)::

    root/venue=hyperliquid/network=mainnet/kind=funding/scope=0xabc.../coin=BTC/month=2026-01.parquet
    root/venue=hyperliquid/network=mainnet/kind=funding/scope=0xabc.../_coverage.json

``scope`` is the account for account data, ``market`` for public data. Coverage intervals are
half-open ``[lo, hi)`` in ms. Writing a range first removes what the files hold inside it, so a
write interrupted before its coverage was recorded is simply redone, never duplicated.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from toolkit.frames import schema

Interval = tuple[int, int]


def default_root() -> Path:
    """``$TOOLKIT_CACHE_DIR``, else ``~/.cache/toolkit/frames``."""
    env = os.environ.get("TOOLKIT_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "toolkit" / "frames"


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._:@-]", "_", part)


def merge(intervals: list[Interval]) -> list[Interval]:
    """Overlapping or touching ``[lo, hi)`` intervals joined, in order."""
    out: list[Interval] = []
    for lo, hi in sorted(i for i in intervals if i[1] > i[0]):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def missing(covered: list[Interval], lo: int, hi: int) -> list[Interval]:
    """The parts of ``[lo, hi)`` that ``covered`` does not hold."""
    gaps, cursor = [], lo
    for a, b in merge(covered):
        if b <= cursor or a >= hi:
            continue
        if a > cursor:
            gaps.append((cursor, min(a, hi)))
        cursor = max(cursor, b)
    if cursor < hi:
        gaps.append((cursor, hi))
    return gaps


def _month(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def _months(lo: int, hi: int) -> set[str]:
    """Every month touched by ``[lo, hi)``."""
    first, last = datetime.fromtimestamp(lo / 1000, UTC), datetime.fromtimestamp((hi - 1) / 1000, UTC)
    months, y, m = set(), first.year, first.month
    while (y, m) <= (last.year, last.month):
        months.add(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


# A kind whose stored rows changed meaning gets a new revision (a new directory): what an older
# toolkit cached is fetched again, never mixed in. ledger 2: amounts signed into the account.
REVISIONS = {"ledger": 2}


class Dataset:
    """One kind of history for one venue, network and scope, on disk."""

    def __init__(self, root: Path, venue: str, network: str, kind: str, scope: str) -> None:
        self.kind = kind
        stored = f"{kind}.v{REVISIONS[kind]}" if kind in REVISIONS else kind
        self.path = root / f"venue={_safe(venue)}" / f"network={_safe(network)}" / f"kind={stored}"
        self.path = self.path / f"scope={_safe(scope)}"
        self._coverage = self.path / "_coverage.json"

    def coverage(self) -> list[Interval]:
        """The ``[lo, hi)`` ranges already stored, as recorded beside the files."""
        try:
            return [tuple(i) for i in json.loads(self._coverage.read_text())]  # type: ignore[misc]
        except FileNotFoundError:
            return []

    def missing(self, lo: int, hi: int) -> list[Interval]:
        """The parts of ``[lo, hi)`` not stored yet, to fetch."""
        return missing(self.coverage(), lo, hi)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time across processes (POSIX advisory lock; elsewhere, one per process)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "_lock", "w") as handle:
            try:
                import fcntl

                fcntl.flock(handle, fcntl.LOCK_EX)
            except ImportError:  # pragma: no cover - Windows
                pass
            yield

    def _files(self, months: set[str] | None = None) -> list[Path]:
        files = sorted(self.path.glob("coin=*/month=*.parquet"))
        return [f for f in files if months is None or f.stem.removeprefix("month=") in months]

    def write(self, rows: pl.DataFrame, lo: int, hi: int) -> None:
        """Store ``rows`` as everything in ``[lo, hi)``, then record the range as covered."""
        rows = rows.filter(pl.col("time").dt.epoch("ms").is_between(lo, hi - 1))
        touched = _months(lo, hi)
        coin = pl.col("coin").cast(pl.String).fill_null("_") if "coin" in rows.columns else pl.lit("_")
        keyed = rows.with_columns(
            coin.alias("_coin"),
            pl.col("time").dt.strftime("%Y-%m").alias("_month"),
        )
        new = {(c, m): g.drop("_coin", "_month") for (c, m), g in keyed.group_by("_coin", "_month")}
        targets = {f: None for f in self._files(touched)} | {
            self.path / f"coin={_safe(str(c))}" / f"month={m}.parquet": None for c, m in new
        }
        for file in targets:
            coin, month = file.parent.name.removeprefix("coin="), file.stem.removeprefix("month=")
            parts = []
            if file.exists():
                old = pl.read_parquet(file)
                parts.append(old.filter(~pl.col("time").dt.epoch("ms").is_between(lo, hi - 1)))
            if (coin, month) in new:
                parts.append(new[(coin, month)])
            merged = schema.conform(pl.concat(parts, how="vertical_relaxed"), self.kind).sort("time")
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp = file.with_suffix(".tmp")
            merged.write_parquet(tmp, statistics=True)
            os.replace(tmp, file)
        covered = merge([*self.coverage(), (lo, hi)])
        tmp = self._coverage.with_suffix(".tmp")
        tmp.write_text(json.dumps(covered))
        os.replace(tmp, self._coverage)

    def read(self, lo: int, hi: int, coins: list[str] | None = None) -> pl.DataFrame:
        """What the files hold in ``[lo, hi)``, sorted by time (stable across coins)."""
        files = self._files(_months(lo, hi)) if hi > lo else []
        if coins is not None:
            wanted = {f"coin={_safe(c)}" for c in coins}
            files = [f for f in files if f.parent.name in wanted]
        if not files:
            return schema.empty(self.kind)
        frame = pl.concat([pl.read_parquet(f) for f in files], how="vertical_relaxed")
        frame = frame.filter(pl.col("time").dt.epoch("ms").is_between(lo, hi - 1))
        return in_order(schema.conform(frame, self.kind))


def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows by time, then coin by name; rows equal in both keep their order."""
    if "coin" not in frame.columns:
        return frame.sort("time", maintain_order=True)
    return frame.sort(pl.col("time"), pl.col("coin").cast(pl.String), maintain_order=True)


def read_parquet(
    path: str | Path, kind: str | None = None, *, venue: str | None = None, backend: schema.Backend = "pandas"
) -> object:
    """Frames from Parquet: one file, or a directory such as the cache (then only ``kind`` and
    ``venue``'s files, if given), typed as ``kind``'s columns when known, sorted by time."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob("*.parquet"))
    if kind is not None:
        stored = f"{kind}.v{REVISIONS[kind]}" if kind in REVISIONS else kind
        files = [f for f in files if f"kind={stored}" in f.parts or path.is_file()]
    if venue is not None:
        files = [f for f in files if f"venue={venue}" in f.parts or path.is_file()]
    if not files:
        if kind is None:
            raise FileNotFoundError(f"no Parquet files under {path}")
        return schema.output(schema.empty(kind), backend)
    frame = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    if kind is not None:
        frame = schema.conform(frame, kind)
    return schema.output(in_order(frame) if "time" in frame.columns else frame, backend)
