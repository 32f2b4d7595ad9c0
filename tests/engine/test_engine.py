"""The paper engine: orders with Hyperliquid's rules, fees, funding exactly once, liquidations,
statistics, and (hypothesis) a ledger that always reconciles."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.sandbox import lighter_trading
from toolkit.sandbox.engine.core import Cancelled, Engine, Fill, FundingBatch, Liquidation
from toolkit.sandbox.engine.specs import OrderRejected, Reason
from toolkit.sandbox.market import HOUR_MS, ReplayMarket, SyntheticMarket
from toolkit.sandbox.render import hyperliquid as render

START = 1_767_225_600_000


def place_order(engine: Engine, *args, **kwargs) -> dict:
    """``Engine.place`` answered in Hyperliquid's status shapes, as the sandbox renders it."""
    return render.order_status(engine.place(*args, **kwargs))


def replay(prices: list[float], rate: float = 0.0000125, premium: float = 0.0) -> ReplayMarket:
    """ETH with a price path we choose, one price an hour."""
    rows = [{"coin": "ETH", "fundingRate": str(rate), "premium": str(premium), "time": START + h * HOUR_MS}
            for h in range(len(prices))]  # fmt: skip
    candles = [
        {"t": START + h * HOUR_MS - HOUR_MS, "T": START + h * HOUR_MS, "c": str(p)}
        for h, p in enumerate(prices)
    ]
    return ReplayMarket(rows, {"ETH": candles})


def flat(price: float = 3000.0, hours: int = 200, **kw: float) -> Engine:
    return Engine(replay([price] * hours, **kw))


def cash_identity(engine: Engine, account: int) -> None:
    led = engine.ledger(account)
    assert led["cash"] == pytest.approx(
        led["deposits"] + led["realized"] - led["fees"] + led["funding"], abs=1e-6
    )


# -- orders ------------------------------------------------------------------------------------------


def test_market_buy_fills_at_mark_with_the_taker_fee():
    e = flat()
    a = e.open_account(10_000)
    status = place_order(e, a, "ETH", True, "3150", "1", tif="Ioc")  # a market buy: IOC at mark + 5%
    assert status == {"filled": {"totalSz": "1", "avgPx": "3000", "oid": 1}}
    assert e.ledger(a)["fees"] == pytest.approx(3000 * 0.00045)
    (fill,) = [ev for ev in e.events if isinstance(ev, Fill)]
    assert (fill.px, fill.sz, fill.maker, fill.closed_pnl) == (3000, 1, False, 0)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"px": "3000.55", "sz": "1"}, "Price must be divisible by tick size."),
        ({"px": "3000", "sz": "0.00001"}, "Order has invalid size."),
        ({"px": "3000", "sz": "0.003"}, "Order must have minimum value of $10."),
        ({"px": "3100", "sz": "1", "tif": "Alo"}, "Post only order would have immediately matched"),
        (
            {"px": "2900", "sz": "1", "tif": "Ioc"},
            "Order could not immediately match against any resting orders. asset=0",
        ),
        ({"px": "3000", "sz": "1", "reduce_only": True}, "Reduce only order would increase position."),
        ({"px": "3000", "sz": "170"}, "Position would exceed max leverage"),  # 51x the account
        ({"px": "3000", "sz": "80"}, "Insufficient margin to place order."),  # 24x, but ETH is at 20x here
    ],
)
def test_order_rejections_with_hyperliquids_words(kwargs, error):
    e = flat()
    a = e.open_account(10_000)
    args = {"tif": "Gtc"} | kwargs
    assert place_order(e, a, "ETH", True, args.pop("px"), args.pop("sz"), **args) == {"error": error}
    assert e.ledger(a)["fees"] == 0 and not e.orders


def test_leverage_rules():
    e = flat()
    a = e.open_account(10_000)
    assert place_order(e, a, "ETH", True, "3000", "80", tif="Ioc") == {
        "error": "Insufficient margin to place order."
    }
    e.update_leverage(a, "ETH", 25)  # at 25x the same 24x order fits
    assert place_order(e, a, "ETH", True, "3000", "80", tif="Ioc")["filled"]["totalSz"] == "80"
    with pytest.raises(OrderRejected) as refused:
        e.update_leverage(a, "ETH", 26)
    assert (
        render.text(refused.value.reason, refused.value.context)
        == "Invalid leverage value: ETH allows 1 to 25"
    )
    with pytest.raises(OrderRejected) as refused:
        e.update_leverage(a, "ETH", 0)
    assert refused.value.reason is Reason.LEVERAGE_VALUE


