"""Lighter's setup: one registerApiKey step, dual-signed by the new key and the L1 wallet.

    status = check_setup("lighter", address, client=client, store=store)
    if not status.is_ready:
        signed = [sign_setup_action("lighter", address, step, wallet=wallet, client=client, store=store)
                  for step in status.setup]
        execute_setup("lighter", address, status.setup, signed, client=client, store=store)

``check_setup`` may be polled freely. Its record of an outstanding step is a *pending* entry in
the local key store (the new key pair, encrypted, bound to the slot's current nonce): a second
check with the same nonce returns the same step, a moved nonce replaces the record, and a check
never sends anything to the venue, so polling burns no nonce and duplicates no record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
from toolkit.setup.steps import (
    ActionStep,
    SetupError,
    SetupStatus,
    SignedAction,
    check_wallet,
    in_order,
    keep_one_pending,
    open_store,
    pending_record,
    step_from,
)
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.client import LighterClient
from toolkit.venues.lighter.signer import ApiKeyPair, SignedTx, generate_api_key

PROVIDER = "lighter"


def _slot_entries(store: KeyStore, client: LighterClient, account_index: int, slot: int) -> list[Entry]:
    return store.find(
        venue="lighter",
        kind="api_key",
        base_url=client.base_url,
        account=str(account_index),
        key_ref=str(slot),
    )


def _step(entry: Entry) -> ActionStep:
    params = {
        "accountIndex": int(entry.account),
        "apiKeyIndex": int(entry.key_ref),
        "nonce": entry.extra["setup_nonce"],
        "publicKey": entry.public,
    }
    return step_from(PROVIDER, "registerApiKey", entry.id, params)


def check(
    address: str,
    *,
    client: LighterClient,
    store: KeyStore | None = None,
    api_key_index: int = wire.DEFAULT_API_KEY_INDEX,
) -> SetupStatus:
    """What stands between ``address`` and trading: nothing (``is_ready``) or a registerApiKey step.

    Raises ``AccountNotFound`` (deposit first) when the address has no account."""
    wire.check_user_slot(api_key_index)
    store = open_store(store)
    account_index = client.account_index(address)
    slot = client.api_key(account_index, api_key_index)
    entries = _slot_entries(store, client, account_index, api_key_index)
    ours = [e for e in entries if e.status == "active" and wire.public_key_hex(e.public) == slot.public_key]
    pending = [e for e in entries if e.status == "pending"]
    if slot.registered and ours:
        for stale in pending:
            store.delete(stale.id)
        return SetupStatus(PROVIDER, address, account_index, True, [])
    for gone in (e for e in entries if e.status == "active"):  # replaced at the venue meanwhile
        store.update(gone.id, status="revoked")
    # nextNonce, not the /apikeys entry: the venue may list an empty slot without its nonce, and a
    # slot that held a key before has moved past 0
    nonce = client.next_nonce(account_index, api_key_index)
    keep = next((e for e in pending if e.extra.get("setup_nonce") == nonce), None)
    keep_one_pending(store, pending, keep)  # the others are stale: Lighter expects another nonce now
    if keep is None:
        key = generate_api_key()
        registered = _pending_key(account_index, api_key_index, key, client.chain_id)
        keep = save_lighter_key(
            store,
            client.base_url,
            registered,
            l1_address=address,
            status="pending",
            extra={"setup_nonce": nonce},
        )
    return SetupStatus(PROVIDER, address, account_index, False, [_step(keep)])


def _pending_key(account_index: int, api_key_index: int, key: ApiKeyPair, chain_id: int) -> Any:
    from toolkit.venues.lighter import LighterKey

    return LighterKey(account_index, api_key_index, key.public_key, key.private_key, chain_id)


def sign(
    address: str,
    step: ActionStep,
    *,
    wallet: Wallet | Any,
    client: LighterClient,
    store: KeyStore | None = None,
) -> SignedAction:
    """Sign the step: ChangePubKey by the record's new key, countersigned by the L1 wallet."""
    store = open_store(store)
    wallet = check_wallet(wallet, address)
    entry = pending_record(store, step)
    if entry.extra.get("setup_nonce") != step.params.get("nonce"):
        raise SetupError("this setup step is no longer current: call check_setup again")
    pair = ApiKeyPair(entry.secret("private_key"), entry.public)
    signed = client.sign_change_pub_key(
        wallet, int(entry.account), int(entry.key_ref), pair, int(entry.extra["setup_nonce"])
    )
    return SignedAction(step.id, signed.tx_type, signed.tx_info, signed.tx_hash)


