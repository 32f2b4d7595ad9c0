"""Kalshi's setup: one registerApiKey step, run with the member's session.

The check makes the RSA pair on this machine and keeps it as a *pending* key store entry (no key
id yet). There is nothing for a wallet to sign: the step is executed with the logged-in session
(``KalshiClient(..., session_token=...)``), as the perps SDK runs plugin steps client-side. At a
usage level that may not upload its own keys, the venue makes the pair instead, and that is kept.
"""

from __future__ import annotations

from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.setup.steps import (
    ActionStep,
    SetupError,
    SetupStatus,
    in_order,
    open_store,
    pending_record,
    reconcile,
    step_from,
)
from toolkit.venues import kalshi

PROVIDER = "kalshi"
KEY_NAME = "toolkit"
SCOPES = ["read", "write"]


def _keys(store: KeyStore, client: kalshi.KalshiClient, member: str) -> list[Entry]:
    return store.find(venue="kalshi", kind="api_key", base_url=client.base_url, account=member)


def check(
    address: str, *, client: kalshi.KalshiClient, store: KeyStore | None = None, name: str = KEY_NAME
) -> SetupStatus:
    """``address`` is the member's login (email). Ready when a stored key still signs for it."""
    member = address.strip().lower()
    if "@" not in member:
        raise SetupError("Kalshi's setup is for a member's email address")
    store = open_store(store)

    def make() -> Entry:
        pair = kalshi.KeyPair.generate()
        return lifecycle.save_kalshi_key(
            store, client.base_url, "", pair.private_key, account=member, label=name, scopes=SCOPES,
            status="pending",
        )  # fmt: skip

    keep = reconcile(store, _keys(store, client, member), _works, make)
    if keep is None:
        return SetupStatus(PROVIDER, address, None, True, [])
    params = {"name": keep.label, "scopes": keep.extra["scopes"], "publicKeyFingerprint": keep.public}
    return SetupStatus(
        PROVIDER, address, None, False, [step_from(PROVIDER, "registerApiKey", keep.id, params)]
    )


def _works(entry: Entry) -> bool:
    return lifecycle.KalshiKeys().refresh(entry).get("status") == "active"


def sign(address: str, step: ActionStep, **_: Any) -> None:
    """Nothing to sign: the step runs with the member's session (see ``execute``)."""
    return None


def execute(
    address: str,
    setup: list[ActionStep],
    signed_actions: list[None],
    *,
    client: kalshi.KalshiClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Register each pending public key with the session ``client``; refusals raise ``KalshiError``."""
    store = open_store(store)
    results = []
    for step, _ in in_order(setup, signed_actions):
        entry = pending_record(store, step)
        private = entry.secret("private_key")
        scopes, sub = entry.extra.get("scopes"), entry.extra.get("subaccount")
        try:
            public = kalshi.public_pem(kalshi.load_private_key(private))
            key_id = client.create_api_key(entry.label, public, scopes, sub)
            active = store.update(entry.id, key_ref=key_id, status="active")
        except kalshi.KalshiError as exc:
            if exc.status != 403 or "usage level" not in exc.message:
                raise
            made = client.generate_api_key(entry.label, scopes, sub)  # the venue makes the pair
            store.delete(entry.id)
            active = lifecycle.save_kalshi_key(
                store, client.base_url, made.api_key_id, made.private_key, account=entry.account,
                label=entry.label, scopes=scopes, subaccount=sub,
            )  # fmt: skip
        results.append({"step": step.id, "type": step.type, "apiKeyId": active.key_ref, "status": "ok"})
    return results
