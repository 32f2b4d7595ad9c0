"""Lighter's market reads through the official SDK, unmodified: one market model (the clearinghouse's),
Lighter's ids and decimals, and every figure equal to the same figure on the Hyperliquid interface."""

from __future__ import annotations

import httpx
import pytest

import toolkit
from toolkit.venues.lighter import markets

lighter = pytest.importorskip("lighter")
HOUR = 3_600_000


def sdk(sandbox, call):
    """Run ``call(api_client)`` (a coroutine function) with a fresh SDK client on the sandbox."""

    async def go():
        async with lighter.ApiClient(lighter.Configuration(host=sandbox.url)) as api:
            return await call(api)

    return toolkit.run(go())


def decimals(text: str) -> int:
    return len(text.partition(".")[2])


def test_order_book_details_are_lighters_specs_over_the_shared_market(sandbox, info):
    details = sdk(sandbox, lambda api: lighter.OrderApi(api).order_book_details()).order_book_details
    assert [d.market_id for d in details] == [m.market_id for m in markets.MARKETS]
    eth = next(d for d in details if d.symbol == "ETH")
    assert (eth.market_id, eth.size_decimals, eth.price_decimals, eth.min_base_amount) == (0, 4, 2, "0.0050")
    assert (eth.min_initial_margin_fraction, eth.maintenance_margin_fraction, eth.closeout_margin_fraction) == (
        200, 120, 80,
    )  # fmt: skip
    assert next(d for d in details if d.symbol == "BTC").market_id == 1
    meta, contexts = info.meta_and_asset_ctxs()
    hyper = {u["name"]: ctx for u, ctx in zip(meta["universe"], contexts, strict=True)}
    for d in details:
        assert decimals(d.mark_price) == d.price_decimals and d.size_decimals + d.price_decimals == 6
        # the same market: a mark read a moment later on the other interface is within a few ticks
        assert float(d.mark_price) == pytest.approx(float(hyper[d.symbol]["markPx"]), rel=1e-3)
        assert float(d.index_price) == pytest.approx(float(hyper[d.symbol]["oraclePx"]), rel=1e-3)
        assert d.daily_price_low <= d.last_trade_price <= d.daily_price_high
        # the formula's parameters, in percent, give the market's hourly rate from its premium
        interest, clamp, cap = (
            float(x) / 100 for x in (d.base_interest_rate, d.funding_clamp_small, d.funding_clamp_big)
        )
        premium = float(hyper[d.symbol]["premium"])
        hourly = min(max((premium + min(max(interest - premium, -clamp), clamp)) / 8, -cap), cap)
        assert hourly == pytest.approx(float(hyper[d.symbol]["funding"]), abs=1e-9)
    books = sdk(sandbox, lambda api: lighter.OrderApi(api).order_books(market_id=1)).order_books
    assert [(b.symbol, b.supported_size_decimals, b.supported_price_decimals) for b in books] == [
        ("BTC", 5, 1)
    ]


def test_the_book_prints_exact_decimals_the_sdk_can_turn_back_into_integers(sandbox):
    for m in markets.MARKETS:
        book = sdk(
            sandbox, lambda api, m=m: lighter.OrderApi(api).order_book_orders(market_id=m.market_id, limit=20)
        )
        assert book.total_asks == len(book.asks) == 20 and book.total_bids == len(book.bids) == 20
        asks = [int(o.price.replace(".", "")) for o in book.asks]  # what SignerClient.get_best_price does
        bids = [int(o.price.replace(".", "")) for o in book.bids]
        assert all(decimals(o.price) == m.price_decimals for o in book.asks + book.bids)
        assert all(decimals(o.remaining_base_amount) == m.size_decimals for o in book.asks + book.bids)
        assert asks == sorted(asks) and bids == sorted(bids, reverse=True) and bids[0] < asks[0]
        assert len({o.order_index for o in book.asks + book.bids}) == 40


