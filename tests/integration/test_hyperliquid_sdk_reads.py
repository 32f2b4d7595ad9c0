"""Every perps read of the official Hyperliquid SDK, unmodified, against the sandbox: market data
(order book, candles, asset contexts), the order lifecycle reads, fees, portfolio, limits and the
spot and dex answers of a perps-only venue; HTTP refusals the SDK turns into ClientError."""

from __future__ import annotations

import math
import time

import httpx
import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError
from hyperliquid.utils.types import Cloid

from toolkit.sandbox import universe


@pytest.fixture
def ex(sandbox, master):
    return Exchange(master, sandbox.url)


def _mark(info: Info, coin: str) -> float:
    return float(info.all_mids()[coin])


def test_the_order_book_brackets_the_mark_and_shows_resting_orders(own_sandbox, own_state):
    info = Info(own_sandbox.url, skip_ws=True)
    book = info.l2_snapshot("ETH")
    bids, asks = book["levels"]
    assert book["coin"] == "ETH" and len(bids) == len(asks) == 20
    mark = own_state.clearinghouse.market.mark("ETH", book["time"])  # the engine's mark at the book's time
    assert float(bids[0]["px"]) < mark < float(asks[0]["px"])
    assert [float(b["px"]) for b in bids] == sorted((float(b["px"]) for b in bids), reverse=True)
    assert [float(a["px"]) for a in asks] == sorted(float(a["px"]) for a in asks)
    assert all(float(lv["sz"]) > 0 and lv["n"] >= 1 for lv in bids + asks)

    user = Account.create()
    own_sandbox.deposit("hyperliquid", user.address, 10_000)
    mine = round(float(bids[0]["px"]) + 0.1, 1)  # a new best bid, still below the mark
    if mine >= mark:
        mine = float(bids[0]["px"])
    Exchange(user, own_sandbox.url).order("ETH", True, 1.5, mine, {"limit": {"tif": "Gtc"}})
    bids = info.l2_snapshot("ETH")["levels"][0]
    (level,) = [lv for lv in bids if float(lv["px"]) == mine]
    assert float(level["sz"]) >= 1.5


def test_l2_book_aggregates_by_significant_figures(sandbox, info):
    full = info.post("/info", {"type": "l2Book", "coin": "BTC"})
    coarse = info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 2})
    (level,) = coarse["levels"][0][:1]
    assert len(level["px"].rstrip("0")) <= 2  # e.g. "74000": two significant figures
    assert float(level["sz"]) >= float(full["levels"][0][0]["sz"])
    five = info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 5})
    for lv in five["levels"][0] + five["levels"][1]:  # the fifth figure steps by 5
        px = float(lv["px"])
        step = 5 * 10 ** (math.floor(math.log10(px)) - 4)
        assert abs(px / step - round(px / step)) < 1e-6, px
    assert info.post("/info", {"type": "l2Book", "coin": "NOPE"}) is None
    with pytest.raises(ClientError) as err:
        info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 3, "mantissa": 2})
    assert (
        err.value.status_code == 422 and "mantissa: only allowed with nSigFigs 5" in err.value.error_message
    )


def test_candles_cover_every_interval_and_agree_with_fills(sandbox, info, ex):
    now = int(time.time() * 1000)
    for interval in ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M"):
        candles = info.candles_snapshot("BTC", interval, now - 3 * 86_400_000, now + 60_000)
        assert candles, interval
        c = candles[-1]
        assert set(c) == {"t", "T", "s", "i", "o", "c", "h", "l", "v", "n"} and (c["s"], c["i"]) == (
            "BTC",
            interval,
        )
        assert all(float(x["l"]) <= min(float(x["o"]), float(x["c"])) for x in candles)
        assert all(float(x["h"]) >= max(float(x["o"]), float(x["c"])) for x in candles)
        assert [x["t"] for x in candles] == sorted(x["t"] for x in candles)
    assert len(info.candles_snapshot("BTC", "1m", 0, now + 60_000)) == 5000  # only the latest 5,000 exist

    fill = ex.market_open("ETH", True, 0.05)["response"]["data"]["statuses"][0]["filled"]
    (mine,) = [f for f in info.user_fills(ex.wallet.address) if f["oid"] == fill["oid"]]
    minute = mine["time"] - mine["time"] % 60_000
    (candle,) = info.candles_snapshot("ETH", "1m", minute, minute)
    assert float(candle["l"]) <= float(fill["avgPx"]) <= float(candle["h"])  # fills at the path's price
    with pytest.raises(ClientError) as err:
        info.post(
            "/info", {"type": "candleSnapshot", "req": {"coin": "NOPE", "interval": "1h", "startTime": 0}}
        )
    assert "req.coin: Unknown coin 'NOPE'" in err.value.error_message
    with pytest.raises(ClientError) as err:
        info.post(
            "/info", {"type": "candleSnapshot", "req": {"coin": "BTC", "interval": "7m", "startTime": 0}}
        )
    assert err.value.status_code == 422


def test_asset_contexts_carry_impact_prices_from_the_book(info):
    meta, contexts = info.meta_and_asset_ctxs()
    assert [a["name"] for a in meta["universe"]] == list(universe.COINS)
    for ctx in contexts:
        bid, ask = (float(x) for x in ctx["impactPxs"])
        assert bid < float(ctx["midPx"]) < ask


