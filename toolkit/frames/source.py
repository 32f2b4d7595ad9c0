"""What every venue's loaders share: the cache, the settled past, progress bars and output."""

from __future__ import annotations

import random
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from toolkit.frames import schema
from toolkit.frames.budget import WeightBudget, shared_budget
from toolkit.frames.cache import Dataset, default_root, in_order
from toolkit.frames.schema import Backend
from toolkit.frames.timing import TimeLike, days_before, to_ms
from toolkit.times import iso_ms

SETTLE_MS = 5 * 60_000  # history younger than this may still change on a venue: fetched, never cached
BAR_DELAY_S = 0.5  # progress bars appear only for work that takes longer than this

Fetch = Callable[[int, int, Callable[[int], None] | None], pl.DataFrame]
UNLIMITED = WeightBudget(10**12)  # against a sandbox handle: it enforces no budget unless told to


CONNECT_RETRY_PAUSE = 0.5  # a connection that cannot be made is tried once more, this much later


class VenueUnreachable(ConnectionError):
    """The venue's host cannot be reached at all (no route, no name, nothing listening): retrying
    would only make the user wait."""

    def __init__(self, host: str, cause: Exception) -> None:
        super().__init__(f"cannot reach {host} (no network?): {type(cause).__name__}: {cause}")
        self.host = host


