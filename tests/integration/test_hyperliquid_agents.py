"""Hyperliquid agents in the sandbox: each rule of reference/hyperliquid.md §1.4-§1.6, with the bad
input and the exact refusal, and the official SDK approving an agent and acting through it."""

from __future__ import annotations

import time

import pytest

from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

pytestmark = pytest.mark.both_backends  # keys, accounts and exactly-once: on SQLite and PostgreSQL

DAY = hl.MS_PER_DAY


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def master(sandbox):
    wallet = Wallet.generate()
    sandbox.deposit("hyperliquid", wallet.address, 10_000)
    return wallet


@pytest.fixture
def client(sandbox, master):
    with hl.HyperliquidClient(sandbox, wallet=master) as c:
        yield c


def post_approve(http, key, action, *, nonce=None, signature=None):
    sig = signature or hl.sign_user_signed_action(key, action).to_wire()
    body = {"action": action, "nonce": action["nonce"] if nonce is None else nonce, "signature": sig}
    r = http.post("/exchange", json=body)
    assert r.status_code == 200
    return r.json()


def refused(response) -> str:
    assert response["status"] == "err", response
    return response["response"]


def agent_client(sandbox, agent: hl.ApprovedAgent) -> hl.HyperliquidClient:
    return hl.HyperliquidClient(sandbox, wallet=agent.private_key, account_address=agent.master)


# -- approving, listing, roles ---------------------------------------------------------------------


def test_approve_list_and_roles(sandbox, client, master):
    agent = client.approve_agent("desk", days=30)
    (listed,) = client.extra_agents()
    assert listed == {"name": "desk", "address": agent.address.lower(), "validUntil": agent.valid_until}
    assert client.user_role() == {"role": "user"}
    assert client.user_role(agent.address) == {"role": "agent", "data": {"user": master.address.lower()}}
    assert client.user_role(Wallet.generate().address) == {"role": "missing"}
    with agent_client(sandbox, agent) as bot:
        assert bot.noop() == {"status": "ok", "response": {"type": "default"}}


def test_the_unnamed_agent_is_not_listed_and_a_new_one_replaces_it(sandbox, client):
    first = client.approve_agent()
    second = client.approve_agent()
    assert client.extra_agents() == []
    with agent_client(sandbox, second) as bot:
        assert bot.noop()["status"] == "ok"
    with agent_client(sandbox, first) as old, pytest.raises(hl.HyperliquidError) as err:
        old.noop()
    assert err.value.message == f"User or API Wallet {first.address.lower()} does not exist."


def test_the_same_name_replaces_and_the_replaced_agent_is_refused(sandbox, client):
    old = client.approve_agent("desk")
    new = client.approve_agent("desk")
    assert [a["address"] for a in client.extra_agents()] == [new.address.lower()]
    with agent_client(sandbox, old) as bot, pytest.raises(hl.HyperliquidError) as err:
        bot.noop()
    assert err.value.message == f"User or API Wallet {old.address.lower()} does not exist."


def test_three_named_plus_one_unnamed_and_not_a_fourth_named(client):
    for name in ("a", "b", "c"):
        client.approve_agent(name)
    client.approve_agent()  # the unnamed one does not count against the three
    with pytest.raises(hl.HyperliquidError) as err:
        client.approve_agent("d")
    assert err.value.message == (
        "Too many API wallets: an account may have 3 named agents and 1 unnamed; "
        "approve under an existing name to replace one, or remove one first"
    )
    client.approve_agent("b")  # replacing under an existing name is fine
    client.remove_agent("a")
    client.approve_agent("d")  # and a removal frees a place
    assert sorted(a["name"] for a in client.extra_agents()) == ["b", "c", "d"]


