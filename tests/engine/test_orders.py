"""The engine's order lifecycle on a price path we choose: trigger orders and their groupings,
modify, the scheduled cancel, isolated margin, builder fees, and the status every order passes
through (what orderStatus, historicalOrders and the order-update stream are made of)."""

from __future__ import annotations

import json

import pytest

from toolkit.sandbox.engine import marketdata
from toolkit.sandbox.engine.core import Cancelled, Engine, Fill, Filled, Rejected, Resting
from toolkit.sandbox.engine.orders import OrderUpdate, Waiting
from toolkit.sandbox.engine.specs import OrderRejected, Reason
from toolkit.sandbox.market import HOUR_MS, SyntheticMarket

from .test_engine import START, replay


def path(*prices: float, hours: int = 60) -> Engine:
    """ETH at ``prices`` hour by hour, then flat at the last one."""
    prices = (*prices, *[prices[-1]] * (hours - len(prices)))
    return Engine(replay(list(prices)))


def statuses(e: Engine, oid: int) -> list[str]:
    return [ev.status for ev in e.events if isinstance(ev, OrderUpdate) and ev.order["oid"] == oid]


def fills(e: Engine, oid: int) -> list[Fill]:
    return [ev for ev in e.events if isinstance(ev, Fill) and ev.oid == oid]


def test_a_stop_market_fires_when_the_mark_falls_to_it():
    e = path(3000, 3000, 2900, 2800)
    a = e.open_account(10_000)
    assert isinstance(e.place(a, "ETH", True, None, "1"), Filled)
    stop = e.place(a, "ETH", False, "2950", "1", reduce_only=True, trigger=("2950", True, "sl"))
    assert stop == Resting(2, None)
    e.advance_to(START + HOUR_MS)  # 3000: not yet
    assert statuses(e, 2) == ["open"]
    e.advance_to(START + 2 * HOUR_MS)  # 2900: fired, and filled at the mark as a market order
    assert statuses(e, 2) == ["open", "triggered", "filled"]
    (fill,) = fills(e, 2)
    assert (fill.px, fill.sz, fill.is_buy, fill.maker) == (2900, 1, False, False)
    assert e.positions_of(a) == []


def test_a_take_profit_limit_becomes_a_resting_limit_order():
    e = path(3000, 3100, 3100, 3300)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, None, "1")
    tp = e.place(a, "ETH", False, "3200", "1", reduce_only=True, trigger=("3050", False, "tp"))
    e.advance_to(START + HOUR_MS)  # 3100 >= 3050: fired; its limit 3200 is above the mark, so it rests
    assert statuses(e, tp.oid) == ["open", "triggered", "open"]
    (order,) = e.open_orders(a)
    assert (order.trigger_px, order.px, order.kind) == (None, 3200, "Limit")
    e.advance_to(START + 3 * HOUR_MS)  # 3300: the limit fills at its price as a maker
    assert statuses(e, tp.oid)[-1] == "filled"
    (fill,) = fills(e, tp.oid)
    assert (fill.px, fill.maker) == (3200, True)


def test_normal_tpsl_children_sleep_until_the_parent_fills_and_cancel_each_other():
    e = path(3000, 2900, 3200)
    a = e.open_account(10_000)
    parent = {"coin": "ETH", "is_buy": True, "px": "2950", "sz": "1"}
    tp = {
        "coin": "ETH",
        "is_buy": False,
        "px": "3150",
        "sz": "1",
        "reduce_only": True,
        "trigger": ("3150", True, "tp"),
    }
    sl = {
        "coin": "ETH",
        "is_buy": False,
        "px": "2500",
        "sz": "1",
        "reduce_only": True,
        "trigger": ("2500", True, "sl"),
    }
    first, *children = e.place_tpsl(a, parent, [tp, sl])
    assert isinstance(first, Resting) and children == [Waiting(2, True), Waiting(3, True)]
    e.advance_to(START + HOUR_MS)  # 2900: the parent fills, the children wake
    assert statuses(e, 1)[-1] == "filled"
    assert all(o.waiting_for is None for o in e.open_orders(a))
    e.advance_to(START + 2 * HOUR_MS)  # 3200: the take-profit fires and its sibling goes
    assert statuses(e, 2)[-1] == "filled" and statuses(e, 3)[-1] == "siblingFilledCanceled"
    assert e.open_orders(a) == [] and e.positions_of(a) == []


