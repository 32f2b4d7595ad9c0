"""/v1/auth/api-keys: create (shown once), list, use, revoke, caps, and isolation between users."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import database_of
from toolkit.sandbox import paperx_policy as policy
from toolkit.venues.paperx import PaperClient, PaperExchangeError

pytestmark = pytest.mark.both_backends  # keys, accounts and exactly-once: on SQLite and PostgreSQL


def test_create_returns_the_key_once_in_the_seed_shape(http, account):
    r = http.post("/v1/auth/api-keys", json={"name": "Trading Bot"}, headers=account.bearer)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"api_key", "id", "name", "message"}
    assert re.fullmatch(r"pe_[A-Za-z0-9]{32}", body["api_key"])
    assert body["name"] == "Trading Bot" and body["message"] == "Save this key - it won't be shown again"
    listed = http.get("/v1/auth/api-keys", headers=account.bearer).json()["api_keys"]
    assert listed == [
        {
            "id": body["id"],
            "name": "Trading Bot",
            "key_prefix": body["api_key"][:9],
            "status": "active",
            "created_at": listed[0]["created_at"],
            "last_used_at": None,
        }
    ]
    assert body["api_key"] not in r.request.url.path and body["api_key"] not in str(listed)


def test_a_key_authenticates_and_records_last_use(sandbox, account):
    key = account.client.create_api_key("bot")
    bot = PaperClient(sandbox, api_key=key.api_key)
    assert bot.me().email == account.email
    (info,) = account.client.api_keys()
    assert info.last_used_at is not None and info.key_prefix == key.key_prefix


def test_a_revoked_key_is_refused_at_once(sandbox, account):
    key = account.client.create_api_key("bot")
    bot = PaperClient(sandbox, api_key=key.api_key)
    assert bot.me().email == account.email
    assert account.client.revoke_api_key(key.id) == "API key revoked successfully"
    with pytest.raises(PaperExchangeError) as err:
        bot.me()
    assert (err.value.status, err.value.detail) == (401, "Invalid or revoked API key")
    (info,) = account.client.api_keys()
    assert info.status == "revoked"
    with pytest.raises(PaperExchangeError) as err:
        account.client.revoke_api_key(key.id)
    assert (err.value.status, err.value.detail) == (400, "API key already revoked")


@pytest.mark.parametrize("bad", ["pe_" + "x" * 32, "pe_short", "not-a-key", "pe_" + "é" * 32])
def test_unknown_or_malformed_keys_are_401(http, bad):
    r = http.get("/v1/auth/me", headers={"X-API-Key": bad.encode("utf-8")})
    assert (r.status_code, r.json()) == (401, {"detail": "Invalid or revoked API key"})


def test_an_empty_key_header_counts_as_no_auth(http):
    r = http.get("/v1/auth/me", headers={"X-API-Key": ""})
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated: send Authorization: Bearer <token> or X-API-Key"}


@pytest.mark.parametrize(("plan", "cap"), [("basic", 3), ("pro", 10)])
def test_active_keys_are_capped_per_plan(new_account, plan, cap):
    acct = new_account(plan)
    keys = [acct.client.create_api_key(f"k{i}") for i in range(cap)]
    with pytest.raises(PaperExchangeError) as err:
        acct.client.create_api_key("one too many")
    assert err.value.status == 403
    assert err.value.detail == (
        f"API key limit reached: the {plan} plan allows {cap} active keys; revoke one first"
    )
    acct.client.revoke_api_key(keys[0].id)
    acct.client.create_api_key("fits again")
    assert sum(k.status == "active" for k in acct.client.api_keys()) == cap


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": ""}, "name: String should have at least 1 character"),
        ({"name": "   "}, "name: Value error, Name must not be blank".replace("Value error, ", "")),
        ({"name": "x" * 101}, "name: String should have at most 100 characters"),
        ({}, "name: Field required"),
    ],
)
def test_create_rejects_bad_names(http, account, body, detail):
    r = http.post("/v1/auth/api-keys", json=body, headers=account.bearer)
    assert (r.status_code, r.json()) == (400, {"detail": detail})


def test_keys_cannot_manage_keys(http, account):
    key = account.client.create_api_key("bot").api_key.reveal()
    r = http.post("/v1/auth/api-keys", json={"name": "minted"}, headers={"X-API-Key": key})
    assert r.status_code == 403
    assert r.json() == {"detail": "API keys cannot manage API keys: log in and use Authorization: Bearer"}
    (info,) = account.client.api_keys()
    r = http.delete(f"/v1/auth/api-keys/{info.id}", headers={"X-API-Key": key})
    assert r.status_code == 403
    # listing is a read and works with the key
    assert http.get("/v1/auth/api-keys", headers={"X-API-Key": key}).status_code == 200


def test_key_management_without_auth_is_401(http):
    r = http.post("/v1/auth/api-keys", json={"name": "x"})
    assert (r.status_code, r.json()) == (
        401,
        {"detail": "Not authenticated: send Authorization: Bearer <token>"},
    )
    r = http.get("/v1/auth/api-keys")
    assert r.status_code == 401


def test_one_user_can_never_list_use_or_revoke_another_users_keys(sandbox, http, new_account):
    alice, bob = new_account(), new_account()
    alice_key = alice.client.create_api_key("alice bot")
    bob.client.create_api_key("bob bot")

    assert [k.name for k in bob.client.api_keys()] == ["bob bot"]
    # Bob revoking Alice's key id: not found, and Alice's key still works
    r = http.delete(f"/v1/auth/api-keys/{alice_key.id}", headers=bob.bearer)
    assert (r.status_code, r.json()) == (404, {"detail": "API key not found"})
    assert PaperClient(sandbox, api_key=alice_key.api_key).me().email == alice.email
    # Alice's key only ever acts as Alice
    r = http.get("/v1/auth/api-keys", headers={"X-API-Key": alice_key.api_key.reveal()})
    assert [k["name"] for k in r.json()["api_keys"]] == ["alice bot"]
    assert [k.status for k in alice.client.api_keys()] == ["active"]


def test_revoke_unknown_id_is_404(http, account):
    for key_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        r = http.delete(f"/v1/auth/api-keys/{key_id}", headers=account.bearer)
        assert (r.status_code, r.json()) == (404, {"detail": "API key not found"})


def test_only_hash_and_prefix_are_stored(sandbox, account):
    import sqlalchemy as sa

    from toolkit.sandbox import store

    key = account.client.create_api_key("bot").api_key.reveal()
    engine = database_of(sandbox)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(store.api_keys))]
    engine.dispose()
    assert all(key not in str(row) for row in rows)
    assert any(row["key_hash"] == policy.api_key_hash(key) and row["key_prefix"] == key[:9] for row in rows)


def test_revoked_keys_are_kept_a_bounded_time_and_number(tmp_path, monkeypatch):
    import toolkit.sandbox
    from toolkit.sandbox import accounts
    from toolkit.secrets import generate_password

    monkeypatch.setattr(accounts, "REVOKED_KEPT", 2)
    with toolkit.sandbox.start(home=tmp_path / "home") as sb:  # its own: this test moves the clock
        client, password = PaperClient(sb), generate_password()
        client.register("keeper@example.com", password)
        ids = []
        for i in range(4):
            key = client.create_api_key(f"bot-{i}")
            client.revoke_api_key(key.id)
            ids.append(key.id)
        revoked = [k.id for k in client.api_keys() if k.status == "revoked"]
        assert sorted(revoked) == sorted(ids[-2:])  # the two most recently revoked
        with pytest.raises(PaperExchangeError) as err:
            client.revoke_api_key(ids[0])
        assert (err.value.status, err.value.detail) == (404, "API key not found")
        sb.advance(hours=31 * 24)  # a month after revocation, they are forgotten
        client.login("keeper@example.com", password)  # moving the clock ends logins
        newest = client.create_api_key("newest")
        client.revoke_api_key(newest.id)
        assert [k.id for k in client.api_keys() if k.status == "revoked"] == [newest.id]
