"""Provider setup for Lighter (seed 004): descriptors, and check / sign / execute, idempotent."""

from __future__ import annotations

import pytest

from toolkit import setup
from toolkit.keystore.store import KeyStore
from toolkit.secrets import generate_password
from toolkit.setup import lighter as lighter_keys
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import AccountNotFound, LighterClient, wire


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path / "ks", generate_password(), use_keyring=False)


@pytest.fixture
def lighter(sandbox):
    with LighterClient(sandbox) as client:
        yield client


def test_providers_serves_lighters_descriptors(http, lighter):
    providers = http.get("/providers").json()["providers"]
    assert providers == setup.providers(lighter)
    (lighter_provider,) = [p for p in providers if p["key"] == "lighter"]
    (register,) = lighter_provider["setup"]
    assert register["type"] == "registerApiKey" and register["title"] == "Register Trading API Key"
    assert register["signers"] == ["USER", "API_KEY"] and register["signingMethod"] == "wasmBlob"
    assert register["sequence"] == 10
    options = {o["type"]: o for o in lighter_provider["options"]}
    mode = options["accountMode"]["params"][0]
    assert mode["readOnly"] is True and "default" not in mode
    assert [v["value"] for v in mode["values"]] == ["unifiedTradingAccount", "simpleTradingAccount"]
    tier = options["accountType"]["params"][0]
    assert [v["value"] for v in tier["values"]] == ["standard", "premium"]
    assert tier["default"]["value"] == "standard" and "readOnly" not in tier


def test_setup_before_a_deposit_says_deposit_first(lighter, store):
    with pytest.raises(AccountNotFound, match="Deposit first"):
        setup.check_setup("lighter", Wallet.generate().address, client=lighter, store=store)
    assert store.entries() == []


def test_check_sign_execute_then_ready(sandbox, lighter, store):
    wallet = Wallet.generate()
    account = sandbox.deposit("lighter", wallet.address, 100)
    status = setup.check_setup("lighter", wallet.address, client=lighter, store=store)
    assert not status.is_ready and status.account_index == account
    (step,) = status.setup
    assert step.type == "registerApiKey" and step.params["apiKeyIndex"] == 42 and step.params["nonce"] == 0
    signed = setup.sign_setup_action(
        "lighter", wallet.address, step, wallet=wallet, client=lighter, store=store
    )
    results = setup.execute_setup(
        "lighter", wallet.address, status.setup, [signed], client=lighter, store=store
    )
    assert results == [{"step": step.id, "type": "registerApiKey", "txHash": signed.tx_hash, "status": "ok"}]
    again = setup.check_setup("lighter", wallet.address, client=lighter, store=store)
    assert again.is_ready and again.setup == []
    (entry,) = store.entries()
    assert entry.status == "active" and "setup_nonce" not in entry.extra
    key = lighter_keys.lighter_key(entry)
    assert lighter.account_limits(account, key)["user_tier"] == "standard"  # the stored key works


def test_polling_reuses_the_record_and_burns_no_nonce(sandbox, lighter, store):
    wallet = Wallet.generate()
    account = sandbox.deposit("lighter", wallet.address, 100)
    first = setup.check_setup("lighter", wallet.address, client=lighter, store=store)
    for _ in range(5):
        again = setup.check_setup("lighter", wallet.address, client=lighter, store=store)
        assert again.setup == first.setup  # same record id, nonce and key
    assert len(store.entries()) == 1
    assert lighter.next_nonce(account, 42) == 0
    assert sandbox.lighter_accepted_nonces(account, 42) == []


def test_a_stale_record_is_replaced_and_cannot_be_signed(sandbox, lighter, store):
    wallet = Wallet.generate()
    account = sandbox.deposit("lighter", wallet.address, 100)
    stale = setup.check_setup("lighter", wallet.address, client=lighter, store=store).setup[0]
    # the slot's nonce moves elsewhere: a key registered and revoked outside this flow
    lighter.revoke_api_key(wallet, lighter.register_api_key(wallet))
    assert lighter.next_nonce(account, 42) == 2
    fresh = setup.check_setup("lighter", wallet.address, client=lighter, store=store).setup[0]
    assert fresh.id != stale.id and fresh.params["nonce"] == 2
    assert [e.id for e in store.entries()] == [fresh.id]  # the stale record is gone, not duplicated
    with pytest.raises(setup.SetupError, match="no longer current: call check_setup again"):
        setup.sign_setup_action("lighter", wallet.address, stale, wallet=wallet, client=lighter, store=store)
    with pytest.raises(setup.SetupError, match="but this setup is for"):
        setup.sign_setup_action(
            "lighter", wallet.address, fresh, wallet=Wallet.generate(), client=lighter, store=store
        )
    signed = setup.sign_setup_action(
        "lighter", wallet.address, fresh, wallet=wallet, client=lighter, store=store
    )
    setup.execute_setup("lighter", wallet.address, [fresh], [signed], client=lighter, store=store)
    assert setup.check_setup("lighter", wallet.address, client=lighter, store=store).is_ready


def test_a_cleared_local_key_store_needs_the_step_again(sandbox, lighter, store, tmp_path):
    wallet = Wallet.generate()
    sandbox.deposit("lighter", wallet.address, 100)
    status = setup.check_setup("lighter", wallet.address, client=lighter, store=store)
    signed = setup.sign_setup_action(
        "lighter", wallet.address, status.setup[0], wallet=wallet, client=lighter, store=store
    )
    setup.execute_setup("lighter", wallet.address, status.setup, [signed], client=lighter, store=store)
    empty = KeyStore.open(tmp_path / "other", generate_password(), use_keyring=False)
    status = setup.check_setup("lighter", wallet.address, client=lighter, store=empty)
    assert not status.is_ready and status.setup[0].params["nonce"] == 1  # the slot holds someone else's key
    signed = setup.sign_setup_action(
        "lighter", wallet.address, status.setup[0], wallet=wallet, client=lighter, store=empty
    )
    setup.execute_setup("lighter", wallet.address, status.setup, [signed], client=lighter, store=empty)
    assert setup.check_setup("lighter", wallet.address, client=lighter, store=empty).is_ready
    # the first store's key was overwritten at the venue: it notices and asks again
    assert not setup.check_setup("lighter", wallet.address, client=lighter, store=store).is_ready
    assert [e.status for e in store.entries()] == ["revoked", "pending"]


def test_other_providers_and_slots_are_refused(lighter, store):
    with pytest.raises(setup.SetupError, match="not 'kraken'"):
        setup.check_setup("kraken", "0x" + "1" * 40, client=lighter, store=store)
    with pytest.raises(wire.LighterError, match="reserved"):
        setup.check_setup("lighter", "0x" + "1" * 40, client=lighter, store=store, api_key_index=3)


def test_a_server_that_serves_no_catalogue_is_named_in_the_error(sandbox):
    from toolkit.venues import providers as pv

    with pytest.raises(
        ValueError, match=r"/nowhere/providers did not answer a provider catalogue \(HTTP 404\)"
    ):
        pv.served(sandbox.url + "/nowhere")
