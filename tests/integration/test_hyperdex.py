"""HyperDEX server wallets (seed 000): each endpoint, each refusal, shares that the database alone
cannot open, and registrations that really happened at the venues."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.integration.conftest import database_of
from toolkit.sandbox import store
from toolkit.venues import hyperliquid as hl
from toolkit.venues.hyperdex import HyperDexClient, HyperDexError


@pytest.fixture
def hyperdex(sandbox):
    with HyperDexClient(sandbox, api_key=sandbox.hyperdex_api_key()) as client:
        yield client


@pytest.fixture
def wallet(hyperdex):
    return hyperdex.create_wallet(f"user-{uuid.uuid4().hex[:8]}")


def _engine(sandbox):
    return database_of(sandbox)


def test_create_and_look_up_by_user_id_wallet_id_or_address(hyperdex, wallet):
    assert (
        wallet.address.startswith("0x")
        and wallet.public_key.startswith("04")
        and len(wallet.public_key) == 130
    )
    for ref in (wallet.user_id, wallet.wallet_id, wallet.address, wallet.address.lower()):
        assert hyperdex.wallet(ref) == wallet


def test_signatures_recover_to_the_wallet(hyperdex, wallet):
    from toolkit.venues import eip712

    signature = hyperdex.sign(wallet.wallet_id, "hello")
    digest = eip712.eip191_digest(b"hello")
    assert eip712.recover_address(digest, eip712.Signature.from_wire(signature)) == wallet.address


def test_refusals(http, sandbox, hyperdex, wallet):
    key = {"X-API-KEY": hyperdex.api_key.reveal()}
    cases = [
        ("POST", "/api/wallets", {}, key, 400, "Missing required parameter: userId (a string of at most 128 characters)"),
        ("POST", "/api/wallets", {"userId": wallet.user_id}, key, 409, f"A wallet already exists for userId {wallet.user_id!r}"),
        ("GET", "/api/wallets/nobody", None, key, 404, "Wallet not found: nobody"),
        ("GET", f"/api/wallets/{uuid.uuid4()}", None, key, 404, None),
        ("POST", f"/api/wallets/{wallet.wallet_id}/sign", {}, key, 400, "Missing required parameter: message"),
        ("POST", "/api/trading/aster/apikey", {}, key, 400, "Missing required parameter: walletIdOrAddress"),
        ("POST", "/api/trading/aster/apikey", {"walletIdOrAddress": "0x" + "1" * 40}, key, 404, None),
        ("POST", "/api/trading/hyperliquid/apikey", {"walletIdOrAddress": "ghost"}, key, 404, "Wallet not found: ghost"),
        ("POST", "/api/wallets", {"userId": "x"}, {}, 401, "Missing API key: send the X-API-KEY header"),
        ("POST", "/api/wallets", {"userId": "x"}, {"X-API-KEY": "hdx_nope"}, 401, "Invalid API key"),
    ]  # fmt: skip
    for method, path, body, headers, status, message in cases:
        r = http.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (path, r.text)
        assert r.json()["success"] is False
        if message:
            assert r.json() == {"success": False, "error": message}


def test_tenants_never_see_each_others_wallets(sandbox, hyperdex, wallet):
    with (
        HyperDexClient(sandbox, api_key=sandbox.hyperdex_api_key("other")) as other,
        pytest.raises(HyperDexError) as err,
    ):
        other.wallet(wallet.address)
    assert err.value.status == 404


def test_aster_registration_runs_the_real_flow_once(sandbox, hyperdex, wallet):
    data = hyperdex.register_aster(wallet.wallet_id)
    assert data["signerAddress"] == wallet.address and data["createdAt"].endswith("Z")
    engine = _engine(sandbox)
    with engine.connect() as conn:
        keys = conn.execute(
            sa.select(store.as_api_keys.c.desc).where(store.as_api_keys.c.address == wallet.address.lower())
        ).all()
    engine.dispose()
    assert len(keys) == 1  # Aster really issued a key to this address
    with pytest.raises(HyperDexError) as err:
        hyperdex.register_aster(wallet.user_id)
    assert (err.value.status, err.value.error) == (
        409,
        f"An Aster API key already exists for wallet {wallet.wallet_id}",
    )


def test_hyperliquid_registration_approves_a_working_agent(sandbox, hyperdex, wallet):
    with pytest.raises(HyperDexError) as err:
        hyperdex.register_hyperliquid(wallet.wallet_id)  # no deposit: the account does not exist yet
    assert err.value.status == 400
    assert err.value.error == (
        f"Hyperliquid refused the registration: User or API Wallet {wallet.address.lower()} does not exist."
    )
    sandbox.deposit("hyperliquid", wallet.address, 100)
    api = hyperdex.register_hyperliquid(wallet.wallet_id)
    assert api.main_wallet_address == wallet.address
    with hl.HyperliquidClient(sandbox, wallet=api.api_private_key, account_address=wallet.address) as bot:
        assert bot.noop()["status"] == "ok"
        assert bot.extra_agents()[0]["address"] == api.api_wallet_address.lower()
    with pytest.raises(HyperDexError) as err:
        hyperdex.register_hyperliquid(wallet.address)
    assert (err.value.status, err.value.error) == (
        409, f"An unexpired Hyperliquid API wallet already exists for wallet {wallet.wallet_id}",
    )  # fmt: skip


def test_lighter_import_and_its_refusals(http, hyperdex, wallet):
    ok = hyperdex.import_lighter(wallet.wallet_id, account_index=1, api_key_index=4, api_public_key="pub",
                                 api_private_key="0x" + "ab" * 40)  # fmt: skip
    assert ok == "Lighter credentials imported successfully"
    with pytest.raises(HyperDexError) as err:
        hyperdex.import_lighter(wallet.wallet_id, account_index=1, api_key_index=4, api_public_key="pub",
                                api_private_key="0x" + "cd" * 40)  # fmt: skip
    assert (err.value.status, err.value.error) == (
        409,
        "Lighter credentials for account 1, API key 4 already exist",
    )
    key = {"X-API-KEY": hyperdex.api_key.reveal()}
    base = {"walletIdOrAddress": wallet.wallet_id, "accountIndex": 1, "apiKeyIndex": 5, "apiPublicKey": "p",
            "apiPrivateKey": "k"}  # fmt: skip
    for change, message in [
        ({"apiPrivateKey": ""}, "Missing required parameter: apiPrivateKey"),
        ({"accountIndex": -1}, "accountIndex must be a non-negative integer"),
        ({"apiKeyIndex": 256}, "apiKeyIndex must be an integer from 0 to 255"),
        ({"walletIdOrAddress": "ghost"}, "Wallet not found: ghost"),
    ]:
        r = http.post("/api/trading/lighter/import", json=base | change, headers=key)
        assert r.json() == {"success": False, "error": message}


def test_the_database_alone_cannot_rebuild_a_wallet_key(sandbox, hyperdex, wallet):
    engine = _engine(sandbox)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(store.hd_wallets).where(store.hd_wallets.c.id == wallet.wallet_id)
        ).first()
        dump = "\n".join(
            str(tuple(r)) for t in store.metadata.sorted_tables for r in conn.execute(sa.select(t))
        )
    engine.dispose()
    # one share in the database, sealed; the other is a file of its own, sealed under another key
    share_b = sandbox.home / "hyperdex_shares" / f"{wallet.wallet_id}.share"
    assert share_b.exists() and share_b.read_text() not in dump
    assert (sandbox.home / "hyperdex_share_key_a").read_text() not in dump
    assert (sandbox.home / "hyperdex_share_key_b").read_text() not in dump
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sealed = bytes.fromhex(row.share_a)
    with pytest.raises(InvalidTag):  # not even with the wrong vault key, e.g. share B's
        key_b = bytes.fromhex((sandbox.home / "hyperdex_share_key_b").read_text())
        AESGCM(key_b).decrypt(sealed[:12], sealed[12:], f"hyperdex-share-a:{wallet.wallet_id}".encode())


def test_lighter_credentials_in_query_strings_never_reach_the_log(sandbox, http, hyperdex):
    secret = "0x" + uuid.uuid4().hex * 2
    http.post(f"/api/trading/lighter/orders?apiKeyPrivateKey={secret}&accountIndex=1&apiKeyIndex=4",
              headers={"X-API-KEY": hyperdex.api_key.reveal()})  # fmt: skip
    log = (sandbox.home / "sandbox.log").read_text()
    assert "apiKeyPrivateKey=[redacted]" in log and secret not in log


def test_redaction_rules():
    from toolkit.sandbox.logs import redact

    assert redact('"GET /x?apiKeyPrivateKey=0xabc&accountIndex=1 HTTP/1.1"') == (
        '"GET /x?apiKeyPrivateKey=[redacted]&accountIndex=1 HTTP/1.1"'
    )
    assert (
        redact("/o?a=1&apiPrivateKey=k&token=t")
        == "/o?a=[redacted]&apiPrivateKey=[redacted]&token=[redacted]"
    )
    assert redact("/o?account=1") == "/o?account=1"  # an allow-list: only known-harmless values are kept
