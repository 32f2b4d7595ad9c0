"""toolkit.keys(): the inventory DataFrame, statuses from dates, expiry warnings, and the venue
lifecycles (refresh, rotate, revoke) against a real sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import polars as pl
import pytest

import toolkit
from toolkit.keystore import ExpiryWarning, inventory
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret, generate_password
from toolkit.setup import aster as aster_keys
from toolkit.setup import hyperliquid as hyperliquid_keys
from toolkit.setup import kalshi as kalshi_keys
from toolkit.setup import paperx as paperx_keys
from toolkit.venues import kalshi as ks
from toolkit.venues.paperx import PaperClient

from ..integration.conftest import unique_email

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def entry(**changes) -> Entry:
    base = dict(venue="hyperliquid", kind="agent", network="mainnet", account="0xa", key_ref="0xb")
    return Entry(**(base | changes), secrets={"private_key": Secret("0x" + "11" * 32)})


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "active"),
        ({"expires_at": (NOW + timedelta(days=30)).isoformat()}, "active"),
        ({"expires_at": (NOW + timedelta(days=6)).isoformat()}, "expiring soon"),
        ({"expires_at": (NOW - timedelta(seconds=1)).isoformat()}, "expired"),
        ({"expires_at": (NOW - timedelta(days=1)).isoformat(), "status": "revoked"}, "revoked"),
        ({"kind": "auth_token", "expires_at": (NOW + timedelta(hours=2)).isoformat()}, "active"),
        ({"kind": "auth_token", "expires_at": (NOW + timedelta(minutes=30)).isoformat()}, "expiring soon"),
    ],
)
def test_status_from_dates(changes, status):
    assert inventory.status_of(entry(**changes), NOW) == status


def test_frames_are_typed_and_hold_no_secret():
    entries = [entry(expires_at=(NOW + timedelta(days=1)).isoformat()), entry(venue="kalshi", key_ref="k")]
    df = inventory.frame(entries, "pandas", now=NOW)
    assert list(df.columns) == inventory.COLUMNS
    assert str(df["created"].dtype) == "datetime64[us, UTC]" or str(df["created"].dtype).endswith("UTC]")
    assert df["status"].dtype == "category" and list(df["status"]) == ["expiring soon", "active"]
    assert ("11" * 32) not in df.to_string() and "private_key" not in df.columns
    pf = inventory.frame(entries, "polars", now=NOW)
    assert pf.schema["expires"] == pl.Datetime("us", "UTC") and pf.schema["status"] == pl.Enum(
        inventory.STATUSES
    )
    assert pf.height == 2 and ("11" * 32) not in str(pf)
    assert inventory.frame([], "polars").height == 0 and len(inventory.frame([], "pandas")) == 0


def test_expiry_sentences():
    lines = inventory.expiring(
        [
            entry(label="old", expires_at=(NOW - timedelta(hours=3)).isoformat()),
            entry(label="soon", expires_at=(NOW + timedelta(days=2, hours=1)).isoformat()),
            entry(label="fine"),
        ],
        NOW,
    )
    assert lines == [
        "hyperliquid agent 0xb (old) expired 3 h 0 min ago",
        "hyperliquid agent 0xb (soon) expires in 2 d 1 h",
    ]


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path, "inventory pass", use_keyring=False)


def test_keys_warns_about_expiry(store):
    store.put(entry(label="soon", expires_at=(datetime.now(UTC) + timedelta(hours=5)).isoformat()))
    with pytest.warns(ExpiryWarning, match=r"hyperliquid agent 0xb \(soon\) expires in 4 h"):
        df = toolkit.keys(store)
    assert isinstance(df, pd.DataFrame) and list(df["status"]) == ["expiring soon"]
    with pytest.warns(ExpiryWarning):
        assert isinstance(toolkit.keys(store, frame="polars"), pl.DataFrame)


def test_paperx_keys_save_refresh_rotate_revoke(sandbox, store):
    client = PaperClient(sandbox)
    email = unique_email()
    client.register(email, generate_password())
    saved = paperx_keys.save_paperx_key(store, sandbox.url, email, client.create_api_key("bot"))
    assert (saved.network, saved.public) == ("sandbox", saved.public[:9])

    PaperClient(sandbox, api_key=saved.secret("api_key")).me()  # used once
    toolkit.keys(store, refresh=True)
    assert store.get(saved.id).last_used_at is not None

    new = toolkit.keystore.rotate(saved.id, store=store, client=client)
    assert new.label == "bot" and new.key_ref != saved.key_ref
    assert store.get(saved.id).status == "revoked"
    assert {k.id: k.status for k in client.api_keys()} == {saved.key_ref: "revoked", new.key_ref: "active"}
    assert PaperClient(sandbox, api_key=new.secret("api_key")).me().email == email

    # a key revoked behind the store's back is found out by a refresh
    client.revoke_api_key(new.key_ref)
    df = toolkit.keys(store, refresh=True)
    assert set(df["status"]) == {"revoked"}
    with pytest.raises(ValueError, match="needs client=PaperClient"):
        toolkit.keystore.rotate(new.id, store=store)


def test_kalshi_keys_save_refresh_rotate_revoke(sandbox, store):
    member = sandbox.kalshi_member(usage_level="premier")
    web = ks.KalshiClient(sandbox, session_token=member.session_token)
    pair = ks.KeyPair.generate()
    key_id = web.create_api_key("desk", pair.public_key, scopes=["read", "write"])
    base_url = f"{sandbox.url}{ks.API_PREFIX}"
    saved = kalshi_keys.save_kalshi_key(
        store, base_url, key_id, pair.private_key, account=member.member_id, label="desk"
    )
    assert saved.public.startswith("sha256:") and saved.network == "sandbox"

    new = toolkit.keystore.rotate(saved, store=store)  # the old key manages its own replacement
    assert store.get(saved.id).status == "revoked"
    assert [k.api_key_id for k in web.get_api_keys()] == [new.key_ref]
    assert new.public != saved.public  # a new pair was made here

    toolkit.keystore.revoke(new, store=store)
    assert web.get_api_keys() == [] and store.get(new.id).status == "revoked"


def test_kalshi_rotation_falls_back_to_generate_below_premier(sandbox, store):
    member = sandbox.kalshi_member(usage_level="basic")
    web = ks.KalshiClient(sandbox, session_token=member.session_token)
    generated = web.generate_api_key("small desk")
    base_url = f"{sandbox.url}{ks.API_PREFIX}"
    saved = kalshi_keys.save_kalshi_key(
        store, base_url, generated.api_key_id, generated.private_key, label="small desk"
    )
    new = toolkit.keystore.rotate(saved, store=store)
    assert [k.api_key_id for k in web.get_api_keys()] == [new.key_ref]
    with ks.KalshiClient(sandbox, api_key_id=new.key_ref, private_key=new.secret("private_key")) as bot:
        assert bot.get_balance().balance == 1_000_000


def test_refresh_survives_an_unreachable_venue(store):
    dead = Entry(
        venue="paperx", kind="api_key", network="sandbox", account="a@b.co", key_ref="x",
        base_url="http://127.0.0.1:9", secrets={"api_key": Secret("pe_" + "a" * 32)},
    )  # fmt: skip
    store.put(dead)
    with pytest.warns(RuntimeWarning, match="could not refresh"):
        df = toolkit.keys(store, refresh=True)
    assert list(df["status"]) == ["active"]


def test_unknown_venue_lifecycle_is_a_clear_error(store):
    saved = store.put(entry(venue="polymarket", kind="api_key"))
    with pytest.raises(NotImplementedError, match="no key lifecycle for venue 'polymarket' yet"):
        toolkit.keystore.rotate(saved, store=store)


def test_hyperliquid_agents_save_refresh_rotate_revoke(sandbox, store):
    from toolkit.venues import hyperliquid as hl
    from toolkit.venues.eip712 import Wallet

    master = Wallet.generate()
    sandbox.deposit("hyperliquid", master.address, 100)
    client = hl.HyperliquidClient(sandbox, wallet=master)
    agent = client.approve_agent("desk", days=30)
    saved = hyperliquid_keys.save_hyperliquid_agent(store, sandbox.url, agent)
    assert (saved.network, saved.account, saved.kind) == ("sandbox", master.address.lower(), "agent")
    assert toolkit.keys(store)["status"].tolist() == ["active"]

    new = toolkit.keystore.rotate(saved, store=store, client=client)
    assert store.get(saved.id).status == "revoked" and new.extra["name"] == "desk"
    assert [a["address"] for a in client.extra_agents()] == [new.key_ref]
    expires = datetime.fromisoformat(new.expires_at) - datetime.fromisoformat(new.created_at)
    assert abs(expires.total_seconds() - 30 * 86_400) < 120  # the same lifetime as the old one

    with hl.HyperliquidClient(
        sandbox, wallet=new.secret("private_key"), account_address=master.address
    ) as bot:
        assert bot.noop()["status"] == "ok"
    # replaced at the venue behind the store's back: a refresh finds out
    client.approve_agent("desk")
    assert toolkit.keys(store, refresh=True)["status"].tolist() == ["revoked", "revoked"]

    other = Wallet.generate()
    with pytest.raises(ValueError, match="belongs to"):
        toolkit.keystore.revoke(new, store=store, client=hl.HyperliquidClient(sandbox, wallet=other))
    with pytest.raises(ValueError, match="managed by the master key"):
        toolkit.keystore.rotate(new, store=store)


def test_hyperliquid_agent_revoke_removes_it_at_the_venue(sandbox, store):
    from toolkit.venues import hyperliquid as hl
    from toolkit.venues.eip712 import Wallet

    master = Wallet.generate()
    sandbox.deposit("hyperliquid", master.address, 100)
    client = hl.HyperliquidClient(sandbox, wallet=master)
    saved = hyperliquid_keys.save_hyperliquid_agent(store, sandbox.url, client.approve_agent("gone"))
    toolkit.keystore.revoke(saved, store=store, client=client)
    assert client.extra_agents() == [] and store.get(saved.id).status == "revoked"
    assert client.user_role(saved.key_ref) == {"role": "missing"}


def test_aster_keys_and_agents_in_the_store(sandbox, store):
    from toolkit.venues import aster as av
    from toolkit.venues.eip712 import Wallet

    main = Wallet.generate()
    sandbox.deposit("aster", main.address, 50)
    client = av.AsterClient(sandbox)
    key = aster_keys.save_aster_api_key(store, client.base_url, client.create_api_key(main, "desk"))
    agent = aster_keys.save_aster_agent(store, client.base_url, client.approve_agent(main, "bot", days=30))
    assert key.public.endswith("…") and key.secret("api_key").reveal() not in key.public
    df = toolkit.keys(store, refresh=True)
    assert sorted(zip(df["kind"], df["status"], strict=True)) == [("agent", "active"), ("api_key", "active")]

    new = toolkit.keystore.rotate(agent, store=store, main_wallet=main)
    assert store.get(agent.id).status == "revoked"
    with av.AsterClient(sandbox, user=main.address, agent_key=new.secret("private_key")) as bot:
        assert [a["agentAddress"] for a in bot.agents()] == [new.key_ref]
    with pytest.raises(NotImplementedError, match="cannot be deleted by their owner"):
        toolkit.keystore.revoke(key, store=store)
    with pytest.raises(ValueError, match="managed by the main wallet"):
        toolkit.keystore.revoke(new, store=store)
    toolkit.keystore.revoke(new, store=store, main_wallet=main)
    assert set(toolkit.keys(store, refresh=True).query("kind == 'agent'")["status"]) == {"revoked"}
