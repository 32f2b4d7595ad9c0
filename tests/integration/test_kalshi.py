"""The RSA-keyed API (seed 002) over loopback: each endpoint, each rule, each refusal with its exact body."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.integration.conftest import database_of
from toolkit.sandbox import store
from toolkit.venues import kalshi as ks
from toolkit.venues.kalshi import KalshiClient, KalshiError, KeyPair

from ..unit.test_kalshi_signing import reference_sign

P = ks.API_PREFIX


@pytest.fixture
def member(sandbox):
    return sandbox.kalshi_member(usage_level="premier")


@pytest.fixture
def web(sandbox, member):
    """The member's website session: what creates the first key."""
    with KalshiClient(sandbox, session_token=member.session_token) as client:
        yield client


@pytest.fixture
def keyed(sandbox, web):
    """A client signing with a key pair made here, registered with createApiKey."""
    pair = KeyPair.generate()
    key_id = web.create_api_key("bot", pair.public_key)
    with KalshiClient(sandbox, api_key_id=key_id, private_key=pair.private_key) as client:
        client.pair = pair
        yield client


def signed(client: KalshiClient, method: str, path: str, ts: int | None = None) -> dict[str, str]:
    """Headers made by the reference signer written in the unit tests, not by toolkit's signer."""
    ts = ts if ts is not None else int(time.time() * 1000)
    return {
        "KALSHI-ACCESS-KEY": client.api_key_id,
        "KALSHI-ACCESS-TIMESTAMP": str(ts),
        "KALSHI-ACCESS-SIGNATURE": reference_sign(client._key, str(ts), method, path),
    }


def error(r: httpx.Response) -> tuple[int, str, str, str]:
    body = r.json()
    assert set(body) == {"code", "message", "details"}
    return r.status_code, body["code"], body["message"], body["details"]


# -- createApiKey ---------------------------------------------------------------------------


def test_create_with_own_public_key_is_201_and_signs(http, keyed):
    r = http.get(f"{P}/portfolio/balance", headers=signed(keyed, "GET", f"{P}/portfolio/balance"))
    assert r.status_code == 200
    assert r.json() == {
        "balance": 1_000_000,
        "portfolio_value": 1_000_000,
        "updated_ts": r.json()["updated_ts"],
    }
    keys = keyed.get_api_keys()
    assert [(k.name, k.scopes, k.subaccount) for k in keys] == [("bot", ["read", "write"], None)]


def test_create_answers_exactly_api_key_id(sandbox, http, member):
    r = http.post(
        f"{P}/api_keys",
        json={"name": "raw", "public_key": KeyPair.generate().public_key},
        headers={"Authorization": f"Bearer {member.session_token.reveal()}"},
    )
    assert r.status_code == 201 and set(r.json()) == {"api_key_id"}
    uuid.UUID(r.json()["api_key_id"])


@pytest.mark.parametrize("level", ["basic", "advanced", "expert"])
def test_create_needs_premier_or_market_maker(sandbox, level):
    m = sandbox.kalshi_member(usage_level=level)
    with KalshiClient(sandbox, session_token=m.session_token) as web, pytest.raises(KalshiError) as err:
        web.create_api_key("mine", KeyPair.generate().public_key)
    assert (err.value.status, err.value.code) == (403, "forbidden")
    assert err.value.message == (
        "creating an API key from your own public key needs the Premier or Market Maker API usage level "
        f"(this account: {level}); use /api_keys/generate instead"
    )


@pytest.mark.parametrize("level", ["premier", "market_maker", "prestige"])
def test_create_works_once_the_usage_level_allows_it(sandbox, level):
    m = sandbox.kalshi_member(usage_level="basic")
    sandbox.set_kalshi_usage_level(m.member_id, level)
    with KalshiClient(sandbox, session_token=m.session_token) as web:
        assert web.create_api_key("mine", KeyPair.generate().public_key)


