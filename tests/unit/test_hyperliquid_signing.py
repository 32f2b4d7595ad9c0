"""Hyperliquid signing against the known-answer vectors of reference/hyperliquid.md §2 (r and s
compared as integers), and against the official SDK's signer on random inputs."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.venues import eip712
from toolkit.venues import hyperliquid as hl

K1 = "0x0123456789012345678901234567890123456789012345678901234567890123"
K2 = "0x822e9959e022b78423eb653a62ea0020cd283e71a2a8133a6ff2aeffaf373cff"
K3 = "0xe908f86dbb4d55ac876378565aafeabc187f6690f046459397b17d9b9a19688e"


def test_key_addresses():
    assert eip712.address_of(K1) == "0x14791697260E4c9A71f18484C9f997B308e59325"
    assert eip712.address_of(K2) == "0xE5cA49Fb3bD9A581F0D1EF9CB5D7177Da08bf901"
    assert eip712.address_of(K3) == "0xcD49bbAc6E85fdEB167EB7cA41A945d2b8758F6F"


def check(sig: eip712.Signature, r: str, s: str, v: int) -> None:
    assert (sig.r, sig.s, sig.v) == (int(r, 16), int(s, 16), v)


# -- approveAgent (§2.1) --------------------------------------------------------------------------

CASE_A = hl.approve_agent_action(
    "0x5e9ee1089755c3435139848e47e6635505d5a13a", nonce=1700000000000, is_mainnet=True
)


def test_approve_agent_case_a_every_intermediate():
    primary, fields = hl.USER_SIGNED["approveAgent"]
    assert eip712.type_string(primary, fields) == (
        "HyperliquidTransaction:ApproveAgent("
        "string hyperliquidChain,address agentAddress,string agentName,uint64 nonce)"
    )
    assert (
        eip712.type_hash(primary, fields).hex()
        == "4464abf6148f115d79362d98320081aa2ae8a5c840083cb65820bffc21394378"
    )
    assert eip712.domain_separator("HyperliquidSignTransaction", "1", 421614).hex() == (
        "feb1393ca4412a4ca577bd51d04f0a77033514c602f4d0a11490fb95f7428df6"
    )
    assert eip712.domain_separator("HyperliquidSignTransaction", "1", 42161).hex() == (
        "2f54e643b38c9c2b65cb731aaf11c54f01705ee0cdf45aea16e2ac0a5ce7531a"
    )
    assert eip712.struct_hash(primary, fields, CASE_A).hex() == (
        "a86a8566be51836e016f0e89569e97477e0cafd6e16a97350b4eaebd19a394b8"
    )
    assert (
        hl.user_signed_digest(CASE_A).hex()
        == "cdcca6f57e457cf30b0ec9eb74a6f1a7cbe7bea5fcb227e5a3d7783d8ee6cbea"
    )
    check(
        hl.sign_user_signed_action(K1, CASE_A),
        "0x39b38d050a63b34e54a8ec5a82a8312729dc8e367f11271054e69017af9e1dd1",
        "0x5c4a5676db9655d570d6ad57fad9bb410534790522092f070fc4a56a2786eba7",
        28,
    )


def test_unnamed_agent_signs_the_same_whether_the_name_is_empty_null_or_absent():
    sig = hl.sign_user_signed_action(K1, CASE_A)
    absent = {k: v for k, v in CASE_A.items() if k != "agentName"}
    for action in (CASE_A, CASE_A | {"agentName": None}, absent):
        assert hl.recover_user_signer(action, sig.to_wire()) == eip712.address_of(K1)


def test_agent_address_case_does_not_change_the_signature():
    upper = CASE_A | {"agentAddress": "0x5E9EE1089755C3435139848E47E6635505D5A13A"}
    assert hl.sign_user_signed_action(K1, upper) == hl.sign_user_signed_action(K1, CASE_A)


def test_agent_name_with_expiry_round_trips():
    assert hl.agent_name_field("bot1", 1702592000000) == "bot1 valid_until 1702592000000"
    assert hl.parse_agent_name("bot1 valid_until 1702592000000") == ("bot1", 1702592000000)
    assert hl.parse_agent_name(" valid_until 1702592000000") == ("", 1702592000000)
    assert hl.parse_agent_name("") == ("", None) and hl.parse_agent_name(None) == ("", None)
    assert hl.parse_agent_name("my bot") == ("my bot", None)


# -- official user-signed vectors (§2.2) ------------------------------------------------------------


def _send(kind: str, chain: str, destination: str, amount: str, time_ms: int) -> dict:
    return {
        "type": kind,
        "signatureChainId": "0x66eee",
        "hyperliquidChain": chain,
        "destination": destination,
        "amount": amount,
        "time": time_ms,
    }


def test_official_usd_send_and_withdraw_vectors():
    dest = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
    check(
        hl.sign_user_signed_action(K1, _send("usdSend", "Testnet", dest, "1", 1687816341423)),
        "0x637b37dd731507cdd24f46532ca8ba6eec616952c56218baeff04144e4a77073",
        "0x11a6a24900e6e314136d2592e2f8d502cd89b7c15b198e1bee043c9589f9fad7",
        27,
    )
    check(
        hl.sign_user_signed_action(K1, _send("withdraw3", "Testnet", dest, "1", 1687816341423)),
        "0x8363524c799e90ce9bc41022f7c39b4e9bdba786e5f9c72b20e43e1462c37cf9",
        "0x58b1411a775938b83e29182e8ef74975f9054c8e97ebf5ec2dc8d51bfc893881",
        28,
    )
    mainnet = _send("usdSend", "Mainnet", "0x1234567890123456789012345678901234567890", "1000", 1234567890)
    check(
        hl.sign_user_signed_action(K2, mainnet),
        "0xf777c38efe7c24cc71209526ae608f4e384d0586edf578f0e97b4b9f7c7adcc6",
        "0x104a4a97c48ae77bf5bd777bdd45fe72d8f5ff29116b5ff64fd8cfe4ea610786",
        28,
    )


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ("Mainnet", "343c9078af7c3d6683abefd0ca3b2960de5b669b716863e6dc49090853a4a3cd"
                    "6c016301239461091a8ca3ea5ac783362526c4d9e9e624ffc563aea93d6ac2391b"),
        ("Testnet", "2ada43eeebeba9cfe13faf95aa84e5b8c4885c3a07cbf4536f2df5edd340d4eb"
                    "1ed0e24f60a80d199a842258d5fa737a18d486f7d4e656268b434d226f2811d71c"),
    ],
)  # fmt: skip
def test_official_approve_builder_fee_vectors(chain, expected):
    action = {
        "type": "approveBuilderFee",
        "signatureChainId": "0x66eee",
        "hyperliquidChain": chain,
        "maxFeeRate": "0.001%",
        "builder": "0x1234567890123456789012345678901234567890",
        "nonce": 1583838,
    }
    assert hl.sign_user_signed_action(K3, action).to_bytes().hex() == expected


# -- official L1 vectors (§2.3) ----------------------------------------------------------------------

DUMMY = {"type": "dummy", "num": 100000000000}
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"


def test_dummy_action_vectors():
    assert hl.action_hash(DUMMY, None, 0, None).hex() == (
        "f528daee6a0bd11407b483cfcd9a48c56884180b70ee86f124053e5fc1bf4d57"
    )
    check(
        hl.sign_l1_action(K1, DUMMY, None, 0, None, True),
        "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
        "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
        27,
    )
    check(
        hl.sign_l1_action(K1, DUMMY, None, 0, None, False),
        "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
        "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613",
        28,
    )
    check(
        hl.sign_l1_action(K1, DUMMY, VAULT, 0, None, True),
        "0x3c548db75e479f8012acf3000ca3a6b05606bc2ec0c29c50c515066a326239",
        "0x4d402be7396ce74fbba3795769cda45aec00dc3125a984f2a9f23177b190da2c",
        28,
    )


ORDER = hl.order_action([hl.order_wire(1, True, 100, 100)])


def test_order_action_vectors():
    import msgpack

    assert msgpack.packb(ORDER).hex() == (
        "83a474797065a56f72646572a66f72646572739186a16101a162c3a170a3313030a173a3313030a172c2a17481"
        "a56c696d697481a3746966a3477463a867726f7570696e67a26e61"
    )
    assert hl.action_hash(ORDER, None, 0, None).hex() == (
        "884f2c32bb6dbdd65f6033e32fb28c0cb6f5b345db0f6471fd3366d85c9252c1"
    )
    assert hl.l1_digest(ORDER, None, 0, None, True).hex() == (
        "a5cfed1f2d7948de30aecacc7fea3c5e05c1e759020e96239847879b906f801e"
    )
    assert hl.l1_digest(ORDER, None, 0, None, False).hex() == (
        "606be2d25f68768f876dc04a2c3c86ceafd2d6a3c3cbb963454462d6734ebfa6"
    )
    check(
        hl.sign_l1_action(K1, ORDER, None, 0, None, True),
        "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        28,
    )
    check(
        hl.sign_l1_action(K1, ORDER, None, 0, None, False),
        "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
        "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
        27,
    )


def test_phantom_agent_connection_id_matches_production():
    action = hl.order_action([hl.order_wire(4, True, 1670.1, 0.0147, tif="Ioc")])
    assert hl.action_hash(action, None, 1677777606040, None).hex() == (
        "0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )


NK_ORDER = hl.order_action([hl.order_wire(0, True, 30000, 0.1)])
NK_VAULT = "0x1234567890123456789012345678901234567890"


@pytest.mark.parametrize(
    ("vault", "expires", "expected"),
    [
        (None, None, "25367e0dba84351148288c2233cd6130ed6cec5967ded0c0b7334f36f957cc90"),
        (NK_VAULT, None, "214e2ea3270981b6fd18174216691e69f56872663139d396b10ded319cb4bb1e"),
        (None, 1234567890, "c30b002ba3775e4c31c43c1dfd3291dfc85c6ae06c6b9f393991de86cad5fac7"),
        (NK_VAULT, 1234567890, "2d62412aa0fc57441b5189841d81554a6a9680bf07204e1454983a9ca44f0744"),
    ],
)
def test_nk_action_hash_vectors(vault, expires, expected):
    assert hl.action_hash(NK_ORDER, vault, 1234567890, expires).hex() == expected


def test_nk_signature_vectors():
    check(
        hl.sign_l1_action(K2, NK_ORDER, None, 1234567890, None, True),
        "0x61078d8ffa3cb591de045438a1ae2ed299b271891d1943a33901e7cfb3a31ed8",
        "0x0e91df4f9841641d3322dad8d932874b74d7e082cdb5b533f804964a6963aef9",
        28,
    )
    check(
        hl.sign_l1_action(K2, NK_ORDER, None, 1234567890, None, False),
        "0x6b0283a894d87b996ad0182b86251cc80d27d61ef307449a2ed249a508ded1f7",
        "0x6f884e79f4a0a10af62db831af6f8e03b3f11d899eb49b352f836746ee9226da",
        27,
    )


def test_recovery_and_network_separation():
    sig = hl.sign_l1_action(K1, ORDER, None, 7, None, False)
    assert hl.recover_l1_signer(ORDER, sig.to_wire(), None, 7, None, False) == eip712.address_of(K1)
    # the same signature read as mainnet, or for another nonce, names somebody else
    assert hl.recover_l1_signer(ORDER, sig.to_wire(), None, 7, None, True) != eip712.address_of(K1)
    assert hl.recover_l1_signer(ORDER, sig.to_wire(), None, 8, None, False) != eip712.address_of(K1)


def test_signature_wire_forms():
    sig = hl.sign_l1_action(K1, DUMMY, None, 0, None, True)
    unpadded = {"r": hex(sig.r), "s": hex(sig.s), "v": sig.v}  # the SDK drops leading zeros
    assert eip712.Signature.from_wire(unpadded) == sig == eip712.Signature.from_wire(sig.to_hex())
    assert len(sig.to_wire()["r"]) == 66
    for bad in ({"r": "0x0", "s": "0x1", "v": 27}, {"r": "0x1", "s": "0x1", "v": 29}, "0x1234"):
        with pytest.raises(ValueError):
            eip712.Signature.from_wire(bad)


@pytest.mark.parametrize(
    ("value", "wire"),
    [(100, "100"), (100.0, "100"), (0.1, "0.1"), (1670.1, "1670.1"), (-0.0, "0"), (0.00000001, "0.00000001")],
)
def test_float_to_wire(value, wire):
    assert hl.float_to_wire(value) == wire


def test_float_to_wire_refuses_more_than_8_decimals():
    with pytest.raises(ValueError, match="more than 8 decimals"):
        hl.float_to_wire(0.000000001)


# -- byte-identical with the official SDK ----------------------------------------------------------

sdk_signing = pytest.importorskip("hyperliquid.utils.signing")


@settings(max_examples=60, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32).filter(
        lambda b: 0 < int.from_bytes(b, "big") < eip712.SECP256K1_N
    ),
    asset=st.integers(0, 200),
    is_buy=st.booleans(),
    px=st.decimals(min_value="0.0001", max_value="100000", places=4),
    sz=st.decimals(min_value="0.001", max_value="1000", places=3),
    nonce=st.integers(0, 2**63 - 1),
    is_mainnet=st.booleans(),
    vault=st.none() | st.just(VAULT),
)
def test_l1_signatures_are_byte_identical_to_the_official_sdk(
    key, asset, is_buy, px, sz, nonce, is_mainnet, vault
):
    from eth_account import Account

    action = hl.order_action([hl.order_wire(asset, is_buy, str(px), str(sz))])
    theirs = sdk_signing.sign_l1_action(Account.from_key(key), action, vault, nonce, None, is_mainnet)
    ours = hl.sign_l1_action(key, action, vault, nonce, None, is_mainnet)
    assert (int(theirs["r"], 16), int(theirs["s"], 16), theirs["v"]) == (ours.r, ours.s, ours.v)


def test_sdk_agent_approval_recovers_to_the_master():
    from eth_account import Account

    action = {
        "type": "approveAgent",
        "agentAddress": "0x5e9ee1089755c3435139848e47e6635505d5a13a",
        "agentName": "desk valid_until 1700000000000",
        "nonce": 1699999999999,
    }
    signature = sdk_signing.sign_agent(Account.from_key(K2), action, False)  # adds chain fields itself
    assert hl.recover_user_signer(action, signature) == eip712.address_of(K2)


def test_a_short_private_key_is_refused_not_padded():
    from toolkit.venues.eip712 import Wallet

    with pytest.raises(ValueError, match="a private key is 32 bytes, not 2"):
        Wallet.from_key("0x1234")
