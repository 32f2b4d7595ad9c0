"""Lighter's wire format against the venue's known answers and the official native signer."""

from __future__ import annotations

import base64
import json
import time

import pytest

from toolkit.secrets import Secret
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import signer, wire
from toolkit.venues.lighter.wire import LighterError

# reference/lighter.md §2.1-§2.2: a RUN of the official signer (account 12345, slot 42, nonce 7)
KAT_PUBKEY = "50788b9333aa5885168f1def344c775652bc524d3b7ce8664be7e03eadbca8f75892e61b317d16ad"
KAT_TX_INFO = (
    '{"AccountIndex":12345,"ApiKeyIndex":42,"PubKey":"UHiLkzOqWIUWjx3vNEx3VlK8Uk07fOhmS+fgPq28qPdYkuYbMX0WrQ==",'
    '"L1Sig":"","ExpiredAt":1795264358594,"Nonce":7,"Sig":"HZg3l0hlW86Tv3KnKh9A9Nx8Kk1JIfHyx2QhMQpp/8a3TxvWY8CPWYhC'
    'ZQJUazEgU8IHD+1bm5y9SKRHbP/7/nE1eEQtUkY3GMI/72OA5EU=","L2TxAttributes":null}'
)
KAT_TX_HASH = "2cd93687dad4230bc5257660817c354c0d38053262f48d5f4d5cf8d4db54d61a29fb4318041b5bc7"
KAT_L1_ADDRESS = "0x2c0806C36f408fe9B42f6042523114cda67F5471"
KAT_L1_SIG = (
    "0x4537d54ff88619f1eb8f5f5b65f220db641bcdf1c9cf1e0345f25c4df4f502d85bcefe793865d6b7bf0911112a330206af2fbad1537f"
    "055aa2ed29524cd1e0b01b"
)
KAT_MESSAGE = (
    "Register Lighter Account\n\n"
    f"pubkey: 0x{KAT_PUBKEY}\n"
    "nonce: 0x0000000000000007\n"
    "account index: 0x0000000000003039\n"
    "api key index: 0x000000000000002a\n"
    "Only sign this message for a trusted client!"
)


def test_l1_message_matches_the_venue_template_exactly():
    assert wire.change_pub_key_message(KAT_PUBKEY, 7, 12345, 42) == KAT_MESSAGE
    assert wire.change_pub_key_message("0x" + KAT_PUBKEY, 7, 12345, 42) == KAT_MESSAGE


def test_known_change_pub_key_hashes_and_verifies():
    tx = wire.parse_tx(wire.TX_CHANGE_PUB_KEY, KAT_TX_INFO)
    assert wire.tx_hash(tx.tx, 304).hex() == KAT_TX_HASH
    assert wire.verify_signature(bytes.fromhex(KAT_PUBKEY), bytes.fromhex(KAT_TX_HASH), tx.sig)
    # the chain id is hashed first: the same signature means nothing on testnet
    assert wire.tx_hash(tx.tx, 300).hex() != KAT_TX_HASH


def test_known_l1_countersignature_recovers_its_wallet():
    assert wire.recover_l1_signer(KAT_MESSAGE, KAT_L1_SIG) == KAT_L1_ADDRESS
    tampered = KAT_MESSAGE.replace("nonce: 0x0000000000000007", "nonce: 0x0000000000000008")
    assert wire.recover_l1_signer(tampered, KAT_L1_SIG) != KAT_L1_ADDRESS


def test_tampered_signature_and_wrong_key_are_refused():
    tx = wire.parse_tx(wire.TX_CHANGE_PUB_KEY, KAT_TX_INFO)
    msg = bytes.fromhex(KAT_TX_HASH)
    flipped = bytearray(tx.sig)
    flipped[3] ^= 1
    assert not wire.verify_signature(bytes.fromhex(KAT_PUBKEY), msg, bytes(flipped))
    other = signer.generate_api_key()
    assert not wire.verify_signature(wire.public_key_bytes(other.public_key), msg, tx.sig)
    assert not wire.verify_signature(bytes(40), msg, tx.sig)  # the zero (revoked) key never verifies


@pytest.fixture(scope="module")
def native():
    key = signer.generate_api_key()
    return key, signer.NativeSigner(key.private_key, 777, 9, wire.SANDBOX_CHAIN_ID)


