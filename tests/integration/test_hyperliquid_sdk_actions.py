"""Every perps action of the official Hyperliquid SDK, unmodified, against the sandbox: modify and
batch modify, take-profit and stop-loss orders (alone, normalTpsl and positionTpsl) that trigger as
the clock moves, the scheduled cancel, isolated margin, builder fees; each refusal in the venue's
words."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils import signing
from hyperliquid.utils.types import Cloid

BUILDER = "0x" + "b1" * 20
HOUR_MS = 3_600_000


@pytest.fixture
def ex(sandbox, master):
    return Exchange(master, sandbox.url)


def _mark(info: Info, coin: str = "ETH") -> float:
    return float(info.all_mids()[coin])


def _statuses(reply: dict) -> list:
    assert reply["status"] == "ok", reply
    return reply["response"]["data"]["statuses"]


def _status(info: Info, user: str, oid: int) -> str:
    return info.query_order_by_oid(user, oid)["order"]["status"]


def test_modify_replaces_the_order_with_a_new_oid(info, ex, master):
    mark = _mark(info)
    cloid = Cloid.from_int(77)
    (placed,) = _statuses(
        ex.order("ETH", True, 0.1, round(mark * 0.8, 1), {"limit": {"tif": "Gtc"}}, cloid=cloid)
    )
    old = placed["resting"]["oid"]
    (moved,) = _statuses(ex.modify_order(cloid, "ETH", True, 0.2, round(mark * 0.7, 1), {"limit": {"tif": "Gtc"}},
                                         cloid=cloid))  # fmt: skip
    new = moved["resting"]["oid"]
    assert new != old and _status(info, master.address, old) == "canceled"
    (live,) = info.frontend_open_orders(master.address)
    assert (live["oid"], live["sz"], float(live["limitPx"]), live["cloid"]) == (
        new, "0.2", round(mark * 0.7, 1), cloid.to_raw())  # fmt: skip
    assert info.query_order_by_cloid(master.address, cloid)["order"]["order"]["oid"] == new

    batch = ex.bulk_modify_orders_new([
        {"oid": new, "order": {"coin": "ETH", "is_buy": True, "sz": 0.3, "limit_px": round(mark * 0.75, 1),
                               "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False, "cloid": None}},
        {"oid": old, "order": {"coin": "ETH", "is_buy": True, "sz": 0.3, "limit_px": round(mark * 0.75, 1),
                               "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False, "cloid": None}},
    ])  # fmt: skip
    first, second = _statuses(batch)
    assert "resting" in first and second == {"error": "Cannot modify canceled or filled order"}
    # a modify the engine refuses leaves the order as it was
    refused = ex.modify_order(first["resting"]["oid"], "ETH", True, 0.001, round(mark * 0.75, 1),
                              {"limit": {"tif": "Gtc"}})  # fmt: skip
    assert _statuses(refused) == [{"error": "Order must have minimum value of $10."}]
    assert [o["oid"] for o in info.frontend_open_orders(master.address)] == [first["resting"]["oid"]]


def _crossing(sandbox, coin: str) -> tuple[float, str, int]:
    """A trigger price the mark has not reached but will within a few hours, the kind of trigger
    ("tp" or "sl") that closes a long there, and the hours to advance: read from the market's path."""
    state = sandbox._server.config.app.state.sandbox
    ch = state.clearinghouse
    now = ch.now()
    hours = max(
        range(1, 7), key=lambda h: abs(ch.market.mark(coin, now + h * HOUR_MS) - ch.market.mark(coin, now))
    )
    a, b = ch.market.mark(coin, now), ch.market.mark(coin, now + hours * HOUR_MS)
    return round((a + b) / 2, 1), "sl" if b < a else "tp", hours


