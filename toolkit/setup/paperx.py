"""PaperExchange's setup: one registerApiKey step, run with a login (the venue makes the key).

Nothing is generated locally and nothing is signed: the key comes from ``POST /api-keys`` on a
logged-in ``PaperClient`` and is shown once, straight into the key store. The step's id is
derived from the account, so repeated checks return the same step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
from toolkit.setup.steps import ActionStep, SetupError, SetupStatus, in_order, open_store, step_from
from toolkit.venues.paperx import MAINNET_URL, PaperClient

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
        changes = PaperxKeys().refresh(entry)
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
        entry = save_paperx_key(store, client.base_url, email, key)
        results.append({"step": step.id, "type": step.type, "keyPrefix": entry.public, "status": "ok"})
    return results


# -- the key's life after setup: saved, refreshed, rotated, revoked ------------------------------


def save_paperx_key(store: KeyStore, base_url: str, email: str, key: Any) -> Entry:
    """Store a key from ``PaperClient.create_api_key`` (a ``NewApiKey``)."""
    entry = Entry(
        venue="paperx",
        kind="api_key",
        network=lifecycle.network_of(base_url, {"mainnet": MAINNET_URL}),
        account=email,
        key_ref=key.id,
        public=key.key_prefix,
        label=key.name,
        base_url=base_url.rstrip("/"),
        secrets={"api_key": Secret(key.api_key, "api_key")},
    )
    return store.put(entry)


class PaperxKeys:
    """PaperExchange API keys: listed and revoked with the account's login."""

    venue = "paperx"

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the key is still listed by the venue."""
        from toolkit.venues.paperx import PaperClient, PaperExchangeError

        with PaperClient(entry.base_url, api_key=entry.secret("api_key")) as client:
            try:
                listed = {k.id: k for k in client.api_keys()}
            except PaperExchangeError as exc:
                if exc.status == 401:  # the venue no longer accepts it
                    return {"status": "revoked"}
                raise
        info = listed.get(entry.key_ref)
        if info is None:
            return {"status": "revoked"}
        last = info.last_used_at.isoformat() if info.last_used_at else entry.last_used_at
        return {"status": info.status, "last_used_at": last}

    def rotate(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """``client``: a logged-in ``PaperClient`` (key management needs a login, not a key)."""
        if client is None:
            raise ValueError("rotating a PaperExchange key needs client=PaperClient(...) after login()")
        new = save_paperx_key(
            store, entry.base_url or client.base_url, entry.account, client.create_api_key(entry.label)
        )
        self.revoke(store, entry, client=client)
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """Revoke the key with a logged-in ``client``."""
        from toolkit.venues.paperx import PaperExchangeError

        if client is None:
            raise ValueError("revoking a PaperExchange key needs client=PaperClient(...) after login()")
        try:
            client.revoke_api_key(entry.key_ref)
        except PaperExchangeError as exc:
            if not (exc.status == 400 and "already revoked" in exc.detail):
                raise
        return store.update(entry.id, status="revoked")

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """A client logged in with the account's password (``secret``)."""
        if secret is None or not secret.reveal():
            raise ValueError("PaperExchange keys are managed with a login: type the account's password")
        client = PaperClient(target)
        client.login(entry.account, secret)
        return {"client": client}, [client]


KEYS = PaperxKeys()  # what the key store asks of this venue (toolkit.keystore.lifecycle.adapter)