def test_candles_and_fundings_match_the_hyperliquid_interface(sandbox, info):
    now = sandbox.now_ms()
    start = now - now % HOUR - 10 * HOUR

    def candles(api):
        return lighter.CandlestickApi(api).candles(
            market_id=0, resolution="1h", start_timestamp=start, end_timestamp=now, count_back=6
        )

    got = sdk(sandbox, candles)
    assert got.r == "1h" and len(got.c) == 6 and [c.t for c in got.c] == sorted(c.t for c in got.c)
    hyper = info.candles_snapshot("ETH", "1h", start, now)
    by_open = {int(c["t"]): c for c in hyper}
    for c in got.c[:-1]:  # closed hours (the last is still moving)
        assert c.o == pytest.approx(float(by_open[c.t]["o"]), abs=0.01)
        assert c.c == pytest.approx(float(by_open[c.t]["c"]), abs=0.01)

    def fundings(api):
        return lighter.CandlestickApi(api).fundings(
            market_id=0, resolution="1h", start_timestamp=(now - 48 * HOUR) // 1000, end_timestamp=now // 1000,
            count_back=24,
        )  # fmt: skip

    rows = sdk(sandbox, fundings).fundings
    assert len(rows) == 24 and all(r.timestamp % 3600 == 0 for r in rows)  # seconds, on the hour
    paid = info.funding_history("ETH", rows[0].timestamp * 1000)
    rates = {int(p["time"]) // 1000: float(p["fundingRate"]) for p in paid}
    for r in rows:
        signed = float(r.rate) / 100 * (1 if r.direction == "long" else -1)  # percent, paid by that side
        assert signed == pytest.approx(rates[r.timestamp], abs=5e-9)  # six decimals of a percent

    def daily(api):
        return lighter.CandlestickApi(api).fundings(
            market_id=0, resolution="1d", start_timestamp=(now - 5 * 24 * HOUR) // 1000, end_timestamp=now // 1000,
            count_back=3,
        )  # fmt: skip

    days = sdk(sandbox, daily).fundings
    assert len(days) == 3 and all(d.timestamp % 86_400 == 0 for d in days)


def test_funding_rates_are_the_current_hourly_rate_over_eight_hours(sandbox, info):
    rates = sdk(sandbox, lambda api: lighter.FundingApi(api).funding_rates()).funding_rates
    ours = {r.symbol: r.rate for r in rates if r.exchange == "lighter"}
    assert set(ours) == {m.symbol for m in markets.MARKETS}
    meta, contexts = info.meta_and_asset_ctxs()
    for u, ctx in zip(meta["universe"], contexts, strict=True):
        assert ours[u["name"]] == pytest.approx(float(ctx["funding"]) * 8, rel=1e-4)  # as printed there


NOT_ONE_MARKET = {"code": 21602, "message": "invalid market index: this read takes one market"}  # 255: all


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("orderBooks?market_id=77", {"code": 21602, "message": "invalid market index"}),
        ("recentTrades?market_id=255&limit=12", NOT_ONE_MARKET),
        ("orderBookOrders?market_id=255&limit=5", NOT_ONE_MARKET),
        ("candles?market_id=255&resolution=1h&start_timestamp=0&end_timestamp=1&count_back=1", NOT_ONE_MARKET),
        ("fundings?market_id=255&resolution=1h&start_timestamp=0&end_timestamp=1&count_back=1", NOT_ONE_MARKET),
        ("orderBookOrders?market_id=0&limit=0", {"code": 20001, "message": "query.limit: Input should be greater than or equal to 1"}),
        ("orderBookOrders?market_id=0&limit=251", {"code": 20001, "message": "query.limit: Input should be less than or equal to 250"}),
        ("candles?market_id=0&resolution=2h&start_timestamp=0&end_timestamp=1&count_back=1",
         {"code": 20001, "message": "query.resolution: Input should be '1m', '5m', '15m', '30m', '1h', '4h', '12h', '1d' or '1w'"}),
        ("fundings?market_id=0&resolution=1h&start_timestamp=10&end_timestamp=1&count_back=1",
         {"code": 20001, "message": "start_timestamp must not be after end_timestamp"}),
        ("candles?market_id=0&resolution=1h&start_timestamp=0&end_timestamp=9e99&count_back=1",
         {"code": 20001, "message": "query.end_timestamp: Input should be a valid integer, unable to parse string as an integer"}),
    ],
)  # fmt: skip
def test_bad_market_queries_are_refused_in_lighters_envelope(sandbox, query, body):
    answer = httpx.get(f"{sandbox.url}/api/v1/{query}")
    assert (answer.status_code, answer.json()) == (400, body)
