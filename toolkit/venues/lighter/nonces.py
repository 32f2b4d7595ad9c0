"""Nonces for Lighter API keys: one counter per (account_index, api_key_index).

Lighter wants each key's nonces consecutive, so two transactions on one key must reach the venue
in the order their nonces were handed out. ``reserve`` therefore holds the key's lock from the
moment a nonce is handed out until the transaction is answered: the nonce advances only on
success, stays put when the API refuses the transaction (a refused transaction consumes no
nonce), and is re-read from ``nextNonce`` when the venue says "invalid nonce" (21104), which is
what happens when something else (another process, the website) used the key. Different keys
never wait for each other.

The same lock serves threads and asyncio tasks: ``areserve`` waits for it in a worker thread, so
the event loop never blocks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from toolkit.venues.lighter import wire
from toolkit.venues.lighter.wire import LighterError

Key = tuple[int, int]


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    next: int | None = None  # None: not fetched yet


@dataclass
class NonceStats:
    handed_out: int = 0
    committed: int = 0
    rolled_back: int = 0
    refreshed: int = 0


class Reservation:
    """One nonce on loan; ``skip_to`` takes a higher one (SkipNonce) before signing."""

    def __init__(self, nonce: int) -> None:
        self.nonce = nonce

    def skip_to(self, nonce: int) -> int:
        """Use ``nonce`` instead of the next one (SkipNonce), within the venue's range."""
        if not self.nonce <= nonce < wire.MAX_SKIP_NONCE:
            raise ValueError(f"a skipped nonce must be at least {self.nonce} and below {wire.MAX_SKIP_NONCE}")
        self.nonce = nonce
        return nonce


class NonceManager:
    """Optimistic: fetch ``nextNonce`` once per key, then count locally."""

    def __init__(self, fetch: Callable[[int, int], int]) -> None:
        """``fetch(account_index, api_key_index)`` returns the venue's next nonce for that key."""
        self._fetch = fetch
        self._keys: dict[Key, _State] = {}
        self._guard = threading.Lock()
        self.stats = NonceStats()

    def _state(self, key: Key) -> _State:
        with self._guard:
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _State()
            return state

    def peek(self, account_index: int, api_key_index: int) -> int | None:
        """The next nonce this manager would hand out, if it has fetched one."""
        return self._state((account_index, api_key_index)).next

    def forget(self, account_index: int, api_key_index: int) -> None:
        """Drop the local counter (a key was replaced): the next use fetches again."""
        state = self._state((account_index, api_key_index))
        with state.lock:
            state.next = None

    @contextmanager
    def _held(self, state: _State, key: Key) -> Iterator[Reservation]:
        """The body of a reservation, with ``state.lock`` already held by the caller."""
        if state.next is None:
            state.next = self._fetch(*key)
        reservation = Reservation(state.next)
        self.stats.handed_out += 1
        try:
            yield reservation
        except LighterError as exc:
            if exc.code == wire.INVALID_NONCE:
                state.next = self._fetch(*key)
                self.stats.refreshed += 1
            else:
                self.stats.rolled_back += 1
            raise
        except BaseException:
            # not answered (a network error, a signer error): the venue may or may not have the
            # transaction, so ask it rather than guess
            state.next = None
            self.stats.rolled_back += 1
            raise
        state.next = reservation.nonce + 1
        self.stats.committed += 1

    @contextmanager
    def reserve(self, account_index: int, api_key_index: int) -> Iterator[Reservation]:
        """Hold the key and lend its next nonce; sign and send inside the ``with``."""
        key = (account_index, api_key_index)
        state = self._state(key)
        with state.lock, self._held(state, key) as reservation:
            yield reservation

    @asynccontextmanager
    async def areserve(self, account_index: int, api_key_index: int) -> AsyncIterator[Reservation]:
        """``reserve`` for asyncio tasks: waits for the key in a thread, never on the event loop."""
        key = (account_index, api_key_index)
        state = self._state(key)
        await asyncio.to_thread(state.lock.acquire)
        try:
            with self._held(state, key) as reservation:
                yield reservation
        finally:
            state.lock.release()

    def submit(
        self,
        account_index: int,
        api_key_index: int,
        send: Callable[[int], object],
        *,
        retries: int = 1,
    ) -> object:
        """Run ``send(nonce)`` (sign with that nonce and post) under a reservation; after an
        "invalid nonce" the counter is refreshed and the transaction signed again, so it is not lost."""
        for attempt in range(retries + 1):
            try:
                with self.reserve(account_index, api_key_index) as reservation:
                    return send(reservation.nonce)
            except LighterError as exc:
                if exc.code != wire.INVALID_NONCE or attempt == retries:
                    raise
        raise AssertionError("unreachable")

    async def asubmit(
        self,
        account_index: int,
        api_key_index: int,
        send: Callable[[int], object],
        *,
        retries: int = 1,
    ) -> object:
        """``submit`` for asyncio; ``send`` may be a coroutine function."""
        for attempt in range(retries + 1):
            try:
                async with self.areserve(account_index, api_key_index) as reservation:
                    result = send(reservation.nonce)
                    if asyncio.iscoroutine(result):
                        result = await result
                    return result
            except LighterError as exc:
                if exc.code != wire.INVALID_NONCE or attempt == retries:
                    raise
        raise AssertionError("unreachable")
