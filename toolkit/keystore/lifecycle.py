"""Per-venue key lifecycles over the store: save what a client just created, refresh statuses
from the venue, rotate, revoke. Each adapter follows its venue's rules:

* PaperExchange: create the new key, store it, then revoke the old one (needs a login).
* Kalshi: a new pair made here (``createApiKey``), or by the venue when the
  usage level does not allow that (``generateApiKey``); stored, then the old key is deleted.

* Hyperliquid agents: a fresh agent under the same name replaces the old one; a zero-address
  approval removes it. Both are signed by the master key.

* Aster: V1 keys cannot be deleted by their owner (refresh only); V3 agents are rotated and
  revoked by the main wallet.

* Lighter: a key sits at a slot of an account; rotating registers a new key at the same slot (the
  old one stops working at once), revoking writes the zero key there. Both need the account's L1
  wallet. Auth tokens are kept with their deadline so they show up before they expire.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization

from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret


class VenueKeys(Protocol):
    """What the key store asks of a venue: check a key against it, rotate it, revoke it."""

    venue: str

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """The entry's status as the venue sees it now (fields to update, e.g. ``status``)."""

    def rotate(self, store: KeyStore, entry: Entry, **options: Any) -> Entry:
        """Put a new key in place of ``entry``'s and return the new entry."""

    def revoke(self, store: KeyStore, entry: Entry, **options: Any) -> Entry:
        """Remove ``entry``'s key at the venue and return the entry marked revoked."""


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


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


# -- PaperExchange -------------------------------------------------------------------------------


def _paperx_network(base_url: str) -> str:
    from toolkit.venues import paperx

    return "mainnet" if base_url.rstrip("/") == paperx.MAINNET_URL else "sandbox"


def save_paperx_key(store: KeyStore, base_url: str, email: str, key: Any) -> Entry:
    """Store a key from ``PaperClient.create_api_key`` (a ``NewApiKey``)."""
    entry = Entry(
        venue="paperx",
        kind="api_key",
        network=_paperx_network(base_url),
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


# -- Kalshi (seed 002) ----------------------------------------------------------------------------


def _kalshi_network(base_url: str) -> str:
    from toolkit.venues import kalshi

    return next((name for name, url in kalshi.HOSTS.items() if url == base_url.rstrip("/")), "sandbox")


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
        network=_kalshi_network(base_url),
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
        return {"status": "active", "last_used_at": _now_iso()}

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


# -- Hyperliquid agents -----------------------------------------------------------------------------


def ms_to_iso(ms: int | None) -> str | None:
    """Milliseconds as ISO text in UTC, or None."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).replace(microsecond=0).isoformat() if ms else None


def _hl_network(base_url: str) -> str:
    from toolkit.venues import hyperliquid

    return next((n for n, url in hyperliquid.NETWORKS.items() if url == base_url.rstrip("/")), "sandbox")


def _agent_entry(venue: str, network: str, base_url: str, agent: Any, master: str, valid_until: int | None,
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


def save_hyperliquid_agent(
    store: KeyStore, base_url: str, agent: Any, *, label: str = "", status: str = "active"
) -> Entry:
    """Store an agent from ``HyperliquidClient.approve_agent`` (an ``ApprovedAgent``); a setup
    step stores its new agent as ``pending`` until the venue has approved it."""
    network = _hl_network(base_url)
    return store.put(
        _agent_entry("hyperliquid", network, base_url, agent, agent.master, agent.valid_until, label, status)
    )


class HyperliquidAgents:
    """Agents are replaced by approving a fresh key under the same name; removed by a zero-address
    approval. Both need the master account's key (``client=HyperliquidClient(..., wallet=master)``)."""

    venue = "hyperliquid"

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the agent is still approved for its master account (``userRole``)."""
        from toolkit.venues.hyperliquid import HyperliquidClient

        with HyperliquidClient(entry.base_url) as client:
            role = client.user_role(entry.key_ref)
        if role.get("role") == "agent" and role["data"]["user"].lower() == entry.account:
            return {"status": "active"}
        return {"status": "revoked"}  # replaced, removed or pruned after expiry

    def _master(self, entry: Entry, client: Any) -> Any:
        if client is None or client.wallet is None:
            raise ValueError(
                "Hyperliquid agents are managed by the master key: "
                "pass client=HyperliquidClient(..., wallet=master)"
            )
        if client.wallet.address.lower() != entry.account:
            raise ValueError(f"this agent belongs to {entry.account}, not to {client.wallet.address}")
        return client

    def rotate(
        self, store: KeyStore, entry: Entry, *, client: Any = None, days: float | None = None, **_: Any
    ) -> Entry:
        """A fresh agent under the same name (which replaces the old one at the venue)."""
        master = self._master(entry, client)
        name = entry.extra.get("name", "")
        if days is None and entry.expires_at:
            created, expires = (
                datetime.fromisoformat(entry.created_at),
                datetime.fromisoformat(entry.expires_at),
            )
            days = max((expires - created).total_seconds() / 86_400, 1 / 24)
        agent = master.approve_agent(name or None, days=days)
        new = save_hyperliquid_agent(store, entry.base_url or master.base_url, agent, label=entry.label)
        store.update(entry.id, status="revoked")
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """Remove the agent, signed by its master wallet."""
        from toolkit.venues.hyperliquid import HyperliquidError

        master = self._master(entry, client)
        try:
            master.remove_agent(entry.extra.get("name") or None)
        except HyperliquidError as exc:
            if "no named" not in exc.message and "no unnamed" not in exc.message:
                raise
        return store.update(entry.id, status="revoked")


# -- Aster ----------------------------------------------------------------------------------------------


def _aster_network(base_url: str) -> str:
    from toolkit.venues import aster

    return next((n for n, url in aster.NETWORKS.items() if url == base_url.rstrip("/")), "sandbox")


def save_aster_api_key(store: KeyStore, base_url: str, key: Any, *, label: str = "") -> Entry:
    """Store a V1 key + secret from ``AsterClient.create_api_key``."""
    entry = Entry(
        venue="aster",
        kind="api_key",
        network=_aster_network(base_url),
        account=key.address.lower(),
        key_ref=key.key_id,
        public=key.api_key.reveal()[:8] + "…",
        label=label or key.api_name,
        base_url=base_url.rstrip("/"),
        secrets={
            "api_key": Secret(key.api_key, "api_key"),
            "api_secret": Secret(key.api_secret, "api_secret"),
        },
    )
    return store.put(entry)


def save_aster_agent(
    store: KeyStore, base_url: str, agent: Any, *, label: str = "", status: str = "active"
) -> Entry:
    """Store a V3 agent from ``AsterClient.approve_agent`` or ``register_and_approve_agent``."""
    network = _aster_network(base_url)
    return store.put(
        _agent_entry("aster", network, base_url, agent, agent.user, agent.expired, label, status)
    )


class AsterKeys:
    """V1 keys cannot be deleted by their owner on Aster, so they are refreshed but never revoked
    here; V3 agents are rotated by approving a fresh agent, then deleting the old one, both signed
    by the main wallet (``main_wallet=``)."""

    venue = "aster"

    def _client(self, entry: Entry) -> Any:
        from toolkit.venues.aster import AsterClient

        if entry.kind == "agent":
            return AsterClient(entry.base_url, user=entry.account, agent_key=entry.secret("private_key"))
        return AsterClient(
            entry.base_url, api_key=entry.secret("api_key").reveal(), api_secret=entry.secret("api_secret")
        )

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the key or V3 agent still authenticates a read."""
        from toolkit.venues.aster import REJECTED_MBX_KEY, AsterError

        with self._client(entry) as client:
            try:
                client.agents() if entry.kind == "agent" else client.balance()
            except AsterError as exc:
                if exc.code == REJECTED_MBX_KEY:
                    return {"status": "revoked"}
                raise
        return {"status": "active", "last_used_at": _now_iso()}

    def rotate(
        self, store: KeyStore, entry: Entry, *, main_wallet: Any = None, days: float = 30, **_: Any
    ) -> Entry:
        """Approve a new V3 agent and delete the old one (V1 keys cannot be deleted by their owner)."""
        if entry.kind != "agent":
            raise NotImplementedError(
                "Aster API keys cannot be deleted by their owner: create a new one with "
                "AsterClient.create_api_key and stop using this one"
            )
        if main_wallet is None:
            raise ValueError("Aster agents are managed by the main wallet: pass main_wallet=")
        from toolkit.venues.aster import AsterClient

        with AsterClient(entry.base_url) as client:
            agent = client.approve_agent(main_wallet, entry.extra.get("name") or entry.label, days=days)
            new = save_aster_agent(store, entry.base_url or client.base_url, agent, label=entry.label)
            client.delete_agent(main_wallet, entry.key_ref)
        store.update(entry.id, status="revoked")
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, main_wallet: Any = None, **_: Any) -> Entry:
        """Delete a V3 agent, signed by the main wallet."""
        if entry.kind != "agent":
            raise NotImplementedError("Aster API keys cannot be deleted by their owner")
        if main_wallet is None:
            raise ValueError("Aster agents are managed by the main wallet: pass main_wallet=")
        from toolkit.venues.aster import AsterClient

        with AsterClient(entry.base_url) as client:
            client.delete_agent(main_wallet, entry.key_ref)
        return store.update(entry.id, status="revoked")


