"""The key store's side of every venue's key life: what it asks of a venue (``VenueKeys``: refresh,
rotate, revoke), the shared pieces the venues save their keys with, and the EVM wallets that manage
them. Each venue's own rules live beside its setup steps, in ``toolkit.setup.<venue>`` (its ``KEYS``
and its ``save_*`` functions), found through the venue registry; nothing here knows a venue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
from toolkit.venues import registry
from toolkit.venues.target import resolve


class VenueKeys(Protocol):
    """What the key store asks of a venue: check a key against it, rotate it, revoke it."""

    venue: str

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """The entry's status as the venue sees it now (fields to update, e.g. ``status``)."""

    def rotate(self, store: KeyStore, entry: Entry, **options: Any) -> Entry:
        """Put a new key in place of ``entry``'s and return the new entry."""

    def revoke(self, store: KeyStore, entry: Entry, **options: Any) -> Entry:
        """Remove ``entry``'s key at the venue and return the entry marked revoked."""

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """What ``rotate`` and ``revoke`` need beyond the entry (the managing wallet, a logged-in
        client on ``target``), given what the user typed (``secret``) and how to find the wallet;
        and the clients to close afterwards."""


def now_iso() -> str:
    """Now, as the key store writes times: ISO text in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def ms_to_iso(ms: int | None) -> str | None:
    """Milliseconds as ISO text in UTC, or None."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=0).isoformat() if ms else None


def network_of(base_url: str, networks: Mapping[str, str]) -> str:
    """The network a key's base URL belongs to: one of the venue's by its URL, else ``sandbox``."""
    return resolve(base_url, networks, "a key store entry").network


def agent_entry(venue: str, network: str, base_url: str, agent: Any, master: str, valid_until: int | None,
                label: str, status: str = "active") -> Entry:  # fmt: skip
    """An agent (API wallet) of ``master``: its address is the public part, its key the secret."""
    return Entry(
        venue=venue,
        kind="agent",
        network=network,
        account=master.lower(),
        key_ref=agent.address.lower(),
        public=agent.address,
        label=label or agent.name,
        expires_at=ms_to_iso(valid_until),
        status=status,
        base_url=base_url.rstrip("/"),
        extra={"name": agent.name},
        secrets={"private_key": Secret(agent.private_key, "private_key")},
    )


# -- EVM wallets ------------------------------------------------------------------------------------


def save_wallet(store: KeyStore, wallet: Any, *, label: str = "") -> Entry:
    """Store an EVM wallet (the master / main / L1 key that approves agents and API keys), once per
    address: its address is the public part, its key the secret. Returns the stored entry."""
    from toolkit.venues.eip712 import as_wallet

    wallet = as_wallet(wallet)
    address = wallet.address.lower()
    for found in store.find(venue="evm", kind="wallet", account=address):
        return found
    entry = Entry(
        venue="evm",
        kind="wallet",
        network="any",
        account=address,
        key_ref=address,
        public=wallet.address,
        label=label,
        secrets={"private_key": Secret(wallet.private_key, "private_key")},
    )
    return store.put(entry)


def key_owner(entry: Entry) -> str:
    """The address whose wallet manages a key: an agent's master, a Lighter key's L1 wallet, or
    the account itself (an email for the session and login venues)."""
    return str(entry.extra.get("l1_address") or entry.account).lower()


def stored_wallet(store: KeyStore, address: str) -> Any:
    """The ``Wallet`` stored for ``address``, or None."""
    from toolkit.venues.eip712 import Wallet

    for found in store.find(venue="evm", kind="wallet", account=address.lower()):
        return Wallet.from_key(found.secret("private_key"))
    return None


def adapter(entry: Entry) -> VenueKeys:
    """The lifecycle of ``entry``'s venue: the ``KEYS`` of its setup module."""
    if entry.venue not in registry.VENUES:
        raise NotImplementedError(f"no key lifecycle for venue {entry.venue!r} yet")
    return registry.VENUES[entry.venue].setup_module().KEYS


def refresh_all(store: KeyStore) -> list[str]:
    """Ask each venue about each active key; store what changed. Returns the failures, one line each."""
    problems = []
    for entry in store.entries():
        if entry.status == "revoked" or entry.venue not in registry.VENUES:
            continue
        try:
            changes = adapter(entry).refresh(entry)
        except Exception as exc:  # a venue being down must not hide the other keys
            problems.append(f"{entry.venue} {entry.key_ref}: could not refresh ({type(exc).__name__}: {exc})")
            continue
        if any(getattr(entry, k) != v for k, v in changes.items()):
            store.update(entry.id, **changes)
    return problems


__all__ = [
    "VenueKeys",
    "adapter",
    "agent_entry",
    "key_owner",
    "ms_to_iso",
    "network_of",
    "now_iso",
    "refresh_all",
    "save_wallet",
    "stored_wallet",
]
