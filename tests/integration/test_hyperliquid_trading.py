"""Trading on the paper engine through Hyperliquid's own /info and /exchange: the official SDK
through an agent, Hyperliquid's order refusals, funding accruing as the clock moves."""

from __future__ import annotations

import itertools
import time

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange

from tests.integration.prices import resting_bid
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet


@pytest.mark.moves_clock
def test_the_official_sdk_trades_through_an_agent(sandbox, master, info):
    _, key = Exchange(master, sandbox.url).approve_agent("trader")
    ex = Exchange(Account.from_key(key), sandbox.url, account_address=master.address)

    opened = ex.market_open("ETH", True, 0.5)
    (status,) = opened["response"]["data"]["statuses"]
    assert opened["status"] == "ok" and status["filled"]["totalSz"] == "0.5"
    resting = ex.order("ETH", True, 0.2, float(resting_bid(sandbox)), {"limit": {"tif": "Gtc"}})
    oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert [o["oid"] for o in info.open_orders(master.address)] == [oid]
    assert ex.cancel("ETH", oid)["response"]["data"]["statuses"] == ["success"]
    assert ex.update_leverage(10, "ETH", is_cross=True)["status"] == "ok"

    state = info.user_state(master.address)
    (position,) = [p["position"] for p in state["assetPositions"]]
    assert (position["coin"], position["szi"], position["leverage"]) == (
        "ETH",
        "0.5",
        {"type": "cross", "value": 10},
    )
    mark = float(info.all_mids()["ETH"])
    # the identities Hyperliquid's own answers satisfy (reference §3.3)
    assert float(state["marginSummary"]["totalNtlPos"]) == pytest.approx(0.5 * mark, rel=1e-6)
    assert float(state["marginSummary"]["accountValue"]) == pytest.approx(
        float(state["marginSummary"]["totalRawUsd"]) + 0.5 * mark, rel=1e-6
    )
    assert float(position["marginUsed"]) == pytest.approx(0.5 * mark / 10, rel=1e-6)

    sandbox.advance(hours=6)
    payments = info.user_funding_history(master.address, 0)
    assert len(payments) == 6 and all(p["delta"]["coin"] == "ETH" for p in payments)
    for p in payments:  # a long pays a positive rate
        assert (float(p["delta"]["usdc"]) < 0) == (float(p["delta"]["fundingRate"]) > 0)
    history = {r["time"]: r["fundingRate"] for r in info.funding_history("ETH", payments[0]["time"])}
    for p in payments:  # each payment carries the rate published for that same hour
        assert float(history[p["time"]]) == pytest.approx(float(p["delta"]["fundingRate"]), abs=1e-10)
    closed = ex.market_close("ETH")
    assert closed["response"]["data"]["statuses"][0]["filled"]["totalSz"] == "0.5"
    assert info.user_state(master.address)["assetPositions"] == []
    fills = info.user_fills(master.address)
    assert [f["dir"] for f in fills] == ["Close Long", "Open Long"]


def test_a_replaced_agent_can_no_longer_trade(sandbox, master):
    _old_result, old_key = Exchange(master, sandbox.url).approve_agent("desk")
    Exchange(master, sandbox.url).approve_agent("desk")
    old = Exchange(Account.from_key(old_key), sandbox.url, account_address=master.address)
    refused = old.order("ETH", True, 0.1, 1000.0, {"limit": {"tif": "Gtc"}})
    assert refused == {
        "status": "err",
        "response": f"User or API Wallet {Account.from_key(old_key).address.lower()} does not exist.",
    }


@pytest.mark.moves_clock
def test_an_expired_agent_can_no_longer_trade(sandbox, master):
    main = hl.HyperliquidClient(sandbox, wallet=master.key.hex())
    agent = main.approve_agent("brief", valid_until=sandbox.now_ms() + 3_600_000)
    bot = hl.HyperliquidClient(sandbox, wallet=agent.private_key, account_address=master.address)
    bid = resting_bid(sandbox)
    assert "resting" in bot.order([hl.order_wire(1, True, bid, 0.1)])["response"]["data"]["statuses"][0]
    sandbox.advance(hours=2)
    with pytest.raises(hl.HyperliquidError, match="expired at"):
        bot.order([hl.order_wire(1, True, bid, 0.1)])


