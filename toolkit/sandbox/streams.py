"""Hyperliquid's WebSocket streams, fed by the clearinghouse: subscriptions per connection, user
streams sent after each commit (so a moved clock streams its fills and payments in order, and
nothing is ever sent that a rollback undid), and market streams on a ticker that follows the clock.

Each connection has its own bounded queue and writer: a client that does not read is closed, never
waited for, so one slow or hostile client cannot hold back anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from toolkit.sandbox import universe
from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.engine import marketdata
from toolkit.sandbox.paper_store import Pending
from toolkit.sandbox.render import hyperliquid as render
from toolkit.sandbox.universe import COINS

log = logging.getLogger("toolkit.sandbox")

TICK_SECONDS = 0.5  # market streams: at most this often, and only when the engine's time moved
QUEUE_MESSAGES = 10_000  # a connection this far behind is closed...
QUEUE_BYTES = 4 << 20  # ...or this many bytes behind
SNAPSHOT_ROWS = 500  # the first message of a user stream carries this many recent rows
MARKET_CHANNELS = {"allMids", "l2Book", "trades", "candle", "bbo", "activeAssetCtx"}
TICKED = MARKET_CHANNELS - {"trades"} | {"activeAssetData", "webData2"}  # sent on the ticker, not on commits


def dumps(message: Any) -> str:
    return orjson.dumps(message).decode()


async def drain(websocket: Any, subscriber: Subscriber) -> None:
    """Send a connection's queue in order; stop at its end (None) or when the client is gone, then
    close the socket."""
    with contextlib.suppress(Exception):
        while True:
            message = await subscriber.queue.get()
            if message is None:
                break
            subscriber.sent(message)
            await websocket.send_text(message)
    subscriber.closed = True
    with contextlib.suppress(Exception):
        await websocket.close()


async def inbound(
    websocket: Any,
    subscriber: Subscriber,
    *,
    idle: float,
    per_minute: int,
    max_bytes: int,
    flood: str,
    too_big: str,
) -> AsyncIterator[str]:
    """A connection's text messages, until the client leaves, sends nothing for ``idle`` seconds, or
    sends more than ``per_minute`` in a minute (answered with ``flood``); a message that is not text
    or longer than ``max_bytes`` is answered with ``too_big`` and skipped."""
    window, count = time.monotonic(), 0
    while not subscriber.closed:
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=idle)
        except TimeoutError:
            return
        if message["type"] == "websocket.disconnect":
            return
        now = time.monotonic()
        if now - window > 60:
            window, count = now, 0
        count += 1
        if count > per_minute:
            subscriber.send(flood)
            return
        text = message.get("text")
        if text is None or len(text) > max_bytes:
            subscriber.send(too_big)
            continue
        yield text


@dataclass(eq=False)
class Subscriber:
    """One connection: its subscriptions (key -> parsed subscription and the owner it reads) and queue."""

    owner_of: Callable[[str], str]  # a subscription's user -> the clearinghouse owner it reads
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_MESSAGES))
    subs: dict[str, tuple[Any, str | None]] = field(default_factory=dict)
    closed: bool = False
    last_bbo: dict[str, Any] = field(default_factory=dict)
    queued_bytes: int = 0

    def send(self, message: str) -> None:
        if self.closed:
            return
        if self.queued_bytes + len(message) > QUEUE_BYTES:
            self.close()  # it does not read: drop it rather than hold anyone back (or hold its memory)
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.close()
            return
        self.queued_bytes += len(message)

    def sent(self, message: str) -> None:
        self.queued_bytes -= len(message)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)


class Hub:
    """Every open connection, and the routing of the clearinghouse's commits to them."""

    def __init__(self, clearinghouse: Clearinghouse) -> None:
        self.ch = clearinghouse
        self.subscribers: set[Subscriber] = set()
        self.per_ip: dict[str, int] = {}  # open connections per client address
        self.watched: dict[str, int] = {}  # owner -> user subscriptions on it
        self.trade_coins: dict[str, int] = {}  # coin -> trades subscriptions
        # what the worker reads: replaced whole (never changed in place) as subscriptions come and go
        self._watched: frozenset[str] = frozenset()
        self._coins: frozenset[str] = frozenset()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._last_tick_time: int | None = None
        clearinghouse.after_commit.append(self.on_commit)

    # -- connections and subscriptions -------------------------------------------------------------

    def attach(self, subscriber: Subscriber) -> None:
        self.loop = asyncio.get_running_loop()
        self.subscribers.add(subscriber)
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick_forever())

    def detach(self, subscriber: Subscriber) -> None:
        subscriber.close()
        self.subscribers.discard(subscriber)
        for key in list(subscriber.subs):
            self.remove(subscriber, key)
        if not self.subscribers and self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def add(self, subscriber: Subscriber, key: str, sub: Any) -> None:
        user = getattr(sub, "user", None)
        owner = subscriber.owner_of(user) if user is not None else None
        subscriber.subs[key] = (sub, owner)
        if owner is not None:
            self.watched[owner] = self.watched.get(owner, 0) + 1
        if sub.type == "trades":
            self.trade_coins[sub.coin] = self.trade_coins.get(sub.coin, 0) + 1
        self._publish()

    def remove(self, subscriber: Subscriber, key: str) -> None:
        sub, owner = subscriber.subs.pop(key)
        if owner is not None:
            self.watched[owner] -= 1
            if not self.watched[owner]:
                del self.watched[owner]
        if sub.type == "trades":
            self.trade_coins[sub.coin] -= 1
            if not self.trade_coins[sub.coin]:
                del self.trade_coins[sub.coin]
        self._publish()

    def _publish(self) -> None:
        self._watched, self._coins = frozenset(self.watched), frozenset(self.trade_coins)

    async def snapshot(self, subscriber: Subscriber, sub: Any, owner: str | None) -> None:
        """The first message of a user time series (``isSnapshot``), or a market stream's current
        state, so a new subscriber does not wait for the next change."""
        ch, user = self.ch, getattr(sub, "user", "")
        user = user.lower() if user else user
        if sub.type == "userFills":
            rows = await run_in_threadpool(ch.fills, owner, None, None, SNAPSHOT_ROWS)
            fills = [render.fill(r) for r in rows]
            subscriber.send(
                dumps({"channel": "userFills", "data": {"user": user, "isSnapshot": True, "fills": fills}})
            )
        elif sub.type == "userFundings":
            rows = await run_in_threadpool(lambda: ch.funding(owner, limit=SNAPSHOT_ROWS, newest_first=True))
            data = {"user": user, "isSnapshot": True, "fundings": [_funding(r) for r in reversed(rows)]}
            subscriber.send(dumps({"channel": "userFundings", "data": data}))
        elif sub.type == "userNonFundingLedgerUpdates":
            rows = await run_in_threadpool(ch.ledger, owner, 0, None, SNAPSHOT_ROWS)
            data = {"user": user, "isSnapshot": True, "nonFundingLedgerUpdates": render.ledger(rows)}
            subscriber.send(dumps({"channel": "userNonFundingLedgerUpdates", "data": data}))
        elif sub.type in TICKED:
            for message in await self._market_messages([(subscriber, sub, owner)]):
                subscriber.send(message[1])

    # -- user streams: after each commit ---------------------------------------------------------------

    def on_commit(self, committed: list[Pending], owners: dict[int, str]) -> None:
        """On the clearinghouse's worker, after a commit: the rows any subscriber watches, handed
        to the event loop. Costs nothing when nobody watches."""
        loop, watched, coins = self.loop, self._watched, self._coins
        if loop is None or (not watched and not coins):
            return
        per_owner: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        trades: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for pending in committed:
            for kind, rows in (("fills", pending.fills), ("funding", pending.funding),
                               ("ledger", pending.ledger), ("orders", pending.orders),
                               ("liquidations", pending.liquidations)):  # fmt: skip
                for row in rows:
                    who = owners.get(row["account"])
                    if who in watched:
                        per_owner[who][kind].append(row)
                    if kind == "fills" and row["coin"] in coins:
                        trades[row["coin"]].append(row | {"user": who.partition(":")[2] if who else ""})
        if per_owner or trades:
            with contextlib.suppress(RuntimeError):  # the server is shutting down: nobody to send to
                loop.call_soon_threadsafe(self._dispatch, dict(per_owner), dict(trades))

    def _dispatch(self, per_owner: dict[str, dict[str, list[Any]]], trades: dict[str, list[Any]]) -> None:
        rendered: dict[tuple[str, str], str | list[str] | None] = {}
        for subscriber in list(self.subscribers):
            for sub, owner in list(subscriber.subs.values()):
                if sub.type == "trades" and sub.coin in trades:
                    key = ("trades", sub.coin)
                    if key not in rendered:
                        rendered[key] = dumps(
                            {"channel": "trades", "data": [render.trade(f) for f in trades[sub.coin]]}
                        )
                    subscriber.send(rendered[key])  # type: ignore[arg-type]
                    continue
                events = per_owner.get(owner) if owner is not None else None
                if not events:
                    continue
                key = (sub.type, owner)
                if key not in rendered:
                    rendered[key] = _user_messages(sub.type, sub.user.lower(), events)
                messages = rendered[key]
                for message in messages if isinstance(messages, list) else [messages]:
                    if message is not None:
                        subscriber.send(message)

    # -- market streams: on a ticker -------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:  # a failed tick is logged; the next one tries again
                log.exception("websocket: market tick failed")

    async def tick(self) -> None:
        """Send the market streams if the engine's time moved since the last tick."""
        now = self.ch.now()
        if now == self._last_tick_time:
            return
        self._last_tick_time = now
        wanted = [
            (s, sub, owner)
            for s in list(self.subscribers)
            for sub, owner in list(s.subs.values())
            if sub.type in TICKED
        ]
        for subscriber, message in await self._market_messages(wanted):
            subscriber.send(message)

    async def _web_data(self, user: str, owner: str, once: Callable[..., Awaitable[Any]]) -> str:
        """The frontend's aggregate for one user: account, open orders, and every coin's context."""
        ch = self.ch

        async def contexts() -> Any:
            return render.asset_contexts(await ch.acall(Clearinghouse._asset_contexts))

        view = await ch.acall(Clearinghouse._view, owner)
        orders = await ch.acall(Clearinghouse._open_snapshots, owner)
        data = {
            "clearinghouseState": render.clearinghouse_state(view), "leadingVaults": [],
            "totalVaultEquity": "0.0", "openOrders": render.frontend_orders(orders), "agentAddress": None,
            "agentValidUntil": None,
            "cumLedger": render.num(view.deposits - view.withdrawn), "meta": universe.meta(),
            "assetCtxs": await once("assetCtxs", contexts), "serverTime": view.time, "isVault": False,
            "user": user.lower(), "twapStates": [], "spotState": {"balances": []},
        }  # fmt: skip
        return dumps({"channel": "webData2", "data": data})

    async def _market_messages(
        self, wanted: list[tuple[Subscriber, Any, str | None]]
    ) -> list[tuple[Subscriber, str]]:
        """The current message of each market subscription (rendered once per distinct stream)."""
        ch, cache, out = self.ch, {}, []
        books: dict[str, Any] = {}

        async def once(key: Any, make: Callable[[], Awaitable[str | None]]) -> str | None:
            if key not in cache:
                cache[key] = await make()
            return cache[key]

        async def book(coin: str) -> Any:
            if coin not in books:
                books[coin] = await ch.acall(Clearinghouse._book, coin)
            return books[coin]

        for subscriber, sub, owner in wanted:
            message: str | None = None
            if sub.type == "webData2":
                if owner is not None:
                    message = await self._web_data(sub.user, owner, once)
            elif sub.type == "allMids":

                async def mids() -> str:
                    _, marks = await ch.acall(Clearinghouse._marks)
                    return dumps({"channel": "allMids", "data": {"mids": render.all_mids(marks)}})

                message = await once("allMids", mids)
            elif sub.coin not in COINS:
                continue
            elif sub.type == "l2Book":

                async def l2(sub: Any = sub) -> str:
                    time, bids, asks = await book(sub.coin)
                    depth = 5 if sub.fast else marketdata.LEVELS
                    bids = marketdata.aggregate(bids, True, sub.nSigFigs, sub.mantissa)[:depth]
                    asks = marketdata.aggregate(asks, False, sub.nSigFigs, sub.mantissa)[:depth]
                    return dumps({"channel": "l2Book", "data": render.l2_book(sub.coin, time, bids, asks)})

                message = await once(("l2Book", sub.coin, sub.nSigFigs, sub.mantissa, sub.fast), l2)
            elif sub.type == "bbo":
                time, bids, asks = await book(sub.coin)
                best = render.l2_book(sub.coin, time, bids[:1], asks[:1])["levels"]
                bbo = [best[0][0] if best[0] else None, best[1][0] if best[1] else None]
                if subscriber.last_bbo.get(sub.coin) != bbo:  # only on change
                    subscriber.last_bbo[sub.coin] = bbo
                    message = dumps({"channel": "bbo", "data": {"coin": sub.coin, "time": time, "bbo": bbo}})
            elif sub.type == "candle":

                async def candle(sub: Any = sub) -> str | None:
                    now = ch.now()
                    rows = await run_in_threadpool(
                        marketdata.candles, ch.market, sub.coin, sub.interval, now, now, now
                    )
                    if not rows:
                        return None
                    return dumps(
                        {"channel": "candle", "data": render.candle(rows[-1], sub.coin, sub.interval)}
                    )

                message = await once(("candle", sub.coin, sub.interval), candle)
            elif sub.type == "activeAssetCtx":

                async def ctx(sub: Any = sub) -> str:
                    contexts = await ch.acall(Clearinghouse._asset_contexts)
                    rendered = render.asset_contexts(contexts)[COINS.index(sub.coin)]
                    return dumps({"channel": "activeAssetCtx", "data": {"coin": sub.coin, "ctx": rendered}})

                message = await once(("activeAssetCtx", sub.coin), ctx)
            elif sub.type == "activeAssetData" and owner is not None:
                view, leverage, mark = await ch.acall(Clearinghouse._asset_view, owner, sub.coin)
                decimals = ch.engine.contracts[COINS.index(sub.coin)].sz_decimals
                data = render.active_asset_data(sub.user, sub.coin, view, leverage, mark, decimals)
                message = dumps({"channel": "activeAssetData", "data": data})
            if message is not None:
                out.append((subscriber, message))
        return out


