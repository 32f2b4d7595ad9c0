"""Kalshi's setup: one registerApiKey step, run with the member's session.

The check makes the RSA pair on this machine and keeps it as a *pending* key store entry (no key
id yet). There is nothing for a wallet to sign: the step is executed with the logged-in session
(``KalshiClient(..., session_token=...)``), as the perps SDK runs plugin steps client-side. At a
usage level that may not upload its own keys, the venue makes the pair instead, and that is kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
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
        return save_kalshi_key(
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
    return KalshiKeys().refresh(entry).get("status") == "active"


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
            active = save_kalshi_key(
                store, client.base_url, made.api_key_id, made.private_key, account=entry.account,
                label=entry.label, scopes=scopes, subaccount=sub,
            )  # fmt: skip
        results.append({"step": step.id, "type": step.type, "apiKeyId": active.key_ref, "status": "ok"})
    return results


# -- the key's life after setup: saved, refreshed, rotated, revoked ------------------------------


def public_key_fingerprint(private_key: Secret) -> str:
    """SHA-256 of the public key (DER), first 16 hex digits: the public part worth showing."""
    from toolkit.venues import kalshi

    der = (
        kalshi.load_private_key(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()[:16]


def save_kalshi_key(
    store: KeyStore,
    base_url: str,
    api_key_id: str,
    private_key: Secret,
    *,
    account: str = "",
    label: str = "",
    scopes: list[str] | None = None,
    subaccount: int | None = None,
    status: str = "active",
) -> Entry:
    """Store a key pair registered with ``create_api_key`` or received from ``generate_api_key``
    (``pending``, with no id yet, while a setup step waits to register it)."""
    entry = Entry(
        venue="kalshi",
        kind="api_key",
        network=lifecycle.network_of(base_url, kalshi.HOSTS),
        account=account,
        key_ref=api_key_id,
        public=public_key_fingerprint(private_key),
        label=label,
        base_url=base_url.rstrip("/"),
        status=status,
        extra={"scopes": scopes or ["read", "write"], "subaccount": subaccount},
        secrets={"private_key": Secret(private_key, "private_key")},
    )
    return store.put(entry)


class KalshiKeys:
    """Kalshi RSA keys: a key checks itself by signing a read; revoked by deleting it."""

    venue = "kalshi"

    def _client(self, entry: Entry) -> Any:
        from toolkit.venues.kalshi import KalshiClient

        return KalshiClient(entry.base_url, api_key_id=entry.key_ref, private_key=entry.secret("private_key"))

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the key still signs a balance read."""
        from toolkit.venues.kalshi import KalshiError

        with self._client(entry) as client:
            try:
                client.get_balance(subaccount=entry.extra.get("subaccount"))
            except KalshiError as exc:
                if exc.status == 401 and exc.details == "API_KEY_NOT_FOUND":
                    return {"status": "revoked"}
                if exc.status != 403:  # a key without the balance scope is still alive
                    raise
        return {"status": "active", "last_used_at": lifecycle.now_iso()}

    def rotate(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """A new key with the same name, scopes and subaccount; then the old one is deleted.

        ``client`` manages keys (a session, or a key with ``write``); by default the old key does.
        """
        from toolkit.venues import kalshi

        manager = client or self._client(entry)
        scopes, sub = entry.extra.get("scopes"), entry.extra.get("subaccount")
        pair = kalshi.KeyPair.generate()
        try:
            new_id, private = (
                manager.create_api_key(entry.label, pair.public_key, scopes, sub),
                pair.private_key,
            )
        except kalshi.KalshiError as exc:
            if exc.status != 403 or "usage level" not in exc.message:
                raise
            generated = manager.generate_api_key(entry.label, scopes, sub)
            new_id, private = generated.api_key_id, generated.private_key
        new = save_kalshi_key(
            store, entry.base_url or manager.base_url, new_id, private,
            account=entry.account, label=entry.label, scopes=scopes, subaccount=sub,
        )  # fmt: skip
        self.revoke(store, entry, client=client or self._client(new))
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """Delete the key at the venue (with itself, or another key's ``client``)."""
        from toolkit.venues.kalshi import KalshiError

        manager = client or self._client(entry)
        try:
            manager.delete_api_key(entry.key_ref)
        except KalshiError as exc:
            if exc.status != 404:
                raise
        return store.update(entry.id, status="revoked")

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """Nothing: the key manages itself."""
        return {}, []


KEYS = KalshiKeys()  # what the key store asks of this venue (toolkit.keystore.lifecycle.adapter)
