"""Hyperliquid's WebSocket at ``/ws`` (and PaperExchange's at ``/v1/exchanges/hyperliquid/ws``,
authenticated by the API key): subscribe and unsubscribe with ``subscriptionResponse`` acks,
``ping``/``pong``, and ``post`` (info and exchange requests over the socket).

Limits, so no client can weigh on the others: 500 connections (100 from one address); per
connection 1,000 subscriptions, 10 users, 2,000 messages a minute, 64 KB per message; a connection
that sends nothing for 60 s, or falls 4 MB behind in reading, is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox.clearinghouse import Clearinghouse, owner
from toolkit.sandbox.routes import hyperliquid, paperx_trading
from toolkit.sandbox.state import SandboxState
from toolkit.sandbox.streams import Subscriber, drain, dumps, inbound
from toolkit.venues import hyperliquid_wire as wire
from toolkit.venues.refusal import VenueRefusal

router = APIRouter()

MAX_CONNECTIONS = 500
MAX_CONNECTIONS_PER_IP = 100
MAX_SUBSCRIPTIONS = 1000
MAX_USERS = 10
MAX_MESSAGES_PER_MINUTE = 2000
MAX_MESSAGE_BYTES = 65_536
IDLE_SECONDS = 60.0

Post = Callable[[str, dict[str, Any]], Awaitable[Any]]


def _error(text: str) -> str:
    return dumps({"channel": "error", "data": text})


async def serve(websocket: WebSocket, subscriber: Subscriber, post: Post) -> None:
    """One connection, until the client leaves, idles, floods, or stops reading."""
    state: SandboxState = websocket.app.state.sandbox
    hub = state.hub
    ip = websocket.client.host if websocket.client else ""
    if len(hub.subscribers) >= MAX_CONNECTIONS or hub.per_ip.get(ip, 0) >= MAX_CONNECTIONS_PER_IP:
        await websocket.close(code=1013, reason="too many connections")
        return
    hub.per_ip[ip] = hub.per_ip.get(ip, 0) + 1
    hub.attach(subscriber)
    writer = asyncio.create_task(drain(websocket, subscriber))
    messages = inbound(
        websocket, subscriber, idle=IDLE_SECONDS, per_minute=MAX_MESSAGES_PER_MINUTE,
        max_bytes=MAX_MESSAGE_BYTES, too_big=_error("Messages must be JSON text of at most 64 KB"),
        flood=_error(f"Too many messages: at most {MAX_MESSAGES_PER_MINUTE} a minute"),
    )  # fmt: skip
    try:
        async for text in messages:  # nothing for 60 s: the venue drops the connection
            await _handle(hub, subscriber, text, post)
    except WebSocketDisconnect:
        pass
    finally:
        hub.detach(subscriber)
        hub.per_ip[ip] -= 1
        if not hub.per_ip[ip]:
            del hub.per_ip[ip]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, timeout=5)
        if websocket.client_state is not WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close()


async def _handle(hub: Any, subscriber: Subscriber, text: str, post: Post) -> None:
    try:
        raw = orjson.loads(text)
        msg = wire.WS_MESSAGE.validate_python(raw)
    except (orjson.JSONDecodeError, ValidationError):
        subscriber.send(_error(f"Invalid message: {text[:200]}"))
        return
    if isinstance(msg, wire.WsPing):
        subscriber.send(dumps({"channel": "pong"}))
        return
    if isinstance(msg, wire.WsPost):
        subscriber.send(
            dumps({"channel": "post", "data": {"id": msg.id, "response": await _post(post, msg)}})
        )
        return
    echo = dumps(msg.subscription)[:500]
    try:
        sub = wire.parse_subscription(msg.subscription)
    except wire.WireError:
        subscriber.send(_error(f"Invalid subscription {echo}"))
        return
    key = wire.subscription_key(sub)
    if msg.method == "unsubscribe":
        if key not in subscriber.subs:
            subscriber.send(_error(f"Already unsubscribed: {echo}"))
            return
        hub.remove(subscriber, key)
    else:
        if key in subscriber.subs:
            subscriber.send(_error(f"Already subscribed: {echo}"))
            return
        if len(subscriber.subs) >= MAX_SUBSCRIPTIONS:
            subscriber.send(_error(f"Too many subscriptions: at most {MAX_SUBSCRIPTIONS} per connection"))
            return
        users = {s.user.lower() for s, _ in subscriber.subs.values() if getattr(s, "user", None)}
        if getattr(sub, "user", None) and len(users | {sub.user.lower()}) > MAX_USERS:
            subscriber.send(_error(f"Too many users: at most {MAX_USERS} per connection"))
            return
        hub.add(subscriber, key, sub)
    ack = {"method": msg.method, "subscription": msg.subscription}
    subscriber.send(dumps({"channel": "subscriptionResponse", "data": ack}))
    if msg.method == "subscribe":
        await hub.snapshot(subscriber, sub, subscriber.subs[key][1])


async def _post(post: Post, msg: wire.WsPost) -> dict[str, Any]:
    """A request over the socket, answered as HTTP would answer it (an HTTP error as its text)."""
    try:
        data = await post(msg.request.type, msg.request.payload)
    except VenueRefusal as exc:
        body = exc.body()
        text = body if isinstance(body, str) else dumps(body)
        return {"type": "error", "payload": f"{exc.status} {text}"}
    if msg.request.type == "info":
        return {"type": "info", "payload": {"type": msg.request.payload.get("type"), "data": data}}
    return {"type": "action", "payload": data}


@router.websocket("/ws")
async def hyperliquid_ws(websocket: WebSocket) -> None:
    state: SandboxState = websocket.app.state.sandbox
    await websocket.accept()

    async def post(kind: str, payload: dict[str, Any]) -> Any:
        if kind == "info":
            req = hyperliquid.parse(wire.parse_info, payload)
            return await hyperliquid.answer_info(state, req, None, "hyperliquid")
        req = hyperliquid.parse(wire.parse_exchange, payload)
        return await hyperliquid.exchange_body(state, req, payload)

    await serve(websocket, Subscriber(lambda user: owner("hyperliquid", user)), post)


@router.websocket("/v1/exchanges/hyperliquid/ws")
async def paperx_ws(websocket: WebSocket) -> None:
    """PaperExchange's socket: the ``X-API-Key`` header says whose account every user stream reads."""
    state: SandboxState = websocket.app.state.sandbox
    key = websocket.headers.get("x-api-key")
    try:
        if not key:
            raise VenueRefusal("Not authenticated: send X-API-Key", 401)
        user = await run_in_threadpool(state.accounts.user_from_api_key, key)
    except VenueRefusal:
        await websocket.close(code=1008, reason="Not authenticated: send a valid X-API-Key")
        return
    await websocket.accept()
    who = owner(paperx_trading.VENUE, user.id)
    await state.clearinghouse.acall(Clearinghouse._open_funded, who, policy.PLANS[user.plan].balance)

    async def post(kind: str, payload: dict[str, Any]) -> Any:
        if kind == "info":
            return await paperx_trading.answer_info(state, user, payload)
        return await paperx_trading.answer_exchange(state, user, payload)

    await serve(websocket, Subscriber(lambda _user: who), post)