def _funding(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "time": row["time"], "coin": row["coin"], "usdc": render.num(row["usdc"]),
        "szi": render.num(row["szi"]), "fundingRate": render.rate(row["rate"]), "nSamples": None,
    }  # fmt: skip


NOTICES = {
    "marginCanceled": "Order {oid} on {coin} was cancelled: insufficient margin when it would have filled.",
    "reduceOnlyCanceled": "Order {oid} on {coin} was cancelled: reduce only, with no position to reduce.",
    "scheduledCancel": "Order {oid} on {coin} was cancelled by your scheduled cancel.",
    "liquidatedCanceled": "Order {oid} on {coin} was cancelled: the account was liquidated.",
    "siblingFilledCanceled": "Order {oid} on {coin} was cancelled: its take-profit or stop-loss sibling "
    "fired.",
}


def _user_messages(kind: str, user: str, events: dict[str, list[Any]]) -> list[str]:
    """The messages one commit's rows make on one user stream (the same for every subscriber)."""
    fills, funding, ledger = events.get("fills", []), events.get("funding", []), events.get("ledger", [])
    orders, liquidations = events.get("orders", []), events.get("liquidations", [])
    match kind:
        case "userFills" if fills:
            return [
                dumps(
                    {"channel": "userFills", "data": {"user": user, "fills": [render.fill(f) for f in fills]}}
                )
            ]
        case "userFundings" if funding:
            data = {"user": user, "fundings": [_funding(r) for r in funding]}
            return [dumps({"channel": "userFundings", "data": data})]
        case "userNonFundingLedgerUpdates" if ledger:
            data = {"user": user, "nonFundingLedgerUpdates": render.ledger(ledger)}
            return [dumps({"channel": "userNonFundingLedgerUpdates", "data": data})]
        case "orderUpdates" if orders:
            return [dumps({"channel": "orderUpdates", "data": [render.ws_order_update(r) for r in orders]})]
        case "userEvents":
            return _user_events(fills, funding, orders, liquidations, user)
        case "notification":
            texts = [
                NOTICES[r["status"]].format(**orjson.loads(r["order"]))
                for r in orders
                if r["status"] in NOTICES
            ]
            texts += [
                f"Your {r['coin']} position of {render.num(r['position_size'])} was liquidated at "
                f"{render.num(r['mark_price'])}."
                for r in liquidations
            ]
            return [dumps({"channel": "notification", "data": {"notification": t}}) for t in texts]
    return []


