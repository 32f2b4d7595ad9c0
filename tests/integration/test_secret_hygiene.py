"""No secret's exact value may show up in logs, reprs, exceptions, error bodies or an executed notebook.

Each test makes real secrets (passwords, JWTs, API keys, reset tokens), drives the sandbox and the
client with them, and then scans every text those produce for each value. The notebooks are scanned
the same way after they run in JupyterLab (``tests/browser/test_lab.py``).
"""

from __future__ import annotations

import logging

import httpx
import pytest

import toolkit.sandbox
from tests.notebook_secrets import assert_no_secret
from toolkit.secrets import Secret, generate_password
from toolkit.venues.paperx import PaperClient, PaperExchangeError

from .conftest import unique_email


def test_api_and_client_never_show_a_secret(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # httpx, httpcore, uvicorn and our own loggers at their chattiest
    texts: dict[str, str] = {}
    with toolkit.sandbox.start(home=tmp_path, log_level="debug") as sb:
        email, password, new_password = unique_email(), generate_password(), generate_password()
        client = PaperClient(sb)
        session = client.register(email, password)
        key = client.create_api_key("bot")
        client.forgot_password(email)
        mail = sb.outbox(email)[0]
        bot = PaperClient(sb, api_key=key.api_key)
        bot.me()
        secrets = {
            "password": password.reveal(),
            "new_password": new_password.reveal(),
            "jwt": session.access_token.reveal(),
            "api_key": key.api_key.reveal(),
            "reset_token": mail.reset_token.reveal(),
        }

        # Error bodies for bad requests that carry the secrets.
        bad_requests = {
            "register_bad_email": (
                "POST",
                "/v1/auth/register",
                {"email": "nope", "password": secrets["password"]},
            ),
            "register_taken": (
                "POST",
                "/v1/auth/register",
                {"email": email, "password": secrets["password"]},
            ),
            "register_long": (
                "POST",
                "/v1/auth/register",
                {"email": email, "password": secrets["password"] * 80},
            ),
            "login_wrong": ("POST", "/v1/auth/login", {"email": email, "password": secrets["new_password"]}),
            "login_type": ("POST", "/v1/auth/login", {"email": secrets["password"], "password": 5}),
            "reset_short": (
                "POST",
                "/v1/auth/reset-password",
                {"token": secrets["reset_token"], "new_password": "x"},
            ),
            "reset_bad": (
                "POST",
                "/v1/auth/reset-password",
                {"token": secrets["jwt"], "new_password": "long-enough"},
            ),
            "key_name_type": ("POST", "/v1/auth/api-keys", {"name": {"k": secrets["api_key"]}}),
        }
        with httpx.Client(base_url=sb.url) as http:
            for name, (method, path, body) in bad_requests.items():
                r = http.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {secrets['jwt']}"}
                )
                assert 400 <= r.status_code < 500, (name, r.status_code)
                texts[f"body:{name}"] = r.text
            for name, headers in {
                "bad_jwt": {"Authorization": f"Bearer {secrets['jwt']}x"},
                "bad_key": {"X-API-Key": secrets["api_key"][:-1] + "Z"},
                "key_manages": {"X-API-Key": secrets["api_key"]},
            }.items():
                r = http.post("/v1/auth/api-keys", json={"name": "x"}, headers=headers)
                assert r.status_code in (401, 403)
                texts[f"body:{name}"] = r.text

        # Client exceptions after revocation and after the reset.
        client.revoke_api_key(key.id)
        client.reset_password(mail.reset_token, new_password)
        errors = []
        for call in (
            bot.me,
            client.me,
            lambda: client.login(email, password),
            lambda: client.reset_password(mail.reset_token, new_password),
        ):
            with pytest.raises(PaperExchangeError) as err:
                call()
            errors.append(err.value)
        texts["exceptions"] = "\n".join(f"{e!s} {e!r} {e.args!r}" for e in errors)
        secrets["jwt_after_reset"] = client.login(email, new_password).access_token.reveal()
        texts["reprs"] = "\n".join(
            repr(x) for x in (client, bot, session, key, mail, client.api_keys(), client.access_token, sb)
        )
        texts["str"] = "\n".join(str(x) for x in (session, key, mail, mail.body))
    texts["sandbox.log"] = (tmp_path / "sandbox.log").read_text()
    texts["caplog"] = caplog.text
    assert "POST /v1/auth/reset-password" in texts["sandbox.log"]  # the log is really being written
    assert_no_secret(texts, secrets)


def test_the_scan_itself_finds_a_leak():
    value = generate_password().reveal()
    with pytest.raises(AssertionError, match="secret values found"):
        assert_no_secret({"out": f"oops {value}"}, {"pw": value})
    assert_no_secret({"out": repr(Secret(value))}, {"pw": value})


def test_rsa_keys_and_session_tokens_never_show(tmp_path, caplog):
    from toolkit.venues import kalshi as ks

    caplog.set_level(logging.DEBUG)
    texts: dict[str, str] = {}
    with toolkit.sandbox.start(home=tmp_path, log_level="debug") as sb:
        member = sb.kalshi_member(usage_level="premier")
        web = ks.KalshiClient(sb, session_token=member.session_token)
        own = ks.KeyPair.generate()
        own_id = web.create_api_key("own", own.public_key)
        generated = web.generate_api_key("generated")
        bot = ks.KalshiClient(sb, api_key_id=generated.api_key_id, private_key=generated.private_key)
        bot.get_balance()
        secrets = {
            "session_token": member.session_token.reveal(),
            "own_private_key": own.private_key.reveal(),
            "generated_private_key": generated.private_key.reveal(),
        }
        # the base64 body of each private key, in case a PEM is re-wrapped somewhere
        for name in ("own_private_key", "generated_private_key"):
            secrets[name + "_body"] = "".join(secrets[name].splitlines()[1:3])

        with httpx.Client(base_url=sb.url) as http:
            session = {"Authorization": f"Bearer {secrets['session_token']}"}
            bad = {
                "private_as_public": {"name": "x", "public_key": secrets["own_private_key"]},
                "private_in_name": {"name": secrets["own_private_key_body"][:100], "public_key": "nope"},
            }
            for name, body in bad.items():
                r = http.post("/trade-api/v2/api_keys", json=body, headers=session)
                assert r.status_code == 400, name
                texts[f"body:{name}"] = r.text
            r = http.get(
                "/trade-api/v2/api_keys", headers={"Authorization": f"Bearer {secrets['session_token']}x"}
            )
            texts["body:bad_session"] = r.text
        with pytest.raises(ks.KalshiError) as err:
            ks.KalshiClient(sb, api_key_id=own_id, private_key=generated.private_key).get_balance()
        texts["exception"] = f"{err.value!s} {err.value!r}"
        with pytest.raises(ValueError) as err:
            ks.load_public_key(secrets["own_private_key"])
        texts["exception"] += str(err.value)
        texts["reprs"] = "\n".join(repr(x) for x in (web, bot, member, own, generated, web.get_api_keys()))
        web.close()
        bot.close()
    texts["sandbox.log"] = (tmp_path / "sandbox.log").read_text()
    texts["caplog"] = caplog.text
    assert "/trade-api/v2/api_keys" in texts["sandbox.log"]
    assert_no_secret(texts, secrets)