def test_remove_with_a_zero_address_approval(sandbox, client):
    agent = client.approve_agent("desk")
    client.remove_agent("desk")
    assert client.extra_agents() == []
    with agent_client(sandbox, agent) as bot, pytest.raises(hl.HyperliquidError) as err:
        bot.noop()
    assert err.value.message == f"User or API Wallet {agent.address.lower()} does not exist."
    with pytest.raises(hl.HyperliquidError) as err:
        client.remove_agent("desk")
    assert err.value.message == "There is no named 'desk' agent to remove"
    with pytest.raises(hl.HyperliquidError) as err:
        client.remove_agent()
    assert err.value.message == "There is no unnamed agent to remove"


# -- expiry ----------------------------------------------------------------------------------------


@pytest.mark.moves_clock
def test_an_expired_agent_is_refused_and_no_longer_listed(sandbox, client):
    agent = client.approve_agent("brief", valid_until=sandbox.now_ms() + 3_600_000)
    with agent_client(sandbox, agent) as bot:
        assert bot.noop()["status"] == "ok"
        sandbox.advance(hours=2)
        with pytest.raises(hl.HyperliquidError) as err:
            bot.noop()
    assert err.value.message.startswith(f"API Wallet {agent.address.lower()} expired at ")
    assert err.value.message.endswith("; approve a new agent")
    assert client.extra_agents() == []
    assert client.user_role(agent.address) == {"role": "missing"}


def test_expiry_at_most_180_days_ahead(http, sandbox, client, master):
    nonce = now_ms()
    sim_now = sandbox.now_ms()  # expiry is judged on the sandbox's clock, which tests move forward
    too_far = hl.approve_agent_action(
        Wallet.generate().address, name="far", valid_until=sim_now + 200 * DAY, nonce=nonce, is_mainnet=False
    )
    assert refused(post_approve(http, master.private_key, too_far)) == (
        "valid_until may be at most 180 days in the future"
    )
    past = hl.approve_agent_action(
        Wallet.generate().address, name="past", valid_until=1_000, nonce=nonce + 1, is_mainnet=False
    )
    assert refused(post_approve(http, master.private_key, past)).startswith("valid_until 1000 is in the past")
    with pytest.raises(hl.HyperliquidError, match="at most 180 days ahead"):
        client.approve_agent("far", days=181)  # refused before it is sent


# -- signatures and networks -------------------------------------------------------------------------


def test_a_tampered_approval_recovers_a_stranger_and_is_refused(http, client, master):
    action = hl.approve_agent_action(Wallet.generate().address, name="desk", nonce=now_ms(), is_mainnet=False)
    signature = hl.sign_user_signed_action(master.private_key, action).to_wire()
    tampered = action | {"agentName": "evil"}
    message = refused(post_approve(http, master.private_key, tampered, signature=signature))
    assert message.startswith("User or API Wallet 0x") and message.endswith(" does not exist.")
    assert master.address.lower() not in message
    assert client.extra_agents() == []


def test_mainnet_signatures_are_refused_on_testnet(http, sandbox, client, master):
    action = hl.approve_agent_action(Wallet.generate().address, nonce=now_ms(), is_mainnet=True)
    assert refused(post_approve(http, master.private_key, action)) == (
        "Invalid hyperliquidChain 'Mainnet': this sandbox is Hyperliquid Testnet; create your client for "
        "testnet (the official SDK: constants.TESTNET_API_URL)"
    )
    # the chain name cannot be swapped after signing either
    signature = hl.sign_user_signed_action(master.private_key, action).to_wire()
    swapped = action | {"hyperliquidChain": "Testnet"}
    assert refused(post_approve(http, master.private_key, swapped, signature=signature)).endswith(
        "does not exist."
    )
    # an L1 action signed for mainnet ("a") is refused, saying which network the sandbox is
    agent = client.approve_agent("desk")
    nonce = now_ms()
    sig = hl.sign_l1_action(agent.private_key, {"type": "noop"}, None, nonce, None, True).to_wire()
    r = http.post("/exchange", json={"action": {"type": "noop"}, "nonce": nonce, "signature": sig})
    assert refused(r.json()) == (
        f"This sandbox is Hyperliquid Testnet, but the action was signed for Mainnet (by {agent.address.lower()}). "
        "Create the client for testnet: with the official SDK, Exchange(wallet, base_url) with the sandbox's "
        "URL signs for testnet."
    )
    # a stranger's mainnet signature is still a stranger
    stranger = Wallet.generate()
    sig = hl.sign_l1_action(stranger.private_key, {"type": "noop"}, None, nonce, None, True).to_wire()
    r = http.post("/exchange", json={"action": {"type": "noop"}, "nonce": nonce, "signature": sig})
    assert refused(r.json()).endswith("does not exist.") and stranger.address.lower() not in r.text


