"""Lighter's /stream through the official SDK's WsClient: the order-book snapshot, updates that follow
the sandbox's clock, and deltas the SDK's own merge turns into exactly the server's book."""

from __future__ import annotations

import json
import random
import threading

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from toolkit.sandbox.routes import lighter_ws
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient, markets

lighter = pytest.importorskip("lighter")


def answer(ws) -> dict:
    """The next frame that answers the client: the server's own pings and book updates skipped."""
    while (frame := json.loads(ws.recv(timeout=30)))["type"] in ("ping", "update/order_book"):
        pass
    return frame


class Enough(Exception):
    """Raised from a callback to end WsClient.run() once the test has what it needs."""


def test_a_delta_merged_by_the_sdk_gives_the_new_book():
    m = markets.BY_SYMBOL["ETH"]
    merge = lighter.WsClient(ws_url="ws://unused", order_book_ids=[0]).update_orders
    rng = random.Random(7)
    for _ in range(200):
        prices = [m.price(2000 + rng.randint(0, 400) / 100) for _ in range(30)]
        before = {p: m.size(rng.randint(1, 5000) / 10_000) for p in prices[:20]}
        after = {p: m.size(rng.randint(1, 5000) / 10_000) for p in prices[10:]}
        held = [{"price": p, "size": s} for p, s in before.items()]
        merge(lighter_ws.changes(before, after, m), held)
        assert {o["price"]: o["size"] for o in held} == after


@pytest.mark.moves_clock
def test_wsclient_gets_the_book_and_its_updates_as_the_clock_moves(sandbox):
    url = sandbox.url.replace("http://", "ws://") + "/stream"
    books: list[dict] = []
    first = threading.Event()

    def on_book(market_id, book):
        books.append(
            {
                "market": market_id,
                "asks": [dict(o) for o in book["asks"]],
                "bids": [dict(o) for o in book["bids"]],
            }
        )
        first.set()
        if len(books) >= 2:
            raise Enough

    client = lighter.WsClient(ws_url=url, order_book_ids=[1], account_ids=[], on_order_book_update=on_book)
    errors: list[BaseException] = []

    def run():
        try:
            client.run()
        except BaseException as exc:  # Enough, or a real failure to report
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert first.wait(60), "no order-book snapshot"
    sandbox.advance(hours=1)  # the mark moves: the book changes
    thread.join(60)
    assert not thread.is_alive() and len(errors) == 1 and isinstance(errors[0], Enough), errors
    btc = markets.BY_ID[1]
    for book in books:
        assert book["market"] == "1" and 0 < len(book["asks"]) <= lighter_ws.BOOK_DEPTH and book["bids"]
        for level in book["asks"] + book["bids"]:
            assert len(level["price"].partition(".")[2]) == btc.price_decimals and float(level["size"]) > 0
        asks = sorted(float(o["price"]) for o in book["asks"])
        bids = sorted((float(o["price"]) for o in book["bids"]), reverse=True)
        assert bids[0] < asks[0]
    assert books[0] != books[1]


def test_the_stream_refuses_what_it_cannot_serve_in_error_frames(sandbox):
    url = sandbox.url.replace("http://", "ws://") + "/stream"
    with connect(url) as ws:
        assert answer(ws)["type"] == "connected"
        cases = [
            ('{"type": "subscribe", "channel": "order_book/77"}', {"type": "error", "code": 30012, "message": "invalid market index", "channel": "order_book:77"}),
            ('{"type": "subscribe", "channel": "account_all/99"}', {"type": "error", "code": 30012, "message": "account not found", "channel": "account_all:99"}),
            ('{"type": "unsubscribe", "channel": "account_all/99"}', {"type": "error", "code": 30012, "message": "not subscribed", "channel": "account_all:99"}),
            ('{"type": "subscribe", "channel": "trade/0"}', {"type": "error", "code": 30003, "message": lighter_ws.EXPECTED}),
            ("not json", {"type": "error", "code": 30003, "message": "messages must be JSON objects"}),
            ("[" * 5000 + "]" * 5000, {"type": "error", "code": 30003, "message": "messages must be JSON objects"}),
            ('{"type": "subscribe", "channel": "order_book/\u0661"}', {"type": "error", "code": 30003, "message": lighter_ws.EXPECTED}),
            ('{"type": "subscribe", "channel": "order_book/\\ud800"}', {"type": "error", "code": 30003, "message": "messages must be JSON objects"}),
            ('{"type": "subscribe", "channel": ["order_book/0"]}', {"type": "error", "code": 30003, "message": lighter_ws.EXPECTED}),
            ("[1, 2]", {"type": "error", "code": 30003, "message": lighter_ws.EXPECTED}),
            ('{"type": "unsubscribe", "channel": "order_book/0"}', {"type": "error", "code": 30012, "message": "not subscribed", "channel": "order_book:0"}),
            ("x" * 70_000, {"type": "error", "code": 30003, "message": "messages must be JSON text of at most 64 KB"}),
        ]  # fmt: skip
        for sent, expected in cases:
            ws.send(sent)
            assert answer(ws) == expected, sent
        ws.send('{"type": "subscribe", "channel": "order_book/0"}')
        snapshot = answer(ws)
        assert snapshot["type"] == "subscribed/order_book" and snapshot["channel"] == "order_book:0"
        ws.send('{"type": "subscribe", "channel": "order_book/0"}')
        assert answer(ws) == {
            "type": "error",
            "code": 30012,
            "message": "already subscribed",
            "channel": "order_book:0",
        }
        ws.send('{"type": "ping"}')
        assert answer(ws) == {"type": "pong"}