def _pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("public_key", "message"),
    [
        (lambda: _pem(ec.generate_private_key(ec.SECP256R1())), "public_key: must be an RSA key, not EC"),
        (
            lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
            "public_key: RSA key must be at least 2048 bits, got 1024",
        ),
        (
            lambda: "ssh-rsa AAAAB3Nza",
            "public_key: must be a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----)",
        ),
        (
            lambda: KeyPair.generate().private_key.reveal(),
            "public_key: this is a private key: send only the public half (BEGIN PUBLIC KEY)",
        ),
    ],
    ids=["ec", "rsa1024", "not-pem", "private"],
)
def test_bad_public_keys_are_400_with_a_clear_message(http, member, public_key, message):
    r = http.post(
        f"{P}/api_keys",
        json={"name": "k", "public_key": public_key()},
        headers={"Authorization": f"Bearer {member.session_token.reveal()}"},
    )
    assert error(r) == (400, "invalid_parameters", message, "")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"scopes": ["write"]}, "scopes: scope 'write' requires 'read'"),
        ({"scopes": []}, "scopes: scopes must not be empty (omit it for read and write)"),
        ({"scopes": ["admin"]}, "scopes: unknown scope 'admin'; known scopes: " + ", ".join(ks.SCOPES)),
        ({"subaccount": 64}, "subaccount: Input should be less than or equal to 63"),
        ({"subaccount": -1}, "subaccount: Input should be greater than or equal to 0"),
        ({"name": ""}, "name: String should have at least 1 character"),
        ({"name": "  "}, "name: name must not be blank"),
    ],
)
def test_bad_key_options_are_400(http, member, extra, message):
    body = {"name": "k"} | extra
    headers = {"Authorization": f"Bearer {member.session_token.reveal()}"}
    r = http.post(f"{P}/api_keys/generate", json=body, headers=headers)
    assert error(r) == (400, "invalid_parameters", message, "")


# -- generateApiKey --------------------------------------------------------------------------


def test_generate_works_for_any_level_and_the_private_key_is_never_seen_again(sandbox, http):
    m = sandbox.kalshi_member(usage_level="basic")
    with KalshiClient(sandbox, session_token=m.session_token) as web:
        generated = web.generate_api_key("made for me", scopes=["read", "write::trade"], subaccount=2)
    pem = generated.private_key.reveal()
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert ks.load_private_key(generated.private_key).key_size == 2048
    with KalshiClient(sandbox, api_key_id=generated.api_key_id, private_key=generated.private_key) as bot:
        (key,) = bot.get_api_keys()
    assert (key.name, key.scopes, key.subaccount) == ("made for me", ["read", "write::trade"], 2)
    # Nothing anywhere holds the private half: not the listing, not the database.
    listing = http.get(f"{P}/api_keys", headers={"Authorization": f"Bearer {m.session_token.reveal()}"}).text
    assert "PRIVATE" not in listing and pem not in listing
    engine = database_of(sandbox)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(store.ks_api_keys))]
    engine.dispose()
    assert rows and all("PRIVATE" not in str(row) for row in rows)
    body = pem.split("-----")[2].replace("\n", "")
    assert all(body[:64] not in str(row) for row in rows)


# -- getApiKeys and deleteApiKey -------------------------------------------------------------


def test_list_shape(http, keyed):
    r = http.get(f"{P}/api_keys", headers=signed(keyed, "GET", f"{P}/api_keys"))
    assert r.status_code == 200
    assert r.json() == {
        "api_keys": [
            {"api_key_id": keyed.api_key_id, "name": "bot", "scopes": ["read", "write"], "subaccount": None}
        ],
        "api_key_region_expiration_ts": None,
    }


def test_a_deleted_key_is_refused_at_once(http, web, keyed):
    path = f"{P}/api_keys/{keyed.api_key_id}"
    r = http.delete(path, headers=signed(keyed, "DELETE", path))
    assert r.status_code == 204 and r.content == b""
    r = http.get(f"{P}/portfolio/balance", headers=signed(keyed, "GET", f"{P}/portfolio/balance"))
    assert error(r) == (401, "authentication_error", "unknown or deleted API key", "API_KEY_NOT_FOUND")
    with pytest.raises(KalshiError) as err:
        web.delete_api_key(keyed.api_key_id)
    assert (err.value.status, err.value.code, err.value.message) == (404, "not_found", "API key not found")