def test_an_agent_cannot_approve_agents(http, sandbox, client):
    agent = client.approve_agent("desk")
    action = hl.approve_agent_action(Wallet.generate().address, nonce=now_ms(), is_mainnet=False)
    assert refused(post_approve(http, agent.private_key, action)) == (
        f"API Wallet {agent.address.lower()} cannot approve agents; sign with the account's own key"
    )


def test_an_account_that_never_deposited_does_not_exist(http):
    stranger = Wallet.generate()
    action = hl.approve_agent_action(Wallet.generate().address, nonce=now_ms(), is_mainnet=False)
    assert refused(post_approve(http, stranger.private_key, action)) == (
        f"User or API Wallet {stranger.address.lower()} does not exist."
    )


def test_agent_addresses_are_never_reused(http, sandbox, client, master):
    agent = client.approve_agent("desk")
    client.remove_agent("desk")
    action = hl.approve_agent_action(agent.address, name="again", nonce=now_ms(), is_mainnet=False)
    assert refused(post_approve(http, master.private_key, action)) == (
        f"Agent address {agent.address.lower()} was already used; generate a fresh key for every agent"
    )
    other = Wallet.generate()
    sandbox.deposit("hyperliquid", other.address, 1)
    action = hl.approve_agent_action(other.address, name="acct", nonce=now_ms() + 1, is_mainnet=False)
    assert refused(post_approve(http, master.private_key, action)) == (
        f"{other.address.lower()} is a user account and cannot be an agent"
    )
    action = hl.approve_agent_action(master.address, name="me", nonce=now_ms() + 2, is_mainnet=False)
    assert (
        refused(post_approve(http, master.private_key, action))
        == "An account cannot approve itself as its agent"
    )


def test_name_and_nonce_field_checks(http, master):
    long_name = hl.approve_agent_action(
        Wallet.generate().address, name="x" * 17, nonce=now_ms(), is_mainnet=False
    )
    assert (
        refused(post_approve(http, master.private_key, long_name))
        == "Agent name must be at most 16 characters"
    )
    action = hl.approve_agent_action(Wallet.generate().address, nonce=now_ms(), is_mainnet=False)
    assert refused(post_approve(http, master.private_key, action, nonce=action["nonce"] + 1)) == (
        "The action's nonce must equal the request's nonce"
    )


# -- nonces ----------------------------------------------------------------------------------------------


def l1_noop(http, key, nonce):
    sig = hl.sign_l1_action(key, {"type": "noop"}, None, nonce, None, False).to_wire()
    return http.post("/exchange", json={"action": {"type": "noop"}, "nonce": nonce, "signature": sig}).json()


def test_nonce_rules(http, master):
    base = now_ms()
    assert l1_noop(http, master.private_key, base)["status"] == "ok"
    assert refused(l1_noop(http, master.private_key, base)) == f"Invalid nonce: duplicate nonce {base}"
    stale = base - 2 * DAY - 60_000
    assert refused(l1_noop(http, master.private_key, stale)).startswith(
        f"Invalid nonce: {stale} is outside the allowed window (T - 2 days, T + 1 day)"
    )
    future = base + DAY + 60_000
    assert refused(l1_noop(http, master.private_key, future)).startswith(
        f"Invalid nonce: {future} is outside"
    )
    # below 100 kept nonces any unused one in the window is fine, even an older one
    assert l1_noop(http, master.private_key, base - 1000)["status"] == "ok"


