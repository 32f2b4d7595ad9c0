"""Hyperliquid's WebSocket on the sandbox: the official SDK's ``Info(url)`` receives market and user
streams; the protocol itself (acks, errors, ping, post) over a plain client; PaperExchange's socket
by API key; and the limits that keep one client from weighing on another."""

from __future__ import annotations

import itertools
import json
import queue
import time
from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.integration import fuzzing
from tests.integration.fuzzing import SIG, Template
from tests.integration.prices import resting_bid

STREAMS = {"allMids", "l2Book", "trades", "candle", "bbo", "activeAssetCtx", "activeAssetData", "orderUpdates",
           "user", "userFills", "userFundings", "userNonFundingLedgerUpdates", "notification"}  # fmt: skip
WAIT = 30.0  # seconds a stream may take to deliver (CI machines are busy): a ceiling, never a pause


def _until(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _ws_url(sandbox) -> str:
    return "ws" + sandbox.url.removeprefix("http") + "/ws"


class Socket:
    """A plain client: send JSON, read messages (skipping the market ticks it does not ask about)."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.ws = connect(url, open_timeout=WAIT, **kwargs).__enter__()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def next(self, channel: str) -> Any:
        deadline = time.monotonic() + WAIT
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg["channel"] == channel:
                return msg.get("data")

    def collect(self, *channels: str) -> dict[str, Any]:
        """The first message of each of ``channels``, whichever order they come in."""
        seen: dict[str, Any] = {}
        deadline = time.monotonic() + WAIT
        while len(seen) < len(channels):
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg["channel"] in channels:
                seen.setdefault(msg["channel"], msg.get("data"))
        return seen

    def close(self) -> None:
        self.ws.close()


def _still_serves(sandbox) -> None:
    """A new connection is answered: whatever came before did not break the socket for others."""
    other = Socket(_ws_url(sandbox))
    try:
        other.send({"method": "ping"})
        assert other.next("pong") is None
    finally:
        other.close()


@pytest.fixture
def socket(sandbox):
    s = Socket(_ws_url(sandbox))
    yield s
    s.close()


def test_the_sdk_streams_mids_book_fills_and_order_updates(sandbox):
    master = Account.create()
    sandbox.deposit("hyperliquid", master.address, 10_000)
    info = Info(sandbox.url)  # with its websocket, as a bot would make it
    got: dict[str, queue.Queue] = {k: queue.Queue() for k in ("mids", "book", "fills", "orders")}
    try:
        info.subscribe({"type": "allMids"}, got["mids"].put)
        info.subscribe({"type": "l2Book", "coin": "ETH"}, got["book"].put)
        info.subscribe({"type": "userFills", "user": master.address}, got["fills"].put)
        info.subscribe({"type": "orderUpdates", "user": master.address}, got["orders"].put)
        mids = got["mids"].get(timeout=WAIT)["data"]["mids"]
        assert set(mids) == {"BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE"}
        book = got["book"].get(timeout=WAIT)["data"]
        assert book["coin"] == "ETH" and len(book["levels"][0]) == 20
        snapshot = got["fills"].get(timeout=WAIT)["data"]
        assert snapshot == {"user": master.address.lower(), "isSnapshot": True, "fills": []}

        ex = Exchange(master, sandbox.url)
        filled = ex.market_open("ETH", True, 0.2)["response"]["data"]["statuses"][0]["filled"]
        fills = got["fills"].get(timeout=WAIT)["data"]
        assert "isSnapshot" not in fills
        (fill,) = fills["fills"]
        assert (fill["oid"], fill["sz"], fill["dir"]) == (filled["oid"], "0.2", "Open Long")
        assert fill == info.user_fills(master.address)[0]  # the same fill as the HTTP read
        (update,) = got["orders"].get(timeout=WAIT)["data"]
        assert (update["order"]["oid"], update["status"], update["order"]["origSz"]) == (
            filled["oid"],
            "filled",
            "0.2",
        )
    finally:
        info.disconnect_websocket()


def test_acks_errors_ping_and_unsubscribe(socket):
    sub = {"type": "trades", "coin": "ETH"}
    socket.send({"method": "subscribe", "subscription": sub})
    assert socket.next("subscriptionResponse") == {"method": "subscribe", "subscription": sub}
    socket.send({"method": "subscribe", "subscription": sub})
    assert socket.next("error") == 'Already subscribed: {"type":"trades","coin":"ETH"}'
    socket.send({"method": "subscribe", "subscription": {"type": "nope"}})
    assert socket.next("error") == 'Invalid subscription {"type":"nope"}'
    socket.send({"method": "subscribe", "subscription": {"type": "userFills", "user": "not an address"}})
    assert socket.next("error").startswith("Invalid subscription")
    socket.send({"method": "ping"})
    assert socket.next("pong") is None
    socket.send({"method": "unsubscribe", "subscription": sub})
    assert socket.next("subscriptionResponse") == {"method": "unsubscribe", "subscription": sub}
    socket.send({"method": "unsubscribe", "subscription": sub})
    assert socket.next("error") == 'Already unsubscribed: {"type":"trades","coin":"ETH"}'
    socket.ws.send("not json")
    assert socket.next("error") == "Invalid message: not json"


def test_post_serves_info_and_actions_over_the_socket(sandbox, socket):
    socket.send(
        {"method": "post", "id": 7, "request": {"type": "info", "payload": {"type": "l2Book", "coin": "BTC"}}}
    )
    reply = socket.next("post")
    assert reply["id"] == 7 and reply["response"]["type"] == "info"
    assert reply["response"]["payload"]["type"] == "l2Book"
    assert reply["response"]["payload"]["data"]["coin"] == "BTC"
    socket.send({"method": "post", "id": 8, "request": {"type": "info", "payload": {"type": "nope"}}})
    assert socket.next("post") == {"id": 8, "response": {"type": "error", "payload": (
        "422 Failed to deserialize the JSON body into the target type: unknown type 'nope'")}}  # fmt: skip

    master = Account.create()
    sandbox.deposit("hyperliquid", master.address, 10_000)
    from hyperliquid.utils import signing

    wire = signing.order_request_to_order_wire(
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": float(resting_bid(sandbox)),
         "order_type": {"limit": {"tif": "Gtc"}},
         "reduce_only": False}, 1)  # fmt: skip
    action = signing.order_wires_to_order_action([wire], None, "na")
    nonce = int(time.time() * 1000)
    signature = signing.sign_l1_action(master, action, None, nonce, None, False)
    body = {
        "action": action,
        "nonce": nonce,
        "signature": signature,
        "vaultAddress": None,
        "expiresAfter": None,
    }
    socket.send({"method": "post", "id": 9, "request": {"type": "action", "payload": body}})
    reply = socket.next("post")
    assert reply["id"] == 9 and reply["response"]["type"] == "action"
    assert "resting" in reply["response"]["payload"]["response"]["data"]["statuses"][0]


def test_an_advance_streams_fundings_and_events_in_order(own_sandbox):
    master = Account.create()
    own_sandbox.deposit("hyperliquid", master.address, 10_000)
    Exchange(master, own_sandbox.url).market_open("ETH", True, 0.5)
    s = Socket(_ws_url(own_sandbox))
    try:
        user = master.address.lower()
        s.send({"method": "subscribe", "subscription": {"type": "userFundings", "user": master.address}})
        assert s.next("userFundings") == {"user": user, "isSnapshot": True, "fundings": []}
        s.send({"method": "subscribe", "subscription": {"type": "userEvents", "user": master.address}})
        s.next("subscriptionResponse")
        own_sandbox.advance(hours=30)
        times: list[int] = []
        while len(times) < 30:
            batch = s.next("userFundings")
            assert batch["user"] == user and "isSnapshot" not in batch
            times += [f["time"] for f in batch["fundings"]]
        assert times == sorted(times) and len(set(times)) == 30
        assert all(b - a == 3_600_000 for a, b in itertools.pairwise(times))
        events = [s.next("user") for _ in range(30)]
        assert [e["funding"]["time"] for e in events] == times
    finally:
        s.close()


def test_paperexchange_socket_needs_the_api_key(sandbox, account):
    with pytest.raises(Exception):  # noqa: B017 - refused during the handshake
        Socket(sandbox.url.replace("http", "ws", 1) + "/v1/exchanges/hyperliquid/ws").next("pong")
    key = account.client.create_api_key("socket").api_key.reveal()
    s = Socket(sandbox.url.replace("http", "ws", 1) + "/v1/exchanges/hyperliquid/ws",
               additional_headers={"X-API-Key": key})  # fmt: skip
    try:
        s.send({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": "0x" + "0" * 40}})
        s.next("subscriptionResponse")
        s.send({"method": "post", "id": 1, "request": {"type": "action", "payload": {"action": {
            "type": "order", "orders": [{"a": 1, "b": True, "p": resting_bid(sandbox), "s": "0.1", "r": False,
                                         "t": {"limit": {"tif": "Gtc"}}}]}}}})  # fmt: skip
        seen = s.collect("post", "orderUpdates")  # in either order: the update streams at the commit
        oid = seen["post"]["response"]["payload"]["response"]["data"]["statuses"][0]["resting"]["oid"]
        (update,) = seen["orderUpdates"]  # the key's own account, whatever user was named
        assert (update["order"]["oid"], update["status"]) == (oid, "open")
    finally:
        s.close()


def test_limits_protect_the_other_clients(sandbox, socket):
    socket.ws.send("x" * 70_000)
    assert socket.next("error") == "Messages must be JSON text of at most 64 KB"
    for i in range(10):
        user = "0x" + f"{i:040x}"
        socket.send({"method": "subscribe", "subscription": {"type": "userFills", "user": user}})
        socket.next("subscriptionResponse")
    socket.send({"method": "subscribe", "subscription": {"type": "userFills", "user": "0x" + "f" * 40}})
    assert socket.next("error") == "Too many users: at most 10 per connection"
    _still_serves(sandbox)
    flood = Socket(_ws_url(sandbox))
    with pytest.raises(ConnectionClosed):
        for _ in range(2100):
            flood.send({"method": "ping"})
        while True:
            flood.next("never")


def test_hostile_messages_never_break_the_socket(sandbox):
    """Every field of every message kind replaced by hostile values (fuzzing's generator): each gets
    an answer on the socket, and the server and its other clients carry on."""
    user = "0x" + "ab" * 20
    order = {"a": 1, "b": True, "p": "2000", "s": "0.01", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    templates = [
        Template("WS", "/ws", {"method": "subscribe", "subscription": {"type": "l2Book", "coin": "ETH", "nSigFigs": 5, "mantissa": 2}}),
        Template("WS", "/ws", {"method": "subscribe", "subscription": {"type": "candle", "coin": "ETH", "interval": "1m"}}),
        Template("WS", "/ws", {"method": "subscribe", "subscription": {"type": "userFills", "user": user, "aggregateByTime": False}}),
        Template("WS", "/ws", {"method": "unsubscribe", "subscription": {"type": "activeAssetData", "user": user, "coin": "ETH"}}),
        Template("WS", "/ws", {"method": "post", "id": 1, "request": {"type": "info", "payload": {"type": "orderStatus", "user": user, "oid": 1}}}),
        Template("WS", "/ws", {"method": "post", "id": 2, "request": {"type": "action", "payload": {"action": {"type": "order", "orders": [order], "grouping": "na"}, "nonce": 1, "signature": SIG}}}),
        Template("WS", "/ws", {"method": "ping"}),
    ]  # fmt: skip
    socket, sent = None, 0
    try:
        for case in fuzzing.cases(templates, 1500):
            if sent % 400 == 0:  # under the per-connection message limit
                if socket is not None:
                    socket.close()
                socket = Socket(_ws_url(sandbox))
            socket.ws.send(case.content.decode("utf-8", "surrogatepass"))
            sent += 1
            msg = json.loads(socket.ws.recv(timeout=WAIT))
            while msg["channel"] in STREAMS:  # a snapshot or a tick of what an earlier case subscribed to
                msg = json.loads(socket.ws.recv(timeout=WAIT))
            assert msg["channel"] in {"error", "subscriptionResponse", "post", "pong"}, (case.label, msg)
            if msg["channel"] == "post":
                assert msg["data"]["response"]["type"] in {"info", "action", "error"}
        assert sent >= 1500
    finally:
        if socket is not None:
            socket.close()
    _still_serves(sandbox)


def test_web_data2_carries_the_account_and_every_market(sandbox, master, socket):
    Exchange(master, sandbox.url).market_open("SOL", True, 1)
    socket.send({"method": "subscribe", "subscription": {"type": "webData2", "user": master.address}})
    data = socket.next("webData2")
    assert data["user"] == master.address.lower() and data["openOrders"] == []
    (position,) = data["clearinghouseState"]["assetPositions"]
    assert position["position"]["coin"] == "SOL" and position["position"]["szi"] == "1"
    assert len(data["assetCtxs"]) == len(data["meta"]["universe"]) == 7
    assert data["cumLedger"] == "10000" and data["spotState"] == {"balances": []}