def test_a_flooding_connection_is_closed_and_the_stream_serves_the_next(sandbox):
    url = sandbox.url.replace("http://", "ws://") + "/stream"
    with connect(url) as ws:
        assert answer(ws)["type"] == "connected"
        for _ in range(lighter_ws.MAX_MESSAGES_PER_MINUTE):
            ws.send('{"type": "ping"}')
            assert answer(ws) == {"type": "pong"}
        ws.send('{"type": "ping"}')
        assert answer(ws) == {
            "type": "error",
            "code": 23000,
            "message": "Too Many Requests!",
        }
        with pytest.raises(ConnectionClosed):
            answer(ws)
    with connect(url) as ws:
        assert answer(ws)["type"] == "connected"
        ws.send('{"type": "subscribe", "channel": "order_book/0"}')
        assert answer(ws)["type"] == "subscribed/order_book"


def test_wsclient_gets_the_account_and_the_update_a_fill_brings(sandbox):
    """The SDK's WsClient, subscribed to a book and an account: the account snapshot, then the update
    that the account's market order brings (its trade and its new position)."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        url = sandbox.url.replace("http://", "ws://") + "/stream"
        frames: list[dict] = []
        snapshot = threading.Event()

        def on_account(account_id, message):
            frames.append(json.loads(json.dumps(message)))
            snapshot.set()
            if any(message.get("trades")) and message["type"] == "update/account_all":
                raise Enough

        client = lighter.WsClient(
            ws_url=url, order_book_ids=[0], account_ids=[index], on_account_update=on_account,
            on_order_book_update=lambda *_: None,
        )  # fmt: skip
        errors: list[BaseException] = []

        def run():
            try:
                client.run()
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert snapshot.wait(60), "no account snapshot"
        _, ask = ours.best_prices(0)
        ours.create_market_order(key, market_index=0, base_amount=200, worst_price=ask * 2, is_ask=False)
        thread.join(60)
    assert not thread.is_alive() and len(errors) == 1 and isinstance(errors[0], Enough), errors
    first, last = frames[0], frames[-1]
    assert first["type"] == "subscribed/account_all" and first["channel"] == f"account_all:{index}"
    assert first["account"] == index and first["positions"] == {} and first["trades"] == {}
    (trade,) = last["trades"]["0"]
    assert trade["bid_account_id"] == index and trade["size"] == "0.0200"
    assert last["positions"]["0"]["position"] == "0.0200" and last["positions"]["0"]["sign"] == 1
    assert last["total_trades_count"] == 1 and last["total_volume"] > 10


def test_account_updates_follow_the_clock_with_each_hours_funding(own_sandbox):
    """An open position pays funding as the sandbox's clock moves: each hour's payment reaches the
    account_all subscriber in an update, and a payment is never sent twice."""
    sb = own_sandbox
    with LighterClient(sb) as ours:
        wallet = Wallet.generate()
        index = sb.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        _, ask = ours.best_prices(0)
        ours.create_market_order(key, market_index=0, base_amount=2_000, worst_price=ask * 2, is_ask=False)
    url = sb.url.replace("http://", "ws://") + "/stream"
    with connect(url) as ws:
        assert answer(ws)["type"] == "connected"
        ws.send(json.dumps({"type": "subscribe", "channel": f"account_all/{index}"}))
        snapshot = answer(ws)
        assert snapshot["type"] == "subscribed/account_all" and snapshot["funding_histories"] == {}
        sb.advance(hours=3)
        seen: list[int] = []
        while len(seen) < 3:
            frame = answer(ws)
            assert frame["type"] == "update/account_all" and frame["positions"]["0"]["position"] == "0.2000"
            seen += [row["funding_id"] for row in frame["funding_histories"].get("0", [])]
    assert len(seen) == 3 == len(set(seen))