def test_order_status_by_oid_and_cloid_and_the_history(info, ex, master):
    mark = _mark(info, "ETH")
    cloid = Cloid.from_int(424242)
    placed = ex.order("ETH", True, 0.1, round(mark * 0.8, 1), {"limit": {"tif": "Gtc"}}, cloid=cloid)
    oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
    by_oid = info.query_order_by_oid(master.address, oid)
    assert by_oid["status"] == "order" and by_oid["order"]["status"] == "open"
    assert by_oid == info.query_order_by_cloid(master.address, cloid)
    order = by_oid["order"]["order"]
    assert (order["oid"], order["cloid"], order["orderType"], order["tif"], order["sz"], order["origSz"]) == (
        oid, cloid.to_raw(), "Limit", "Gtc", "0.1", "0.1",
    )  # fmt: skip
    (open_order,) = info.frontend_open_orders(master.address)
    assert open_order == order
    assert set(open_order) == {
        "coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz", "triggerCondition", "isTrigger",
        "triggerPx", "children", "isPositionTpsl", "reduceOnly", "orderType", "tif", "cloid",
    }  # fmt: skip
    ex.cancel("ETH", oid)
    cancelled = info.query_order_by_oid(master.address, oid)["order"]
    assert cancelled["status"] == "canceled" and cancelled["statusTimestamp"] >= order["timestamp"]
    history = info.historical_orders(master.address)
    assert [(h["order"]["oid"], h["status"]) for h in history] == [(oid, "canceled")]
    assert info.query_order_by_oid(master.address, 999_999_999) == {"status": "unknownOid"}
    assert info.query_order_by_oid(Account.create().address, oid) == {"status": "unknownOid"}


def test_fees_portfolio_rate_limit_and_asset_data(info, ex, master):
    ex.market_open("ETH", True, 0.2)
    fees = info.user_fees(master.address)
    assert (fees["userCrossRate"], fees["userAddRate"]) == ("0.00045", "0.00015")
    (today,) = fees["dailyUserVlm"]
    fill = info.user_fills(master.address)[0]
    assert float(today["userCross"]) == pytest.approx(float(fill["px"]) * float(fill["sz"]), rel=1e-6)

    portfolio = dict(info.portfolio(master.address))
    assert list(portfolio) == [
        "day",
        "week",
        "month",
        "allTime",
        "perpDay",
        "perpWeek",
        "perpMonth",
        "perpAllTime",
    ]
    state = info.user_state(master.address)
    day = portfolio["day"]
    # the last point is the account's value now (a moment apart from the state read: the mark moves)
    assert float(day["accountValueHistory"][-1][1]) == pytest.approx(
        float(state["marginSummary"]["accountValue"]), abs=5
    )
    value, pnl = float(day["accountValueHistory"][-1][1]), float(day["pnlHistory"][-1][1])
    assert value - pnl == pytest.approx(10_000, abs=1e-6)  # PnL is the value less what was deposited
    assert float(day["vlm"]) == pytest.approx(float(today["userCross"]), rel=1e-6)

    limits = info.user_rate_limit(master.address)
    assert limits["nRequestsUsed"] == 1 and limits["nRequestsCap"] == 10_000 + int(float(limits["cumVlm"]))

    data = info.post("/info", {"type": "activeAssetData", "user": master.address, "coin": "ETH"})
    assert data["leverage"] == {"type": "cross", "value": 20} and data["coin"] == "ETH"
    buy, sell = (float(x) for x in data["maxTradeSzs"])
    assert sell > buy > 0  # selling may also close the long


def test_perps_only_spot_and_dex_answers(info, master):
    assert info.spot_user_state(master.address) == {"balances": []}
    spot_meta, spot_ctxs = info.spot_meta_and_asset_ctxs()
    assert spot_meta["universe"] == [] and spot_meta["tokens"][0]["name"] == "USDC" and spot_ctxs == []
    assert info.perp_dexs() == [None]
    assert info.query_sub_accounts(master.address) is None
    assert info.user_twap_slice_fills(master.address) == []
    status = info.post("/info", {"type": "exchangeStatus"})
    assert status["specialStatuses"] is None and isinstance(status["time"], int)


def test_http_refusals_reach_the_sdk_as_client_errors(sandbox, info):
    with pytest.raises(ClientError) as err:
        info.post("/info", {"type": "noSuchType"})
    assert (err.value.status_code, err.value.error_message) == (
        422, "Failed to deserialize the JSON body into the target type: unknown type 'noSuchType'",
    )  # fmt: skip
    with pytest.raises(ClientError) as err:
        info.post("/info", {"type": "orderStatus", "user": "future", "oid": 1})
    assert (
        err.value.status_code == 422
        and "user: must be a 0x address of 40 hex digits" in err.value.error_message
    )
    reply = httpx.post(f"{sandbox.url}/exchange", json={"action": {"type": "twapOrder"}, "nonce": 1})
    assert reply.status_code == 422 and reply.headers["content-type"].startswith("text/plain")
    assert (
        reply.text
        == "Failed to deserialize the JSON body into the target type: Unsupported action type 'twapOrder'"
    )


def test_predicted_fundings_referral_and_vaults(info, master):
    predicted = dict(info.post("/info", {"type": "predictedFundings"}))
    assert list(predicted) == list(universe.COINS)
    ((venue, eth),) = predicted["ETH"]
    assert venue == "HlPerp" and eth["nextFundingTime"] % 3_600_000 == 0 and eth["fundingIntervalHours"] == 1
    _, contexts = info.meta_and_asset_ctxs()
    assert eth["fundingRate"] == contexts[1]["funding"]  # the rate the next hour pays
    assert info.query_referral_state(master.address)["referredBy"] is None
    assert info.user_vault_equities(master.address) == []