def test_every_supported_tx_hashes_like_the_native_signer(native):
    key, s = native
    pk = wire.public_key_bytes(key.public_key)
    signed = [
        s.sign_change_pub_key(key.public_key, 3),
        s.sign_change_pub_key(key.public_key, 1000, skip_nonce=True),
        s.sign_create_order(
            market_index=1, client_order_index=5, base_amount=10, price=2000, is_ask=True, order_type=0,
            time_in_force=wire.POST_ONLY, nonce=4,
        ),
        s.sign_cancel_order(1, 5, 5),
        s.sign_cancel_all_orders(wire.IMMEDIATE_OR_CANCEL, 0, 6),
        s.sign_modify_order(1, 5, 20, 2100, 7),
    ]  # fmt: skip
    for one in signed:
        tx = wire.parse_tx(one.tx_type, one.tx_info)
        digest = wire.tx_hash(tx.tx, wire.SANDBOX_CHAIN_ID)
        assert digest.hex() == one.tx_hash, one.tx_type
        assert wire.verify_signature(pk, digest, tx.sig), one.tx_type
    assert wire.parse_tx(signed[1].tx_type, signed[1].tx_info).skip_nonce


def test_two_keys_on_one_slot_each_sign_with_their_own():
    """The native library holds one key per (account, slot): a signer whose slot another key took
    since (a rotation, a second client) loads its own again before it signs."""
    keys = [signer.generate_api_key(), signer.generate_api_key()]
    signers = [signer.NativeSigner(k.private_key, 778, 9, wire.SANDBOX_CHAIN_ID) for k in keys]
    for turn in (0, 1, 1, 0, 1):
        one = signers[turn].sign_cancel_order(1, 5, 10 + turn)
        tx = wire.parse_tx(one.tx_type, one.tx_info)
        digest = wire.tx_hash(tx.tx, wire.SANDBOX_CHAIN_ID)
        assert wire.verify_signature(wire.public_key_bytes(keys[turn].public_key), digest, tx.sig), turn
        assert not wire.verify_signature(wire.public_key_bytes(keys[1 - turn].public_key), digest, tx.sig)


def test_native_auth_token_verifies_and_a_forged_one_does_not(native):
    key, s = native
    deadline = int(time.time()) + 600
    token = s.create_auth_token(deadline)
    assert isinstance(token, Secret)
    parsed = wire.parse_auth_token(token.reveal())
    assert (parsed.deadline, parsed.account_index, parsed.api_key_index) == (deadline, 777, 9)
    assert wire.verify_auth_token(parsed, wire.public_key_bytes(key.public_key))
    forged = wire.parse_auth_token(f"{deadline + 60}:777:9:{parsed.signature.hex()}")
    assert not wire.verify_auth_token(forged, wire.public_key_bytes(key.public_key))


def test_the_signers_own_refusals_are_passed_on():
    with pytest.raises(signer.SignerError, match="invalid private key length"):
        signer.NativeSigner(Secret("0x12"), 777, 9, 304)
    with pytest.raises(signer.SignerError, match="invalid account index"):
        signer.NativeSigner(signer.generate_api_key().private_key, 0, 9, 304)


def test_key_pairs_never_show_their_private_part():
    key = signer.generate_api_key()
    assert key.private_key.reveal() not in repr(key)
    assert key.private_key.reveal().removeprefix("0x") not in repr(key)


# -- nonces (seed 001) --------------------------------------------------------------------------


def test_nonce_must_be_the_next_one_without_skip():
    wire.check_nonce(5, 5, False)
    with pytest.raises(LighterError, match="invalid nonce: expected 5, got 6") as err:
        wire.check_nonce(6, 5, False)
    assert err.value.code == 21104
    with pytest.raises(LighterError, match="expected 5, got 4"):
        wire.check_nonce(4, 5, False)


def test_skip_nonce_bounds():
    wire.check_nonce(9_000, 5, True)  # any jump forward
    wire.check_nonce(5, 5, True)  # the next one is above the last used (4)
    with pytest.raises(LighterError, match="must be above 4"):
        wire.check_nonce(4, 5, True)
    with pytest.raises(LighterError, match=f"below {2**47 - 1}"):
        wire.check_nonce(2**47 - 1, 5, True)
    with pytest.raises(LighterError, match=f"capped at {2**48 - 1}"):
        wire.check_nonce(2**48, 5, True)


# -- tokens ----------------------------------------------------------------------------------------