def test_only_the_100_highest_nonces_are_kept(http, master):
    base = now_ms()
    for i in range(100):
        assert l1_noop(http, master.private_key, base + i)["status"] == "ok"
    assert refused(l1_noop(http, master.private_key, base - 1)) == (
        f"Invalid nonce: {base - 1} is too low; it must exceed {base}"
    )
    assert l1_noop(http, master.private_key, base + 100)["status"] == "ok"  # evicts `base`
    assert refused(l1_noop(http, master.private_key, base)) == (
        f"Invalid nonce: {base} is too low; it must exceed {base + 1}"
    )


def test_nonces_are_per_signer(sandbox, client, http, master):
    agent = client.approve_agent("desk")
    nonce = now_ms() + 5_000
    assert l1_noop(http, master.private_key, nonce)["status"] == "ok"
    assert l1_noop(http, agent.private_key, nonce)["status"] == "ok"  # the agent has its own set


# -- malformed requests ------------------------------------------------------------------------------------


BAD_BODY = "Failed to deserialize the JSON body into the target type: "


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/exchange", {"nonce": 1}, "action: Field required; signature: Field required"),
        ("/exchange", {"action": {"type": "noop"}, "nonce": 1}, "signature: Field required"),
        ("/info", {"type": "extraAgents", "user": "0x123"}, "user: must be a 0x address of 40 hex digits"),
        (
            "/info",
            {"type": "userFunding", "user": "0x" + "g" * 40},
            "user: must be a 0x address of 40 hex digits",
        ),
        ("/info", {"type": "nope"}, "unknown type 'nope'"),
        ("/info", {"type": "x" * 5000}, "unknown type '" + "x" * 40 + "'"),
        ("/exchange", {"action": {"type": "transfer"}}, "Unsupported action type 'transfer'"),
    ],
)
def test_malformed_requests_are_422_in_plain_text_as_the_venue_answers(http, path, body, message):
    # the official SDK raises ClientError only for a 4xx in plain text (or JSON with code/msg)
    r = http.post(path, json=body)
    assert (r.status_code, r.headers["content-type"], r.text) == (
        422,
        "text/plain; charset=utf-8",
        BAD_BODY + message,
    )


def test_broken_json_is_422_in_plain_text(http):
    r = http.post("/exchange", content=b"{nope", headers={"content-type": "application/json"})
    assert (r.status_code, r.text) == (422, BAD_BODY + "the body is not JSON")


def test_garbage_signatures_are_refused_not_crashed(http):
    body = {"action": {"type": "noop"}, "nonce": now_ms(), "signature": {"r": "0x0", "s": "0x1", "v": 27}}
    assert refused(http.post("/exchange", json=body).json()) == "Invalid signature: malformed signature"


# -- the official SDK, unmodified ----------------------------------------------------------------


def test_the_official_sdk_approves_an_agent_and_acts_through_it(sandbox):
    from eth_account import Account
    from hyperliquid.exchange import Exchange
    from hyperliquid.info import Info

    master = Account.create()
    sandbox.deposit("hyperliquid", master.address, 1_000)
    result, agent_key = Exchange(master, sandbox.url).approve_agent("sdk desk")
    assert result == {"status": "ok", "response": {"type": "default"}}
    info = Info(sandbox.url, skip_ws=True)
    agent = Account.from_key(agent_key)
    assert [a["address"] for a in info.extra_agents(master.address)] == [agent.address.lower()]

    through_agent = Exchange(agent, sandbox.url, account_address=master.address)
    assert through_agent.noop(now_ms()) == {"status": "ok", "response": {"type": "default"}}
    result, _ = Exchange(master, sandbox.url).approve_agent("sdk desk")  # replaces it
    assert through_agent.noop(now_ms() + 1)["status"] == "err"
