"""Provider setup (seed 004): what a venue needs before trading, checked, signed and executed.

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

from dataclasses import dataclass, field
from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.venues import providers as pv
from toolkit.venues.eip712 import Wallet, as_wallet
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.client import LighterClient
from toolkit.venues.lighter.signer import ApiKeyPair, SignedTx, generate_api_key


class SetupError(ValueError):
    """A setup step that cannot go ahead (stale, for another address, unknown provider)."""


@dataclass(frozen=True)
class ActionStep:
    """One outstanding setup step; ``id`` names its record."""

    id: str
    type: str
    title: str
    signers: tuple[str, ...]
    signing_method: str
    sequence: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetupStatus:
    provider: str
    address: str
    account_index: int
    is_ready: bool
    setup: list[ActionStep]


@dataclass(frozen=True)
class SignedAction:
    """A signed step, ready for ``execute_setup``; holds no secret (both signatures are public)."""

    step_id: str
    tx_type: int
    tx_info: str = field(repr=False)
    tx_hash: str


def providers(client: Any = None) -> list[dict[str, Any]]:
    """The provider catalogue: from the sandbox's ``GET /providers`` when given a client on it,
    else the descriptors this toolkit ships (the venues publish no such endpoint themselves)."""
    if client is not None and getattr(client, "network", None) == "sandbox":
        import httpx

        return httpx.get(f"{client.base_url}/providers", timeout=30).json()["providers"]
    return pv.providers()


def _provider(provider: str) -> dict[str, Any]:
    if provider != "lighter":
        raise SetupError(f"setup descriptors are served for {sorted(pv.PROVIDERS)}, not {provider!r}")
    return pv.PROVIDERS[provider]


def _store(store: KeyStore | None) -> KeyStore:
    if store is not None:
        return store
    from toolkit import keystore

    return keystore.open()


def _slot_entries(store: KeyStore, client: LighterClient, account_index: int, slot: int) -> list[Entry]:
    return store.find(
        venue="lighter",
        kind="api_key",
        base_url=client.base_url,
        account=str(account_index),
        key_ref=str(slot),
    )


def _step(entry: Entry) -> ActionStep:
    descriptor = _provider("lighter")["setup"][0]
    return ActionStep(
        id=entry.id,
        type=descriptor["type"],
        title=descriptor["title"],
        signers=tuple(descriptor["signers"]),
        signing_method=descriptor["signingMethod"],
        sequence=descriptor["sequence"],
        params={
            "accountIndex": int(entry.account),
            "apiKeyIndex": int(entry.key_ref),
            "nonce": entry.extra["setup_nonce"],
            "publicKey": entry.public,
        },
    )


def check_setup(
    provider: str,
    address: str,
    *,
    client: LighterClient,
    store: KeyStore | None = None,
    api_key_index: int = wire.DEFAULT_API_KEY_INDEX,
) -> SetupStatus:
    """What stands between ``address`` and trading: nothing (``is_ready``) or a registerApiKey step.

    Raises ``AccountNotFound`` (deposit first) when the address has no account."""
    _provider(provider)
    wire.check_user_slot(api_key_index)
    store = _store(store)
    account_index = client.account_index(address)
    slot = client.api_key(account_index, api_key_index)
    entries = _slot_entries(store, client, account_index, api_key_index)
    ours = [e for e in entries if e.status == "active" and wire.public_key_hex(e.public) == slot.public_key]
    pending = [e for e in entries if e.status == "pending"]
    if slot.registered and ours:
        for stale in pending:
            store.delete(stale.id)
        return SetupStatus(provider, address, account_index, True, [])
    for gone in (e for e in entries if e.status == "active"):  # replaced at the venue meanwhile
        store.update(gone.id, status="revoked")
    # nextNonce, not the /apikeys entry: the venue may list an empty slot without its nonce, and a
    # slot that held a key before has moved past 0
    nonce = client.next_nonce(account_index, api_key_index)
    keep = next((e for e in pending if e.extra.get("setup_nonce") == nonce), None)
    for other in pending:
        if other is not keep:
            store.delete(other.id)  # a stale record: Lighter expects another nonce now
    if keep is None:
        key = generate_api_key()
        registered = _pending_key(account_index, api_key_index, key, client.chain_id)
        keep = lifecycle.save_lighter_key(
            store,
            client.base_url,
            registered,
            l1_address=address,
            status="pending",
            extra={"setup_nonce": nonce},
        )
    return SetupStatus(provider, address, account_index, False, [_step(keep)])


def _pending_key(account_index: int, api_key_index: int, key: ApiKeyPair, chain_id: int) -> Any:
    from toolkit.venues.lighter import LighterKey

    return LighterKey(account_index, api_key_index, key.public_key, key.private_key, chain_id)


def sign_setup_action(
    provider: str,
    address: str,
    step: ActionStep,
    *,
    wallet: Wallet | Any,
    client: LighterClient,
    store: KeyStore | None = None,
) -> SignedAction:
    """Sign the step: ChangePubKey by the record's new key, countersigned by the L1 wallet."""
    _provider(provider)
    store = _store(store)
    wallet = as_wallet(wallet)
    if wallet.address.lower() != address.lower():
        raise SetupError(f"the wallet is {wallet.address}, but this setup is for {address}")
    try:
        entry = store.get(step.id)
    except KeyError:
        raise SetupError("this setup step is no longer current: call check_setup again") from None
    if entry.status != "pending" or entry.extra.get("setup_nonce") != step.params.get("nonce"):
        raise SetupError("this setup step is no longer current: call check_setup again")
    pair = ApiKeyPair(entry.secret("private_key"), entry.public)
    signed = client.sign_change_pub_key(
        wallet, int(entry.account), int(entry.key_ref), pair, int(entry.extra["setup_nonce"])
    )
    return SignedAction(step.id, signed.tx_type, signed.tx_info, signed.tx_hash)


def execute_setup(
    provider: str,
    address: str,
    setup: list[ActionStep],
    signed_actions: list[SignedAction],
    *,
    client: LighterClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Submit each signed step; on success the pending key becomes the slot's active key."""
    _provider(provider)
    store = _store(store)
    if len(setup) != len(signed_actions):
        raise SetupError("one signed action per setup step")
    results = []
    for step, signed in zip(sorted(setup, key=lambda s: s.sequence), signed_actions, strict=True):
        if signed.step_id != step.id:
            raise SetupError("signed actions must follow the steps' order")
        entry = store.get(step.id)
        answer = client.send_tx(SignedTx(signed.tx_type, signed.tx_info, signed.tx_hash))
        account_index, api_key_index = int(entry.account), int(entry.key_ref)
        client.nonces.forget(account_index, api_key_index)
        for older in _slot_entries(store, client, account_index, api_key_index):
            if older.id != entry.id and older.status == "active":
                store.update(older.id, status="revoked")
        extra = {k: v for k, v in entry.extra.items() if k != "setup_nonce"}
        active = store.update(entry.id, status="active", extra=extra)
        client.confirm(lifecycle.lighter_key(active))
        results.append({"step": step.id, "type": step.type, "txHash": answer.get("tx_hash"), "status": "ok"})
    return results
