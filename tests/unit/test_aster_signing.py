"""Aster signing: the V1 HMAC vectors and legacy V3 vectors of reference/venues.md §A (and Aster's
doc), and the EIP-712 paths checked against eth-account's own encoder."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from toolkit.venues import aster
from toolkit.venues.eip712 import Wallet

SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
DEMO_USER = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
DEMO_SIGNER = "0x21cF8Ae13Bb72632562c6Fff438652Ba1a151bb0"
DEMO_KEY = "0x4fd0a42218f3eae43a6ce26d22544e986139a01e5b34a62db53757ffca81bae1"
NONCE = 1748310859508867


def test_v1_hmac_vectors():
    payload = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
        "&recvWindow=5000&timestamp=1591702613943"
    )
    assert (
        aster.hmac_signature(SECRET, payload)
        == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    )
    mixed = (
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
        + "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    )
    assert (
        aster.hmac_signature(SECRET, mixed)
        == "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4"
    )


def test_signed_v1_query_puts_the_signature_last():
    query = aster.signed_v1_query(
        [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("quantity", 1), ("price", 9000),
         ("timeInForce", "GTC")],
        SECRET, timestamp=1591702613943,
    )  # fmt: skip
    head, signature = query.rsplit("&signature=", 1)
    assert head.endswith("&recvWindow=5000&timestamp=1591702613943")
    assert signature == aster.hmac_signature(SECRET, head)


@pytest.mark.parametrize(
    ("params", "digest", "signature"),
    [
        (
            {"positionSide": "BOTH", "price": "0.28694", "quantity": "190", "recvWindow": "50000",
             "side": "BUY", "symbol": "SANDUSDT", "timeInForce": "GTC", "timestamp": "1749545309665",
             "type": "LIMIT"},
            "9e0273fc91323f5cdbcb00c358be3dee2854afb2d3e4c68497364a2f27a377fc",
            "0x0337dd720a21543b80ff861cd3c26646b75b3a6a4b5d45805d4c1d6ad6fc33e6"
            "5f0722778dd97525466560c69fbddbe6874eb4ed6f5fa7e576e486d9b5da67f31b",
        ),
        (
            {"orderId": "2194215", "recvWindow": "50000", "side": "BUY", "symbol": "SANDUSDT",
             "timestamp": "1749545309665", "type": "LIMIT"},
            "6ad9569ea1355bf62de1b09b33b267a9404239af6d9227fa59e3633edae19e2a",
            "0x4f5e36e91f0d4cf5b29b6559ebc2c808d3c808ebb13b2bcaaa478b98fb419564"
            "2c7473f0d1aa101359aaf278126af1a53bcb482fb05003bfb6bdc03de03c63151b",
        ),
    ],
)  # fmt: skip
def test_legacy_v3_vectors_from_asters_doc(params, digest, signature):
    assert aster.legacy_v3_hash(params, DEMO_USER, DEMO_SIGNER, NONCE).hex() == digest
    assert aster.sign_legacy_v3(DEMO_KEY, params, DEMO_USER, DEMO_SIGNER, NONCE) == signature


def test_demo_key_is_the_demo_signer():
    assert Wallet.from_key(DEMO_KEY).address == DEMO_SIGNER


def _typed(domain_chain: int, primary: str, fields: list[dict], message: dict) -> dict:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: fields,
        },
        "primaryType": primary,
        "domain": {"name": "AsterSignTransaction", "version": "1", "chainId": domain_chain,
                   "verifyingContract": "0x0000000000000000000000000000000000000000"},
        "message": message,
    }  # fmt: skip


@pytest.mark.parametrize("chain_id", [1666, 714, 56])
def test_v3_message_signature_matches_eth_account(chain_id):
    msg = (
        "symbol=ASTERUSDT&type=LIMIT&side=BUY&timeInForce=GTC&quantity=20&price=0.5"
        f"&nonce={NONCE}&signer={DEMO_SIGNER}"
    )
    theirs = Account.sign_message(
        encode_typed_data(
            full_message=_typed(chain_id, "Message", [{"name": "msg", "type": "string"}], {"msg": msg})
        ),
        DEMO_KEY,
    )
    assert aster.sign_message(DEMO_KEY, msg, chain_id) == "0x" + theirs.signature.hex().removeprefix("0x")
    assert aster.recover_message(msg, aster.sign_message(DEMO_KEY, msg, chain_id), chain_id) == DEMO_SIGNER


def test_main_wallet_approve_agent_matches_asters_demo_encoding():
    params = {
        "agentName": "ivanbuilder", "agentAddress": DEMO_SIGNER, "ipWhitelist": "", "expired": 1967945395040,
        "canSpotTrade": True, "canPerpTrade": False, "canWithdraw": False, "asterChain": "Mainnet",
        "user": DEMO_USER, "nonce": NONCE,
    }  # fmt: skip

    # the demo infers types from Python values (bool, int -> uint256, else string) and capitalises names
    def kind(v):
        return "bool" if isinstance(v, bool) else "uint256" if isinstance(v, int) else "string"

    fields = [{"name": k[:1].upper() + k[1:], "type": kind(v)} for k, v in params.items()]
    message = {k[:1].upper() + k[1:]: v for k, v in params.items()}
    theirs = Account.sign_message(
        encode_typed_data(full_message=_typed(56, "ApproveAgent", fields, message)), DEMO_KEY
    )
    ours = aster.sign_main_action(DEMO_KEY, "ApproveAgent", params)
    assert ours == "0x" + theirs.signature.hex().removeprefix("0x")
    # the server reads form values as text; the digest must not change
    as_form = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}
    assert aster.recover_main_action("ApproveAgent", as_form, ours) == DEMO_SIGNER


def test_login_message_is_eip191():
    wallet = Wallet.generate()
    signature = aster.sign_login(wallet.private_key, "501182")
    theirs = Account.sign_message(
        encode_defunct(text="You are signing into Astherus 501182"), wallet.private_key.reveal()
    )
    assert signature == "0x" + theirs.signature.hex().removeprefix("0x")
    assert aster.recover_login("501182", signature) == wallet.address
    assert aster.recover_login("501183", signature) != wallet.address


def test_register_message_order_and_booleans():
    params = {
        "canWithdraw": False, "user": "0xU", "agentName": "a", "nonce": 5, "agentAddress": "0xA",
        "expired": 9, "signatureChainId": 56, "canSpotTrade": True, "canPerpTrade": True,
    }  # fmt: skip
    assert aster.register_message(params) == (
        "user=0xU&nonce=5&agentName=a&agentAddress=0xA&expired=9&signatureChainId=56"
        "&canSpotTrade=true&canPerpTrade=true&canWithdraw=false"
    )


@pytest.mark.parametrize(
    ("raw", "signed", "signature"),
    [
        ("a=1&b=2&signature=0xabc", "a=1&b=2", "0xabc"),
        ("a=1&signature=0xabc&b=2", "a=1&b=2", "0xabc"),
        ("signature=0xabc", "", "0xabc"),
        ("a=1", "a=1", None),
    ],
)
def test_strip_signature(raw, signed, signature):
    assert aster.strip_signature(raw) == (signed, signature)