def test_resting_limit_fills_when_the_mark_crosses_with_the_maker_fee():
    e = Engine(replay([3000, 3000, 2950, 2890, 2880] + [2880] * 20))
    a = e.open_account(10_000)
    status = place_order(e, a, "ETH", True, "2900", "1", cloid="0x" + "ab" * 16)
    assert status == {"resting": {"oid": 1, "cloid": "0x" + "ab" * 16}}
    e.advance_to(START + 2 * HOUR_MS)
    assert e.orders and not len(e.positions)
    e.advance_to(START + 3 * HOUR_MS)  # mark 2890 <= 2900
    assert not e.orders
    (fill,) = [ev for ev in e.events if isinstance(ev, Fill)]
    assert (fill.px, fill.maker, fill.fee) == (2900, True, pytest.approx(2900 * 0.00015))


def test_cancel_and_cancel_by_cloid():
    e = flat()
    a, b = e.open_account(10_000), e.open_account(10_000)
    oid = place_order(e, a, "ETH", True, "2000", "1")["resting"]["oid"]
    gone = {"error": "Order was never placed, already canceled, or filled."}
    assert render.cancel_status(e.cancel(b, oid)) == gone
    assert e.cancel(a, oid) == Cancelled(oid) and render.cancel_status(e.cancel(a, oid)) == gone
    place_order(e, a, "ETH", False, "4000", "1", cloid="0x01")
    assert render.cancel_status(e.cancel_by_cloid(a, "0x01")) == "success" and not e.orders


def test_closing_realizes_pnl_and_counts_a_trade():
    e = Engine(replay([3000, 3000, 3300, 3300, 2700] + [2700] * 10))
    a = e.open_account(10_000)
    place_order(e, a, "ETH", True, "3100", "1", tif="Ioc")
    e.advance_to(START + 2 * HOUR_MS)
    place_order(e, a, "ETH", False, "3000", "0.5", tif="Ioc")  # +150 on half
    e.advance_to(START + 4 * HOUR_MS)
    place_order(e, a, "ETH", False, "2600", "0.5", tif="Ioc")  # −150 on the other half
    stats = e.stats(a)
    assert (stats["total_trades"], stats["winning_trades"], stats["losing_trades"], stats["win_rate"]) == (
        2,
        1,
        1,
        50.0,
    )
    assert stats["realized_pnl"] == pytest.approx(0.0)
    assert stats["best_trade"] == pytest.approx(150 - 3300 * 0.5 * 0.00045)
    assert stats["worst_trade"] == pytest.approx(-150 - 2700 * 0.5 * 0.00045)
    assert stats["total_volume"] == pytest.approx(3000 + 1650 + 1350)
    cash_identity(e, a)


def test_entry_price_is_size_weighted_and_a_flip_reopens_at_the_fill():
    e = Engine(replay([3000, 3000, 3200, 3200, 3100] + [3100] * 10))
    a = e.open_account(100_000)
    place_order(e, a, "ETH", True, "3100", "1", tif="Ioc")
    e.advance_to(START + 2 * HOUR_MS)
    place_order(e, a, "ETH", True, "3300", "3", tif="Ioc")
    assert e.positions_of(a)[0]["entry_px"] == pytest.approx((3000 + 3 * 3200) / 4)
    e.advance_to(START + 4 * HOUR_MS)
    place_order(e, a, "ETH", False, "3000", "6", tif="Ioc")
    (pos,) = e.positions_of(a)
    assert (pos["szi"], pos["entry_px"]) == (pytest.approx(-2), pytest.approx(3100))


# -- funding -----------------------------------------------------------------------------------------


def test_24_hours_of_funding_equals_the_hand_computation():
    m = SyntheticMarket(seed=11, start_ms=START)
    e = Engine(m)
    a = e.open_account(50_000)
    mark = e.marks()[e.coin_index("BTC")]
    place_order(e, a, "BTC", True, str(int(mark * 1.05)), "0.2", tif="Ioc")
    e.advance_to(START + 24 * HOUR_MS)
    by_hand = sum(
        -0.2 * m.oracle("BTC", START + h * HOUR_MS) * m.funding_rate("BTC", h - 1) for h in range(1, 25)
    )
    assert e.ledger(a)["funding"] == pytest.approx(by_hand, rel=1e-12)
    batches = [ev for ev in e.events if isinstance(ev, FundingBatch)]
    assert [b.hour for b in batches] == list(range(24))