def test_auth_deadline_rules():
    now = 1_800_000_000
    wire.check_auth_deadline(now + 8 * 3600, now)
    with pytest.raises(LighterError, match="expired"):
        wire.check_auth_deadline(now, now)
    with pytest.raises(LighterError, match="more than 8 hours ahead") as err:
        wire.check_auth_deadline(now + 8 * 3600 + 1, now)
    assert err.value.code == 20013


def test_malformed_auth_tokens_are_refused():
    for bad in ["", "123:1:2", "123:1:2:zz", "ro:1:single:2:ab", "1:2:3:" + "0" * 159]:
        with pytest.raises(LighterError, match="invalid auth token") as err:
            wire.parse_auth_token(bad)
        assert err.value.code == 20013


def test_read_only_token_format_and_lifetime():
    token = wire.format_ro_token(12, True, 2_000_000_000, "ab" * 16)
    assert token == f"ro:12:all:2000000000:{'ab' * 16}"
    assert wire.parse_ro_token(token) == wire.ReadOnlyToken(12, "all", 2_000_000_000)
    now = 1_800_000_000
    wire.check_ro_expiry(now + 86_400, now)
    wire.check_ro_expiry(now + 10 * 365 * 86_400, now)
    with pytest.raises(LighterError, match="at least 1 day"):
        wire.check_ro_expiry(now + 86_399, now)
    with pytest.raises(LighterError, match="at most 10 years"):
        wire.check_ro_expiry(now + 10 * 365 * 86_400 + 1, now)


# -- slots and malformed transactions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "message"),
    [(0, "reserved"), (3, "reserved"), (255, "must be 4-254"), (-1, "must be 4-254")],
)
def test_user_slots_are_4_to_254(index, message):
    with pytest.raises(LighterError, match=message) as err:
        wire.check_user_slot(index)
    assert err.value.code == wire.INVALID_API_KEY_INDEX
    wire.check_user_slot(4)
    wire.check_user_slot(254)


def test_malformed_transactions_get_go_s_messages():
    info = json.loads(KAT_TX_INFO)
    with pytest.raises(LighterError, match="not supported"):
        wire.parse_tx(12, KAT_TX_INFO)
    with pytest.raises(LighterError, match="not valid JSON"):
        wire.parse_tx(8, "{nope")
    with pytest.raises(LighterError, match="missing Nonce"):
        wire.parse_tx(8, {k: v for k, v in info.items() if k != "Nonce"})
    with pytest.raises(LighterError, match=r"^21103: ApiKeyIndex should not be larger than 254$"):
        wire.parse_tx(8, info | {"ApiKeyIndex": 255})
    with pytest.raises(LighterError, match="PubKey is invalid"):
        wire.parse_tx(8, info | {"PubKey": base64.b64encode(b"short").decode()})
    with pytest.raises(LighterError, match="Sig must be 80 bytes"):
        wire.parse_tx(8, info | {"Sig": "AAAA"})
    with pytest.raises(LighterError, match="Nonce skip attribute is invalid"):
        wire.parse_tx(8, info | {"L2TxAttributes": {"4": 2}})


def test_l1_signing_round_trip():
    wallet = Wallet.generate()
    sig = wire.sign_l1(wallet, KAT_MESSAGE)
    assert wire.recover_l1_signer(KAT_MESSAGE, sig) == wallet.address
    v0 = sig[:-2] + f"{int(sig[-2:], 16) - 27:02x}"  # v as 0/1, which Go also accepts
    assert wire.recover_l1_signer(KAT_MESSAGE, v0) == wallet.address


def test_the_wide_generator_table_multiplies_like_the_reference():
    """verify_signature takes s*G from an 8-bit table; the reference's 5-bit one must agree."""
    import random

    from typed_lighter.core.signer import curve

    table = wire._generator_table()
    assert len(table) == 40 and len(table[0]) == 128
    rng = random.Random(7)
    for k in [
        0,
        1,
        2,
        127,
        128,
        129,
        255,
        256,
        curve.N - 2,
        curve.N - 1,
        *(rng.randrange(curve.N) for _ in range(25)),
    ]:
        assert curve.encode(wire._mul_table(table, k)) == curve.encode(curve.mul_generator(k)), k
        digits = wire._recode(k, 8)
        assert sum(d << (8 * i) for i, d in enumerate(digits)) == k and all(-127 <= d <= 128 for d in digits)
