"""Lighter keys and tokens in the key store: inventory, refresh, rotate, revoke, expiry warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import toolkit
from toolkit.keystore import ExpiryWarning
from toolkit.keystore.store import KeyStore
from toolkit.secrets import generate_password
from toolkit.setup import lighter as lighter_keys
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path / "ks", generate_password(), use_keyring=False)


def test_lighter_key_save_refresh_rotate_revoke(sandbox, store):
    owner = Wallet.generate()
    sandbox.deposit("lighter", owner.address, 100)
    with LighterClient(sandbox) as client:
        key = client.register_api_key(owner, api_key_index=7)
        saved = lighter_keys.save_lighter_key(store, sandbox.url, key, l1_address=owner.address, label="bot")
        assert (saved.network, saved.account, saved.key_ref) == ("sandbox", str(key.account_index), "7")
        assert lighter_keys.lighter_key(saved) == key
        frame = toolkit.keys(store)
        assert frame["status"].tolist() == ["active"] and frame["public"].tolist() == [key.public_key]
        assert key.private_key.reveal() not in frame.to_string()

        with pytest.raises(ValueError, match="L1 wallet"):
            toolkit.keystore.rotate(saved, store=store)
        with pytest.raises(ValueError, match="belongs to"):
            toolkit.keystore.rotate(saved, store=store, wallet=Wallet.generate())
        new = toolkit.keystore.rotate(saved, store=store, wallet=owner)
        assert store.get(saved.id).status == "revoked" and new.key_ref == "7"
        assert client.confirm(lighter_keys.lighter_key(new)).registered

        # replaced at the venue behind the store's back: a refresh finds out
        client.rotate_api_key(owner, lighter_keys.lighter_key(new))
        assert toolkit.keys(store, refresh=True)["status"].tolist() == ["revoked", "revoked"]

        fresh = lighter_keys.save_lighter_key(
            store, sandbox.url, client.register_api_key(owner, api_key_index=8), l1_address=owner.address
        )
        toolkit.keystore.revoke(fresh, store=store, wallet=owner)
        assert store.get(fresh.id).status == "revoked"
        assert not client.api_key(key.account_index, 8).registered


def test_lighter_auth_tokens_warn_before_they_expire(sandbox, store):
    owner = Wallet.generate()
    sandbox.deposit("lighter", owner.address, 100)
    with LighterClient(sandbox) as client:
        key = client.register_api_key(owner)
        token = client.create_auth_token(key, expires_in=timedelta(minutes=20))
        lighter_keys.save_lighter_token(
            store, sandbox.url, key, token, expires_at=datetime.now(UTC) + timedelta(minutes=20)
        )
        ro = client.create_read_only_token(key, "dash", expires_in=timedelta(days=3))
        lighter_keys.save_lighter_token(
            store,
            sandbox.url,
            key,
            ro.api_token,
            expires_at=ro.expiry,
            kind="read_only_token",
            token_id=ro.token_id,
        )
    with pytest.warns(ExpiryWarning) as warned:
        frame = toolkit.keys(store)
    assert sorted(frame["status"]) == ["expiring soon", "expiring soon"]
    assert len(warned) == 2
    text = frame.to_string() + " ".join(str(w.message) for w in warned)
    assert token.reveal() not in text and ro.api_token.reveal() not in text
    assert token.reveal().split(":")[3] not in text  # not even the signature part