def test_funding_is_paid_once_however_time_is_advanced():
    def run(steps: list[int]) -> float:
        e = Engine(SyntheticMarket(seed=4, start_ms=START))
        a = e.open_account(50_000)
        place_order(e, a, "ETH", False, "1000", "2", tif="Ioc")
        for t in steps:
            e.advance_to(START + t)
        return e.ledger(a)["funding"]

    whole = run([48 * HOUR_MS])
    assert run([HOUR_MS // 2 + k * HOUR_MS // 2 for k in range(96)]) == pytest.approx(whole, rel=1e-12)
    assert run([48 * HOUR_MS, 48 * HOUR_MS, 48 * HOUR_MS]) == pytest.approx(whole, rel=1e-12)
    with pytest.raises(ValueError, match="only moves forward"):
        e = Engine(SyntheticMarket(seed=4, start_ms=START))
        e.advance_to(START + HOUR_MS)
        e.advance_to(START)


def test_funding_is_zero_sum_between_matched_longs_and_shorts():
    e = Engine(SyntheticMarket(seed=5, start_ms=START))
    long_, short = e.open_account(20_000), e.open_account(20_000)
    place_order(e, long_, "SOL", True, "1000", "10", tif="Ioc")
    place_order(e, short, "SOL", False, "1", "10", tif="Ioc")
    e.advance_to(START + 72 * HOUR_MS)
    assert e.ledger(long_)["funding"] == pytest.approx(-e.ledger(short)["funding"], rel=1e-12)
    assert e.ledger(long_)["funding"] != 0


# -- liquidation ----------------------------------------------------------------------------------------


def test_a_cross_account_below_maintenance_is_liquidated_at_the_mark():
    prices = [3000, 3000, 2900, 2800, 2700, 2650, 2600] + [2600] * 10
    e = Engine(replay(prices))
    a = e.open_account(1_000)
    e.update_leverage(a, "ETH", 20)
    place_order(e, a, "ETH", True, "3100", "6", tif="Ioc")  # 18k notional on 1k: 18x
    liq_px = e.positions_of(a)[0]["liquidation_px"]
    assert 2800 < liq_px < 2900
    e.advance_to(START + 6 * HOUR_MS)
    (event,) = [ev for ev in e.events if isinstance(ev, Liquidation)]
    assert (event.coin, event.position_size, event.entry_price, event.leverage_type) == (
        "ETH",
        6,
        3000,
        "Cross",
    )
    assert event.mark_price == 2800 and event.time == START + 3 * HOUR_MS  # the first hour below
    assert event.account_value_before < event.maintenance_margin
    assert event.maintenance_margin == pytest.approx(6 * 2800 * 0.02)
    assert event.realized_loss == pytest.approx(-1200)
    assert not len(e.positions) and e.ledger(a)["cash"] == pytest.approx(
        1_000 - 3000 * 6 * 0.00045 - 1200 + e.ledger(a)["funding"]
    )
    cash_identity(e, a)


def test_an_isolated_position_is_liquidated_alone():
    prices = [3000, 3000, 2950, 2900, 2850, 2800, 2750] + [2750] * 10
    e = Engine(replay(prices))
    a = e.open_account(100_000)
    e.update_leverage(a, "ETH", 20, is_cross=False)
    place_order(e, a, "ETH", True, "3100", "10", tif="Ioc")
    e.advance_to(START + 7 * HOUR_MS)
    (event,) = [ev for ev in e.events if isinstance(ev, Liquidation)]
    # 10 ETH at 20x isolated: 1,500 of margin; at 2,900 equity is ~499 against 580 of maintenance
    assert event.leverage_type == "Isolated" and event.mark_price == 2900
    assert event.account_value_before < event.maintenance_margin == pytest.approx(580)
    assert e.ledger(a)["cash"] > 90_000  # the rest of the account was never at risk
    cash_identity(e, a)


# -- the ledger always reconciles (hypothesis) -------------------------------------------------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["order", "advance", "cancel", "leverage"]),
        st.integers(0, 3),  # account
        st.sampled_from(["BTC", "ETH", "SOL", "DOGE"]),
        st.booleans(),
        st.floats(0.9, 1.1),  # price as a fraction of the mark
        st.floats(0.0001, 0.6),  # size as a fraction of what 1x of the account buys
        st.sampled_from(["Gtc", "Ioc", "Alo"]),
        st.integers(1, 30),  # hours to advance, or leverage
    ),
    min_size=5,
    max_size=40,
)


def _mixed_venues(e: Engine) -> list[int]:
    """Four accounts: two on Hyperliquid's rules, a standard and a premium one on Lighter's (its
    contracts, fixed-point prices and fees)."""
    accounts = [e.open_account(d) for d in (1_000, 5_000, 20_000, 100_000)]
    e.set_rules(accounts[2], lighter_trading.STANDARD)
    e.set_rules(accounts[3], lighter_trading.PREMIUM)
    return accounts


