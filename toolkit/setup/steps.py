"""What every venue's setup shares: the step, the status, the signed request, the descriptors and
the pending record a check leaves in the key store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from toolkit.keystore.store import Entry, KeyStore
from toolkit.venues import providers as pv


class SetupError(ValueError):
    """A setup step that cannot go ahead (stale, for another address, unknown provider)."""


@dataclass(frozen=True)
class ActionStep:
    """One outstanding setup step; ``id`` names its record (a pending key store entry)."""

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
    account_index: int | None
    is_ready: bool
    setup: list[ActionStep]


@dataclass(frozen=True)
class SignedAction:
    """A signed Lighter step, ready for ``execute_setup``; holds no secret (both signatures are public)."""

    step_id: str
    tx_type: int
    tx_info: str = field(repr=False)
    tx_hash: str


@dataclass(frozen=True)
class SignedRequest:
    """A signed step as the venue's request body (Hyperliquid ``/exchange``, Aster's form).

    Public: a signature and the new agent's address, never a key."""

    step_id: str
    body: dict[str, Any] = field(repr=False)


def descriptor(provider: str, action_type: str) -> dict[str, Any]:
    """The provider's setup descriptor for ``action_type``; SetupError for an unknown provider or action."""
    try:
        found = pv.PROVIDERS[provider]
    except KeyError:
        raise SetupError(
            f"setup descriptors are served for {sorted(pv.PROVIDERS)}, not {provider!r}"
        ) from None
    return next(d for d in found["setup"] if d["type"] == action_type)


def step_from(provider: str, action_type: str, step_id: str, params: dict[str, Any]) -> ActionStep:
    """An ActionStep built from the provider's descriptor with this step's params."""
    d = descriptor(provider, action_type)
    return ActionStep(
        id=step_id,
        type=d["type"],
        title=d["title"],
        signers=tuple(d["signers"]),
        signing_method=d["signingMethod"],
        sequence=d["sequence"],
        params=params,
    )


def open_store(store: KeyStore | None) -> KeyStore:
    """The given store, or the default one (``toolkit.keystore.open()``)."""
    if store is not None:
        return store
    from toolkit import keystore

    return keystore.open()


def pending_record(store: KeyStore, step: ActionStep) -> Entry:
    """The pending entry a step names, or ``SetupError`` when another check replaced it."""
    try:
        entry = store.get(step.id)
    except KeyError:
        raise SetupError("this setup step is no longer current: call check_setup again") from None
    if entry.status != "pending":
        raise SetupError("this setup step is no longer current: call check_setup again")
    return entry


def keep_one_pending(store: KeyStore, pending: list[Entry], keep: Entry | None) -> None:
    """Delete every pending record but ``keep``: a check leaves at most one per slot or name."""
    for other in pending:
        if keep is None or other.id != keep.id:
            store.delete(other.id)


def named_agents(store: KeyStore, venue: str, base_url: str, account: str, name: str) -> list[Entry]:
    """The stored agents of ``account`` under ``name`` (records of every status) at ``base_url``."""
    found = store.find(venue=venue, kind="agent", base_url=base_url, account=account)
    return [e for e in found if e.extra.get("name") == name]


def reconcile(
    store: KeyStore, entries: list[Entry], works: Callable[[Entry], bool], make: Callable[[], Entry]
) -> Entry | None:
    """The record rule for keys generated here (agents, RSA pairs): None when a stored active key
    still works (and no pending record is left); otherwise the one pending record, made by ``make``
    when there is none, after marking the active keys that stopped working revoked."""
    alive = [e for e in entries if e.status == "active" and works(e)]
    pending = [e for e in entries if e.status == "pending"]
    if alive:
        keep_one_pending(store, pending, None)
        return None
    for gone in (e for e in entries if e.status == "active"):  # expired, replaced or removed
        store.update(gone.id, status="revoked")
    keep = pending[-1] if pending else None
    keep_one_pending(store, pending, keep)
    return keep or make()


def activate(store: KeyStore, entry: Entry, siblings: list[Entry], **changes: Any) -> Entry:
    """The venue accepted ``entry``: it becomes active, and the active keys it replaces revoked."""
    for older in siblings:
        if older.id != entry.id and older.status == "active":
            store.update(older.id, status="revoked")
    return store.update(entry.id, status="active", **changes)


def check_wallet(wallet: Any, address: str) -> Any:
    """``wallet`` as a Wallet, refused unless it is ``address``'s own."""
    from toolkit.venues.eip712 import as_wallet

    wallet = as_wallet(wallet)
    if wallet.address.lower() != address.lower():
        raise SetupError(f"the wallet is {wallet.address}, but this setup is for {address}")
    return wallet


def in_order(setup: list[ActionStep], signed: list[Any]) -> list[tuple[ActionStep, Any]]:
    """Each step paired with its signed action; SetupError unless there is one per step."""
    if len(setup) != len(signed):
        raise SetupError("one signed action per setup step")
    pairs = list(zip(sorted(setup, key=lambda s: s.sequence), signed, strict=True))
    for step, action in pairs:
        if action is not None and action.step_id != step.id:
            raise SetupError("signed actions must follow the steps' order")
    return pairs
