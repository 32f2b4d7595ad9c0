"""Aster on the paper engine: orders (V1 and V3), income rows fed by the engine's funding, and the
public funding routes fed by the engine's market."""

from __future__ import annotations

import pytest

from toolkit.venues import aster as av
from toolkit.venues.eip712 import Wallet


@pytest.fixture
def v1(sandbox):
    wallet = Wallet.generate()
    sandbox.deposit("aster", wallet.address, 5_000)
    client = av.AsterClient(sandbox)
    client.create_api_key(wallet, "bot")
    client.wallet = wallet
    return client


def test_market_and_limit_orders(v1):
    market = v1.order("ETHUSDT", "BUY", "1")
    assert (market["status"], market["type"], market["executedQty"], market["side"]) == (
        "FILLED",
        "MARKET",
        "1",
        "BUY",
    )
    assert float(market["cumQuote"]) == pytest.approx(float(market["avgPrice"]))
    limit = v1.order("ETHUSDT", "BUY", "1", price="100", client_order_id="mine-1")
    assert (limit["status"], limit["price"], limit["executedQty"], limit["clientOrderId"]) == (
        "NEW",
        "100",
        "0",
        "mine-1",
    )
    ioc = v1.order("ETHUSDT", "BUY", "1", price="100", time_in_force="IOC")
    assert ioc["status"] == "EXPIRED"  # as on Aster: an IOC that cannot fill expires, it is not an error


@pytest.mark.parametrize(
    ("args", "code", "msg"),
    [
        (("DOGEUSDC", "BUY", "100"), -1121, "Invalid symbol."),
        (
            ("ETHUSDT", "BUY", "0.001"),
            -4164,
            "Order's notional must be no smaller than 10 (unless you choose reduce only).",
        ),
        (("ETHUSDT", "BUY", "0.00001"), -1111, "Precision is over the maximum defined for this asset."),
        (("ETHUSDT", "BUY", "100"), -2019, "Margin is insufficient."),
    ],
)
def test_order_refusals_carry_asters_codes(v1, args, code, msg):
    with pytest.raises(av.AsterError) as err:
        v1.order(*args)
    assert (err.value.code, err.value.msg) == (code, msg)


def test_bad_limit_parameters(v1):
    with pytest.raises(av.AsterError) as err:
        v1.order("ETHUSDT", "BUY", "1", price="100.123")
    assert (err.value.code, err.value.msg) == (-1111, "Precision is over the maximum defined for this asset.")
    with pytest.raises(av.AsterError) as err:
        v1.order("ETHUSDT", "BUY", "1", price="100", time_in_force="NOPE")
    assert (err.value.code, err.value.msg) == (-1115, "Invalid timeInForce.")


@pytest.mark.moves_clock
def test_income_is_fed_by_the_engine(sandbox, v1):
    v1.order("SOLUSDT", "SELL", "10")
    sandbox.advance(hours=12)
    rows = v1.income()
    kinds = [r["incomeType"] for r in rows]
    assert kinds[0] == "TRANSFER" and kinds[1] == "COMMISSION" and kinds.count("FUNDING_FEE") == 12
    funding = v1.income(incomeType="FUNDING_FEE", symbol="SOLUSDT")
    assert len(funding) == 12 and all(r["asset"] == "USDT" and r["info"] == "FUNDING_FEE" for r in funding)
    rates = {r["fundingTime"]: float(r["fundingRate"]) for r in v1.funding_rate("SOLUSDT", limit=12)}
    assert set(rates) == {r["time"] for r in funding}  # each payment has its rate, at the same time
    for row in funding:  # a short receives a positive rate
        assert (float(row["income"]) > 0) == (rates[row["time"]] > 0)
    assert len({r["tranId"] for r in rows}) == len(rows)
    assert v1.income(limit=2) == rows[:2]


def test_the_agent_path_trades_the_same_account(sandbox, v1):
    agent = av.AsterClient(sandbox)
    agent.approve_agent(v1.wallet, "desk")
    assert agent.order("BTCUSDT", "BUY", "0.01")["status"] == "FILLED"
    assert [r["incomeType"] for r in agent.income()][:2] == ["TRANSFER", "COMMISSION"]
    assert len(v1.income(incomeType="COMMISSION")) == 1  # one account, seen through both kinds of key


