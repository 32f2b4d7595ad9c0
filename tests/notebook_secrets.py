"""The secret scan, and for each notebook the code that asks its kernel for the secrets it held.

After a notebook has run (in JupyterLab, and saved), its ``PROBES`` entry runs in the same kernel and
prints the exact values of every secret the notebook made or typed; the saved file and the sandbox
log must hold none of them.
"""

from __future__ import annotations

import json


def assert_no_secret(texts: dict[str, str], secrets: dict[str, str]) -> None:
    """None of ``secrets`` (name: exact value) is in any of ``texts`` (where: text)."""
    assert secrets and all(len(v) >= 16 for v in secrets.values()), "scan needs real secret values"
    leaks = [(where, name) for where, text in texts.items() for name, v in secrets.items() if v in text]
    assert not leaks, f"secret values found: {leaks}"


def probed(output: str) -> dict[str, str]:
    """A probe's printed values; a private key in PEM is also looked for by its base64 body, in
    case it were re-wrapped."""
    secrets = json.loads(output)
    for name, value in list(secrets.items()):
        if "PRIVATE KEY" in value:
            secrets[name + "_body"] = "".join(value.splitlines()[1:3])
    return secrets


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