def _user_events(fills: list[Any], funding: list[Any], orders: list[Any], liquidations: list[Any],
                 user: str) -> list[str]:  # fmt: skip
    """userEvents in time order: fills together, each funding payment, liquidations, and the
    orders the sandbox cancelled on the user's behalf."""
    timeline: list[tuple[int, int, dict[str, Any]]] = []
    if fills:
        timeline.append((fills[0]["time"], 0, {"fills": [render.fill(f) for f in fills]}))
    for r in funding:
        timeline.append((r["time"], 1, {"funding": _funding(r)}))
    for r in liquidations:
        liquidation = {"lid": r.get("id", 0), "liquidator": render.ZERO_ADDRESS, "liquidated_user": user,
                       "liquidated_ntl_pos": render.num(abs(r["position_size"]) * r["mark_price"]),
                       "liquidated_account_value": render.num(r["account_value_before"])}  # fmt: skip
        timeline.append((r["time"], 2, {"liquidation": liquidation}))
    cancelled = [orjson.loads(r["order"]) | {"t": r["time"]} for r in orders if r["status"] in NOTICES]
    if cancelled:
        timeline.append(
            (
                cancelled[0]["t"],
                3,
                {"nonUserCancel": [{"coin": o["coin"], "oid": o["oid"]} for o in cancelled]},
            )
        )
    timeline.sort(key=lambda e: (e[0], e[1]))
    return [dumps({"channel": "user", "data": data}) for _, _, data in timeline]