def test_grouped_children_must_reduce_and_a_refused_parent_places_none():
    e = path(3000)
    a = e.open_account(10_000)
    tp = {"coin": "ETH", "is_buy": False, "px": "3150", "sz": "1", "trigger": ("3150", True, "tp")}
    assert e.place_tpsl(a, None, [tp]) == [Rejected(Reason.TPSL_REDUCE_ONLY)]
    bad = {"coin": "ETH", "is_buy": True, "px": "2950", "sz": "0.001"}
    results = e.place_tpsl(a, bad, [tp | {"reduce_only": True}])
    assert [r.reason for r in results] == [Reason.MIN_VALUE, Reason.MIN_VALUE] and e.open_orders(a) == []


def test_position_tpsl_closes_the_whole_position_and_goes_with_it():
    e = path(3000, 3000, 2800)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, None, "1")
    e.place_tpsl(a, None, [{"coin": "ETH", "is_buy": False, "px": "2900", "sz": "0", "reduce_only": True,
                            "trigger": ("2900", True, "sl"), "position_tpsl": True}])  # fmt: skip
    e.place(a, "ETH", True, None, "0.5")
    e.advance_to(START + 2 * HOUR_MS)
    (fill,) = fills(e, 2)
    assert fill.sz == 1.5 and e.positions_of(a) == []
    # with no position left, a position take-profit or stop-loss is cancelled
    e.place(a, "ETH", True, None, "1")
    e.place_tpsl(a, None, [{"coin": "ETH", "is_buy": False, "px": "2000", "sz": "0", "reduce_only": True,
                            "trigger": ("2000", True, "sl"), "position_tpsl": True}])  # fmt: skip
    e.place(a, "ETH", False, None, "1")
    e.advance_to(START + 3 * HOUR_MS)
    assert e.open_orders(a) == []


def test_a_bad_trigger_price_is_refused():
    e = path(3000)
    a = e.open_account(10_000)
    assert e.place(a, "ETH", False, "2950", "1", trigger=("2950.123", True, "sl")) == Rejected(
        Reason.TRIGGER_PRICE
    )


def test_modify_cancels_the_old_order_first_and_a_refused_modify_changes_nothing():
    e = path(3000)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, "2900", "1", cloid="0x" + "1" * 32)
    new = e.modify(a, "0x" + "1" * 32, coin="ETH", is_buy=True, px="2800", sz="2")
    assert new == Resting(2, None)
    updates = [(ev.order["oid"], ev.status) for ev in e.events if isinstance(ev, OrderUpdate)]
    assert updates == [(1, "open"), (1, "canceled"), (2, "open")]  # the old one ends before the new begins
    refused = e.modify(a, 2, coin="ETH", is_buy=True, px="2800", sz="0.001")
    assert refused.reason is Reason.MIN_VALUE and [o.oid for o in e.open_orders(a)] == [2]
    assert e.modify(a, 1, coin="ETH", is_buy=True, px="2800", sz="1") == Rejected(Reason.MODIFY, {"ref": 1})


def test_scheduled_cancel_rules_and_firing_between_hours():
    e = path(3000)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, "2900", "1")
    with pytest.raises(OrderRejected) as err:
        e.schedule_cancel(a, e.now + 4_999)
    assert err.value.reason is Reason.SCHEDULE_TIME
    e.schedule_cancel(a, START + 30 * 60_000)
    e.advance_to(START + 29 * 60_000)
    assert len(e.open_orders(a)) == 1
    e.advance_to(START + 2 * HOUR_MS)  # fired at its own time, not at the next hour
    (cancel,) = [ev for ev in e.events if isinstance(ev, OrderUpdate) and ev.status == "scheduledCancel"]
    assert cancel.time == START + 30 * 60_000 and e.books[a].scheduled_cancel is None
    for _i in range(9):  # ten firings a UTC day at most
        e.schedule_cancel(a, e.now + 10_000)
        e.advance_to(e.now + 20_000)
    with pytest.raises(OrderRejected) as err:
        e.schedule_cancel(a, e.now + 10_000)
    assert err.value.reason is Reason.SCHEDULE_COUNT
    e.advance_to(START + 25 * HOUR_MS)  # a new UTC day: the count starts again
    e.schedule_cancel(a, e.now + 10_000)