def test_one_member_cannot_list_or_delete_anothers_keys(sandbox, keyed):
    other = sandbox.kalshi_member(usage_level="premier")
    with KalshiClient(sandbox, session_token=other.session_token) as web:
        assert web.get_api_keys() == []
        with pytest.raises(KalshiError) as err:
            web.delete_api_key(keyed.api_key_id)
    assert err.value.status == 404
    assert keyed.get_balance().balance == 1_000_000  # still works


# -- signed requests ---------------------------------------------------------------------------


def test_the_query_string_is_not_signed(http, keyed):
    path = f"{P}/portfolio/balance"
    assert http.get(f"{path}?subaccount=0", headers=signed(keyed, "GET", path)).status_code == 200


@pytest.mark.parametrize(
    ("sign_method", "sign_path", "send_method", "send_path"),
    [
        ("GET", f"{P}/api_keys", "GET", f"{P}/portfolio/balance"),  # path changed
        ("GET", f"{P}/api_keys", "POST", f"{P}/api_keys/generate"),  # method and path changed
        ("POST", f"{P}/api_keys", "GET", f"{P}/api_keys"),  # method changed
        ("GET", "/trade-api/v1/api_keys", "GET", f"{P}/api_keys"),  # wrong prefix signed
    ],
)
def test_a_changed_path_or_method_is_401(http, keyed, sign_method, sign_path, send_method, send_path):
    r = http.request(
        send_method, send_path, headers=signed(keyed, sign_method, sign_path), json={"name": "x"}
    )
    assert error(r) == (
        401,
        "authentication_error",
        "the signature does not match this request",
        "INCORRECT_API_KEY_SIGNATURE",
    )


def test_a_changed_timestamp_is_401(http, keyed):
    path = f"{P}/api_keys"
    headers = signed(keyed, "GET", path)
    headers["KALSHI-ACCESS-TIMESTAMP"] = str(int(headers["KALSHI-ACCESS-TIMESTAMP"]) + 1)
    r = http.get(path, headers=headers)
    assert error(r)[3] == "INCORRECT_API_KEY_SIGNATURE"


def test_a_replayed_signature_is_401(http, keyed):
    path = f"{P}/api_keys"
    headers = signed(keyed, "GET", path)
    assert http.get(path, headers=headers).status_code == 200
    r = http.get(path, headers=headers)
    assert error(r) == (401, "authentication_error", "this signature was already used", "SIGNATURE_REPLAYED")


def _respell(signature: str) -> str:
    """The same signature bytes in another base64 spelling: the last character's unused bits set."""
    import base64

    raw = base64.b64decode(signature)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stem, last = signature.rstrip("="), signature.rstrip("=")[-1]
    padding = signature[len(stem) :]
    unused = {1: 4, 2: 2}[len(padding)] if padding else 0
    respelled = stem[:-1] + alphabet[alphabet.index(last) | ((1 << unused) - 1)] + padding
    assert respelled != signature and base64.b64decode(respelled) == raw
    return respelled


def test_a_replay_in_another_base64_spelling_is_still_a_replay(http, keyed):
    path = f"{P}/api_keys/generate"
    headers = signed(keyed, "POST", path)
    first = http.post(path, headers=headers, json={"name": "once"})
    assert first.status_code == 201
    respelled = headers | {"KALSHI-ACCESS-SIGNATURE": _respell(headers["KALSHI-ACCESS-SIGNATURE"])}
    r = http.post(path, headers=respelled, json={"name": "twice"})
    assert error(r) == (401, "authentication_error", "this signature was already used", "SIGNATURE_REPLAYED")
    r = http.post(path, headers=headers, json={"name": "thrice"})
    assert error(r) == (401, "authentication_error", "this signature was already used", "SIGNATURE_REPLAYED")


