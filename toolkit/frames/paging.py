"""Paging by time: what turns a venue's capped, time-ranged pages into one complete history.

Hyperliquid (and Aster's income) answer at most N rows from ``startTime``, oldest first, and the
way on is to ask again from the last time returned, inclusive. Rows at that boundary instant come
back twice, and more rows than one page may share an instant (every coin is paid at the same
hour). The pager drops exactly the boundary rows it has already seen, counted as a multiset, so
identical rows that really are distinct are kept, and no row is lost or duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import polars as pl


class PagingError(RuntimeError):
    """A page is full of rows at one instant: there is no later time to continue from."""


def epoch_ms(df: pl.DataFrame) -> pl.Series:
    """A frame's ``time`` column as milliseconds since the epoch."""
    return df["time"].dt.epoch("ms")


def _drop_seen(page: pl.DataFrame, at: int, seen: Counter[tuple[Any, ...]]) -> pl.DataFrame:
    times = epoch_ms(page)
    keep = [True] * page.height
    for i in range(page.height):
        if times[i] != at:
            continue
        row = page.row(i)
        if seen[row] > 0:
            seen[row] -= 1
            keep[i] = False
    return page.filter(pl.Series(keep, dtype=pl.Boolean))


def page_by_time(
    fetch: Callable[[int, int], pl.DataFrame],
    start: int,
    end: int,
    cap: int,
    progress: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Every row with ``start <= time <= end`` (ms), from ``fetch(start, end)`` pages of at most
    ``cap`` rows. ``progress(ms)`` is told how far each page moved the cursor."""
    frames: list[pl.DataFrame] = []
    cursor, seen = start, Counter[tuple[Any, ...]]()
    while True:
        page = fetch(cursor, end)
        full = page.height >= cap
        page = page.sort("time", maintain_order=True)
        if seen:
            page = _drop_seen(page, cursor, seen)
        frames.append(page)
        if not full:
            break
        last = int(epoch_ms(page).max()) if page.height else cursor
        if last <= cursor:
            raise PagingError(
                f"{cap} rows at one instant ({cursor} ms): the venue cannot be paged past it; "
                "narrow the request (one coin, or a shorter range)"
            )
        seen = Counter(page.filter(epoch_ms(page) == last).rows())
        if progress:
            progress(last - cursor)
        cursor = last
    if progress:
        progress(max(end - cursor, 0))
    return pl.concat(frames, how="vertical")