def test_isolated_margin_in_and_out():
    e = path(3000)
    a = e.open_account(10_000)
    with pytest.raises(OrderRejected) as err:
        e.update_isolated_margin(a, "ETH", 100)
    assert err.value.reason is Reason.ISOLATED_POSITION
    e.update_leverage(a, "ETH", 10, is_cross=False)
    e.place(a, "ETH", True, None, "1")
    (row,) = e.positions_of(a)
    e.update_isolated_margin(a, "ETH", 100)
    (after,) = e.positions_of(a)
    assert after["margin_used"] == pytest.approx(row["margin_used"] + 100)
    with pytest.raises(OrderRejected) as err:
        e.update_isolated_margin(a, "ETH", -150)  # would leave less than the initial margin (300)
    assert err.value.reason is Reason.ISOLATED_MARGIN and err.value.context["available"] == pytest.approx(100)
    with pytest.raises(OrderRejected):
        e.update_isolated_margin(a, "ETH", 1_000_000)
    e.update_isolated_margin(a, "ETH", -100)
    assert e.positions_of(a)[0]["margin_used"] == pytest.approx(row["margin_used"])


def test_builder_fee_is_part_of_the_fee():
    e = path(3000)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, None, "1", builder=("0x" + "b" * 40, 10))
    (fill,) = [ev for ev in e.events if isinstance(ev, Fill)]
    assert fill.builder_fee == pytest.approx(3000 * 0.0001)
    assert fill.fee == pytest.approx(3000 * (0.00045 + 0.0001)) == e.ledger(a)["fees"]


def test_open_triggers_and_schedules_survive_a_restore():
    e = path(3000, 3000, 2800)
    a = e.open_account(10_000)
    e.place(a, "ETH", True, None, "1")
    e.place(
        a,
        "ETH",
        False,
        "2900",
        "1",
        reduce_only=True,
        trigger=("2900", True, "sl"),
        builder=("0x" + "b" * 40, 5),
    )
    e.schedule_cancel(a, START + 50 * HOUR_MS)
    saved = json.loads(json.dumps([e.account_state(a)]))
    restored = Engine(e.market)
    restored.load_state(e.clock_state(), saved)
    assert restored.account_state(a) == e.account_state(a)
    restored.advance_to(START + 2 * HOUR_MS)
    assert restored.positions_of(a) == []


def test_older_saved_orders_still_load():
    e = path(3000)
    old = {"acc": [10_000.0, 10_000.0, 0.0, 0.0, 0.0, 0.0], "positions": [], "leverage": [],
           "orders": [[1, 0, True, 2900.0, 1.0, 1.0, "Gtc", False, None, START]], "trades": [0, 0, 0, 0.0, 0.0]}  # fmt: skip
    e.load_state({"now": START, "funded_hour": 0, "next_oid": 2}, [old])
    (order,) = e.open_orders(0)
    assert (order.oid, order.trigger_px, order.kind) == (1, None, "Limit") and isinstance(
        e.cancel(0, 1), Cancelled
    )


# -- market data ------------------------------------------------------------------------------------


def test_hourly_candles_close_at_the_mark_of_the_hour():
    market = SyntheticMarket(seed=3, start_ms=START)
    now = START + 50 * HOUR_MS + 1_234
    candles = marketdata.candles(market, "BTC", "1h", START, now, now)
    assert len(candles) == 51
    for c in candles[:-1]:
        assert c.o == market.mark("BTC", c.t) and c.c == market.mark("BTC", c.T + 1)
        assert c.low <= min(c.o, c.c) <= max(c.o, c.c) <= c.h
    assert candles[-1].c == market.mark("BTC", now)  # the open candle closes at now
    day = marketdata.candles(market, "BTC", "1d", START, now, now)
    assert day[0].h == max(c.h for c in candles if c.t < day[0].T)


def test_the_book_brackets_the_mark_and_takes_resting_orders():
    for coin, decimals, mark in (("BTC", 5, 95_123.4), ("ETH", 4, 3301.27), ("DOGE", 0, 0.35123)):
        bids, asks = marketdata.synthetic_book(coin, 0, mark, START, decimals)
        assert bids[0].px < mark < asks[0].px and len(bids) == len(asks) == marketdata.LEVELS
        assert (
            bids == marketdata.synthetic_book(coin, 0, mark, START + 59_999, decimals)[0]
        )  # seeded per minute
        impact_bid = marketdata.impact_price(bids, marketdata.impact_notional(coin))
        impact_ask = marketdata.impact_price(asks, marketdata.impact_notional(coin))
        assert impact_bid < mark < impact_ask
    bids, _ = marketdata.synthetic_book("ETH", 1, 3301.27, START, 4, resting=[(True, 3301.2, 2.5)])
    assert bids[0].px == 3301.2 and bids[0].sz == 2.5 and bids[0].n == 1
    merged = marketdata.aggregate(bids, True, 2, None)
    assert merged[0].px == 3300.0 and merged[0].sz == pytest.approx(sum(b.sz for b in bids if b.px >= 3300))
