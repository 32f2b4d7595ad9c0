"""/v1/auth register, login, forgot-password, reset-password and me: each happy and error path."""

from __future__ import annotations

import jwt
import pytest

from tests.integration.conftest import database_of
from toolkit.sandbox import paperx_policy as policy
from toolkit.venues import paperx as px
from toolkit.venues.paperx import PaperClient, PaperExchangeError

from .conftest import unique_email

pytestmark = pytest.mark.both_backends  # keys, accounts and exactly-once: on SQLite and PostgreSQL

GOOD = "correct horse battery"


def test_register_returns_the_seed_shape_and_opens_a_trial(http):
    email = unique_email()
    r = http.post("/v1/auth/register", json={"email": email, "password": GOOD})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "user_id", "email"}
    assert body["email"] == email
    me = http.get("/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["plan"] == "basic" and me["subscription_status"] == "trial"
    assert me["payment_required"] is False and me["subscription_expires_at"] is None
    assert set(me) == {
        "id",
        "email",
        "plan",
        "subscription_status",
        "trial_expires_at",
        "subscription_expires_at",
        "payment_required",
        "created_at",
    }
    p = px.Profile.model_validate(me)
    assert (p.trial_expires_at - p.created_at).total_seconds() == 3 * 24 * 3600


def test_register_pro_plan_and_email_normalised(http):
    email = unique_email()
    r = http.post("/v1/auth/register", json={"email": email.upper(), "password": GOOD, "plan": "pro"})
    assert r.status_code == 200 and r.json()["email"] == email
    me = http.get("/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["plan"] == "pro"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"email": "not-an-email", "password": GOOD},
            "email: value is not a valid email address: An email address must have an @-sign.",
        ),
        ({"email": "a@example.com", "password": "short"}, "password: Password must be at least 8 characters"),
        (
            {"email": "a@example.com", "password": "x" * 1025},
            "password: Password must be at most 1024 characters",
        ),
        (
            {"email": "a@example.com", "password": GOOD, "plan": "gold"},
            "plan: Input should be 'basic' or 'pro'",
        ),
        ({"email": "a@example.com"}, "password: Field required"),
        ({"email": "a@example.com", "password": 12345678}, "password: Input should be a valid string"),
        ([], "Request body must be a JSON object"),
    ],
)
def test_register_rejects_bad_fields(http, body, detail):
    r = http.post("/v1/auth/register", json=body)
    assert r.status_code == 400
    assert r.json() == {"detail": detail}