@pytest.mark.moves_clock
def test_a_trigger_fires_as_the_clock_moves(sandbox, info, ex, master):
    assert _statuses(ex.market_open("ETH", True, 0.5))[0]["filled"]["totalSz"] == "0.5"
    mark = _mark(info)
    price, tpsl, hours = _crossing(sandbox, "ETH")
    trigger = {"trigger": {"triggerPx": price, "isMarket": True, "tpsl": tpsl}}
    far = round(mark * 3, 1)  # a take-profit the mark will not reach
    target = {"trigger": {"triggerPx": far, "isMarket": False, "tpsl": "tp"}}
    (fires,) = _statuses(ex.order("ETH", False, 0.5, price, trigger, reduce_only=True))
    (waits,) = _statuses(ex.order("ETH", False, 0.5, far, target, reduce_only=True))
    fires_oid, waits_oid = fires["resting"]["oid"], waits["resting"]["oid"]
    orders = {o["oid"]: o for o in info.frontend_open_orders(master.address)}
    kind, side = ("Stop Market", "below") if tpsl == "sl" else ("Take Profit Market", "above")
    assert orders[fires_oid]["orderType"] == kind and orders[fires_oid]["isTrigger"]
    assert (
        orders[fires_oid]["triggerCondition"] == f"Price {side} {price:g}"
        and orders[fires_oid]["tif"] is None
    )
    assert orders[waits_oid]["orderType"] == "Take Profit Limit"
    assert orders[waits_oid]["triggerCondition"] == f"Price above {far:g}"

    sandbox.advance(hours=hours)
    assert _status(info, master.address, fires_oid) == "filled"
    (fill,) = [f for f in info.user_fills(master.address) if f["oid"] == fires_oid]
    assert (fill["dir"], fill["sz"]) == ("Close Long", "0.5")
    assert (float(fill["px"]) <= price) if tpsl == "sl" else (float(fill["px"]) >= price)
    assert info.user_state(master.address)["assetPositions"] == []
    # the other trigger is still waiting; it fires later as a reduce-only order with nothing to reduce
    assert _status(info, master.address, waits_oid) == "open"


def test_normal_tpsl_children_wait_for_the_parent(sandbox, info, ex, master):
    mark = _mark(info)
    parent = {"coin": "ETH", "is_buy": True, "sz": 0.4, "limit_px": round(mark * 0.9, 1),
              "order_type": {"limit": {"tif": "Gtc"}}, "reduce_only": False}  # fmt: skip
    tp = {"coin": "ETH", "is_buy": False, "sz": 0.4, "limit_px": round(mark * 2, 1), "reduce_only": True,
          "order_type": {"trigger": {"triggerPx": round(mark * 2, 1), "isMarket": True, "tpsl": "tp"}}}  # fmt: skip
    sl = {"coin": "ETH", "is_buy": False, "sz": 0.4, "limit_px": round(mark * 0.5, 1), "reduce_only": True,
          "order_type": {"trigger": {"triggerPx": round(mark * 0.5, 1), "isMarket": True, "tpsl": "sl"}}}  # fmt: skip
    resting, *children = _statuses(ex.bulk_orders([parent, tp, sl], grouping="normalTpsl"))
    assert "resting" in resting and children == ["waitingForFill", "waitingForFill"]
    orders = info.frontend_open_orders(master.address)
    (top,) = [o for o in orders if o["oid"] == resting["resting"]["oid"]]
    assert [c["orderType"] for c in top["children"]] == ["Take Profit Market", "Stop Market"]
    assert len(orders) == 3
    ex.cancel("ETH", top["oid"])  # the children go with their parent
    assert info.frontend_open_orders(master.address) == []

    market = dict(parent, limit_px=round(mark * 1.05, 1), order_type={"limit": {"tif": "Ioc"}})
    filled, *children = _statuses(ex.bulk_orders([market, tp, sl], grouping="normalTpsl"))
    assert "filled" in filled and children == ["waitingForTrigger", "waitingForTrigger"]
    # a grouped take-profit must be reduce only
    err = ex.bulk_orders([market, dict(tp, reduce_only=False)], grouping="normalTpsl")
    assert _statuses(err)[0] == {
        "error": "TP/SL orders grouped with an order or a position must be reduce only."
    }


