"""PaperExchange paper trading (seed 003): trading by API key on the paper engine, the account
views (overview, funding, liquidations) and their rules (reset, lapsed trials, isolation)."""

from __future__ import annotations

import pytest

from toolkit.venues.paperx import PaperClient, PaperExchangeError


@pytest.fixture
def bot(sandbox, account):
    key = account.client.create_api_key("bot")
    client = PaperClient(sandbox, api_key=key.api_key)
    client.owner = account
    return client


def test_orders_and_the_overview(bot):
    assert "filled" in bot.order("ETH", True, 1)
    resting = bot.order("ETH", True, 0.5, 1000)
    assert set(resting) == {"resting"}
    overview = bot.overview()
    assert (overview["initial_balance"], overview["positions_count"], overview["open_orders_count"]) == (
        10_000,
        1,
        1,
    )
    assert overview["account_value"] == pytest.approx(
        10_000 + overview["stats"]["unrealized_pnl"] - overview["stats"]["total_fees_paid"], abs=0.05
    )
    assert bot.cancel("ETH", resting["resting"]["oid"]) == "success"
    bot.order("ETH", False, 1)
    stats = bot.overview()["stats"]
    assert stats["total_trades"] == 1 and stats["total_volume"] > 0 and stats["total_fees_paid"] > 0
    assert bot.overview()["positions_count"] == 0


@pytest.mark.parametrize("user", [None, "0x" + "ab" * 20, "alice", 12])
def test_user_reads_need_no_user_field_the_key_says_whose(bot, user):
    bot.order("ETH", True, 1)
    body = {"type": "userFills"} | ({} if user is None else {"user": user})
    (fill,) = bot.info(body)
    assert (fill["coin"], fill["side"], fill["sz"]) == ("ETH", "B", "1")
    state = bot.info({"type": "clearinghouseState"} | ({} if user is None else {"user": user}))
    assert [p["position"]["szi"] for p in state["assetPositions"]] == ["1"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"type": "extraAgents"}, "Unknown info request type 'extraAgents'"),
        ({"type": "fundingHistory", "coin": "NOPE", "startTime": 0}, "coin: Unknown coin 'NOPE'"),
        (
            {"type": "userFunding", "startTime": -1},
            "Invalid request: startTime: Input should be greater than or equal to 0",
        ),
    ],
)
def test_info_refusals_in_paperexchanges_words(bot, body, detail):
    with pytest.raises(PaperExchangeError) as err:
        bot.info(body)
    assert (err.value.status, err.value.detail) == (400, detail)


def test_refusals_keep_hyperliquids_words(bot):
    assert bot.order("ETH", True, 0.001, 3000) == {"error": "Order must have minimum value of $10."}
    assert bot.order("ETH", True, 1, "3000.123") == {"error": "Price must be divisible by tick size."}
    with pytest.raises(PaperExchangeError) as err:
        bot.exchange({"type": "transfer"})
    assert (err.value.status, err.value.detail) == (
        400, "Invalid request: action.type must be one of order, cancel, cancelByCloid, updateLeverage, "
        "modify, batchModify, scheduleCancel, updateIsolatedMargin",
    )  # fmt: skip
    with pytest.raises(PaperExchangeError) as err:
        bot.update_leverage("ETH", 26)
    assert err.value.detail == "Invalid leverage value: ETH allows 1 to 25"


@pytest.mark.moves_clock
def test_funding_views(sandbox, bot):
    bot.order("ETH", True, 1)
    bot.order("BTC", False, 0.05)
    sandbox.advance(hours=24)
    everything = bot.funding(limit=500)
    assert everything["summary"]["count"] == 48 and len(everything["funding_payments"]) == 48
    amounts = [p["payment_amount"] for p in everything["funding_payments"]]
    assert everything["summary"]["net"] == pytest.approx(sum(amounts))
    assert everything["summary"]["total_paid"] == pytest.approx(sum(a for a in amounts if a < 0))
    first = everything["funding_payments"][0]
    assert set(first) == {
        "coin",
        "position_size",
        "funding_rate",
        "oracle_price",
        "payment_amount",
        "timestamp",
    }
    assert first["timestamp"].endswith("Z")
    assert first["payment_amount"] == pytest.approx(
        -first["position_size"] * first["oracle_price"] * first["funding_rate"]
    )
    eth = bot.funding(coin="ETH", limit=5)
    assert len(eth["funding_payments"]) == 5 and eth["summary"]["count"] == 24
    assert {p["coin"] for p in eth["funding_payments"]} == {"ETH"}
    summary = bot.funding_summary()
    assert summary["by_coin"]["BTC"]["payment_count"] == 24
    assert summary["total"] == pytest.approx(everything["summary"]["net"])
    with pytest.raises(PaperExchangeError) as err:
        bot.funding(limit=501)
    assert (err.value.status, err.value.detail) == (
        400,
        "query.limit: Input should be less than or equal to 500",
    )


