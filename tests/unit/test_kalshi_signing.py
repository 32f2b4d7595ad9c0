"""The seed 002 signing format, checked against a signer written here from the reference, step by step."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from toolkit.sandbox.ratelimit import TokenBuckets
from toolkit.venues import kalshi as ks


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def reference_sign(private_key, timestamp_ms: str, method: str, url_path: str) -> str:
    """reference/venues.md §B.3, literally: strip the query, concatenate, PSS(MGF1-SHA256, salt 32)."""
    path = url_path.split("?")[0]
    message = (timestamp_ms + method + path).encode("utf-8")
    signature = private_key.sign(
        message, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    )
    return base64.b64encode(signature).decode("ascii")


def test_the_signed_message_is_timestamp_method_path_without_query_or_body():
    assert (
        ks.message_to_sign(1703123456789, "get", "/trade-api/v2/portfolio/orders?limit=5")
        == b"1703123456789GET/trade-api/v2/portfolio/orders"
    )
    assert ks.signing_path("https://demo-api.kalshi.co/trade-api/v2/api_keys?x=1") == "/trade-api/v2/api_keys"


def test_a_reference_signature_verifies_and_ours_verifies_with_the_reference_parameters(rsa_key):
    ts, path = "1703123456789", "/trade-api/v2/portfolio/balance?subaccount=2"
    theirs = reference_sign(rsa_key, ts, "GET", path)
    assert ks.verify_signature(rsa_key.public_key(), theirs, ts, "GET", path)
    assert len(theirs) == 344  # 256 bytes for a 2048-bit key

    ts2, ours = ks.sign_request(rsa_key, "GET", path, timestamp_ms=int(ts))
    assert ts2 == ts
    rsa_key.public_key().verify(  # raises if our parameters differ from the reference
        base64.b64decode(ours),
        b"1703123456789GET/trade-api/v2/portfolio/balance",
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )


@pytest.mark.parametrize(
    ("ts", "method", "path"),
    [
        ("1703123456790", "GET", "/trade-api/v2/portfolio/balance"),  # timestamp changed
        ("1703123456789", "POST", "/trade-api/v2/portfolio/balance"),  # method changed
        ("1703123456789", "GET", "/trade-api/v2/api_keys"),  # path changed
    ],
)
def test_any_change_breaks_the_signature(rsa_key, ts, method, path):
    sig = reference_sign(rsa_key, "1703123456789", "GET", "/trade-api/v2/portfolio/balance")
    assert not ks.verify_signature(rsa_key.public_key(), sig, ts, method, path)


def test_garbage_signatures_are_false_not_errors(rsa_key):
    for bad in ("", "not base64!!", base64.b64encode(b"x" * 256).decode()):
        assert not ks.verify_signature(rsa_key.public_key(), bad, "1", "GET", "/trade-api/v2/x")


def _pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_public_key_checks(rsa_key):
    assert ks.load_public_key(_pem(rsa_key)).key_size == 2048
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cases = {
        _pem(small): "RSA key must be at least 2048 bits, got 1024",
        _pem(ec.generate_private_key(ec.SECP256R1())): "must be an RSA key, not EC",
        "ssh-rsa AAAAB3NzaC1yc2E": "must be a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----)",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----": "not a readable PEM public key",
        ks.private_pem(
            rsa_key
        ).reveal(): "this is a private key: send only the public half (BEGIN PUBLIC KEY)",
    }
    for pem, message in cases.items():
        with pytest.raises(ValueError) as err:
            ks.load_public_key(pem)
        assert str(err.value) == message


def test_scope_rules():
    assert ks.normalize_scopes(None) == ["read", "write"]
    assert ks.normalize_scopes(["write::trade"]) == ["write::trade"]  # a child without its parent
    assert ks.normalize_scopes(["write", "read", "read"]) == ["read", "write"]
    for scopes, message in [
        (["write"], "scope 'write' requires 'read'"),
        ([], "scopes must not be empty (omit it for read and write)"),
        (["admin"], "unknown scope 'admin'"),
    ]:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            ks.normalize_scopes(scopes)


def test_generated_pairs_are_2048_bit_and_secret():
    pair = ks.KeyPair.generate()
    assert ks.load_public_key(pair.public_key).key_size == 2048
    assert "PRIVATE" not in repr(pair) and pair.private_key.label == "private_key"
    with pytest.raises(ValueError, match="at least 2048"):
        ks.KeyPair.generate(1024)


def test_saved_private_keys_are_encrypted_0600_and_need_the_passphrase(tmp_path):
    pair = ks.KeyPair.generate()
    path = ks.save_private_key(tmp_path / "kalshi.pem", pair.private_key, "correct horse")
    text = path.read_text()
    assert "BEGIN ENCRYPTED PRIVATE KEY" in text and pair.private_key.reveal() not in text
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ks.read_private_key(path, "correct horse") == pair.private_key
    with pytest.raises(ValueError, match="passphrase is wrong"):
        ks.read_private_key(path, "wrong horse")
    with pytest.raises(ValueError, match="a passphrase is required"):
        ks.save_private_key(tmp_path / "plain.pem", pair.private_key, "")
    assert not (tmp_path / "plain.pem").exists()


def test_token_buckets_spend_refill_and_cap():
    now = [0.0]
    buckets = TokenBuckets(now=lambda: now[0])
    assert all(buckets.take("m", 10, 100, 100) == 0 for _ in range(10))
    assert buckets.take("m", 10, 100, 100) == pytest.approx(0.1)
    now[0] += 0.05
    assert buckets.take("m", 10, 100, 100) == pytest.approx(0.05)
    now[0] += 0.05
    assert buckets.take("m", 10, 100, 100) == 0
    now[0] += 1000  # refills only up to capacity
    assert sum(buckets.take("m", 10, 100, 100) == 0 for _ in range(20)) == 10
    assert buckets.take("other", 10, 100, 100) == 0  # buckets are separate
