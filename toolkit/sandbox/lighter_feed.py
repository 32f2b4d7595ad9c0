"""Which Lighter accounts the ``/stream`` connections watch, woken after each clearinghouse commit
that touched one of them (a fill, a funding payment, an order's status, money in or out).

The clearinghouse's worker only sets events on the event loop; the connections build their frames
themselves, so a commit costs nothing when nobody watches and never waits for a slow client.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.paper_store import Pending


class AccountFeed:
    def __init__(self, ch: Clearinghouse) -> None:
        self.watchers: dict[str, set[asyncio.Event]] = {}
        self._watched: frozenset[str] = frozenset()  # what the worker reads: replaced whole, never changed
        self.loop: asyncio.AbstractEventLoop | None = None
        ch.after_commit.append(self.on_commit)

    def watch(self, owner: str) -> asyncio.Event:
        """An event set whenever a commit touches ``owner`` (call on the event loop)."""
        self.loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self.watchers.setdefault(owner, set()).add(event)
        self._watched = frozenset(self.watchers)
        return event

    def unwatch(self, owner: str, event: asyncio.Event) -> None:
        events = self.watchers.get(owner, set())
        events.discard(event)
        if not events:
            self.watchers.pop(owner, None)
        self._watched = frozenset(self.watchers)

    def on_commit(self, committed: list[Pending], owners: dict[int, str]) -> None:
        """On the worker, after a commit: wake the watchers of the accounts it touched."""
        watched, loop = self._watched, self.loop
        if not watched or loop is None:
            return
        touched = {
            owners.get(row["account"])
            for pending in committed
            for rows in (pending.fills, pending.funding, pending.ledger, pending.orders, pending.liquidations)
            for row in rows
        } & watched
        if touched:
            with contextlib.suppress(RuntimeError):  # the server is shutting down
                loop.call_soon_threadsafe(self._wake, touched)

    def _wake(self, touched: set[Any]) -> None:
        for owner in touched:
            for event in self.watchers.get(owner, ()):
                event.set()
