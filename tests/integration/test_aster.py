"""Aster in the sandbox: the web3 key flow, V1 HMAC checks and V3 agents, each rule with the bad
input and Aster's exact code and message."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from toolkit.venues import aster as av
from toolkit.venues.eip712 import Wallet

WEB3 = av.BAPI_PREFIX + "/public/future/web3"


@pytest.fixture
def wallet(sandbox):
    w = Wallet.generate()
    sandbox.deposit("aster", w.address, 1_000)
    return w


@pytest.fixture
def client(sandbox):
    with av.AsterClient(sandbox) as c:
        yield c


@pytest.fixture
def v1(client, wallet):
    client.create_api_key(wallet, "research")
    return client


def code(r) -> tuple[int, int, str]:
    body = r.json()
    return r.status_code, body["code"], body["msg"]


# -- the web3 flow -------------------------------------------------------------------------------


def test_create_api_key_then_sign_v1(sandbox, client, wallet):
    key = client.create_api_key(wallet, "research")
    assert (
        len(key.api_key.reveal()) == 64 and len(key.api_secret.reveal()) == 64 and key.api_name == "research"
    )
    assert key.api_secret.reveal() not in repr(key) and key.api_key.reveal() not in repr(key)
    assert client.balance()[0] | {"updateTime": 0} == {
        "accountAlias": wallet.address.lower()[-8:], "asset": "USDT", "balance": "1000.00000000",
        "crossWalletBalance": "1000.00000000", "crossUnPnl": "0.00000000",
        "availableBalance": "1000.00000000",
        "maxWithdrawAmount": "1000.00000000", "marginAvailable": True, "updateTime": 0,
    }  # fmt: skip


def test_web3_nonce_is_single_use_and_bound_to_the_wallet(http, wallet):
    nonce = http.post(
        f"{WEB3}/get-nonce", json={"sourceAddr": wallet.address, "type": "CREATE_API_KEY"}
    ).json()
    signature = av.sign_login(wallet.private_key, nonce["data"]["nonce"])
    body = {"desc": "k1", "network": "56", "signature": signature, "sourceAddr": wallet.address,
            "type": "CREATE_API_KEY", "sourceCode": "ae"}  # fmt: skip
    assert http.post(f"{WEB3}/broker-create-api-key", json=body).json()["success"] is True
    replay = http.post(f"{WEB3}/broker-create-api-key", json=body | {"desc": "k2"})
    assert replay.status_code == 400
    assert replay.json() == {
        "code": "100001005", "message": "Nonce expired or not requested; call get-nonce first",
        "messageDetail": None, "data": None, "success": False,
    }  # fmt: skip


def test_web3_signature_from_another_wallet_is_refused(http, wallet):
    nonce = http.post(
        f"{WEB3}/get-nonce", json={"sourceAddr": wallet.address, "type": "CREATE_API_KEY"}
    ).json()
    impostor = av.sign_login(Wallet.generate().private_key, nonce["data"]["nonce"])
    body = {"desc": "k", "signature": impostor, "sourceAddr": wallet.address, "type": "CREATE_API_KEY"}
    r = http.post(f"{WEB3}/broker-create-api-key", json=body)
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (
        400,
        "100001004",
        "Signature verification failed",
    )


def test_web3_desc_rules(client, wallet):
    client.create_api_key(wallet, "research")
    with pytest.raises(av.AsterError) as err:
        client.create_api_key(wallet, "research")
    assert (err.value.code, err.value.msg) == (
        "100001006",
        "An API key named 'research' already exists for this account",
    )
    with pytest.raises(av.AsterError) as err:
        client.create_api_key(wallet, "  ")
    assert err.value.msg == "desc is required (at most 100 characters)"


def test_web3_get_nonce_validates(http):
    r = http.post(f"{WEB3}/get-nonce", json={"sourceAddr": "nope", "type": "CREATE_API_KEY"})
    assert (r.status_code, r.json()["message"]) == (400, "sourceAddr must be a 0x address")
    r = http.post(f"{WEB3}/get-nonce", json={"sourceAddr": Wallet.generate().address, "type": "WHATEVER"})
    assert r.json()["message"] == "type must be CREATE_API_KEY or LOGIN"


# -- V1 HMAC -------------------------------------------------------------------------------------------


def v1_get(http, key, query):
    return http.get(f"/fapi/v2/balance?{query}", headers={"X-MBX-APIKEY": key} if key else {})


def test_v1_refusals(http, v1):
    key, secret = v1.api_key.reveal(), v1.api_secret
    now = int(time.time() * 1000)
    good = av.signed_v1_query({}, secret)
    assert v1_get(http, key, good).status_code == 200
    assert code(v1_get(http, None, good)) == (401, -2015, "API-key required: send the X-MBX-APIKEY header.")
    assert code(v1_get(http, "short", good)) == (401, -2014, "API-key format invalid.")
    assert code(v1_get(http, "ab" * 32, good)) == (
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    )
    tampered = good.replace("recvWindow=5000", "recvWindow=4999")
    assert code(v1_get(http, key, tampered)) == (400, -1022, "Signature for this request is not valid.")
    old = av.signed_v1_query({}, secret, timestamp=now - 6000)
    assert code(v1_get(http, key, old)) == (
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    ahead = av.signed_v1_query({}, secret, timestamp=now + 5000)
    assert code(v1_get(http, key, ahead))[1] == -1021
    wide = av.signed_v1_query({}, secret, recv_window=60001)
    assert code(v1_get(http, key, wide)) == (400, -1131, "recvWindow must be less than 60000.")
    no_sig = urlencode({"timestamp": now})
    assert code(v1_get(http, key, no_sig)) == (
        400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    )  # fmt: skip
    assert (
        v1_get(
            http, key, av.signed_v1_query({}, secret, timestamp=now - 20_000, recv_window=30_000)
        ).status_code
        == 200
    )


def test_a_secret_signed_by_another_key_is_refused(http, v1, sandbox):
    other = av.AsterClient(sandbox)
    other.create_api_key(Wallet.generate(), "other")
    query = av.signed_v1_query({}, other.api_secret)
    assert code(v1_get(http, v1.api_key.reveal(), query))[1] == -1022


# -- V3 agents ------------------------------------------------------------------------------------------


def test_approve_list_balance_delete(sandbox, client, wallet):
    agent = client.approve_agent(wallet, "desk", days=10)
    (listed,) = client.agents()
    assert listed | {"expired": 0} == {
        "agentName": "desk", "agentAddress": agent.address.lower(), "expired": 0, "status": "ACTIVE",
        "canSpotTrade": False, "canPerpTrade": True, "canWithdraw": False, "ipWhitelist": "",
    }  # fmt: skip
    assert client.balance_v3()[0]["balance"] == "1000.00000000"
    client.delete_agent(wallet, agent.address)
    with pytest.raises(av.AsterError) as err:
        client.balance_v3()
    assert (err.value.code, err.value.msg) == (
        -2015, f"Signer {agent.address.lower()} is not an agent of {wallet.address.lower()}.",
    )  # fmt: skip


def test_register_and_approve_creates_the_account(client):
    newcomer = Wallet.generate()
    agent = client.register_and_approve_agent(newcomer, "first", days=1)
    assert [a["agentAddress"] for a in client.agents()] == [agent.address.lower()]
    assert client.balance_v3()[0]["balance"] == "0.00000000"


def v3_get(http, path, agent_key, user, signer, nonce, chain_id=1666, extra=""):
    query = urlencode({"asterChain": "Mainnet", "user": user, "signer": signer, "nonce": nonce}) + extra
    return http.get(f"{path}?{query}&signature={av.sign_message(agent_key, query, chain_id)}")


def test_v3_signature_and_nonce_rules(sandbox, http, client, wallet):
    agent = client.approve_agent(wallet, "desk")
    user, signer, key = wallet.address, agent.address, agent.private_key
    now_us = time.time_ns() // 1000
    assert v3_get(http, "/fapi/v3/balance", key, user, signer, now_us).status_code == 200
    assert code(v3_get(http, "/fapi/v3/balance", key, user, signer, now_us)) == (
        400,
        -4225,
        f"Duplicate nonce {now_us}.",
    )
    stale = now_us - 11_000_000
    r = v3_get(http, "/fapi/v3/balance", key, user, signer, stale)
    assert code(r)[:2] == (400, -1021) and code(r)[2].startswith(
        f"Nonce {stale} is more than 10 s from server time"
    )
    testnet_sig = v3_get(http, "/fapi/v3/balance", key, user, signer, now_us + 1, chain_id=714)
    assert code(testnet_sig) == (400, -1022, "Signature for this request is not valid.")
    query = urlencode({"asterChain": "Mainnet", "user": user, "signer": signer, "nonce": now_us + 2})
    signature = av.sign_message(key, query, 1666)
    r = http.get(f"/fapi/v3/balance?{query}&symbol=BTCUSDT&signature={signature}")  # a parameter slipped in
    assert code(r)[1] == -1022
    stranger = Wallet.generate()
    r = v3_get(http, "/fapi/v3/balance", stranger.private_key, user, stranger.address, now_us + 3)
    assert code(r) == (401, -2015, f"Signer {stranger.address.lower()} is not an agent of {user.lower()}.")


def test_v3_keeps_the_last_100_nonces(http, client, wallet):
    agent = client.approve_agent(wallet, "desk")
    base = time.time_ns() // 1000
    for i in range(100):
        assert (
            v3_get(
                http, "/fapi/v3/agent", agent.private_key, wallet.address, agent.address, base + i
            ).status_code
            == 200
        )
    r = v3_get(http, "/fapi/v3/agent", agent.private_key, wallet.address, agent.address, base - 1)
    assert code(r) == (400, -4225, "Nonce Expired")


@pytest.mark.moves_clock
def test_an_expired_agent_is_refused(sandbox, client, wallet):
    agent = client.approve_agent(wallet, "brief", days=1)
    sandbox.advance(hours=25)
    with pytest.raises(av.AsterError) as err:
        client.balance_v3()
    assert (err.value.code, err.value.msg) == (
        -2015,
        f"Agent {agent.address.lower()} expired; approve a new one.",
    )


def _approve_params(sandbox, wallet, agent_address, **changes):
    # expiry is judged by the sandbox's clock, which other tests in the session move ahead
    params = {
        "agentName": "desk", "agentAddress": agent_address, "ipWhitelist": "",
        "expired": sandbox.now_ms() + 86_400_000 * 30,
        "canSpotTrade": False, "canPerpTrade": True, "canWithdraw": False, "asterChain": "Mainnet",
        "user": wallet.address, "nonce": time.time_ns() // 1000,
    }  # fmt: skip
    return params | changes


def post_main(http, path, params, key, *, sign_as=None, chain="56", method="POST"):
    signature = av.sign_main_action(key, sign_as or "ApproveAgent", params)
    form = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}
    return http.request(method, path, data=form | {"signature": signature, "signatureChainId": chain})


def test_main_wallet_refusals(sandbox, http, wallet):
    fresh = Wallet.generate().address
    ok = post_main(http, "/fapi/v3/approveAgent", _approve_params(sandbox, wallet, fresh), wallet.private_key)
    assert ok.json() == {"code": 200, "msg": "success"}
    again = post_main(
        http, "/fapi/v3/approveAgent", _approve_params(sandbox, wallet, fresh), wallet.private_key
    )
    assert code(again) == (
        400,
        -1102,
        f"Agent address {fresh.lower()} is already in use; generate a fresh key.",
    )
    other = Wallet.generate()
    impostor = post_main(
        http,
        "/fapi/v3/approveAgent",
        _approve_params(sandbox, wallet, Wallet.generate().address),
        other.private_key,
    )
    assert code(impostor) == (400, -1022, "Signature for this request is not valid.")
    wrong_chain = post_main(
        http,
        "/fapi/v3/approveAgent",
        _approve_params(sandbox, wallet, Wallet.generate().address),
        wallet.private_key,
        chain="1",
    )
    assert code(wrong_chain) == (400, -1022, "signatureChainId must be 56.")
    testnet = post_main(
        http, "/fapi/v3/approveAgent",
        _approve_params(sandbox, wallet, Wallet.generate().address, asterChain="Testnet"),
        wallet.private_key,
    )  # fmt: skip
    assert code(testnet) == (400, -1022, "asterChain must be Mainnet here.")
    withdraw = post_main(
        http, "/fapi/v3/approveAgent", _approve_params(sandbox, wallet, Wallet.generate().address, canWithdraw=True),
        wallet.private_key,
    )  # fmt: skip
    assert code(withdraw) == (400, -1102, "An agent that can withdraw needs an ipWhitelist.")
    nobody = Wallet.generate()
    unknown = post_main(
        http,
        "/fapi/v3/approveAgent",
        _approve_params(sandbox, nobody, Wallet.generate().address),
        nobody.private_key,
    )
    assert code(unknown) == (
        401,
        -2015,
        f"Account {nobody.address.lower()} does not exist; register it first.",
    )
    missing = http.post("/fapi/v3/approveAgent", data={"user": wallet.address})
    assert code(missing) == (
        400,
        -1102,
        "Mandatory parameter 'agentName' was not sent, was empty/null, or malformed.",
    )


def test_register_and_approve_refusals(sandbox, http):
    newcomer, agent = Wallet.generate(), Wallet.generate()
    params = {
        "user": newcomer.address, "nonce": time.time_ns() // 1000, "agentName": "a",
        "agentAddress": agent.address,
        "expired": sandbox.now_ms() + 86_400_000, "signatureChainId": 56, "canSpotTrade": False,
        "canPerpTrade": True, "canWithdraw": False,
    }  # fmt: skip
    signature = av.sign_message(Wallet.generate().private_key, av.register_message(params), 56)
    r = http.post(
        "/fapi/v3/registerAndApproveAgent",
        data={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}
        | {"signature": signature},
    )
    assert code(r) == (400, -1022, "Signature for this request is not valid.")
    solana = params | {"signatureChainId": 101}
    r = http.post(
        "/fapi/v3/registerAndApproveAgent", data={k: str(v) for k, v in solana.items()} | {"signature": "x"}
    )
    assert code(r) == (400, -1102, "Only EVM addresses (signatureChainId 56) are supported here.")