def test_public_funding_routes(v1):
    rows = v1.funding_rate("BTCUSDT", limit=5)
    assert len(rows) == 5 and all(r["symbol"] == "BTCUSDT" for r in rows)
    assert [r["fundingTime"] for r in rows] == sorted(r["fundingTime"] for r in rows)
    assert all(abs(float(r["fundingRate"])) <= 0.04 for r in rows)
    info = {r["symbol"]: r for r in v1.funding_info()}
    assert info["ETHUSDT"] | {"time": 0} == {
        "symbol": "ETHUSDT", "interestRate": "0.00010000", "time": 0, "fundingIntervalHours": 1,
        "fundingFeeCap": 0.04, "fundingFeeFloor": -0.04,
    }  # fmt: skip
    with pytest.raises(av.AsterError) as err:
        v1.funding_rate("NOPEUSDT")
    assert (err.value.code, err.value.msg) == (-1121, "Invalid symbol.")


@pytest.mark.parametrize(
    ("perp", "spot", "allowed"),
    [(False, False, False), (False, True, False), (True, False, True)],
)
def test_an_agent_trades_perpetuals_only_with_can_perp_trade(sandbox, perp, spot, allowed):
    wallet = Wallet.generate()
    sandbox.deposit("aster", wallet.address, 5_000)
    client = av.AsterClient(sandbox)
    agent = client.approve_agent(wallet, "desk", days=1, can_perp_trade=perp, can_spot_trade=spot)
    assert client.balance_v3()  # reading is always allowed
    if allowed:
        assert (
            client.v3(
                "POST",
                "/fapi/v3/order",
                {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"},
            )["status"]
            == "FILLED"
        )
        return
    with pytest.raises(av.AsterError) as err:
        client.v3(
            "POST",
            "/fapi/v3/order",
            {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"},
        )
    assert (err.value.code, err.value.msg) == (
        -2015,
        f"Invalid API-key, IP, or permissions for action: agent {agent.address.lower()} was approved with "
        "canPerpTrade=false.",
    )
    assert [r["incomeType"] for r in client.income()] == ["TRANSFER"]  # the deposit; nothing traded


@pytest.mark.parametrize(
    ("params", "msg"),
    [
        ({"side": "buy"}, "Parameter 'side' was malformed: Input should be 'BUY' or 'SELL'."),
        ({"quantity": "1e30"}, "Parameter 'quantity' was malformed: has the wrong format."),
        ({"quantity": "²"}, "Parameter 'quantity' was malformed: has the wrong format."),
        ({"newClientOrderId": "x" * 37}, "Parameter 'newClientOrderId' was malformed: has the wrong format."),
        ({"quantity": ""}, "Parameter 'quantity' was not sent, was empty/null, or malformed."),
    ],
)
def test_order_parameters_are_parsed_before_anything_else(v1, params, msg):
    base = {"symbol": "ETHUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    with pytest.raises(av.AsterError) as err:
        v1.v1("POST", "/fapi/v1/order", base | params)
    assert (err.value.code, err.value.msg) == (-1102, msg)


@pytest.mark.parametrize("value", ["²", "١٢٣", "-1", "9" * 30, "1.5"])
def test_income_times_must_be_ascii_milliseconds(v1, value):
    with pytest.raises(av.AsterError) as err:
        v1.income(startTime=value)
    assert err.value.code == -1102 and err.value.msg.startswith("Parameter 'startTime' was malformed")


def test_a_nonce_used_once_cannot_come_back_in_another_spelling(sandbox):
    wallet = Wallet.generate()
    sandbox.deposit("aster", wallet.address, 5_000)
    client = av.AsterClient(sandbox)
    client.approve_agent(wallet, "desk", days=1)
    nonce = client.next_nonce()
    client.next_nonce = lambda: nonce  # type: ignore[method-assign]
    assert client.balance_v3()
    for spelling in (f"0{nonce}", f"00{nonce}"):
        client.next_nonce = lambda s=spelling: s  # type: ignore[method-assign]
        with pytest.raises(av.AsterError) as err:
            client.balance_v3()  # signed afresh by the agent, over the new spelling
        assert (err.value.code, err.value.msg) == (-4225, f"Duplicate nonce {nonce}.")
    for spelling in (f"+{nonce}", f" {nonce}", f"{nonce}.0", "١٢٣"):
        client.next_nonce = lambda s=spelling: s  # type: ignore[method-assign]
        with pytest.raises(av.AsterError) as err:
            client.balance_v3()
        assert (err.value.code, err.value.msg) == (
            -1102,
            "Parameter 'nonce' must be microseconds since the epoch.",
        )
