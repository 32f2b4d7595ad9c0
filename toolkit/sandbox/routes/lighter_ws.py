"""Lighter's WebSocket at ``/stream``, as the official SDK's ``WsClient`` uses it: a ``connected``
frame, then ``subscribe`` to ``order_book/{market}``, answered with ``subscribed/order_book`` (the
whole book) and ``update/order_book`` frames carrying only the levels that changed (size zero: gone),
following the sandbox's clock; ``account_all/{account}``, answered with ``subscribed/account_all``
(positions, the latest trades and funding payments, trade counts) and an ``update/account_all`` after
each clearinghouse commit that touched the account, carrying every position and what is new since
the last frame. Server frames name channels with a colon (``order_book:0``), as the SDK reads them.

Limits, so no client can weigh on the others (Lighter's own, reference/lighter-reads.md §6): 100
connections from one address, 100 subscriptions per connection, 200 messages a minute, 64 KB a
message; a connection silent for 60 s (the server pings every 20 s; the SDK answers) or 4 MB behind
in reading is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.lighter_trading import owner_of
from toolkit.sandbox.state import SandboxState
from toolkit.sandbox.streams import Subscriber, drain, dumps, inbound
from toolkit.venues.lighter import markets
from toolkit.venues.lighter.wire import LighterError

router = APIRouter()
log = logging.getLogger("toolkit.sandbox")

MAX_CONNECTIONS_PER_IP = 100
MAX_SUBSCRIPTIONS = 100
MAX_MESSAGES_PER_MINUTE = 200
MAX_MESSAGE_BYTES = 65_536
IDLE_SECONDS = 60.0
PING_SECONDS = 20.0
TICK_SECONDS = 0.5
BOOK_DEPTH = 50  # levels a side in the stream
CHANNEL = re.compile(r"^(order_book|account_all)/(\d{1,15})$", re.ASCII)  # ASCII digits only
SUBSCRIBE_FAILED = 30012  # the code of a refused subscription (reference/lighter-reads.md §6)
INVALID_MESSAGE = 30003
EXPECTED = (
    'expected {"type": "subscribe" or "unsubscribe", '
    '"channel": "order_book/{market}" or "account_all/{account}"}'
)

Levels = dict[str, str]  # price text -> size text, as sent


def book_levels(m: markets.LighterMarket, levels: list[Any]) -> Levels:
    """One side of the book as Lighter prints it: price text to size text, best first."""
    return {m.price(level.px): m.size(level.sz) for level in levels[:BOOK_DEPTH]}


def rows(levels: Levels) -> list[dict[str, str]]:
    """Levels as the frames carry them: ``{"price", "size"}`` objects, in order."""
    return [{"price": p, "size": s} for p, s in levels.items()]


def changes(before: Levels, after: Levels, m: markets.LighterMarket) -> list[dict[str, str]]:
    """The levels to send so a client holding ``before`` holds ``after``: new or resized levels, and
    each vanished one with size zero (which the SDK deletes)."""
    changed = {p: s for p, s in after.items() if before.get(p) != s}
    return rows(changed | {p: m.size(0) for p in before if p not in after})


def _error(code: int, message: str, channel: str | None = None) -> str:
    body: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if channel is not None:
        body["channel"] = channel
    return dumps(body)


class _Books:
    """One connection's order-book subscriptions: what each was last sent, and the stream's nonce."""

    def __init__(self) -> None:
        self.sent: dict[int, tuple[Levels, Levels]] = {}
        self.nonce = 0
        self.offset = 0

    def frame(
        self,
        kind: str,
        m: markets.LighterMarket,
        asks: list[dict[str, str]],
        bids: list[dict[str, str]],
        now: int,
    ) -> str:
        begin, self.nonce, self.offset = self.nonce, self.nonce + 1, self.offset + 1
        book = {"code": 0, "asks": asks, "bids": bids, "offset": self.offset, "nonce": self.nonce,
                "last_updated_at": now * 1000, "begin_nonce": begin}  # fmt: skip
        channel = f"order_book:{m.market_id}"
        return dumps({"channel": channel, "offset": self.offset, "last_updated_at": now * 1000,
                      "timestamp": now, "type": kind, "order_book": book})  # fmt: skip


class _Accounts:
    """One connection's account subscriptions: per account, its feed event, its sender task and what
    the last frame carried (the newest trade id and funding time)."""

    def __init__(self) -> None:
        self.tasks: dict[int, tuple[asyncio.Event, asyncio.Task]] = {}

    async def subscribe(self, state: SandboxState, subscriber: Subscriber, account: int) -> None:
        event = state.lighter_feed.watch(
            owner_of(account)
        )  # first: a commit while the snapshot is read wakes it
        try:
            body, after = await run_in_threadpool(state.lighter.trading.account_all, account, (0, 0))
        except BaseException:
            state.lighter_feed.unwatch(owner_of(account), event)
            raise
        subscriber.send(_account_frame("subscribed/account_all", account, body))
        self.tasks[account] = (
            event,
            asyncio.create_task(self._follow(state, subscriber, account, event, after)),
        )

    @staticmethod
    async def _follow(
        state: SandboxState,
        subscriber: Subscriber,
        account: int,
        event: asyncio.Event,
        after: tuple[int, int],
    ) -> None:
        while not subscriber.closed:
            await event.wait()
            event.clear()
            try:
                body, after = await run_in_threadpool(state.lighter.trading.account_all, account, after)
            except Exception:  # never a silent end: say so, and close the connection
                log.exception("lighter stream: account_all/%s could not be read", account)
                subscriber.send(
                    _error(SUBSCRIBE_FAILED, "the account could not be read", f"account_all:{account}")
                )
                subscriber.close()
                return
            subscriber.send(_account_frame("update/account_all", account, body))

    def unsubscribe(self, state: SandboxState, account: int) -> None:
        event, task = self.tasks.pop(account)
        task.cancel()
        state.lighter_feed.unwatch(owner_of(account), event)

    def close(self, state: SandboxState) -> None:
        for account in list(self.tasks):
            self.unsubscribe(state, account)


def _account_frame(kind: str, account: int, body: dict[str, Any]) -> str:
    return dumps({"type": kind, "channel": f"account_all:{account}"} | body)


async def _book(state: SandboxState, m: markets.LighterMarket) -> tuple[int, Levels, Levels]:
    now, bids, asks = await state.clearinghouse.acall(Clearinghouse._book, m.symbol)
    return now, book_levels(m, asks), book_levels(m, bids)


async def _ticker(state: SandboxState, subscriber: Subscriber, books: _Books) -> None:
    """Send what changed in each subscribed book, every half second; ping every 20 s."""
    last_ping = time.monotonic()
    while not subscriber.closed:
        await asyncio.sleep(TICK_SECONDS)
        for market_id, (asks_before, bids_before) in list(books.sent.items()):
            m = markets.BY_ID[market_id]
            now, asks, bids = await _book(state, m)
            ask_changes, bid_changes = changes(asks_before, asks, m), changes(bids_before, bids, m)
            if market_id in books.sent and (ask_changes or bid_changes):
                books.sent[market_id] = (asks, bids)
                subscriber.send(books.frame("update/order_book", m, ask_changes, bid_changes, now))
        if time.monotonic() - last_ping > PING_SECONDS:
            last_ping = time.monotonic()
            subscriber.send(dumps({"type": "ping"}))


async def _handle(
    state: SandboxState, subscriber: Subscriber, books: _Books, accounts: _Accounts, text: str
) -> None:
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        subscriber.send(_error(INVALID_MESSAGE, "messages must be JSON objects"))
        return
    kind = msg.get("type") if isinstance(msg, dict) else None
    if kind in ("pong", "ping"):
        if kind == "ping":
            subscriber.send(dumps({"type": "pong"}))
        return
    channel = msg.get("channel") if kind in ("subscribe", "unsubscribe") else None
    match = CHANNEL.match(channel) if isinstance(channel, str) else None
    if match is None:
        subscriber.send(_error(INVALID_MESSAGE, EXPECTED))
        return
    name, ident = match.group(1), int(match.group(2))
    shown = f"{name}:{ident}"
    is_account = name == "account_all"
    if not is_account and ident not in markets.BY_ID:
        subscriber.send(_error(SUBSCRIBE_FAILED, "invalid market index", shown))
        return
    held = ident in (accounts.tasks if is_account else books.sent)
    if kind == "unsubscribe":
        if not held:
            subscriber.send(_error(SUBSCRIBE_FAILED, "not subscribed", shown))
            return
        if is_account:
            accounts.unsubscribe(state, ident)
        else:
            books.sent.pop(ident)
        subscriber.send(dumps({"type": "unsubscribed", "channel": shown}))
        return
    if held:
        subscriber.send(_error(SUBSCRIBE_FAILED, "already subscribed", shown))
        return
    if len(books.sent) + len(accounts.tasks) >= MAX_SUBSCRIPTIONS:
        subscriber.send(
            _error(SUBSCRIBE_FAILED, f"at most {MAX_SUBSCRIPTIONS} subscriptions a connection", shown)
        )
        return
    if is_account:
        try:
            await accounts.subscribe(state, subscriber, ident)
        except LighterError as exc:
            subscriber.send(_error(SUBSCRIBE_FAILED, exc.message, shown))
        return
    m = markets.BY_ID[ident]
    now, asks, bids = await _book(state, m)
    books.sent[ident] = (asks, bids)
    subscriber.send(books.frame("subscribed/order_book", m, rows(asks), rows(bids), now))


@router.websocket("/stream")
async def lighter_stream(websocket: WebSocket) -> None:
    state: SandboxState = websocket.app.state.sandbox
    ip = websocket.client.host if websocket.client else ""
    per_ip = state.lighter_stream_ips
    if per_ip.get(ip, 0) >= MAX_CONNECTIONS_PER_IP:
        await websocket.close(code=1013, reason="too many connections")
        return
    await websocket.accept()
    per_ip[ip] = per_ip.get(ip, 0) + 1
    subscriber = Subscriber(lambda _user: "")
    books = _Books()
    accounts = _Accounts()
    writer = asyncio.create_task(drain(websocket, subscriber))
    ticker = asyncio.create_task(_ticker(state, subscriber, books))
    subscriber.send(dumps({"type": "connected", "session_id": uuid.uuid4().hex}))
    messages = inbound(
        websocket, subscriber, idle=IDLE_SECONDS, per_minute=MAX_MESSAGES_PER_MINUTE,
        max_bytes=MAX_MESSAGE_BYTES, flood=_error(23000, "Too Many Requests!"),
        too_big=_error(INVALID_MESSAGE, "messages must be JSON text of at most 64 KB"),
    )  # fmt: skip
    try:
        async for text in messages:
            await _handle(state, subscriber, books, accounts, text)
    except WebSocketDisconnect:
        pass
    finally:
        per_ip[ip] -= 1
        if not per_ip[ip]:
            del per_ip[ip]
        ticker.cancel()
        accounts.close(state)
        subscriber.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, timeout=5)  # cancelled if it has not finished by then
        if websocket.client_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()
