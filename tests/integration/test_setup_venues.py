"""Provider setup for Hyperliquid, Aster, the RSA-keyed API and PaperExchange: check, sign,
execute against the sandbox; polling repeats the step; a satisfied setup asks for nothing."""

from __future__ import annotations

import pytest

from toolkit import setup
from toolkit.keystore.store import KeyStore
from toolkit.secrets import generate_password
from toolkit.venues.aster import AsterClient, AsterError
from toolkit.venues.eip712 import Wallet
from toolkit.venues.hyperliquid import HyperliquidClient, HyperliquidError
from toolkit.venues.kalshi import KalshiClient
from toolkit.venues.paperx import PaperClient


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path / "ks", generate_password(), use_keyring=False)


def run(provider, address, status, *, client, store, wallet=None):
    signed = [
        setup.sign_setup_action(provider, address, step, wallet=wallet, client=client, store=store)
        for step in status.setup
    ]
    return setup.execute_setup(provider, address, status.setup, signed, client=client, store=store)


def test_every_provider_has_a_descriptor_served_by_the_sandbox(http):
    served = {p["key"]: p for p in http.get("/providers").json()["providers"]}
    assert set(served) == {"hyperliquid", "aster", "lighter", "kalshi", "paperx"}
    (approve,) = served["hyperliquid"]["setup"]
    assert approve["type"] == "approveAgent" and approve["signers"] == ["USER"]
    assert approve["signingMethod"] == "eip712" and approve["sequence"] == 10
    assert [p["name"] for p in approve["params"]] == ["agentAddress", "agentTtlMs"]
    assert served["kalshi"]["setup"][0]["type"] == "registerApiKey"
    assert served["paperx"]["setup"][0]["signingMethod"] == "login"


def test_unknown_provider_is_refused(store):
    with pytest.raises(
        setup.SetupError,
        match=r"served for \['aster', 'hyperliquid', 'kalshi', 'lighter', 'paperx'\], not 'dydx'",
    ):
        setup.check_setup("dydx", "0x" + "1" * 40, client=None, store=store)


@pytest.mark.moves_clock
def test_hyperliquid_approve_agent_then_ready(sandbox, store):
    master = Wallet.generate()
    with HyperliquidClient(sandbox) as client:
        first = setup.check_setup("hyperliquid", master.address, client=client, store=store)
        again = setup.check_setup("hyperliquid", master.address, client=client, store=store)
        assert not first.is_ready and first.setup == again.setup  # polling repeats the same step
        (step,) = first.setup
        assert step.type == "approveAgent" and step.params["agentName"] == "toolkit"
        assert [e.status for e in store.entries()] == ["pending"]

        # before a deposit the venue refuses, in its own words, and nothing is half-written
        with pytest.raises(
            HyperliquidError, match=f"User or API Wallet {master.address.lower()} does not exist"
        ):
            run("hyperliquid", master.address, first, client=client, store=store, wallet=master)
        assert [e.status for e in store.entries()] == ["pending"]

        sandbox.deposit("hyperliquid", master.address, 1_000)
        (result,) = run("hyperliquid", master.address, first, client=client, store=store, wallet=master)
        assert result["status"] == "ok" and result["agentAddress"] == step.params["agentAddress"]
        assert setup.check_setup("hyperliquid", master.address, client=client, store=store).is_ready
        (entry,) = store.entries()
        assert entry.status == "active" and entry.expires_at is not None
        agent = Wallet.from_key(entry.secret("private_key"))
        assert client.user_role(agent.address) == {"role": "agent", "data": {"user": master.address.lower()}}

        # expiry makes the step due again, and the replacement revokes the old entry
        sandbox.advance(hours=24 * 30)
        due = setup.check_setup("hyperliquid", master.address, client=client, store=store)
        assert not due.is_ready
        run("hyperliquid", master.address, due, client=client, store=store, wallet=master)
        assert sorted(e.status for e in store.entries()) == ["active", "revoked"]


def test_hyperliquid_sign_checks_the_wallet_and_the_step(sandbox, store):
    master, other = Wallet.generate(), Wallet.generate()
    with HyperliquidClient(sandbox) as client:
        status = setup.check_setup("hyperliquid", master.address, client=client, store=store)
        with pytest.raises(
            setup.SetupError, match=f"the wallet is {other.address}, but this setup is for {master.address}"
        ):
            setup.sign_setup_action(
                "hyperliquid", master.address, status.setup[0], wallet=other, client=client, store=store
            )
        store.delete(status.setup[0].id)
        with pytest.raises(setup.SetupError, match="no longer current: call check_setup again"):
            setup.sign_setup_action(
                "hyperliquid", master.address, status.setup[0], wallet=master, client=client, store=store
            )
        with pytest.raises(setup.SetupError, match="up to 180 days, not 200"):
            setup.check_setup("hyperliquid", master.address, client=client, store=store, days=200)