@pytest.mark.parametrize(
    ("wire", "error"),
    [
        (hl.order_wire(1, True, "1000.55", "0.1"), "Price must be divisible by tick size."),
        (hl.order_wire(1, True, "1000", "0.00001"), "Order has invalid size."),
        (hl.order_wire(1, True, "1000", "0.001"), "Order must have minimum value of $10."),
        (
            hl.order_wire(1, True, "100000", "0.1", tif="Alo"),
            "Post only order would have immediately matched",
        ),
        (
            lambda bid: hl.order_wire(
                1, True, bid, "0.1", tif="Ioc"
            ),  # a quarter of the mark: nothing to match
            "Order could not immediately match against any resting orders. asset=1",
        ),
        (
            hl.order_wire(1, False, "1000", "0.1", reduce_only=True),
            "Reduce only order would increase position.",
        ),
        (hl.order_wire(99, True, "1000", "0.1"), "Asset 99 does not exist"),
    ],
)
def test_order_refusals_in_hyperliquids_words(sandbox, wire, error):
    if callable(wire):  # priced from the mark now
        wire = wire(resting_bid(sandbox))
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 1_000)
    with hl.HyperliquidClient(sandbox, wallet=wallet) as client:
        statuses = client.order([wire])["response"]["data"]["statuses"]
    assert statuses == [{"error": error}]


def test_cancel_of_an_unknown_order_and_bad_leverage(sandbox):
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 1_000)
    with hl.HyperliquidClient(sandbox, wallet=wallet) as client:
        assert client.cancel(1, 987654)["response"]["data"]["statuses"] == [
            {"error": "Order was never placed, already canceled, or filled."}
        ]
        with pytest.raises(hl.HyperliquidError, match="Invalid leverage value: ETH allows 1 to 25"):
            client.l1_action({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 26})


@pytest.mark.moves_clock
def test_a_liquidation_shows_in_the_ledger_updates(sandbox, info):
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 60)
    with hl.HyperliquidClient(sandbox, wallet=wallet) as client:
        client.l1_action({"type": "updateLeverage", "asset": 5, "isCross": True, "leverage": 10})
        mark = float(info.all_mids()["ARB"])
        size = round(500 / mark, 1)  # ~8x on 60 USDC: a few percent against it liquidates
        px = f"{mark * 1.05:.5g}"
        client.order([hl.order_wire(5, True, px, size, tif="Ioc")])
        for _ in range(60):  # up to 60 days of hourly ARB moves
            sandbox.advance(hours=24)
            updates = info.post(
                "/info",
                {"type": "userNonFundingLedgerUpdates", "user": wallet.address.lower(), "startTime": 0},
            )
            if any(u["delta"]["type"] == "liquidation" for u in updates):
                break
    kinds = [u["delta"]["type"] for u in updates]
    assert kinds[0] == "deposit" and "liquidation" in kinds
    liquidation = next(u["delta"] for u in updates if u["delta"]["type"] == "liquidation")
    assert liquidation["leverageType"] == "Cross" and liquidation["liquidatedPositions"][0]["coin"] == "ARB"
    assert info.user_state(wallet.address)["assetPositions"] == []


def test_funding_history_pages_at_500(sandbox, info):
    start = int(time.time() * 1000) - 60 * 86_400_000
    rows = info.funding_history("BTC", start)
    assert len(rows) == 500 and rows[0]["time"] >= start
    assert all(b["time"] - a["time"] == 3_600_000 for a, b in itertools.pairwise(rows))
    following = info.funding_history("BTC", rows[-1]["time"])
    assert following[0] == rows[-1]  # bounds are inclusive, as on Hyperliquid