# -- Lighter -------------------------------------------------------------------------------------------


def _lighter_network(base_url: str) -> str:
    from toolkit.venues.lighter import wire

    return next((n for n, url in wire.NETWORKS.items() if url == base_url.rstrip("/")), "sandbox")


def save_lighter_key(
    store: KeyStore, base_url: str, key: Any, *, l1_address: str, label: str = "", status: str = "active",
    extra: dict[str, Any] | None = None,
) -> Entry:  # fmt: skip
    """Store a ``LighterKey`` (register_api_key): its slot is the key id, its public key the public part."""
    entry = Entry(
        venue="lighter",
        kind="api_key",
        network=_lighter_network(base_url),
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
        network=_lighter_network(base_url),
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


ADAPTERS: dict[str, VenueKeys] = {
    "aster": AsterKeys(),
    "paperx": PaperxKeys(),
    "kalshi": KalshiKeys(),
    "hyperliquid": HyperliquidAgents(),
    "lighter": LighterKeys(),
}


def adapter(entry: Entry) -> VenueKeys:
    """The lifecycle of ``entry``'s venue."""
    try:
        return ADAPTERS[entry.venue]
    except KeyError:
        raise NotImplementedError(f"no key lifecycle for venue {entry.venue!r} yet") from None


def refresh_all(store: KeyStore) -> list[str]:
    """Ask each venue about each active key; store what changed. Returns the failures, one line each."""
    problems = []
    for entry in store.entries():
        if entry.status == "revoked" or entry.venue not in ADAPTERS:
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
    "ADAPTERS",
    "AsterKeys",
    "HyperliquidAgents",
    "KalshiKeys",
    "LighterKeys",
    "PaperxKeys",
    "adapter",
    "key_owner",
    "refresh_all",
    "save_aster_agent",
    "save_aster_api_key",
    "save_hyperliquid_agent",
    "save_kalshi_key",
    "save_lighter_key",
    "save_lighter_token",
    "save_paperx_key",
    "save_wallet",
    "stored_wallet",
]
