"""The official lighter-sdk, unmodified, against the sandbox: register a key, check it, use its tokens."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient, wire

lighter = pytest.importorskip("lighter")


async def _sdk_flow(url: str, account_index: int, eth_key: str) -> dict:
    private, public, err = lighter.create_api_key()
    assert err is None
    client = lighter.SignerClient(url=url, account_index=account_index, api_private_keys={42: private})
    try:
        # nonce -1: the native library asks the sandbox's /api/v1/nextNonce itself
        response, err = await client.change_api_key(
            eth_private_key=eth_key, new_pubkey=public, api_key_index=42
        )
        assert err is None, err
        assert response.code == 200
        assert client.check_client() is None  # GET /api/v1/apikeys, compared with its own key
        token, err = client.create_auth_token_with_expiry(api_key_index=42)
        assert err is None
        limits = await lighter.AccountApi(client.api_client).account_limits(
            account_index, authorization=token
        )
        too_long, _ = client.create_auth_token_with_expiry(9 * 3600, api_key_index=42)
        try:
            await lighter.AccountApi(client.api_client).account_limits(account_index, authorization=too_long)
            refused = None
        except lighter.ApiException as exc:
            refused = exc
        # an order through the SDK's own optimistic nonce manager
        _, _, err = await client.create_order(
            market_index=0,
            client_order_index=1,
            base_amount=200,
            price=100_000,
            is_ask=False,
            order_type=client.ORDER_TYPE_LIMIT,
            time_in_force=client.ORDER_TIME_IN_FORCE_POST_ONLY,
        )
        assert err is None, err
        return {"public": public, "limits": limits, "refused": refused}
    finally:
        await client.close()


def test_signer_client_registers_checks_and_authenticates(sandbox):
    wallet = Wallet.generate()
    account_index = sandbox.deposit("lighter", wallet.address, 1000)
    result = asyncio.run(_sdk_flow(sandbox.url, account_index, wallet.private_key.reveal()))
    assert result["limits"].user_tier == "standard"
    assert result["refused"] is not None and result["refused"].status == 401
    assert "more than 8 hours ahead" in str(result["refused"].body)
    with LighterClient(sandbox) as ours:
        slot = ours.api_key(account_index, 42)
        assert slot.public_key == wire.public_key_hex(result["public"])
        assert slot.nonce == 2  # the registration, then the order
    assert sandbox.lighter_accepted_nonces(account_index, 42) == [0, 1]


def test_sdk_sees_account_not_found_for_an_address_without_a_deposit(sandbox):
    async def ask() -> Exception:
        api = lighter.ApiClient(configuration=lighter.Configuration(host=sandbox.url))
        try:
            await lighter.AccountApi(api).accounts_by_l1_address(l1_address=Wallet.generate().address)
        except lighter.ApiException as exc:
            return exc
        finally:
            await api.close()
        raise AssertionError("no error")

    exc = asyncio.run(ask())
    assert exc.data.message == "account not found"  # what the SDK's system_setup example checks
    assert exc.data.code == 21100


@pytest.mark.moves_clock
def test_token_deadline_is_the_wall_clock_even_after_a_fast_forward(sandbox):
    """Deadlines are written from the wall clock by the signer; the sandbox judges them the same way."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        sandbox.deposit("lighter", wallet.address, 10)
        key = ours.register_api_key(wallet)
        sandbox.advance(hours=30)
        assert ours.account_limits(key.account_index, key)["user_tier"] == "standard"
        assert key.signer().create_auth_token(int(time.time()) + 60)


def _batch_key(sandbox) -> tuple[int, str]:
    """A funded Lighter account with a key at slot 42: (account index, the key's private hex)."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        sandbox.deposit("lighter", wallet.address, 5_000)
        key = ours.register_api_key(wallet)
    return key.account_index, key.private_key.reveal().removeprefix("0x")


def _with_signer(sandbox, account_index: int, private: str, act):
    """Run ``act(client)`` (a coroutine function) with the SDK's SignerClient holding the key."""

    async def go():
        client = lighter.SignerClient(
            url=sandbox.url, account_index=account_index, api_private_keys={42: private}
        )
        try:
            return await act(client)
        finally:
            await client.close()

    return asyncio.run(go())


def _signed_order(client, nonce: int, client_order_index: int) -> tuple[int, str]:
    tx_type, tx_info, _, err = client.sign_create_order(
        market_index=0, client_order_index=client_order_index, base_amount=200, price=100_000, is_ask=False,
        order_type=client.ORDER_TYPE_LIMIT, time_in_force=client.ORDER_TIME_IN_FORCE_POST_ONLY,
        nonce=nonce, api_key_index=42,
    )  # fmt: skip
    assert err is None, err
    return tx_type, tx_info


