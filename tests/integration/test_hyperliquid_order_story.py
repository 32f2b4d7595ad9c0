"""A property of the order lifecycle: after any mix of orders, modifies, triggers, cancels and clock
advances, every read of an order tells the same story: orderStatus, historicalOrders,
frontendOpenOrders, userFills, and the websocket's orderUpdates."""

from __future__ import annotations

import json
import time

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

import toolkit.sandbox

WAIT = 30.0

side = st.booleans()
size = st.sampled_from([0.01, 0.05, 0.1, 0.2])
distance = st.floats(min_value=-0.03, max_value=0.03)
step = st.one_of(
    st.tuples(st.just("limit"), side, size, distance, st.sampled_from(["Gtc", "Alo", "Ioc"])),
    st.tuples(st.just("market"), side, size),
    st.tuples(st.just("trigger"), side, size, distance, st.sampled_from(["tp", "sl"]), st.booleans()),
    st.tuples(st.just("modify"), st.integers(0, 20), size, distance),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("advance"), st.integers(1, 150)),
)


@pytest.fixture(scope="module")
def venue(tmp_path_factory):
    """A sandbox of this module's own: its clock moves with every example."""
    with toolkit.sandbox.start(home=tmp_path_factory.mktemp("order-story")) as sb:
        yield sb


def _px(mark: float, d: float) -> float:
    return float(f"{mark * (1 + d):.5g}")


def _oids(reply: dict) -> list[int]:
    if reply.get("status") != "ok":
        return []
    out = []
    for s in reply["response"]["data"]["statuses"]:
        if isinstance(s, dict):
            for kind in ("resting", "filled"):
                if kind in s:
                    out.append(s[kind]["oid"])
    return out


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=4, max_size=14))
def test_every_read_tells_the_same_story(venue, steps):
    master = Account.create()
    venue.deposit("hyperliquid", master.address, 50_000)
    info = Info(venue.url, skip_ws=True)
    ex = Exchange(master, venue.url, meta=info.meta(), spot_meta=info.spot_meta())
    ws = connect("ws" + venue.url.removeprefix("http") + "/ws", open_timeout=WAIT).__enter__()
    ws.send(
        json.dumps({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": master.address}})
    )
    oids: list[int] = []
    try:
        for s in steps:
            mark = float(info.all_mids()["ETH"])
            match s:
                case ("limit", is_buy, sz, d, tif):
                    oids += _oids(ex.order("ETH", is_buy, sz, _px(mark, d), {"limit": {"tif": tif}}))
                case ("market", is_buy, sz):
                    oids += _oids(ex.market_open("ETH", is_buy, sz))
                case ("trigger", is_buy, sz, d, tpsl, is_market):
                    px = _px(mark, d)
                    kind = {"trigger": {"triggerPx": px, "isMarket": is_market, "tpsl": tpsl}}
                    oids += _oids(ex.order("ETH", is_buy, sz, px, kind))
                case ("modify", i, sz, d) if oids:
                    target = oids[i % len(oids)]
                    reply = ex.modify_order(
                        target, "ETH", True, sz, _px(mark, -abs(d) - 0.01), {"limit": {"tif": "Gtc"}}
                    )
                    oids += _oids(reply)
                case ("cancel", i) if oids:
                    ex.cancel("ETH", oids[i % len(oids)])
                case ("advance", minutes):
                    venue.advance(minutes=minutes)
        _check(info, master.address, oids, ws)
    finally:
        ws.close()


def _reads(info: Info, user: str, oids: list[int]) -> tuple:
    """Every read, and historicalOrders again after them: the clock keeps running (a resting or
    trigger order may fill between two reads), so only a stretch in which nothing changed is compared."""
    for _ in range(20):
        history = {h["order"]["oid"]: h for h in info.historical_orders(user)}
        open_now = {o["oid"]: o for o in info.frontend_open_orders(user)}
        fills: dict[int, float] = {}
        for f in info.user_fills(user):
            fills[f["oid"]] = fills.get(f["oid"], 0.0) + float(f["sz"])
        statuses = {oid: info.query_order_by_oid(user, oid) for oid in set(oids)}
        if history == {h["order"]["oid"]: h for h in info.historical_orders(user)}:
            return history, open_now, fills, statuses
    raise AssertionError("the orders never held still long enough to compare")


def _check(info: Info, user: str, oids: list[int], ws) -> None:
    history, open_now, fills, statuses = _reads(info, user, oids)
    stories = {}
    for oid, status in statuses.items():
        assert status["status"] == "order", oid
        entry = status["order"]
        assert history[oid] == entry, oid  # historicalOrders: the same latest status
        assert (entry["status"] == "open") == (oid in open_now), oid
        if oid in open_now:
            assert open_now[oid] == entry["order"]
        if entry["status"] == "filled":
            assert fills.get(oid) == pytest.approx(float(entry["order"]["origSz"])), oid
        else:
            assert oid not in fills, oid  # an order fills whole or not at all
        stories[oid] = entry["status"]
    assert set(open_now) <= set(history)

    streamed: dict[int, str] = {}  # the websocket's last word on each order, in the order sent
    deadline = time.monotonic() + WAIT
    while any(streamed.get(oid) != status for oid, status in stories.items()):
        assert time.monotonic() < deadline, (stories, streamed)
        try:
            msg = json.loads(ws.recv(timeout=1.0))
        except TimeoutError:  # an order may have moved on since the reads: ask again
            stories = {oid: info.query_order_by_oid(user, oid)["order"]["status"] for oid in stories}
            continue
        if msg["channel"] == "orderUpdates":
            for update in msg["data"]:
                streamed[update["order"]["oid"]] = update["status"]