class Source:
    """A venue's history: fetched in pages, cached by month, returned as pandas or polars."""

    venue = ""
    quote = "USDC"

    def __init__(
        self, target: Any, network: str | None, cache: bool | str | Path | None, progress: bool
    ) -> None:
        self._sandbox_now = getattr(target, "now_ms", None)
        self.network = network or ("sandbox@" + str(getattr(target, "url", target)).split("//")[-1])
        # the real venues' history is cached by default; a sandbox's can be rewritten (a fresh
        # database, a reset), so it is cached only when a directory is given
        if cache is True:
            cache = default_root() if network else None
        self.cache_root = Path(cache) if cache else None
        self.progress = progress

    # the venue's refusals (each with ``status``, perhaps ``retry_after``), the statuses worth
    # another try, and the longest pause between tries
    errors: tuple[type[Exception], ...] = ()
    retriable: frozenset[int] = frozenset()
    max_pause = 60.0

    def _requests(
        self, budget: WeightBudget | None, host: str, per_minute: int, max_retries: int, backoff: float
    ) -> None:
        """Set the budget (given, else the host's process-wide one; none against a sandbox handle)
        and the retry policy, and zero the counts."""
        if budget is None:
            budget = UNLIMITED if self._sandbox_now else shared_budget(host, per_minute)
        self.budget = budget
        self.host = httpx.URL(str(host)).host or str(host)
        self.max_retries, self.backoff = max_retries, backoff
        self.requests = 0  # answered requests
        self.retries = 0  # requests sent again after a 429 or a 5xx

    def budgeted(
        self, send: Callable[[], Any], most: int, weight_of: Callable[[Any], int], failed: int
    ) -> Any:
        """``send()`` inside the budget: ``most`` reserved, ``weight_of(result)`` charged (``failed``
        for a refusal). A retriable refusal (429, 5xx) or a dropped connection pauses the budget
        (for the venue's Retry-After, else a doubling backoff) and tries again; a connection that
        cannot be made at all is tried once more, then raises ``VenueUnreachable``."""
        unreachable = 0
        for attempt in range(self.max_retries + 1):
            reservation = self.budget.reserve(most)
            try:
                result = send()
            except httpx.ConnectError as exc:  # no name, no route, nothing listening: fail fast
                self.budget.settle(reservation, 0)
                unreachable += 1
                if unreachable > 1 or attempt == self.max_retries:
                    raise VenueUnreachable(self.host, exc) from exc
                time.sleep(CONNECT_RETRY_PAUSE)
                continue
            except (*self.errors, httpx.TransportError) as exc:
                self.budget.settle(reservation, failed)
                status = getattr(exc, "status", None)
                if attempt == self.max_retries or (
                    isinstance(exc, self.errors) and status not in self.retriable
                ):
                    raise
                self.retries += 1
                delay = getattr(exc, "retry_after", None) or self.backoff * 2**attempt * (
                    1 + random.random() / 4
                )
                self.budget.pause(min(delay, self.max_pause))
                continue
            except BaseException:
                self.budget.settle(reservation, most)
                raise
            self.budget.settle(reservation, weight_of(result))
            self.requests += 1
            return result
        raise AssertionError("unreachable")

    def now_ms(self) -> int:
        """The venue's now: the sandbox's (possibly fast-forwarded) clock, else the wall clock."""
        return self._sandbox_now() if self._sandbox_now else int(time.time() * 1000)

    def _settled(self) -> int:
        """The end (exclusive) of the history that can no longer change: a sandbox writes each hour
        as its clock passes it; a venue may still be publishing the last few minutes."""
        return self.now_ms() + 1 if self._sandbox_now else self.now_ms() - SETTLE_MS

    def _range(self, start: TimeLike | None, end: TimeLike | None, days: float = 30) -> tuple[int, int]:
        """``[lo, hi)`` in ms from the inclusive ``start`` and ``end`` a user gives (``end``: now;
        ``start``: ``days`` before ``end``)."""
        hi = to_ms(end, "end") if end is not None else self.now_ms()
        lo = to_ms(start, "start") if start is not None else days_before(hi, days)
        if lo > hi:
            when = f"({iso_ms(hi)})" if end is not None else f"which defaulted to now ({iso_ms(hi)})"
            raise ValueError(f"start ({iso_ms(lo)}) is after end {when}")
        return lo, hi + 1

    def check_begins(self, frame: pl.DataFrame, lo: int, what: str, interval_ms: int = 3_600_000) -> None:
        """Warn when history asked from ``lo`` begins later (more than two intervals): the rows before
        it do not exist here, which a silently shorter frame would hide."""
        if frame.height == 0:
            warnings.warn(f"{what} has no rows from {iso_ms(lo)}", stacklevel=3)
            return
        first = int(frame.get_column("time").dt.epoch("ms").min())
        if first - lo > 2 * interval_ms:
            where = "the sandbox" if self._sandbox_now else self.network
            warnings.warn(
                f"{what} begins at {iso_ms(first)} on {where}, after the start asked for ({iso_ms(lo)})",
                stacklevel=3,
            )

    @staticmethod
    def stack(parts: list[pl.DataFrame], kind: str) -> pl.DataFrame:
        """Per-coin results as one frame, in time then coin order."""
        return in_order(pl.concat(parts, how="vertical_relaxed")) if parts else schema.empty(kind)

    def dataset(self, kind: str, scope: str) -> Dataset | None:
        """The Parquet cache of ``kind`` for ``scope`` (a coin or an address), or None without a cache."""
        if self.cache_root is None:
            return None
        return Dataset(self.cache_root, self.venue, self.network, kind, scope)

    def _bar(self, total_ms: int, label: str) -> Any:
        """A progress bar in hours of history for ``label``, or a silent one."""
        from tqdm.auto import tqdm

        hours = max(total_ms / 3_600_000, 0.0)
        # shown only once the work has taken half a second: a cached or one-page fetch shows none
        off = not self.progress or hours < 1
        return tqdm(total=round(hours, 1), unit="h", desc=label, disable=off, delay=BAR_DELAY_S)

    def history(self, kind: str, scope: str, lo: int, hi: int, fetch: Fetch, label: str) -> pl.DataFrame:
        """Every row of ``kind`` in ``[lo, hi)``: the cache's settled part, the rest fetched.

        Only the missing settled ranges are fetched and stored; what is newer than the settled past
        is fetched each time and never stored."""
        dataset = self.dataset(kind, scope)
        settled = min(hi, self._settled()) if dataset is not None else lo
        gaps = dataset.missing(lo, settled) if dataset is not None and settled > lo else []
        fresh = (max(settled, lo), hi) if hi > max(settled, lo) else None
        todo = sum(b - a for a, b in gaps) + (fresh[1] - fresh[0] if fresh else 0)
        parts = []
        with self._bar(todo, label) as bar:

            def advance(ms: int) -> None:  # pages overlap at their edges: never past the whole
                bar.update(min(round(ms / 3_600_000, 1), round(bar.total - bar.n, 1)))

            if dataset is not None and settled > lo:
                with dataset.locked():
                    for a, b in dataset.missing(lo, settled):
                        dataset.write(fetch(a, b - 1, advance), a, b)
                    parts.append(dataset.read(lo, settled))
            if fresh:
                parts.append(fetch(fresh[0], fresh[1] - 1, advance))
            bar.update(round(bar.total - bar.n, 1))  # done: the last page may end before the range does
        frame = pl.concat(parts, how="vertical_relaxed") if parts else schema.empty(kind)
        return in_order(schema.conform(frame, kind))

    @staticmethod
    def out(frame: pl.DataFrame, backend: Backend) -> Any:
        """``frame`` in the DataFrame library the user asked for."""
        return schema.output(frame, backend)
