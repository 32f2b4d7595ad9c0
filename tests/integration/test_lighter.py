"""Lighter against the sandbox over loopback: every rule of issue 5, with the bad input and its error."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import httpx
import pytest

from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import AccountNotFound, LighterClient, LighterError, LighterKey, wire
from toolkit.venues.lighter.signer import ApiKeyPair, NativeSigner, SignedTx, generate_api_key


@pytest.fixture
def lighter(sandbox):
    with LighterClient(sandbox) as client:
        yield client


@pytest.fixture
def owner(sandbox):
    wallet = Wallet.generate()
    sandbox.deposit("lighter", wallet.address, 5_000)
    return wallet


@pytest.fixture
def key(lighter, owner) -> LighterKey:
    return lighter.register_api_key(owner)


def refusal(call, code: int, text: str) -> LighterError:
    with pytest.raises(LighterError) as err:
        call()
    assert err.value.code == code, err.value
    assert text in err.value.message, err.value.message
    return err.value


def raw_send(http: httpx.Client, signed: SignedTx | dict) -> httpx.Response:
    if isinstance(signed, SignedTx):
        signed = {"tx_type": signed.tx_type, "tx_info": signed.tx_info}
    return http.post("/api/v1/sendTx", data=signed)


# -- accounts and registration ---------------------------------------------------------------------


def test_an_address_without_a_deposit_is_told_to_deposit_first(lighter):
    err = refusal(lambda: lighter.account_index(Wallet.generate().address), 21100, "account not found")
    assert isinstance(err, AccountNotFound)
    assert "Deposit first" in err.message


def test_deposit_creates_one_master_account(sandbox, lighter):
    wallet = Wallet.generate()
    first = sandbox.deposit("lighter", wallet.address, 100)
    assert sandbox.deposit("lighter", wallet.address, 50) == first
    (account,) = lighter.accounts(wallet.address)
    assert (account.account_index, account.collateral, account.account_type) == (first, 150.0, 0)
    assert account.trading_mode == "simpleTradingAccount"


def test_register_confirms_through_apikeys_and_consumes_one_nonce(lighter, owner, key):
    assert key.api_key_index == 42
    slot = lighter.confirm(key)
    assert slot.public_key == key.public_key.removeprefix("0x")  # listed without 0x, as check_client needs
    assert slot.nonce == 1 == lighter.next_nonce(key.account_index, 42)
    listed = lighter.api_keys(key.account_index)
    assert [(k.api_key_index, k.public_key) for k in listed] == [(42, slot.public_key)]


def test_reserved_and_nil_slots_are_refused_client_and_server_side(lighter, owner, http):
    refusal(lambda: lighter.register_api_key(owner, api_key_index=2), wire.INVALID_API_KEY_INDEX, "reserved")
    refusal(lambda: lighter.register_api_key(owner, api_key_index=255), wire.INVALID_API_KEY_INDEX, "4-254")
    account = lighter.account_index(owner.address)
    pair = generate_api_key()
    signed = lighter.sign_change_pub_key(owner, account, 1, pair, 0)  # signed by hand, sent anyway
    answer = raw_send(http, signed)
    assert answer.status_code == 400
    assert answer.json() == {
        "code": wire.INVALID_API_KEY_INDEX,
        "message": "api key index 1 is reserved for Lighter's front-ends (0-3); use 4-254",
    }


def test_change_pub_key_needs_the_account_owners_l1_signature(lighter, owner, http):
    account = lighter.account_index(owner.address)
    pair = generate_api_key()
    stranger = Wallet.generate()
    answer = raw_send(http, lighter.sign_change_pub_key(stranger, account, 50, pair, 0))
    assert answer.status_code == 400
    assert answer.json()["code"] == wire.INVALID_L1_SIGNATURE
    assert "not signed by the account's L1 address" in answer.json()["message"]
    unsigned = NativeSigner(pair.private_key, account, 50, lighter.chain_id).sign_change_pub_key(
        pair.public_key, 0
    )
    answer = raw_send(http, unsigned)  # L1Sig left empty
    assert answer.json() == {"code": wire.INVALID_L1_SIGNATURE, "message": "ChangePubKey needs L1Sig, the account owner's signature"}  # fmt: skip
    # the L1 message covers the nonce: a signature for nonce 0 does not register with nonce 1
    good = json.loads(lighter.sign_change_pub_key(owner, account, 50, pair, 0).tx_info)
    other = json.loads(lighter.sign_change_pub_key(owner, account, 50, pair, 1).tx_info)
    other["L1Sig"] = good["L1Sig"]
    answer = raw_send(http, {"tx_type": 8, "tx_info": json.dumps(other)})
    assert answer.json()["code"] == wire.INVALID_L1_SIGNATURE
    assert lighter.api_key(account, 50).registered is False  # nothing half-written


def test_change_pub_key_must_be_signed_by_the_new_key(lighter, owner, http):
    account = lighter.account_index(owner.address)
    new, other = generate_api_key(), generate_api_key()
    signed = lighter.sign_change_pub_key(owner, account, 51, new, 0, signing_key=other.private_key)
    answer = raw_send(http, signed)
    assert answer.json() == {"code": wire.INVALID_SIGNATURE, "message": "invalid signature"}
    assert lighter.next_nonce(account, 51) == 0  # a refused tx consumes no nonce


def test_wrong_nonce_is_21104_and_changes_nothing(lighter, owner, http):
    account = lighter.account_index(owner.address)
    pair = generate_api_key()
    answer = raw_send(http, lighter.sign_change_pub_key(owner, account, 52, pair, 3))
    assert answer.status_code == 400
    assert answer.json() == {"code": 21104, "message": "invalid nonce: expected 0, got 3"}
    assert not lighter.api_key(account, 52).registered


def test_skip_nonce_jumps_forward_within_bounds(lighter, owner, key, http):
    s = key.signer()
    base = dict(
        market_index=0, client_order_index=0, base_amount=200, price=100_000, is_ask=False, order_type=0
    )
    jump = s.sign_create_order(**base, time_in_force=wire.POST_ONLY, nonce=500, skip_nonce=True)
    assert raw_send(http, jump).json()["code"] == 200
    assert lighter.next_nonce(key.account_index, 42) == 501
    back = s.sign_create_order(**base, time_in_force=wire.POST_ONLY, nonce=400, skip_nonce=True)
    answer = raw_send(http, back).json()
    assert answer["code"] == 21104 and "must be above 500" in answer["message"]
    too_far = s.sign_create_order(**base, time_in_force=wire.POST_ONLY, nonce=2**47 - 1, skip_nonce=True)
    answer = raw_send(http, too_far).json()
    assert answer["code"] == 21104 and f"below {2**47 - 1}" in answer["message"]


def test_an_expired_transaction_is_refused(lighter, owner, key, http):
    info = json.loads(key.signer().sign_cancel_all_orders(0, 0, 1).tx_info)
    info["ExpiredAt"] = int(time.time() * 1000) - 1000  # re-signing is impossible here: the hash changes too
    answer = raw_send(http, {"tx_type": 16, "tx_info": json.dumps(info)})
    assert answer.json() == {
        "code": wire.TX_EXPIRED,
        "message": "transaction expired: ExpiredAt is in the past",
    }


def test_transactions_from_an_empty_slot_are_refused(lighter, owner, http):
    account = lighter.account_index(owner.address)
    pair = generate_api_key()
    signed = NativeSigner(pair.private_key, account, 60, lighter.chain_id).sign_cancel_all_orders(0, 0, 0)
    answer = raw_send(http, signed).json()
    assert answer == {
        "code": wire.API_KEY_NOT_FOUND,
        "message": f"api key not found: no key is registered at index 60 of account {account}",
    }


def test_malformed_send_tx_in_lighters_envelope(http):
    answer = http.post("/api/v1/sendTx", data={"tx_type": "8"})
    assert (answer.status_code, answer.json()) == (400, {"code": 20001, "message": "tx_info is required"})
    for typed in ("x", "١٤", " 14", "1_4", "+14", "14.0"):  # only ASCII digits are a number here
        answer = http.post("/api/v1/sendTx", data={"tx_type": typed, "tx_info": "{}"})
        assert (answer.status_code, answer.json()) == (
            400,
            {"code": 20001, "message": "tx_type must be an integer"},
        )
    answer = http.post("/api/v1/sendTx", data={"tx_type": "99", "tx_info": "{}"})
    assert answer.json()["message"] == "tx_type 99 is not supported by the sandbox"
    answer = http.get("/api/v1/nextNonce", params={"account_index": "nope", "api_key_index": 4})
    assert answer.status_code == 400 and answer.json()["code"] == 20001


def test_rotate_replaces_and_revoke_empties_the_slot(lighter, owner, key):
    rotated = lighter.rotate_api_key(owner, key)
    assert rotated.api_key_index == key.api_key_index and rotated.public_key != key.public_key
    refusal(lambda: lighter.account_limits(key.account_index, key), 20013, "does not match the key")
    lighter.revoke_api_key(owner, rotated)
    slot = lighter.api_key(key.account_index, 42)
    assert not slot.registered and slot.public_key == "0" * 80
    assert lighter.api_keys(key.account_index) == []
    refusal(
        lambda: lighter.cancel_all_orders(rotated), wire.API_KEY_NOT_FOUND, "no key is registered at index 42"
    )


# -- auth tokens --------------------------------------------------------------------------------------


def test_auth_token_rules(lighter, key, http):
    account = key.account_index
    assert lighter.account_limits(account, key)["user_tier"] == "standard"
    with pytest.raises(ValueError, match="at most 8 hours"):
        lighter.create_auth_token(key, expires_in=timedelta(hours=8, seconds=1))
    signer = key.signer()
    cases = [
        (None, "the Authorization header is missing"),
        (signer.create_auth_token(int(time.time()) - 5).reveal(), "invalid auth token: expired"),
        (signer.create_auth_token(int(time.time()) + 8 * 3600 + 120).reveal(), "more than 8 hours ahead"),
        (NativeSigner(generate_api_key().private_key, account, 99, lighter.chain_id)
         .create_auth_token(int(time.time()) + 60).reveal(), "no key is registered at index 99"),
        (NativeSigner(generate_api_key().private_key, account, 42, lighter.chain_id)
         .create_auth_token(int(time.time()) + 60).reveal(), "does not match the key at that index"),
        ("12:34:56", "expected {expiry}:{account}:{key}:{signature}"),
    ]  # fmt: skip
    for header, text in cases:
        headers = {"authorization": header} if header else {}
        answer = http.get("/api/v1/accountLimits", params={"account_index": account}, headers=headers)
        assert answer.status_code == 401, text
        assert answer.json()["code"] == 20013 and text in answer.json()["message"], answer.json()
    other_account = signer.create_auth_token(int(time.time()) + 60).reveal()
    answer = http.get("/api/v1/accountLimits", params={"account_index": account + 100_000}, headers={"authorization": other_account})  # fmt: skip
    assert answer.json()["message"] == "invalid auth token: it is for another account"


def test_read_only_tokens_create_list_revoke(lighter, key, http):
    token = lighter.create_read_only_token(key, "dashboard", expires_in=timedelta(days=7))
    assert token.api_token.reveal().startswith(f"ro:{key.account_index}:single:")
    assert token.api_token.reveal() not in repr(token)
    listed = lighter.read_only_tokens(key.account_index, token.api_token)  # reads with itself
    assert [(t.token_id, t.name, t.revoked) for t in listed] == [(token.token_id, "dashboard", False)]
    assert lighter.maker_only_api_keys(key.account_index, token.api_token) == []
    # a read-only token changes nothing
    answer = http.post(
        "/api/v1/changeAccountTier",
        data={"account_index": key.account_index, "new_tier": "premium"},
        headers={"authorization": token.api_token.reveal()},
    )
    assert answer.json() == {
        "code": 20013,
        "message": "invalid auth token: a read-only token cannot change anything",
    }
    lighter.revoke_read_only_token(key, token.token_id)
    refusal(lambda: lighter.read_only_tokens(key.account_index, token.api_token), 20013, "unknown or revoked")
    assert lighter.read_only_tokens(key.account_index, key)[0].revoked


def test_read_only_token_lifetime_is_one_day_to_ten_years(lighter, key, http):
    with pytest.raises(ValueError, match="1 day to 10 years"):
        lighter.create_read_only_token(key, "short", expires_in=timedelta(hours=23))
    now = int(time.time())
    for expiry, text in [(now + 3600, "at least 1 day"), (now + 11 * 365 * 86_400, "at most 10 years")]:
        answer = http.post(
            "/api/v1/tokens/create",
            data={
                "name": "x",
                "account_index": key.account_index,
                "expiry": expiry,
                "sub_account_access": "false",
            },
            headers={"authorization": lighter.create_auth_token(key).reveal()},
        )
        assert answer.status_code == 400 and text in answer.json()["message"]
    assert lighter.read_only_tokens(key.account_index, key) == []


@pytest.mark.parametrize(
    "scopes",
    ["write.*", "read.*,trade", "read.*," * 17 + "read.*", "read." + "x" * 5000, "READ.*"],
)
def test_read_only_token_scopes_are_read_scopes_only(lighter, key, http, scopes):
    answer = http.post(
        "/api/v1/tokens/create",
        data={
            "name": "x",
            "account_index": key.account_index,
            "expiry": int(time.time()) + 7 * 86_400,
            "sub_account_access": "false",
            "scopes": scopes,
        },
        headers={"authorization": lighter.create_auth_token(key).reveal()},
    )
    assert (answer.status_code, answer.json()) == (
        400,
        {"code": 21111, "message": "scopes must be at most 16 read scopes, comma-separated, such as read.*"},
    )
    assert lighter.read_only_tokens(key.account_index, key) == []


def test_a_nul_in_a_token_form_is_refused_before_the_venue_reads_it(lighter, key, http):
    answer = http.post(
        "/api/v1/tokens/create",
        data={"name": "x", "account_index": key.account_index, "expiry": int(time.time()) + 86_400,
              "sub_account_access": "false", "scopes": "read.*\x00"},
        headers={"authorization": lighter.create_auth_token(key).reveal()},
    )  # fmt: skip
    assert (answer.status_code, answer.json()) == (
        400,
        {"code": 20001, "message": "Form body holds a NUL character (%00)"},
    )
    assert lighter.read_only_tokens(key.account_index, key) == []


# -- maker-only keys and tiers ------------------------------------------------------------------------


@pytest.mark.moves_clock
def test_maker_only_needs_premium_and_valid_indexes(sandbox, lighter, key, http):
    refusal(
        lambda: lighter.set_maker_only_api_keys(key, [42]), wire.MAKER_ONLY_REFUSED, "need a premium account"
    )
    lighter.change_account_tier(key, "premium")
    auth = {"authorization": lighter.create_auth_token(key).reveal()}
    for indexes, text in [
        ("[2]", "reserved for Lighter's front-ends (0-3)"),
        ("[255]", "must be 4-254"),
        (json.dumps(list(range(4, 205))), "at most 200 maker-only keys"),
        ("[5,5]", "lists a key twice"),
        ("5", "JSON list of integers"),
    ]:
        answer = http.post(
            "/api/v1/setMakerOnlyApiKeys",
            data={"account_index": key.account_index, "api_key_indexes": indexes},
            headers=auth,
        )
        assert answer.status_code == 400 and text in answer.json()["message"], (indexes, answer.json())
    lighter.set_maker_only_api_keys(key, list(range(4, 204)))  # 200 is the limit, not above it
    assert len(lighter.maker_only_api_keys(key.account_index, key)) == 200
    refusal(
        lambda: lighter.set_maker_only_api_keys(key, [42]), wire.MAKER_ONLY_REFUSED, "at most once an hour"
    )
    sandbox.advance(minutes=61)
    lighter.set_maker_only_api_keys(key, [42])
    assert lighter.maker_only_api_keys(key.account_index, key) == [42]


def test_a_maker_only_key_sends_post_only_orders_modifies_and_cancels_only(
    sandbox, lighter, owner, key, http
):
    lighter.change_account_tier(key, "premium")
    lighter.set_maker_only_api_keys(key, [42])
    lighter.create_order(key, market_index=0, base_amount=200, price=100_000, is_ask=False, time_in_force="post_only", client_order_index=7)  # fmt: skip
    for tif in ("gtt", "ioc"):
        refusal(
            lambda tif=tif: lighter.create_order(
                key, market_index=0, base_amount=200, price=100_000, is_ask=False, time_in_force=tif
            ),
            wire.MAKER_ONLY_VIOLATION,
            "is maker-only: it may send post-only orders, modify them, cancel and cancel all",
        )
    lighter.modify_order(key, 0, 7, 300, 100_100)
    lighter.cancel_order(key, 0, 7)
    lighter.cancel_all_orders(key)
    # the same account's other keys are not restricted
    free = lighter.register_api_key(owner, api_key_index=43)
    lighter.create_order(free, market_index=0, base_amount=200, price=100_000, is_ask=False, time_in_force="gtt", client_order_index=9)  # fmt: skip
    refusal(lambda: lighter.modify_order(key, 0, 9, 300, 100_000), wire.MAKER_ONLY_VIOLATION, "is maker-only")


@pytest.mark.moves_clock
def test_tier_switch_rules(sandbox, lighter, key):
    refusal(
        lambda: lighter.change_account_tier(key, "standard"), wire.TIER_CHANGE_REFUSED, "already standard"
    )
    lighter.create_order(key, market_index=1, base_amount=500, price=300_000, is_ask=False, time_in_force="gtt", client_order_index=1)  # fmt: skip
    refusal(
        lambda: lighter.change_account_tier(key, "premium"),
        wire.TIER_CHANGE_REFUSED,
        "cancel every pending order",
    )
    lighter.cancel_all_orders(key)
    lighter.create_order(
        key, market_index=1, base_amount=500, price=10_000_000, is_ask=False, time_in_force="ioc"
    )
    refusal(
        lambda: lighter.change_account_tier(key, "premium"),
        wire.TIER_CHANGE_REFUSED,
        "close every open position",
    )
    lighter.create_order(key, market_index=1, base_amount=500, price=25_000, is_ask=True, time_in_force="ioc", reduce_only=True)  # fmt: skip
    lighter.change_account_tier(key, "premium")
    limits = lighter.account_limits(key.account_index, key)
    assert (limits["user_tier"], limits["account_trading_mode"]) == ("premium", "simpleTradingAccount")
    refusal(
        lambda: lighter.change_account_tier(key, "standard"), wire.TIER_CHANGE_REFUSED, "once every 24 hours"
    )
    sandbox.advance(hours=24)
    lighter.change_account_tier(key, "standard")
    with pytest.raises(ValueError, match="tier must be one of"):
        lighter.change_account_tier(key, "plus")  # type: ignore[arg-type]


def test_the_nonce_manager_rolls_back_on_a_refusal(lighter, key):
    lighter.change_account_tier(key, "premium")
    lighter.set_maker_only_api_keys(key, [42])
    lighter.cancel_all_orders(key)
    before = lighter.next_nonce(key.account_index, 42)
    assert lighter.nonces.peek(key.account_index, 42) == before
    order = dict(market_index=0, base_amount=200, price=100_000, is_ask=False, time_in_force="gtt")
    refusal(lambda: lighter.create_order(key, **order), wire.MAKER_ONLY_VIOLATION, "maker-only")
    assert lighter.nonces.peek(key.account_index, 42) == before  # refused: the nonce is still free
    assert lighter.nonces.stats.rolled_back >= 1
    lighter.create_order(key, **(order | {"time_in_force": "post_only"}))
    assert (
        lighter.next_nonce(key.account_index, 42) == before + 1 == lighter.nonces.peek(key.account_index, 42)
    )


def test_a_key_pair_for_an_unregistered_public_key_cannot_revoke_another(lighter, owner, key):
    impostor = LighterKey(key.account_index, 42, generate_api_key().public_key, generate_api_key().private_key, key.chain_id)  # fmt: skip
    refusal(lambda: lighter.revoke_api_key(owner, impostor), wire.INVALID_SIGNATURE, "invalid signature")
    assert lighter.confirm(key).registered
    _ = ApiKeyPair  # the type the client signs with


MALFORMED = {
    "AccountIndex": 1,
    "ApiKeyIndex": 42,
    "PubKey": "AA==",
    "L1Sig": "",
    "ExpiredAt": 2**47,
    "Nonce": 0,
}


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"AccountIndex": 2**70}, 21103, f"AccountIndex does not fit int64: {2**70}"),
        ({"Nonce": -5}, 21103, "AccountNonce should not be less than 0"),
        ({"L2TxAttributes": {"4": 2**70}}, 21103, f"skip_nonce does not fit uint8: {2**70}"),
        ({"L2TxAttributes": [1]}, 21103, "L2TxAttributes must be an object or null"),
        ({"L2TxAttributes": {"9": 1}}, 21103, "unknown L2TxAttributes type '9'"),
        ({"ExpiredAt": True}, 21103, "tx_info field ExpiredAt must be an integer"),
        ({"PubKey": "A" * 10 + "=="}, 21103, "PubKey is invalid"),
        ({"PubKey": "!!"}, 21103, "PubKey must be base64"),
        (
            {"Sig": "AAAA", "PubKey": base64.b64encode(bytes(40)).decode()},
            21120,
            "Sig must be 80 bytes of base64",
        ),
    ],
)
def test_malformed_tx_info_is_a_400_with_gos_message(http, changes, code, message):
    info = MALFORMED | {"Sig": base64.b64encode(bytes(80)).decode()} | changes
    answer = http.post("/api/v1/sendTx", data={"tx_type": "8", "tx_info": json.dumps(info)})
    assert (answer.status_code, answer.json()) == (400, {"code": code, "message": message})
