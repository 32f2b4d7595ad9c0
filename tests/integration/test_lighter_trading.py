"""Lighter trading on the clearinghouse, through the official lighter-sdk, unmodified: leverage, a
resting order and one that fills, modify, cancel, a batch, and every read of the result."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from decimal import Decimal

import httpx
import pytest

from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient, wire

lighter = pytest.importorskip("lighter")

ETH = 0
SIZE = 200  # 0.0200 ETH: above the market's minimum of 0.0050 and worth more than 10 USDC


def _funded_key(sandbox, usdc: float = 10_000) -> tuple[int, str]:
    """A funded account with a key registered at slot 42: (account index, the key's private hex)."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        sandbox.deposit("lighter", wallet.address, usdc)
        key = ours.register_api_key(wallet)
    return key.account_index, key.private_key.reveal().removeprefix("0x")


def _run(sandbox, account: int, private: str, act):
    async def go():
        client = lighter.SignerClient(url=sandbox.url, account_index=account, api_private_keys={42: private})
        try:
            return await act(client)
        finally:
            await client.close()

    return asyncio.run(go())


def _ok(result) -> None:
    *_, err = result
    assert err is None, err


async def _best(client, is_ask: bool) -> int:
    """The SDK's own best-price read: the book's best ask (or bid) as an integer price."""
    return await client.get_best_price(ETH, not is_ask)


def test_the_sdk_trades_and_reads_every_result_back(sandbox):
    account, private = _funded_key(sandbox)

    async def act(client):
        _ok(await client.update_leverage(ETH, client.CROSS_MARGIN_MODE, 10))
        bid = await _best(client, is_ask=False)
        ask = await _best(client, is_ask=True)
        resting = bid * 9 // 10
        _ok(await client.create_order(ETH, 1, SIZE, resting, False, client.ORDER_TYPE_LIMIT,
                                      client.ORDER_TIME_IN_FORCE_GOOD_TILL_TIME))  # fmt: skip
        _ok(await client.create_market_order(ETH, 2, SIZE, ask * 105 // 100, False))
        token, _ = client.create_auth_token_with_expiry(api_key_index=42)
        orders = lighter.OrderApi(client.api_client)
        (open_order,) = (
            await orders.account_active_orders(account_index=account, authorization=token)
        ).orders
        _ok(await client.modify_order(ETH, open_order.order_index, SIZE * 2, resting + 100))
        modified = (await orders.account_active_orders(account_index=account, authorization=token)).orders
        _ok(await client.cancel_order(ETH, open_order.order_index))
        nonce = (await lighter.TransactionApi(client.api_client).next_nonce(account, 42)).nonce
        batch = []
        for i in range(3):
            tx_type, info, _, err = client.sign_create_order(
                market_index=ETH, client_order_index=10 + i, base_amount=SIZE, price=resting - i * 100,
                is_ask=False, order_type=client.ORDER_TYPE_LIMIT,
                time_in_force=client.ORDER_TIME_IN_FORCE_POST_ONLY, nonce=nonce + i, api_key_index=42,
            )  # fmt: skip
            assert err is None
            batch.append((tx_type, info))
        sent = await client.send_tx_batch([t for t, _ in batch], [i for _, i in batch])
        accounts = await lighter.AccountApi(client.api_client).account(by="index", value=str(account))
        active = await orders.account_active_orders(account_index=account, authorization=token)
        inactive = await orders.account_inactive_orders(account_index=account, limit=10, authorization=token)
        books = await orders.order_books()
        trades = await orders.recent_trades(ETH, 10)
        rates = await lighter.FundingApi(client.api_client).funding_rates()
        now = int(time.time())
        fundings = await lighter.CandlestickApi(client.api_client).fundings(
            market_id=ETH,
            resolution="1h",
            start_timestamp=now - 86_400,
            end_timestamp=now + 86_400,
            count_back=24,
        )
        return locals()

    r = _run(sandbox, account, private, act)
    assert r["sent"].code == 200 and all(r["sent"].tx_hash)
    (moved,) = r["modified"]
    assert moved.order_index == r["open_order"].order_index  # a modify keeps the order's index
    assert moved.remaining_base_amount == "0.0400" and int(moved.price.replace(".", "")) == r["resting"] + 100
    (acct,) = r["accounts"].accounts
    (position,) = acct.positions
    assert (position.market_id, position.sign, position.position) == (ETH, 1, "0.0200")
    assert position.initial_margin_fraction == "10.00" and position.margin_mode == 0
    assert Decimal(acct.collateral) == Decimal("10000.000000")  # the standard tier pays no fees
    assert [o.client_order_index for o in r["active"].orders] == [10, 11, 12]
    assert all(o.status == "open" and o.time_in_force == "post-only" for o in r["active"].orders)
    statuses = {o.client_order_index: o.status for o in r["inactive"].orders}
    assert statuses == {1: "canceled", 2: "filled"}
    filled = next(o for o in r["inactive"].orders if o.client_order_index == 2)
    assert filled.filled_base_amount == "0.0200" and filled.type == "market"
    (trade,) = [t for t in r["trades"].trades if t.bid_account_id == account]
    assert (
        trade.size == "0.0200" and trade.bid_id == filled.order_index and trade.is_maker_ask
    )  # the book's ask made it
    assert Decimal(trade.price) == Decimal(position.avg_entry_price)
    assert ETH in {b.market_id for b in r["books"].order_books}
    assert {(f.market_id, f.exchange) for f in r["rates"].funding_rates} >= {(ETH, "lighter")}
    hours = [f.timestamp for f in r["fundings"].fundings]
    assert len(hours) == 24 and all(b - a == 3600 for a, b in itertools.pairwise(hours))


def test_an_order_the_sequencer_refuses_uses_its_nonce_and_ends_canceled(sandbox):
    account, private = _funded_key(sandbox, usdc=20)

    async def act(client):
        ask = await _best(client, is_ask=True)
        # 2 ETH on 20 USDC: accepted by the API, canceled for margin
        _ok(await client.create_market_order(ETH, 5, 20_000, ask * 105 // 100, False))
        token, _ = client.create_auth_token_with_expiry(api_key_index=42)
        inactive = await lighter.OrderApi(client.api_client).account_inactive_orders(
            account_index=account, limit=5, authorization=token
        )
        nonce = (await lighter.TransactionApi(client.api_client).next_nonce(account, 42)).nonce
        return inactive, nonce

    inactive, nonce = _run(sandbox, account, private, act)
    (order,) = inactive.orders
    assert (order.client_order_index, order.status) == (5, "canceled-margin-not-allowed")
    assert nonce == 2  # registration, then the order


@pytest.mark.parametrize(
    ("change", "code", "message"),
    [
        ({"market_index": 7}, wire.INVALID_MARKET_INDEX, "invalid market index"),
        ({"base_amount": 10}, wire.INVALID_BASE_AMOUNT, "below the market's minimum of 0.0050 ETH"),
        (
            {"price": 1_000},
            wire.INVALID_BASE_AMOUNT,
            "worth less than the market's minimum of 10.000000 USDC",
        ),
        ({"order_type": 6}, wire.INVALID_TX, "TWAP orders are not supported by the sandbox"),
    ],
)
def test_the_api_refuses_an_order_off_the_markets_rules_and_keeps_the_nonce(sandbox, change, code, message):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        order = dict(market_index=ETH, base_amount=SIZE, price=100_000, is_ask=False, order_type=0) | change
        signed = key.signer().sign_create_order(
            client_order_index=3, time_in_force=wire.GOOD_TILL_TIME, nonce=1, **order
        )
        data = {"tx_type": signed.tx_type, "tx_info": signed.tx_info}
        answer = httpx.post(f"{sandbox.url}/api/v1/sendTx", data=data)
        assert answer.status_code == 400
        assert answer.json()["code"] == code and message in answer.json()["message"]
        assert ours.next_nonce(key.account_index, 42) == 1


def test_leverage_and_isolated_margin(sandbox):
    account, private = _funded_key(sandbox, usdc=1_000)

    async def act(client):
        out = {"too_high": await client.update_leverage(ETH, client.ISOLATED_MARGIN_MODE, 60)}
        out["no_position"] = await client.update_margin(ETH, 5.0, client.ISOLATED_MARGIN_ADD_COLLATERAL)
        _ok(await client.update_leverage(ETH, client.ISOLATED_MARGIN_MODE, 5))
        ask = await _best(client, is_ask=True)
        _ok(await client.create_market_order(ETH, 1, SIZE, ask * 105 // 100, False))
        before = await lighter.AccountApi(client.api_client).account(by="index", value=str(account))
        _ok(await client.update_margin(ETH, 5.0, client.ISOLATED_MARGIN_ADD_COLLATERAL))
        after = await lighter.AccountApi(client.api_client).account(by="index", value=str(account))
        out["switch"] = await client.update_leverage(ETH, client.CROSS_MARGIN_MODE, 5)
        return out | {"before": before, "after": after}

    r = _run(sandbox, account, private, act)
    assert "allows at least 200 (50x)" in str(r["too_high"][-1])
    assert "no isolated position found on ETH" in str(r["no_position"][-1])
    assert "close the position before switching" in str(r["switch"][-1])
    (before,), (after,) = r["before"].accounts[0].positions, r["after"].accounts[0].positions
    assert before.margin_mode == 1 and before.initial_margin_fraction == "20.00"
    assert Decimal(after.allocated_margin) - Decimal(before.allocated_margin) == Decimal("5.000000")


def test_funding_over_48_hours_is_each_hourly_payment_once(own_sandbox):
    sandbox = own_sandbox
    account, private = _funded_key(sandbox)

    async def open_position(client):
        ask = await _best(client, is_ask=True)
        _ok(await client.create_market_order(ETH, 1, SIZE * 10, ask * 105 // 100, False))

    _run(sandbox, account, private, open_position)
    sandbox.advance(hours=48)

    async def read(client):
        token, _ = client.create_auth_token_with_expiry(api_key_index=42)
        api = lighter.AccountApi(client.api_client)
        pages = await api.position_funding(account, limit=100, authorization=token)
        accounts = await api.account(by="index", value=str(account))
        return pages, accounts

    pages, accounts = _run(sandbox, account, private, read)
    payments = pages.position_fundings
    assert len(payments) == 48 and len({p.funding_id for p in payments}) == 48
    assert all(p.position_side == "long" and p.position_size == "0.2000" for p in payments)
    (position,) = accounts.accounts[0].positions
    paid_out = -sum(Decimal(p.change) for p in payments)
    assert abs(Decimal(position.total_funding_paid_out) - paid_out) <= Decimal("0.000048")  # rounding
    collateral = Decimal(accounts.accounts[0].collateral)
    assert abs(collateral - (Decimal(10_000) - paid_out)) <= Decimal("0.000048")


def test_a_premium_account_pays_the_premium_taker_fee(sandbox):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        ours.change_account_tier(key, "premium")
        _, ask = ours.best_prices(ETH)
        ours.create_market_order(key, market_index=ETH, base_amount=SIZE, worst_price=ask * 2, is_ask=False)
        (trade,) = ours.trades(index, key)
        account = ours.account(index)
    assert trade["taker_fee"] == 280  # 0.0280 %, in units of 0.0001 %
    fee = Decimal(trade["usd_amount"]) * Decimal("0.00028")
    assert abs(Decimal(1_000) - Decimal(account["collateral"]) - fee) <= Decimal("0.000001")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("accountActiveOrders", {"account_index": "100"}),
        ("accountInactiveOrders", {"account_index": "100", "limit": "5"}),
        ("positionFunding", {"account_index": "100", "limit": "5"}),
        ("trades", {"account_index": "100", "limit": "5", "sort_by": "timestamp"}),
    ],
)
def test_an_accounts_private_reads_need_its_auth_token(sandbox, path, params):
    answer = httpx.get(f"{sandbox.url}/api/v1/{path}", params=params)
    assert answer.status_code == 401
    assert answer.json() == {
        "code": 20013,
        "message": "invalid auth token: the Authorization header is missing",
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"by": "index", "value": "١٠٠"}, "value must be an account index"),
        ({"by": "index", "value": "1e3"}, "value must be an account index"),
        ({"by": "index", "value": str(2**60)}, "value must be an account index"),
        ({"by": "l1_address", "value": "0x" + "zz" * 20}, "value must be an L1 address"),
    ],
)
def test_account_lookup_refuses_a_malformed_value(sandbox, params, message):
    answer = httpx.get(f"{sandbox.url}/api/v1/account", params=params)
    assert answer.status_code == 400
    assert answer.json()["code"] == 20001 and message in answer.json()["message"]


def test_account_lookup_of_an_unknown_index_is_account_not_found(sandbox):
    answer = httpx.get(f"{sandbox.url}/api/v1/account", params={"by": "index", "value": "99"})
    assert answer.status_code == 400 and answer.json() == {"code": 21100, "message": "account not found"}


def test_a_liquidation_below_maintenance_margin_in_the_reads_and_the_frames(own_sandbox):
    """About 8x long ARB on 60 USDC: the mark moves against it until the account is below its
    maintenance margin, the position is closed at the mark, and every read and frame says so."""
    from toolkit import frames

    sb = own_sandbox
    arb = 50
    with LighterClient(sb) as ours:
        wallet = Wallet.generate()
        index = sb.deposit("lighter", wallet.address, 60)
        key = ours.register_api_key(wallet)
        _, ask = ours.best_prices(arb)
        size = round(500 / (ask / 1e5), 1)  # ARB prices have 5 decimals, sizes 1
        start = sb.now_ms()
        ours.create_market_order(
            key, market_index=arb, base_amount=round(size * 10), worst_price=ask * 2, is_ask=False
        )
        for _ in range(60):
            sb.advance(hours=24)
            if not ours.account(index)["positions"]:
                break
        account = ours.account(index)
    src = frames.Lighter(sb, auth=key, progress=False, cache=False)
    liquidations = src.liquidations(index, start, backend="polars")
    assert liquidations.height == 1, "not liquidated in 60 days: pick a bigger position"
    row = liquidations.row(0, named=True)
    assert (row["coin"], row["side"], row["size"]) == ("ARB", "long", size)
    assert row["notional"] == pytest.approx(row["size"] * row["price"])
    assert row["account_value"] < 500 * 0.1  # below the initial margin: the maintenance check closed it
    assert account["positions"] == [] and src.positions(index, backend="polars").height == 0
    fills = src.fills(index, start, backend="polars")
    assert fills["liquidation"].to_list() == [False, True]
    assert fills["dir"].cast(str).to_list() == ["Open Long", "Close Long"]
    funding = src.funding(index, start, backend="polars")
    # the account's money adds up: what it started with, the trades' PnL and fees, the funding
    cash = 60 + fills["closed_pnl"].sum() - fills["fee"].sum() + funding["usdc"].sum()
    assert Decimal(account["collateral"]) == pytest.approx(
        Decimal(str(round(cash, 6))), abs=Decimal("0.00001")
    )

    async def sdk_read(client):  # the SDK's own model of a liquidation parses what the sandbox sends
        token, _ = client.create_auth_token_with_expiry(api_key_index=42)
        return await lighter.AccountApi(client.api_client).liquidations(
            authorization=token, account_index=index, limit=10
        )

    (liquidation,) = _run(sb, index, key.private_key.reveal().removeprefix("0x"), sdk_read).liquidations
    assert liquidation.market_id == arb and liquidation.trade.ask_account_id == index


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("trades", {"sort_by": "timestamp", "limit": "5", "cursor": "٣"}),
        ("trades", {"sort_by": "timestamp", "limit": "5", "cursor": "9" * 40}),
        ("trades", {"sort_by": "timestamp", "limit": "5", "cursor": "-1"}),
    ],
)
def test_a_cursor_the_api_never_returned_is_refused(sandbox, path, params):
    answer = httpx.get(f"{sandbox.url}/api/v1/{path}", params=params)
    assert answer.status_code == 400
    assert answer.json() == {"code": 20001, "message": "cursor must be a next_cursor this API returned"}


def test_pages_of_trades_follow_their_cursor_without_a_gap_or_a_repeat(sandbox):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 5_000)
        key = ours.register_api_key(wallet)
        for i in range(5):
            _, ask = ours.best_prices(ETH)
            ours.create_market_order(key, market_index=ETH, base_amount=SIZE, worst_price=ask * 2, is_ask=False,
                                     client_order_index=i + 1)  # fmt: skip
        pages, cursor = [], None
        while True:
            page = ours.trades_page(index, key, limit=2, cursor=cursor)
            pages.append([t["trade_id"] for t in page["trades"]])
            cursor = page.get("next_cursor")
            if cursor is None:
                break
    ids = [i for page in pages for i in page]
    assert [len(p) for p in pages] == [2, 2, 1] and ids == sorted(ids, reverse=True) and len(set(ids)) == 5


def test_lighter_margin_is_lighters_own_not_hyperliquids(sandbox):
    """ETH on Lighter: up to 50x (Hyperliquid's ETH stops at 25x) and 1.2 % maintenance (2 % there)."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        ours.update_leverage(key, ETH, 40)
        _, ask = ours.best_prices(ETH)
        ours.create_market_order(key, market_index=ETH, base_amount=10_000, worst_price=ask * 2, is_ask=False)
        account = ours.account(index)
    (position,) = account["positions"]
    assert position["initial_margin_fraction"] == "2.50"  # 40x
    value = Decimal(position["position_value"])
    assert Decimal(account["cross_maintenance_margin_requirement"]) == pytest.approx(
        value * Decimal("0.012"), abs=Decimal("0.000002")
    )
    assert Decimal(account["cross_initial_margin_requirement"]) == pytest.approx(
        value / 40, abs=Decimal("0.000002")
    )


def test_a_modify_below_the_markets_minimum_is_refused_and_the_order_stays(sandbox):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        bid, _ = ours.best_prices(ETH)
        ours.create_order(key, market_index=ETH, base_amount=SIZE, price=bid * 9 // 10, is_ask=False,
                          client_order_index=4)  # fmt: skip
        with pytest.raises(wire.LighterError) as refused:
            ours.modify_order(key, ETH, 4, 10, bid * 9 // 10)
        (order,) = ours.active_orders(index, key)
    assert refused.value.code == wire.INVALID_BASE_AMOUNT
    assert "below the market's minimum of 0.0050 ETH" in refused.value.message
    assert order["remaining_base_amount"] == "0.0200" and order["client_order_index"] == 4


def test_inactive_orders_page_by_cursor_and_filter_by_side(sandbox):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 5_000)
        key = ours.register_api_key(wallet)
        bid, ask = ours.best_prices(ETH)
        for i in range(3):  # three bids and two asks, each placed and cancelled
            ours.create_order(key, market_index=ETH, base_amount=SIZE, price=bid * 9 // 10, is_ask=False,
                              client_order_index=10 + i)  # fmt: skip
            ours.cancel_order(key, ETH, 10 + i)
        for i in range(2):
            ours.create_order(key, market_index=ETH, base_amount=SIZE, price=ask * 11 // 10, is_ask=True,
                              client_order_index=20 + i)  # fmt: skip
            ours.cancel_order(key, ETH, 20 + i)
        token = ours.create_auth_token(key).reveal()
        pages, cursor = [], None
        while True:
            params = {"account_index": index, "limit": 2, "ask_filter": 0} | (
                {"cursor": cursor} if cursor else {}
            )
            page = httpx.get(f"{sandbox.url}/api/v1/accountInactiveOrders", params=params,
                             headers={"authorization": token}).json()  # fmt: skip
            pages.append([o["client_order_index"] for o in page["orders"]])
            cursor = page.get("next_cursor")
            if cursor is None:
                break
    assert pages == [[12, 11], [10]]


def test_leverage_and_margin_transactions_off_the_rules_are_refused_and_keep_the_nonce(sandbox):
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        index = sandbox.deposit("lighter", wallet.address, 1_000)
        key = ours.register_api_key(wallet)
        signer = key.signer()
        answers = []
        for signed in (
            signer.sign_update_leverage(7, 1_000, wire.CROSS_MARGIN, 1),  # no market 7
            signer.sign_update_margin(ETH, -5, wire.ADD_MARGIN, 1),  # Go lets a negative amount through
        ):
            answer = httpx.post(
                f"{sandbox.url}/api/v1/sendTx", data={"tx_type": signed.tx_type, "tx_info": signed.tx_info}
            )
            answers.append((answer.status_code, answer.json()))
        forged = json.loads(signer.sign_update_leverage(ETH, 1_000, wire.CROSS_MARGIN, 1).tx_info)
        forged["InitialMarginFraction"] = 0  # what the signer refuses to sign, sent raw
        raw = httpx.post(
            f"{sandbox.url}/api/v1/sendTx", data={"tx_type": "20", "tx_info": json.dumps(forged)}
        )
        nonce = ours.next_nonce(index, 42)
    assert answers == [
        (400, {"code": wire.INVALID_MARKET_INDEX, "message": "invalid market index"}),
        (400, {"code": wire.INVALID_TX, "message": "USDCAmount must be positive"}),
    ]
    assert raw.status_code == 400 and raw.json() == {
        "code": wire.INVALID_TX, "message": "InitialMarginFraction should not be less than 0"
    }  # fmt: skip
    assert nonce == 1
