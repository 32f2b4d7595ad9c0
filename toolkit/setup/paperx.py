"""PaperExchange's setup: one registerApiKey step, run with a login (the venue makes the key).

Nothing is generated locally and nothing is signed: the key comes from ``POST /api-keys`` on a
logged-in ``PaperClient`` and is shown once, straight into the key store. The step's id is
derived from the account, so repeated checks return the same step.
"""

from __future__ import annotations

from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import KeyStore
from toolkit.setup.steps import ActionStep, SetupError, SetupStatus, in_order, open_store, step_from
from toolkit.venues.paperx import PaperClient

PROVIDER = "paperx"
KEY_NAME = "toolkit"


def check(
    address: str, *, client: PaperClient, store: KeyStore | None = None, name: str = KEY_NAME
) -> SetupStatus:
    """``address`` is the account's email. Ready when a stored key is still accepted by the venue."""
    email = address.strip().lower()
    if "@" not in email:
        raise SetupError("PaperExchange's setup is for an account's email address")
    store = open_store(store)
    found = store.find(venue="paperx", kind="api_key", base_url=client.base_url, account=email)
    alive = []
    for entry in (e for e in found if e.status == "active"):
        changes = lifecycle.PaperxKeys().refresh(entry)
        if changes.get("status", "active") == "active":
            alive.append(entry)
        else:
            store.update(entry.id, status="revoked")
    if alive:
        return SetupStatus(PROVIDER, address, None, True, [])
    step = step_from(PROVIDER, "registerApiKey", f"paperx:{email}", {"name": name, "email": email})
    return SetupStatus(PROVIDER, address, None, False, [step])


def sign(address: str, step: ActionStep, **_: Any) -> None:
    """Nothing to sign: the step runs with a login (see ``execute``)."""
    return None


def execute(
    address: str,
    setup: list[ActionStep],
    signed_actions: list[None],
    *,
    client: PaperClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Create the key with the logged-in ``client`` and store it; refusals raise ``PaperExchangeError``."""
    store = open_store(store)
    email = address.strip().lower()
    results = []
    for step, _ in in_order(setup, signed_actions):
        if client.access_token is None:
            raise SetupError("PaperExchange keys are made by a logged-in client: call login() first")
        if client.me().email.lower() != email:
            raise SetupError(f"this client is logged in as another account, not {email}")
        key = client.create_api_key(step.params["name"])
        entry = lifecycle.save_paperx_key(store, client.base_url, email, key)
        results.append({"step": step.id, "type": step.type, "keyPrefix": entry.public, "status": "ok"})
    return results