def test_send_tx_batch_applies_each_transaction_in_order(sandbox):
    account, private = _batch_key(sandbox)

    async def act(client):
        batch = [_signed_order(client, nonce, 10 + nonce) for nonce in (1, 2, 3)]
        return await client.send_tx_batch([t for t, _ in batch], [i for _, i in batch])

    answer = _with_signer(sandbox, account, private, act)
    assert (
        answer.code == 200 and len(answer.tx_hash) == 3 and all(len(h) == 80 for h in answer.tx_hash)
    )  # 80 hex, no 0x
    assert sandbox.lighter_accepted_nonces(account, 42) == [0, 1, 2, 3]  # registration, then three
    with LighterClient(sandbox) as ours:
        assert ours.next_nonce(account, 42) == 4


def test_a_refused_transaction_in_a_batch_is_reported_in_its_place(sandbox):
    account, private = _batch_key(sandbox)

    async def act(client):
        good, (forged_type, forged), later = (_signed_order(client, n, 20 + n) for n in (1, 2, 3))
        info = json.loads(forged)
        info["Price"] += 1  # the signature no longer covers it
        return await client.send_tx_batch(
            [good[0], forged_type, later[0]], [good[1], json.dumps(info), later[1]]
        )

    answer = _with_signer(sandbox, account, private, act)
    assert answer.code == 200 and answer.tx_hash[0] and answer.tx_hash[1:] == ["", ""]
    errors = answer.additional_properties["errors"]
    assert errors[0] is None and errors[1] == {"code": wire.INVALID_SIGNATURE, "message": "invalid signature"}
    assert errors[2]["code"] == wire.INVALID_NONCE  # its nonce 3 follows a refusal that kept 2 unused
    assert "transaction 2 of 3 refused: invalid signature (21120)" in answer.message
    assert sandbox.lighter_accepted_nonces(account, 42) == [0, 1]


@pytest.mark.parametrize(
    ("form", "body"),
    [
        ({"tx_types": "[]", "tx_infos": "[]"}, {"code": 21514, "message": "a batch holds 1 to 50 transactions"}),
        ({"tx_types": json.dumps([14] * 51), "tx_infos": json.dumps(["{}"] * 51)},
         {"code": 21514, "message": "a batch holds 1 to 50 transactions"}),
        ({"tx_types": "[14, 14]", "tx_infos": json.dumps(["{}"])},
         {"code": 21513, "message": "tx_types and tx_infos must have the same length"}),
        ({"tx_types": "14", "tx_infos": "[]"}, {"code": 20001, "message": "tx_types must be a JSON list of ints"}),
        ({"tx_types": "[14]", "tx_infos": "[{}]"}, {"code": 20001, "message": "tx_infos must be a JSON list of strs"}),
        ({"tx_types": "[true]", "tx_infos": '["{}"]'}, {"code": 20001, "message": "tx_types must be a JSON list of ints"}),
        ({"tx_types": "[14]", "tx_infos": '["x"]'}, {"code": 21103, "message": "each of tx_infos must be a JSON object"}),
        ({"tx_types": "[14", "tx_infos": "[]"}, {"code": 20001, "message": "tx_types must be JSON text of a list"}),
        ({"tx_infos": "[]"}, {"code": 20001, "message": "tx_types is required"}),
    ],
)  # fmt: skip
def test_a_batch_that_breaks_the_batch_rules_is_refused_whole(sandbox, form, body):
    answer = httpx.post(f"{sandbox.url}/api/v1/sendTxBatch", data=form)
    assert (answer.status_code, answer.json()) == (400, body)


def test_a_batch_of_two_senders_or_falling_nonces_is_refused_whole(sandbox):
    account, private = _batch_key(sandbox)
    other_account, other_private = _batch_key(sandbox)

    async def mine(client):
        return _signed_order(client, 1, 31), _signed_order(client, 2, 33), _signed_order(client, 1, 34)

    async def theirs(client):
        return _signed_order(client, 1, 32)

    first, later, earlier = _with_signer(sandbox, account, private, mine)
    other = _with_signer(sandbox, other_account, other_private, theirs)
    mixed = {"tx_types": json.dumps([first[0], other[0]]), "tx_infos": json.dumps([first[1], other[1]])}
    answer = httpx.post(f"{sandbox.url}/api/v1/sendTxBatch", data=mixed)
    assert (answer.status_code, answer.json()) == (
        400, {"code": 21121, "message": "a batch must come from one account and API key"},
    )  # fmt: skip
    falling = {"tx_types": json.dumps([later[0], earlier[0]]), "tx_infos": json.dumps([later[1], earlier[1]])}
    answer = httpx.post(f"{sandbox.url}/api/v1/sendTxBatch", data=falling)
    assert (answer.status_code, answer.json()) == (
        400, {"code": 21105, "message": "batch transaction nonce is not increasing"},
    )  # fmt: skip
    assert sandbox.lighter_accepted_nonces(account, 42) == [0]  # nothing applied