def execute(
    address: str,
    setup: list[ActionStep],
    signed_actions: list[SignedAction],
    *,
    client: LighterClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Submit each signed step; on success the pending key becomes the slot's active key."""
    store = open_store(store)
    results = []
    for step, signed in in_order(setup, signed_actions):
        entry = store.get(step.id)
        answer = client.send_tx(SignedTx(signed.tx_type, signed.tx_info, signed.tx_hash))
        account_index, api_key_index = int(entry.account), int(entry.key_ref)
        client.nonces.forget(account_index, api_key_index)
        for older in _slot_entries(store, client, account_index, api_key_index):
            if older.id != entry.id and older.status == "active":
                store.update(older.id, status="revoked")
        extra = {k: v for k, v in entry.extra.items() if k != "setup_nonce"}
        active = store.update(entry.id, status="active", extra=extra)
        client.confirm(lighter_key(active))
        results.append({"step": step.id, "type": step.type, "txHash": answer.get("tx_hash"), "status": "ok"})
    return results


# -- the key's life after setup: saved, refreshed, rotated, revoked ------------------------------


def save_lighter_key(
    store: KeyStore, base_url: str, key: Any, *, l1_address: str, label: str = "", status: str = "active",
    extra: dict[str, Any] | None = None,
) -> Entry:  # fmt: skip
    """Store a ``LighterKey`` (register_api_key): its slot is the key id, its public key the public part."""
    entry = Entry(
        venue="lighter",
        kind="api_key",
        network=lifecycle.network_of(base_url, wire.NETWORKS),
        account=str(key.account_index),
        key_ref=str(key.api_key_index),
        public=key.public_key,
        label=label,
        status=status,
        base_url=base_url.rstrip("/"),
        extra={"l1_address": l1_address.lower(), "chain_id": key.chain_id} | (extra or {}),
        secrets={"private_key": Secret(key.private_key, "lighter_private_key")},
    )
    return store.put(entry)


def save_lighter_token(
    store: KeyStore, base_url: str, key: Any, token: Any, *, expires_at: datetime,
    kind: str = "auth_token", token_id: int | None = None, label: str = "",
) -> Entry:  # fmt: skip
    """Store a Lighter auth token (kind ``auth_token``) or read-only token (``read_only_token``)."""
    entry = Entry(
        venue="lighter",
        kind=kind,
        network=lifecycle.network_of(base_url, wire.NETWORKS),
        account=str(key.account_index),
        key_ref=str(token_id if token_id is not None else key.api_key_index),
        public=str(token.reveal()).split(":", 3)[0] if kind == "auth_token" else "ro:…",
        label=label,
        expires_at=expires_at.astimezone(UTC).replace(microsecond=0).isoformat(),
        base_url=base_url.rstrip("/"),
        extra={"api_key_index": key.api_key_index},
        secrets={"token": Secret(token, kind)},
    )
    return store.put(entry)


def lighter_key(entry: Entry) -> Any:
    """The ``LighterKey`` an ``api_key`` entry holds."""
    from toolkit.venues.lighter import LighterKey

    return LighterKey(
        int(entry.account),
        int(entry.key_ref),
        entry.public,
        entry.secret("private_key"),
        int(entry.extra["chain_id"]),
    )


class LighterKeys:
    """Keys at slots, checked against ``/apikeys``; rotate and revoke need ``wallet=``, the L1 key."""

    venue = "lighter"

    def _client(self, entry: Entry) -> Any:
        from toolkit.venues.lighter import LighterClient

        return LighterClient(entry.base_url, chain_id=entry.extra.get("chain_id"))

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the slot still holds this key's public key."""
        from toolkit.venues.lighter import wire

        if entry.kind != "api_key":
            return {}  # tokens age by their expiry alone
        with self._client(entry) as client:
            slot = client.api_key(int(entry.account), int(entry.key_ref))
        if entry.status == "pending":
            return {}
        ours = slot.public_key == wire.public_key_hex(entry.public)
        return {"status": "active" if ours else "revoked"}

    def _wallet(self, entry: Entry, wallet: Any) -> Any:
        from toolkit.venues.eip712 import as_wallet

        if wallet is None:
            raise ValueError(
                "Lighter keys are registered and revoked by the account's L1 wallet: pass wallet="
            )
        wallet = as_wallet(wallet)
        owner = entry.extra.get("l1_address")
        if owner and wallet.address.lower() != owner:
            raise ValueError(f"this key belongs to {owner}, not to {wallet.address}")
        return wallet

    def rotate(self, store: KeyStore, entry: Entry, *, wallet: Any = None, **_: Any) -> Entry:
        """A new key at the same slot; the old entry is marked revoked once the venue holds the new one."""
        if entry.kind != "api_key":
            raise NotImplementedError("rotate the API key; tokens are made anew from it")
        wallet = self._wallet(entry, wallet)
        with self._client(entry) as client:
            key = client.rotate_api_key(wallet, lighter_key(entry))
        new = save_lighter_key(store, entry.base_url or "", key, l1_address=wallet.address, label=entry.label)
        store.update(entry.id, status="revoked")
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, wallet: Any = None, **_: Any) -> Entry:
        """Write the empty key into the slot, countersigned by the L1 wallet."""
        if entry.kind == "read_only_token":
            raise NotImplementedError("revoke read-only tokens with LighterClient.revoke_read_only_token")
        if entry.kind == "api_key":
            wallet = self._wallet(entry, wallet)
            with self._client(entry) as client:
                client.revoke_api_key(wallet, lighter_key(entry))
        return store.update(entry.id, status="revoked")

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """The account's L1 wallet, which countersigns a key at a slot."""
        return {"wallet": wallet()}, []


KEYS = LighterKeys()  # what the key store asks of this venue (toolkit.keystore.lifecycle.adapter)