@pytest.mark.moves_clock
def test_position_tpsl_follows_the_position(sandbox, info, ex, master):
    _statuses(ex.market_open("ETH", True, 0.3))
    price, tpsl, hours = _crossing(sandbox, "ETH")
    order = {"coin": "ETH", "is_buy": False, "sz": 0.3, "limit_px": price, "reduce_only": True,
             "order_type": {"trigger": {"triggerPx": price, "isMarket": True, "tpsl": tpsl}}}  # fmt: skip
    (placed,) = _statuses(ex.bulk_orders([order], grouping="positionTpsl"))
    assert "resting" in placed
    (listed,) = info.frontend_open_orders(master.address)
    assert listed["isPositionTpsl"] is True
    _statuses(ex.market_open("ETH", True, 0.2))  # the position grows: the trigger closes all of it
    sandbox.advance(hours=hours)
    assert info.user_state(master.address)["assetPositions"] == []
    closing = [f for f in info.user_fills(master.address) if f["dir"] == "Close Long"]
    assert [f["sz"] for f in closing] == ["0.5"]


def test_scheduled_cancel_fires_with_the_clock(own_sandbox):
    info = Info(own_sandbox.url, skip_ws=True)
    master = Account.create()
    own_sandbox.deposit("hyperliquid", master.address, 10_000)
    ex = Exchange(master, own_sandbox.url)
    now = own_sandbox.now_ms()
    too_soon = ex.schedule_cancel(now + 1_000)
    assert too_soon == {
        "status": "err",
        "response": "Scheduled cancel time too early, must be at least 5 seconds after current time.",
    }
    mark = _mark(info)
    (placed,) = _statuses(ex.order("ETH", True, 0.1, round(mark * 0.8, 1), {"limit": {"tif": "Gtc"}}))
    assert ex.schedule_cancel(now + 600_000) == {"status": "ok", "response": {"type": "default"}}
    assert ex.schedule_cancel(None)["status"] == "ok"  # cleared: nothing fires
    own_sandbox.advance(minutes=20)
    assert len(info.frontend_open_orders(master.address)) == 1
    assert ex.schedule_cancel(own_sandbox.now_ms() + 600_000)["status"] == "ok"
    own_sandbox.advance(minutes=20)
    assert info.frontend_open_orders(master.address) == []
    assert _status(info, master.address, placed["resting"]["oid"]) == "scheduledCancel"


def test_isolated_margin_moves_in_and_out(info, ex, master):
    assert ex.update_isolated_margin(10, "SOL") == {
        "status": "err",
        "response": "Cannot update isolated margin: there is no isolated SOL position.",
    }
    assert ex.update_leverage(5, "SOL", is_cross=False)["status"] == "ok"
    _statuses(ex.market_open("SOL", True, 2))

    def used() -> float:
        (p,) = [a["position"] for a in info.user_state(master.address)["assetPositions"]]
        assert p["leverage"]["type"] == "isolated"
        return float(p["marginUsed"])

    before = used()
    assert ex.update_isolated_margin(25, "SOL") == {"status": "ok", "response": {"type": "default"}}
    assert used() == pytest.approx(before + 25, abs=0.5)
    assert ex.update_isolated_margin(-20, "SOL")["status"] == "ok"
    assert used() == pytest.approx(before + 5, abs=0.5)
    refused = ex.update_isolated_margin(-1_000, "SOL")
    assert refused["status"] == "err" and refused["response"].startswith(
        "Insufficient margin for isolated margin"
    )
    assert ex.update_isolated_margin(1_000_000, "SOL")["status"] == "err"