@pytest.mark.moves_clock
def test_a_liquidation_is_recorded_with_the_seed_fields(sandbox, bot):
    bot.update_leverage("ARB", 10)
    mark = float(bot.info({"type": "allMids"})["ARB"])
    bot.order("ARB", True, round(90_000 / mark, 1))  # ~9x of the account in one 10x coin
    for _ in range(90):
        sandbox.advance(hours=24)
        found = bot.liquidations()
        if found["liquidations"]:
            break
    (event,) = found["liquidations"][:1]
    assert set(event) == {"coin", "position_size", "entry_price", "liquidation_price", "mark_price",
                          "account_value_before", "maintenance_margin", "realized_loss", "timestamp"}  # fmt: skip
    assert event["coin"] == "ARB" and event["account_value_before"] < event["maintenance_margin"]
    assert found["summary"]["total_liquidations"] >= 1
    assert found["summary"]["total_loss"] == pytest.approx(
        sum(e["realized_loss"] for e in found["liquidations"])
    )


def test_reset_only_below_100_dollars(bot):
    with pytest.raises(PaperExchangeError) as err:
        bot.reset()
    bot = bot.owner.client  # the burn below takes hundreds of requests: more than a key's minute allows
    assert (err.value.status, err.value.detail) == (400, "Balance too high for reset")
    bot.update_leverage("ETH", 25)
    for _ in range(400):  # burn the balance on fees, round trip after round trip
        value = bot.overview()["account_value"]
        if value < 100:
            break
        size = round(value * 24 / float(bot.info({"type": "allMids"})["ETH"]), 4)
        bot.order("ETH", True, size)
        bot.order("ETH", False, size, reduce_only=True)
    topped = bot.reset()
    assert topped["message"] == "Account topped up successfully" and topped["added_amount"] == 10_000
    assert topped["new_balance"] == pytest.approx(topped["previous_balance"] + 10_000, abs=0.01)
    assert bot.overview()["initial_balance"] == 20_000


@pytest.mark.moves_clock
def test_a_lapsed_trial_cannot_trade_but_can_read(sandbox, bot):
    sandbox.advance(hours=73)
    with pytest.raises(PaperExchangeError) as err:
        bot.order("ETH", True, 1)
    assert (err.value.status, err.value.detail) == (403, "Trial expired")
    with pytest.raises(PaperExchangeError) as err:
        bot.reset()
    assert (err.value.status, err.value.detail) == (403, "Trial expired")
    assert bot.overview()["initial_balance"] == 10_000


def test_accounts_are_separate_and_need_auth(sandbox, bot, new_account, http):
    bot.order("SOL", True, 10)
    other = new_account("pro")
    assert other.client.overview()["positions_count"] == 0
    assert other.client.overview()["initial_balance"] == 100_000  # the pro plan's balance
    assert bot.overview()["positions_count"] == 1  # a login sees the same account as its keys
    assert bot.owner.client.overview()["positions_count"] == 1
    r = http.get("/v1/exchanges/hyperliquid/account/overview")
    assert r.status_code == 401


def test_the_hyperliquid_drop_in_reads_and_actions_by_api_key(bot):
    mark = float(bot.info({"type": "allMids"})["ETH"])
    oid = bot.order("ETH", True, 0.5, round(mark * 0.8, 1))["resting"]["oid"]
    moved = bot.exchange({"type": "modify", "oid": oid, "order": {
        "a": 1, "b": True, "p": str(round(mark * 0.7, 1)), "s": "0.5", "r": False,
        "t": {"limit": {"tif": "Gtc"}}}})  # fmt: skip
    assert moved == {"type": "default"}
    assert bot.info({"type": "orderStatus", "oid": oid})["order"]["status"] == "canceled"
    (live,) = bot.info({"type": "frontendOpenOrders"})
    assert float(live["limitPx"]) == round(mark * 0.7, 1) and live["orderType"] == "Limit"
    assert [h["status"] for h in bot.info({"type": "historicalOrders"})] == ["open", "canceled"]
    book = bot.info({"type": "l2Book", "coin": "ETH"})
    assert float(book["levels"][0][0]["px"]) < float(book["levels"][1][0]["px"])
    assert bot.info({"type": "candleSnapshot", "req": {"coin": "ETH", "interval": "1h", "startTime": 0}})
    with pytest.raises(PaperExchangeError, match="Scheduled cancel time too early"):
        bot.exchange({"type": "scheduleCancel", "time": 1})
    builder = {"type": "order", "orders": [{"a": 1, "b": True, "p": "1000", "s": "0.1", "r": False,
               "t": {"limit": {"tif": "Gtc"}}}], "builder": {"b": "0x" + "b" * 40, "f": 1}}  # fmt: skip
    with pytest.raises(PaperExchangeError, match="Builder fees are not available on PaperExchange"):
        bot.exchange(builder)