def test_a_fresh_signature_in_a_non_canonical_spelling_is_refused_and_used_up(http, keyed):
    path = f"{P}/api_keys"
    headers = signed(keyed, "GET", path)
    respelled = headers | {"KALSHI-ACCESS-SIGNATURE": _respell(headers["KALSHI-ACCESS-SIGNATURE"])}
    assert error(http.get(path, headers=respelled)) == (
        401,
        "authentication_error",
        "KALSHI-ACCESS-SIGNATURE is not canonical base64",
        "INCORRECT_API_KEY_SIGNATURE",
    )
    assert error(http.get(path, headers=headers))[3] == "SIGNATURE_REPLAYED"


@pytest.mark.parametrize("skew_s", [-31, 31, -3600])
def test_a_timestamp_outside_30_seconds_is_401(http, keyed, skew_s):
    path = f"{P}/api_keys"
    r = http.get(path, headers=signed(keyed, "GET", path, ts=int(time.time() * 1000) + skew_s * 1000))
    status, code, message, details = error(r)
    assert (status, code, details) == (401, "authentication_error", "TIMESTAMP_OUT_OF_WINDOW")
    assert message.startswith("KALSHI-ACCESS-TIMESTAMP is ") and message.endswith(
        "from server time (allowed ±30 s)"
    )


def test_a_timestamp_inside_the_window_is_fine(http, keyed):
    path = f"{P}/api_keys"
    r = http.get(path, headers=signed(keyed, "GET", path, ts=int(time.time() * 1000) - 25_000))
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda h: h.pop("KALSHI-ACCESS-SIGNATURE"),
            ("missing header KALSHI-ACCESS-SIGNATURE", "MISSING_AUTH_HEADERS"),
        ),
        (lambda h: h.pop("KALSHI-ACCESS-KEY"), ("missing header KALSHI-ACCESS-KEY", "MISSING_AUTH_HEADERS")),
        (
            lambda h: h.update({"KALSHI-ACCESS-TIMESTAMP": "soon"}),
            ("KALSHI-ACCESS-TIMESTAMP must be Unix time in milliseconds", "INVALID_TIMESTAMP"),
        ),
        (
            lambda h: h.update({"KALSHI-ACCESS-SIGNATURE": "%%%"}),
            ("the signature does not match this request", "INCORRECT_API_KEY_SIGNATURE"),
        ),
        (
            lambda h: h.update({"KALSHI-ACCESS-KEY": str(uuid.uuid4())}),
            ("unknown or deleted API key", "API_KEY_NOT_FOUND"),
        ),
    ],
    ids=["no-signature", "no-key", "bad-timestamp", "bad-base64", "unknown-key"],
)
def test_malformed_auth_headers_are_401(http, keyed, mutate, expected):
    path = f"{P}/api_keys"
    headers = signed(keyed, "GET", path)
    mutate(headers)
    assert error(http.get(path, headers=headers)) == (401, "authentication_error", *expected)


def test_no_auth_at_all_and_a_bad_session_token(http):
    assert error(http.get(f"{P}/api_keys")) == (
        401,
        "authentication_error",
        "send KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP and KALSHI-ACCESS-SIGNATURE",
        "MISSING_AUTH_HEADERS",
    )
    r = http.get(f"{P}/api_keys", headers={"Authorization": "Bearer nope"})
    assert error(r) == (401, "authentication_error", "invalid session token", "INVALID_SESSION")


# -- scopes and subaccounts --------------------------------------------------------------------


def _client_with(sandbox, web, **options) -> KalshiClient:
    generated = web.generate_api_key("scoped", **options)
    return KalshiClient(sandbox, api_key_id=generated.api_key_id, private_key=generated.private_key)


def test_a_read_only_key_cannot_write(sandbox, web):
    with _client_with(sandbox, web, scopes=["read"]) as bot:
        assert bot.get_balance().balance == 1_000_000
        with pytest.raises(KalshiError) as err:
            bot.generate_api_key("more")
    assert (err.value.status, err.value.code) == (403, "forbidden")
    assert err.value.message == "this API key lacks the scope for this call (needs one of: write)"


