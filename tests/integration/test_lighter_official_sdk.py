"""The official lighter-sdk, unmodified, against the sandbox: register a key, check it, use its tokens."""

from __future__ import annotations

import asyncio
import time

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
            base_amount=10,
            price=1000,
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
    account_index = sandbox.lighter_deposit(wallet.address, 1000)
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


def test_token_deadline_is_the_wall_clock_even_after_a_fast_forward(sandbox):
    """Deadlines are written from the wall clock by the signer; the sandbox judges them the same way."""
    with LighterClient(sandbox) as ours:
        wallet = Wallet.generate()
        sandbox.lighter_deposit(wallet.address, 10)
        key = ours.register_api_key(wallet)
        sandbox.advance(hours=30)
        assert ours.account_limits(key.account_index, key)["user_tier"] == "standard"
        assert key.signer().create_auth_token(int(time.time()) + 60)