def test_aster_register_and_approve_agent_then_ready(sandbox, store):
    main = Wallet.generate()
    with AsterClient(sandbox) as client:
        status = setup.check_setup("aster", main.address, client=client, store=store)
        assert (
            not status.is_ready
            and status.setup == setup.check_setup("aster", main.address, client=client, store=store).setup
        )
        run("aster", main.address, status, client=client, store=store, wallet=main)
        assert setup.check_setup("aster", main.address, client=client, store=store).is_ready
        (entry,) = store.entries()
        with AsterClient(sandbox, user=main.address, agent_key=entry.secret("private_key")) as agent:
            assert [a["agentAddress"].lower() for a in agent.agents()] == [entry.key_ref]
        # deleted at the venue: the step is due again
        client.delete_agent(main, entry.key_ref)
        assert not setup.check_setup("aster", main.address, client=client, store=store).is_ready
        assert store.get(entry.id).status == "revoked"


def test_aster_replayed_signature_is_refused_in_the_venues_words(sandbox, store):
    main = Wallet.generate()
    with AsterClient(sandbox) as client:
        status = setup.check_setup("aster", main.address, client=client, store=store)
        (signed,) = [
            setup.sign_setup_action("aster", main.address, s, wallet=main, client=client, store=store)
            for s in status.setup
        ]
        forged = setup.SignedRequest(signed.step_id, signed.body | {"agentName": "renamed"})
        with pytest.raises(AsterError) as refused:
            setup.execute_setup("aster", main.address, status.setup, [forged], client=client, store=store)
        assert (
            refused.value.code == -1022 and refused.value.msg == "Signature for this request is not valid."
        ), refused.value
        assert [e.status for e in store.entries()] == ["pending"]


def test_kalshi_register_api_key_with_a_session(sandbox, store):
    member = sandbox.kalshi_member(usage_level="premier")
    with KalshiClient(sandbox, session_token=member.session_token) as session:
        status = setup.check_setup("kalshi", member.email, client=session, store=store)
        assert not status.is_ready and status.setup[0].params["publicKeyFingerprint"].startswith("sha256:")
        assert (
            setup.sign_setup_action("kalshi", member.email, status.setup[0], client=session, store=store)
            is None
        )
        (result,) = run("kalshi", member.email, status, client=session, store=store)
        assert [k.api_key_id for k in session.get_api_keys()] == [result["apiKeyId"]]
    assert setup.check_setup("kalshi", member.email, client=session, store=store).is_ready


def test_kalshi_basic_member_gets_a_venue_made_pair(sandbox, store):
    member = sandbox.kalshi_member(usage_level="basic")
    with KalshiClient(sandbox, session_token=member.session_token) as session:
        status = setup.check_setup("kalshi", member.email, client=session, store=store)
        (result,) = run("kalshi", member.email, status, client=session, store=store)
        (entry,) = store.entries()
        assert entry.key_ref == result["apiKeyId"] and entry.status == "active"
        assert setup.check_setup("kalshi", member.email, client=session, store=store).is_ready


def test_paperx_create_api_key_with_a_login(sandbox, store, new_account):
    account = new_account()
    with PaperClient(sandbox) as anonymous:
        status = setup.check_setup("paperx", account.email, client=anonymous, store=store)
        assert status.setup[0].id == f"paperx:{account.email}"
        with pytest.raises(setup.SetupError, match="made by a logged-in client: call login\\(\\) first"):
            run("paperx", account.email, status, client=anonymous, store=store)
    (result,) = run("paperx", account.email, status, client=account.client, store=store)
    assert result["status"] == "ok"
    assert setup.check_setup("paperx", account.email, client=account.client, store=store).is_ready
    (entry,) = store.entries()
    account.client.revoke_api_key(entry.key_ref)
    assert not setup.check_setup("paperx", account.email, client=account.client, store=store).is_ready
    assert store.get(entry.id).status == "revoked"


def test_bad_addresses_are_refused_before_any_request(store):
    with pytest.raises(ValueError, match="user must be a 0x address of 40 hex digits"):
        setup.check_setup(
            "hyperliquid", "0xnothex", client=HyperliquidClient("http://127.0.0.1:9"), store=store
        )
    with pytest.raises(setup.SetupError, match="for a member's email address"):
        setup.check_setup("kalshi", "member-42", client=None, store=store)
    with pytest.raises(setup.SetupError, match="for an account's email address"):
        setup.check_setup("paperx", "nobody", client=None, store=store)