def test_builder_fees_are_approved_charged_and_shown(info, ex, master):
    order = ("ETH", True, 0.1, round(_mark(info) * 1.05, 1), {"limit": {"tif": "Ioc"}})
    refused = ex.order(*order, builder={"b": BUILDER, "f": 10})
    assert refused == {"status": "err", "response": "Builder fee has not been approved."}
    assert ex.approve_builder_fee(BUILDER, "0.01%") == {"status": "ok", "response": {"type": "default"}}
    assert info.post("/info", {"type": "maxBuilderFee", "user": master.address, "builder": BUILDER}) == 10
    assert ex.order(*order, builder={"b": BUILDER, "f": 11})["status"] == "err"  # above the approval
    (filled,) = _statuses(ex.order(*order, builder={"b": BUILDER, "f": 10}))
    (fill,) = [f for f in info.user_fills(master.address) if f["oid"] == filled["filled"]["oid"]]
    notional = float(fill["px"]) * float(fill["sz"])
    assert float(fill["builderFee"]) == pytest.approx(notional * 0.0001, rel=1e-6)  # 10 tenths of a bp
    assert float(fill["fee"]) == pytest.approx(notional * (0.00045 + 0.0001), rel=1e-6)
    too_high = ex.approve_builder_fee(BUILDER, "0.2%")
    assert too_high == {"status": "err", "response": "Max fee rate 0.2% is above the perps maximum of 0.1%"}
    agent_key = ex.approve_agent("bot")[1]
    agent = Exchange(Account.from_key(agent_key), ex.base_url, account_address=master.address)
    by_agent = agent.approve_builder_fee(BUILDER, "0.001%")
    assert by_agent["status"] == "err" and "cannot approve builder fees" in by_agent["response"]


def test_a_mainnet_signed_action_says_the_network_is_wrong(sandbox, master):
    ex = Exchange(master, sandbox.url)
    wire = signing.order_request_to_order_wire(
        {"coin": "ETH", "is_buy": True, "sz": 0.1, "limit_px": 1000.0, "order_type": {"limit": {"tif": "Gtc"}},
         "reduce_only": False}, 1)  # fmt: skip
    action = signing.order_wires_to_order_action([wire], None, "na")
    nonce = int(time.time() * 1000)
    mainnet = signing.sign_l1_action(master, action, None, nonce, None, True)  # a client left in mainnet mode
    reply = ex._post_action(action, mainnet, nonce)
    assert reply["status"] == "err"
    assert reply["response"].startswith(
        f"This sandbox is Hyperliquid Testnet, but the action was signed for Mainnet (by {master.address.lower()})"
    )


def test_withdrawals_and_sends_move_the_withdrawable_balance(sandbox, info, ex, master):
    friend = Account.create()
    assert ex.usd_transfer(250.5, friend.address) == {"status": "ok", "response": {"type": "default"}}
    assert info.user_state(friend.address)["marginSummary"]["accountValue"] == "250.5"
    assert ex.withdraw_from_bridge(49.5, master.address)["status"] == "ok"
    assert info.user_state(master.address)["withdrawable"] == "9700"
    sends = [u["delta"] for u in info.user_non_funding_ledger_updates(master.address, 0)]
    assert [d["type"] for d in sends] == ["deposit", "send", "withdraw"]
    assert sends[1]["destination"] == friend.address.lower() and sends[1]["usdc"] == "250.5"
    too_much = ex.withdraw_from_bridge(1_000_000, master.address)
    assert too_much == {
        "status": "err",
        "response": "Insufficient balance for withdrawal: 9700.00 withdrawable",
    }
    agent_key = ex.approve_agent("bot")[1]
    agent = Exchange(Account.from_key(agent_key), ex.base_url, account_address=master.address)
    refused = agent.usd_transfer(1, friend.address)
    assert refused["status"] == "err" and "cannot move funds" in refused["response"]
    # the friend, now an account, may trade and send back
    back = Exchange(friend, ex.base_url)
    assert back.usd_transfer(50, master.address)["status"] == "ok"
    assert info.user_state(master.address)["withdrawable"] == "9750"