def test_a_balance_only_key_reads_the_balance_and_nothing_else(sandbox, web):
    with _client_with(sandbox, web, scopes=["read::portfolio_balance"]) as bot:
        assert bot.get_balance().balance == 1_000_000
        with pytest.raises(KalshiError) as err:
            bot.get_api_keys()
    assert err.value.message == "this API key lacks the scope for this call (needs one of: read)"


def test_a_subaccount_key_sees_only_its_subaccount(sandbox, web, member):
    sandbox.set_kalshi_balance(member.member_id, 12_345, subaccount=3)
    with _client_with(sandbox, web, subaccount=3) as bot:
        assert bot.get_balance().balance == 12_345
        assert bot.get_balance(subaccount=3).balance == 12_345
        with pytest.raises(KalshiError) as err:
            bot.get_balance(subaccount=0)
        assert (err.value.status, err.value.message) == (
            403,
            "this API key is restricted to subaccount 3; it cannot read subaccount 0",
        )
        with pytest.raises(KalshiError) as err:
            bot.generate_api_key("escalate")
        assert (err.value.status, err.value.message) == (
            403,
            "a subaccount-restricted API key cannot manage API keys",
        )
    assert web.get_balance(subaccount=3).balance == 12_345  # the full session may read any


def test_balance_subaccount_out_of_range_is_400(http, keyed):
    path = f"{P}/portfolio/balance"
    r = http.get(f"{path}?subaccount=64", headers=signed(keyed, "GET", path))
    assert error(r) == (
        400,
        "invalid_parameters",
        "query.subaccount: Input should be less than or equal to 63",
        "",
    )


# -- rate limits ---------------------------------------------------------------------------------


def _until_throttled(send, limit: int = 400) -> tuple[list[int], float, httpx.Response]:
    """Send until the first 429; return the statuses before it, the time taken, and the 429."""
    statuses, start = [], time.monotonic()
    for _ in range(limit):
        r = send()
        if r.status_code == 429:
            return statuses, time.monotonic() - start, r
        statuses.append(r.status_code)
    raise AssertionError(f"no 429 after {limit} requests")


def test_basic_reads_get_200_tokens_a_second_at_10_a_request(sandbox, http):
    m = sandbox.kalshi_member(usage_level="basic")
    headers = {"Authorization": f"Bearer {m.session_token.reveal()}"}
    ok, elapsed, throttled = _until_throttled(lambda: http.get(f"{P}/portfolio/balance", headers=headers))
    # a full bucket of 20 requests, plus what refilled (20 a second) while they ran
    assert set(ok) == {200} and 20 <= len(ok) <= 20 + elapsed * 20 + 1
    assert throttled.json() == {"error": "too many requests"} and "retry-after" not in throttled.headers


def test_basic_writes_get_100_tokens_a_second(sandbox, http):
    m = sandbox.kalshi_member(usage_level="basic")
    headers = {"Authorization": f"Bearer {m.session_token.reveal()}"}
    ok, elapsed, throttled = _until_throttled(
        lambda: http.delete(f"{P}/api_keys/{uuid.uuid4()}", headers=headers)
    )
    assert set(ok) == {404} and 10 <= len(ok) <= 10 + elapsed * 10 + 1
    assert throttled.json() == {"error": "too many requests"}


def test_above_basic_the_write_bucket_holds_two_seconds(sandbox, http):
    m = sandbox.kalshi_member(usage_level="advanced")  # 300 a second: 30 requests, bucket of 60
    headers = {"Authorization": f"Bearer {m.session_token.reveal()}"}
    ok, elapsed, _ = _until_throttled(lambda: http.delete(f"{P}/api_keys/{uuid.uuid4()}", headers=headers))
    assert 60 <= len(ok) <= 60 + elapsed * 30 + 1


def test_premier_gets_a_bigger_budget_and_levels_are_separate_buckets(sandbox, http):
    m = sandbox.kalshi_member(usage_level="premier")
    headers = {"Authorization": f"Bearer {m.session_token.reveal()}"}
    assert all(http.get(f"{P}/portfolio/balance", headers=headers).status_code == 200 for _ in range(40))