def play(e: Engine, accounts: list[int], actions: list[tuple]) -> None:
    for kind, acct, coin, is_buy, px_frac, sz_frac, tif, n in actions:
        account = accounts[acct]
        c = e.coin_index(coin)
        if kind == "advance":
            e.advance_to(e.now + n * HOUR_MS // 2)
        elif kind == "cancel" and e.orders:
            e.cancel(account, next(iter(e.orders)))
        elif kind == "leverage":
            with contextlib.suppress(OrderRejected):  # e.g. switching mode under an open position
                e.update_leverage(
                    account, coin, min(n, e.contract_of(account, c).max_leverage), is_cross=n % 3 != 0
                )
        elif kind == "order":
            mark = float(e.marks()[c])
            px = float(f"{mark * px_frac:.5g}")
            px = round(px, max(0, 6 - e.contracts[c].sz_decimals))
            size = round(e.ledger(account)["deposits"] * sz_frac / mark, e.contracts[c].sz_decimals)
            if size > 0:
                place_order(
                    e, account, coin, is_buy, f"{px:.6f}".rstrip("0").rstrip("."), repr(size), tif=tif
                )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), actions=ACTIONS)
def test_every_ledger_reconciles(seed, actions):
    e = Engine(SyntheticMarket(seed=seed, start_ms=START))
    accounts = _mixed_venues(e)
    play(e, accounts, actions)
    for account in accounts:
        cash_identity(e, account)
    # funding paid and received across all accounts nets to the funding of the net open interest
    batches = [ev for ev in e.events if isinstance(ev, FundingBatch)]
    total = sum(float(b.usdc.sum()) for b in batches)
    net = sum(float((-b.szi * b.oracle_px * b.rate).sum()) for b in batches)
    assert total == pytest.approx(net, abs=1e-9)
    assert sum(e.ledger(a)["funding"] for a in accounts) == pytest.approx(total, abs=1e-6)
    assert np.all(np.isfinite(e.positions.szi))


def _state(e: Engine) -> tuple[dict, list[dict]]:
    return e.clock_state(), [e.account_state(a) for a in range(e.n_accounts)]


def _same_state(a: Engine, b: Engine) -> None:
    """Equal, up to the last bits of sums a restored engine adds in another row order."""
    (clock_a, accounts_a), (clock_b, accounts_b) = _state(a), _state(b)
    assert clock_a == clock_b
    for x, y in zip(accounts_a, accounts_b, strict=True):
        assert x["orders"] == y["orders"] and x["leverage"] == y["leverage"]
        assert x["trades"][:3] == y["trades"][:3]
        np.testing.assert_allclose(
            x["acc"] + x["trades"][3:], y["acc"] + y["trades"][3:], rtol=1e-12, atol=1e-9
        )
        assert [p[0] for p in x["positions"]] == [p[0] for p in y["positions"]]
        np.testing.assert_allclose(np.array(x["positions"], dtype=float), np.array(y["positions"], dtype=float),
                                   rtol=1e-12, atol=1e-9)  # fmt: skip


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), actions=ACTIONS, cut=st.integers(0, 40))
def test_a_restored_engine_carries_on_exactly_like_the_original(seed, actions, cut):
    """The sandbox stores ``clock_state`` and each ``account_state`` and restarts from them."""
    original = Engine(SyntheticMarket(seed=seed, start_ms=START))
    accounts = _mixed_venues(original)
    play(original, accounts, actions[:cut])
    clock, saved = _state(original)
    restored = Engine(SyntheticMarket(seed=seed, start_ms=START))
    restored.load_state(json.loads(json.dumps(clock)), json.loads(json.dumps(saved)))
    for account, rules in original.rules.items():  # rules are not state: the owner sets them again
        restored.set_rules(account, rules)
    _same_state(original, restored)
    for e in (original, restored):
        play(e, accounts, actions[cut:])
        e.advance_to(e.now + 5 * HOUR_MS)
    _same_state(original, restored)
    assert [o.oid for o in original.orders.values()] == [o.oid for o in restored.orders.values()]


def test_only_changed_accounts_are_dirty_until_a_funding_tick():
    e = flat()
    a, b = e.open_account(10_000), e.open_account(10_000)
    assert e.take_dirty() == [a, b] and e.take_dirty() == []
    place_order(e, b, "ETH", True, "3100", "1", tif="Ioc")
    assert e.take_dirty() == [b]
    place_order(e, a, "ETH", True, "2000", "1")  # rests
    assert e.take_dirty() == [a]
    e.advance_to(e.now + HOUR_MS)  # funding on b's position: every account is written
    assert e.take_dirty() == [a, b]
