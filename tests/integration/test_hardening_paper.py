"""One user's bad order must not break the paper engine for anyone else.

A resting order once took a cloid of any JSON type; when it filled, the fill could not be stored,
and every later sync (the clock, everyone's reads and orders) failed with it, even after a restart.
Now the body is parsed into the venue's types first, and a fill that cannot be stored costs only
the order that made it.
"""

from __future__ import annotations

import time

import httpx
import pytest
from eth_account import Account

from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

BAD_BODY = "Failed to deserialize the JSON body into the target type: "


def now_ms() -> int:
    return int(time.time() * 1000)


def signed(wallet: Wallet, action: dict) -> dict:
    nonce = now_ms()
    signature = hl.sign_l1_action(wallet.private_key, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature.to_wire(), "vaultAddress": None}


def order(asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc", **extra) -> dict:
    return {"a": asset, "b": is_buy, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": tif}}} | extra


@pytest.mark.parametrize(
    ("cloid", "message"),
    [
        ({"x": 1}, "action.orders[0].c: Input should be a valid string"),
        (["0x" + "1" * 32], "action.orders[0].c: Input should be a valid string"),
        (12345, "action.orders[0].c: Input should be a valid string"),
        ("0x123", "action.orders[0].c: must be a cloid: 0x and 32 hex digits"),
        ("0x" + "g" * 32, "action.orders[0].c: must be a cloid: 0x and 32 hex digits"),
    ],
)
def test_a_resting_order_with_a_malformed_cloid_is_refused_before_it_rests(sandbox, http, cloid, message):
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 10_000)
    mark = float(http.post("/info", json={"type": "allMids"}).json()["ETH"])
    body = signed(wallet, hl.order_action([order(1, True, f"{round(mark * 0.5)}", "0.1", c=cloid)]))
    r = http.post("/exchange", json=body)
    assert (r.status_code, r.text) == (422, BAD_BODY + message)
    orders = http.post("/info", json={"type": "openOrders", "user": wallet.address.lower()}).json()
    assert orders == []


def test_a_fill_that_cannot_be_stored_is_refused_alone(own_sandbox, own_state):
    sb = own_state
    alice, bob = Wallet.generate(), Wallet.generate()
    for who in (alice, bob):
        own_sandbox.deposit("hyperliquid", who.address, 10_000)
    http = httpx.Client(base_url=own_sandbox.url, timeout=60)
    mark = float(http.post("/info", json={"type": "allMids"}).json()["ETH"])
    alice_account = sb.clearinghouse.account(f"hyperliquid:{alice.address.lower()}")
    store, commit = sb.clearinghouse.store, sb.clearinghouse.store.commit

    def faulty(conn, pending, *args, **kwargs):
        if any(f["account"] == alice_account for f in pending.fills):
            raise RuntimeError("injected: this fill cannot be stored")
        return commit(conn, pending, *args, **kwargs)

    store.commit = faulty
    # Alice's market order fills, its fill cannot be stored: her request fails and nothing of it stays
    r = http.post(
        "/exchange",
        json=signed(alice, hl.order_action([order(1, True, f"{round(mark * 1.05)}", "0.1", "Ioc")])),
    )
    assert (r.status_code, r.text) == (500, "Internal server error")
    alice_state = http.post(
        "/info", json={"type": "clearinghouseState", "user": alice.address.lower()}
    ).json()
    assert alice_state["assetPositions"] == []
    # Alice's resting orders on both sides: whichever fills first cannot be stored
    near = [order(1, True, f"{mark * 0.9995:.1f}", "0.1"), order(1, False, f"{mark * 1.0005:.1f}", "0.1")]
    statuses = http.post("/exchange", json=signed(alice, hl.order_action(near))).json()["response"]["data"][
        "statuses"
    ]
    assert all("resting" in s for s in statuses)
    # Bob trades and the clock moves on regardless
    r = http.post(
        "/exchange",
        json=signed(bob, hl.order_action([order(1, True, f"{round(mark * 1.05)}", "0.1", "Ioc")])),
    )
    assert r.status_code == 200 and "filled" in r.json()["response"]["data"]["statuses"][0]
    own_sandbox.advance(hours=72)
    assert http.post("/info", json={"type": "allMids"}).status_code == 200
    bob_funding = http.post(
        "/info", json={"type": "userFunding", "user": bob.address.lower(), "startTime": 0}
    ).json()
    assert len(bob_funding) == 72
    # the resting order whose fill failed was cancelled; Alice has no fills and no position
    left = http.post("/info", json={"type": "openOrders", "user": alice.address.lower()}).json()
    assert len(left) < 2
    assert http.post("/info", json={"type": "userFills", "user": alice.address.lower()}).json() == []
    store.commit = commit
    # and a restart carries on from the last commit, not from the bad one
    assert http.post("/info", json={"type": "allMids"}).status_code == 200
    http.close()


def test_the_sdk_client_refuses_a_malformed_cloid_before_signing(sandbox):
    master = Account.create()
    sandbox.deposit("hyperliquid", master.address, 1_000)
    client = hl.HyperliquidClient(sandbox, wallet=master.key.hex())
    with pytest.raises(
        hl.HyperliquidError,
        match=r"Invalid order action: orders\[0\].c: must be a cloid: 0x and 32 hex digits",
    ):
        client.order([order(1, True, "1000", "0.1", c="0x12")])


def test_an_address_may_rest_a_bounded_number_of_orders(own_sandbox, monkeypatch):
    from toolkit.sandbox.engine import core

    monkeypatch.setattr(core, "OPEN_ORDERS_BASE", 3)
    wallet = Wallet.generate()
    own_sandbox.deposit("hyperliquid", wallet.address, 10_000)
    with httpx.Client(base_url=own_sandbox.url, timeout=60) as http:
        mark = float(http.post("/info", json={"type": "allMids"}).json()["ETH"])
        low = [order(1, True, f"{round(mark * (0.5 + i / 100))}", "0.1") for i in range(4)]
        statuses = http.post("/exchange", json=signed(wallet, hl.order_action(low))).json()["response"][
            "data"
        ]["statuses"]
        assert ["resting" in s for s in statuses] == [True, True, True, False]
        assert statuses[3] == {"error": "Too many open orders: this address may have 3 resting at once"}
        # an order that fills at once does not rest, so it is still fine
        taker = [order(1, True, f"{round(mark * 1.05)}", "0.1", "Ioc")]
        (status,) = http.post("/exchange", json=signed(wallet, hl.order_action(taker))).json()["response"][
            "data"
        ]["statuses"]
        assert "filled" in status


def test_an_address_has_a_request_budget_that_trading_refills(own_sandbox, own_state):
    own_state.hyperliquid.action_budget = 3
    wallet = Wallet.generate()
    own_sandbox.deposit("hyperliquid", wallet.address, 10_000)
    with httpx.Client(base_url=own_sandbox.url, timeout=60) as http:
        mark = float(http.post("/info", json={"type": "allMids"}).json()["ETH"])
        rest = signed(wallet, hl.order_action([order(1, True, f"{round(mark * 0.5)}", "0.1")] * 2))
        assert http.post("/exchange", json=rest).json()["status"] == "ok"  # 2 of 3
        assert (
            http.post("/exchange", json=signed(wallet, {"type": "noop"})).json()["status"] == "ok"
        )  # 3 of 3
        r = http.post("/exchange", json=signed(wallet, {"type": "noop"})).json()
        assert r == {
            "status": "err",
            "response": "Too many cumulative requests sent (4) for cumulative volume traded $0.00. "
            "Place taker orders to free up 1 request per USDC traded.",
        }
        # cancels still go through, so a spent address can pull its orders
        oids = [
            o["oid"]
            for o in http.post("/info", json={"type": "openOrders", "user": wallet.address.lower()}).json()
        ]
        cancel = signed(wallet, hl.cancel_action([(1, oid) for oid in oids]))
        assert http.post("/exchange", json=cancel).json()["response"]["data"]["statuses"] == [
            "success",
            "success",
        ]


@pytest.mark.parametrize("spelling", [lambda n: float(n), lambda n: str(n), lambda n: [n]])
def test_a_hyperliquid_nonce_is_an_integer_in_one_spelling(sandbox, http, spelling):
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 1_000)
    body = signed(wallet, {"type": "noop"})
    assert http.post("/exchange", json=body).json() == {"status": "ok", "response": {"type": "default"}}
    r = http.post("/exchange", json=body | {"nonce": spelling(body["nonce"])})
    assert (r.status_code, r.text) == (422, BAD_BODY + "nonce: Input should be a valid integer")
    r = http.post("/exchange", json=body)  # and the nonce itself was used: a replay is refused
    assert r.json() == {"status": "err", "response": f"Invalid nonce: duplicate nonce {body['nonce']}"}