def test_register_rejects_malformed_json_and_missing_body(http):
    r = http.post("/v1/auth/register", content=b'{"email": ', headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (400, {"detail": "Malformed JSON body"})
    r = http.post("/v1/auth/register")
    assert (r.status_code, r.json()) == (400, {"detail": "Request body is required (a JSON object)"})


def test_register_same_email_twice_is_refused(http):
    email = unique_email()
    assert http.post("/v1/auth/register", json={"email": email, "password": GOOD}).status_code == 200
    r = http.post("/v1/auth/register", json={"email": email.upper(), "password": GOOD})
    assert (r.status_code, r.json()) == (400, {"detail": "Email already registered"})


def test_login_gives_a_24h_hs256_jwt(account, sandbox):
    client = PaperClient(sandbox)
    session = client.login(account.email, account.password)
    token = session.access_token.reveal()
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert claims["sub"] == account.session.user_id
    assert client.me().email == account.email


def test_wrong_password_and_unknown_email_get_the_same_401(http, account):
    wrong = http.post("/v1/auth/login", json={"email": account.email, "password": "wrong-password"})
    unknown = http.post("/v1/auth/login", json={"email": unique_email(), "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid email or password"}


def test_jwt_signed_with_another_secret_or_tampered_is_refused(http, account):
    token = account.session.access_token.reveal()
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, b"another-secret-another-secret-32", algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")
    for bad in (forged, none_alg, token[:-2] + "xx", "garbage"):
        r = http.get("/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert (r.status_code, r.json()) == (401, {"detail": "Invalid or expired token"})
        assert r.headers["www-authenticate"] == "Bearer"


def test_me_without_auth_and_with_a_malformed_header(http):
    r = http.get("/v1/auth/me")
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated: send Authorization: Bearer <token> or X-API-Key"}
    r = http.get("/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert (r.status_code, r.json()) == (
        401,
        {"detail": "Invalid Authorization header: expected 'Bearer <token>'"},
    )


@pytest.mark.moves_clock
def test_jwt_expires_after_24_hours_of_sandbox_time(sandbox, new_account):
    acct = new_account()
    sandbox.advance(hours=23, minutes=59)
    assert acct.client.me().email == acct.email
    sandbox.advance(minutes=2)
    with pytest.raises(PaperExchangeError) as err:
        acct.client.me()
    assert (err.value.status, err.value.detail) == (401, "Invalid or expired token")


@pytest.mark.moves_clock
def test_trial_lapses_after_three_days(sandbox, new_account):
    acct = new_account()
    sandbox.advance(hours=72, seconds=1)
    acct.client.login(acct.email, acct.password)
    me = acct.client.me()
    assert me.subscription_status == "expired" and me.payment_required is True


def test_forgot_password_answers_the_same_for_known_and_unknown(http, account):
    a = http.post("/v1/auth/forgot-password", json={"email": account.email})
    b = http.post("/v1/auth/forgot-password", json={"email": unique_email()})
    c = http.post("/v1/auth/forgot-password", json={"email": "not even an email"})
    assert a.status_code == b.status_code == c.status_code == 200
    assert a.json() == b.json() == c.json() == {"message": policy.FORGOT_PASSWORD_MESSAGE}


def test_reset_flow_single_use_and_old_logins_end(sandbox, account):
    account.client.forgot_password(account.email)
    mail = sandbox.outbox(account.email)[0]
    assert mail.to == account.email and mail.subject == policy.RESET_MAIL_SUBJECT
    assert mail.reset_token is not None and mail.reset_token.reveal() not in mail.body

    anon = PaperClient(sandbox)
    assert anon.reset_password(mail.reset_token, "brand-new-password") == policy.RESET_PASSWORD_MESSAGE
    # used once: refused the second time
    with pytest.raises(PaperExchangeError) as err:
        anon.reset_password(mail.reset_token, "another-new-password")
    assert (err.value.status, err.value.detail) == (400, "Invalid or expired reset token")
    # the old password is gone, the new one works, and logins from before the reset are over
    with pytest.raises(PaperExchangeError) as err:
        anon.login(account.email, account.password)
    assert err.value.status == 401
    with pytest.raises(PaperExchangeError) as err:
        account.client.me()
    assert (err.value.status, err.value.detail) == (401, "Invalid or expired token")
    assert anon.login(account.email, "brand-new-password").email == account.email


@pytest.mark.moves_clock
def test_reset_token_expires_after_one_hour(sandbox, account):
    account.client.forgot_password(account.email)
    token = sandbox.outbox(account.email)[0].reset_token
    sandbox.advance(hours=1, seconds=1)
    with pytest.raises(PaperExchangeError) as err:
        PaperClient(sandbox).reset_password(token, "brand-new-password")
    assert (err.value.status, err.value.detail) == (400, "Invalid or expired reset token")


def test_a_reset_kills_the_other_outstanding_tokens(sandbox, account):
    account.client.forgot_password(account.email)
    account.client.forgot_password(account.email)
    newest, older = sandbox.outbox(account.email)[:2]
    anon = PaperClient(sandbox)
    anon.reset_password(newest.reset_token, "brand-new-password")
    with pytest.raises(PaperExchangeError) as err:
        anon.reset_password(older.reset_token, "another-new-password")
    assert err.value.detail == "Invalid or expired reset token"


def test_reset_password_rejects_bad_input(http):
    r = http.post("/v1/auth/reset-password", json={"token": "nope", "new_password": "long-enough"})
    assert (r.status_code, r.json()) == (400, {"detail": "Invalid or expired reset token"})
    r = http.post("/v1/auth/reset-password", json={"token": "nope", "new_password": "short"})
    assert (r.status_code, r.json()) == (
        400,
        {"detail": "new_password: Password must be at least 8 characters"},
    )


def test_reset_token_is_stored_hashed(sandbox, account):
    import sqlalchemy as sa

    from toolkit.sandbox import store

    account.client.forgot_password(account.email)
    token = sandbox.outbox(account.email)[0].reset_token.reveal()
    engine = database_of(sandbox)
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(sa.select(store.reset_tokens.c.token_hash))]
    engine.dispose()
    assert policy.token_hash(token) in hashes and token not in hashes


def test_password_is_stored_as_argon2id(sandbox, account):
    import sqlalchemy as sa

    from toolkit.sandbox import store

    engine = database_of(sandbox)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(store.users.c.password_hash).where(store.users.c.email == account.email)
        ).scalar_one()
    engine.dispose()
    assert stored.startswith("$argon2id$") and account.password.reveal() not in stored
