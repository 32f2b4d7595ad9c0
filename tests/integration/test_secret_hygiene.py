"""No secret's exact value may show up in logs, reprs, exceptions, error bodies or an executed notebook.

Each test makes real secrets (passwords, JWTs, API keys, reset tokens), drives the sandbox, the client
and the quickstart notebook with them, and then scans every text those produce for each value.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import nbformat
import pytest
from nbclient import NotebookClient

import toolkit.sandbox
from toolkit.secrets import Secret, generate_password
from toolkit.venues.paperx import PaperClient, PaperExchangeError

from .conftest import unique_email

ROOT = Path(__file__).resolve().parents[2]


def assert_no_secret(texts: dict[str, str], secrets: dict[str, str]) -> None:
    assert secrets and all(len(v) >= 16 for v in secrets.values()), "scan needs real secret values"
    leaks = [(where, name) for where, text in texts.items() for name, v in secrets.items() if v in text]
    assert not leaks, f"secret values found: {leaks}"


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


PROBES = {}
PROBES["00_quickstart"] = """
import json
print(json.dumps({
    "password": password.reveal(),
    "new_password": new_password.reveal(),
    "first_jwt": session.access_token.reveal(),
    "last_jwt": client.access_token.reveal(),
    "api_key": key.api_key.reveal(),
    "reset_token": mail.reset_token.reveal(),
}))
"""
PROBES["01_register_keys"] = """
import json
print(json.dumps({
    "session_token": member.session_token.reveal(),
    "own_private_key": pair.private_key.reveal(),
    "generated_private_key": generated.private_key.reveal(),
    "passphrase": passphrase.reveal(),
    "store_passphrase": store_passphrase.reveal(),
    "rotated_private_key": rotated.secret("private_key").reveal(),
    "hl_master_key": master.private_key.reveal(),
    "hl_agent_key": agent.private_key.reveal(),
    "hl_replacement_key": replacement.private_key.reveal(),
    "aster_wallet_key": aster_wallet.private_key.reveal(),
    "aster_api_key": aster_key.api_key.reveal(),
    "aster_api_secret": aster_key.api_secret.reveal(),
    "aster_agent_key": aster_agent.private_key.reveal(),
    "hyperdex_api_key": hyperdex.api_key.reveal(),
    "hyperdex_api_wallet_key": api_wallet.api_private_key.reveal(),
}))
"""
PROBES["02_lighter_keys"] = """
import json
print(json.dumps({
    "wallet_key": wallet.private_key.reveal(),
    "store_passphrase": store_passphrase.reveal(),
    "lighter_key": key.private_key.reveal(),
    "bot_key": bot_key.private_key.reveal(),
    "rotated_key": rotated.secret("private_key").reveal(),
    "auth_token": token.reveal(),
    "auth_token_signature": token.reveal().split(":")[3],
    "read_only_token": dashboard.api_token.reveal(),
}))
"""
PROBES["03_paper_trading"] = """
import json
print(json.dumps({
    "password": password.reveal(),
    "api_key": key.api_key.reveal(),
    "login_token": me.access_token.reveal(),
}))
"""


@pytest.mark.parametrize("notebook", sorted(PROBES))
def test_an_executed_notebook_holds_no_secret(tmp_path, monkeypatch, notebook):
    monkeypatch.setenv("TOOLKIT_HOME", str(tmp_path))  # the kernel inherits it
    monkeypatch.delenv("TOOLKIT_PASSPHRASE", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / f"{notebook}.ipynb", as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        client.set_widgets_metadata()
        executed = nbformat.writes(nb)  # outputs, metadata.widgets and all
        # Then, in the same kernel, ask for the values the notebook held, to scan for.
        nb.cells.append(nbformat.v4.new_code_cell(PROBES[notebook]))
        probe = client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    secrets = json.loads(probe.outputs[0]["text"])
    # private keys are also looked for by their base64 body, in case a PEM were re-wrapped
    for name, value in list(secrets.items()):
        if "PRIVATE KEY" in value:
            secrets[name + "_body"] = "".join(value.splitlines()[1:3])
    texts = {"executed notebook": executed, "sandbox.log": (tmp_path / "sandbox.log").read_text()}
    assert '"output_type"' in executed and "=****" in executed  # it really ran and showed masks
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
