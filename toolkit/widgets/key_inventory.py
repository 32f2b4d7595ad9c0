"""The key panel's logic, without widgets: every stored key as a row (secrets only as masked
fingerprints), an expiry countdown, the public part to copy, and rotate / revoke by each venue's
rules with the owner's credential (typed once, or the wallet kept in the key store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from toolkit import keystore
from toolkit.keystore import inventory, lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
from toolkit.venues.eip712 import Wallet

COLUMNS = [
    "venue",
    "network",
    "kind",
    "account",
    "key",
    "label",
    "public",
    "fingerprint",
    "status",
    "expires",
    "countdown",
]


def _short(text: str, keep: int = 10) -> str:
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-4:]}"


def countdown(entry: Entry, now: datetime) -> str:
    """How long the key has left ("6 d 23 h left"), or since when it is expired; "" for no expiry."""
    expires = inventory.parse_time(entry.expires_at)
    if expires is None or entry.status in ("revoked", "pending"):
        return ""
    if expires <= now:
        return f"expired {inventory.duration_words(now - expires)} ago"
    return f"{inventory.duration_words(expires - now)} left"


class KeyInventory:
    """``KeyInventory(store, sandbox=None)``; the sandbox handle, when given, is the venue for its
    keys, so agent expiries follow its (possibly fast-forwarded) clock."""

    def __init__(self, store: KeyStore | None = None, sandbox: Any = None) -> None:
        self.store = store or keystore.open()
        self.sandbox = sandbox

    def __repr__(self) -> str:
        return f"KeyInventory({len(self.store.entries())} keys)"

    def now(self) -> datetime:
        """The time expiries count from: the sandbox clock, or the wall clock."""
        if self.sandbox is not None:
            return datetime.fromtimestamp(self.sandbox.now_ms() / 1000, UTC)
        return datetime.now(UTC)

    def entries(self) -> list[Entry]:
        """Every entry in the store."""
        return self.store.entries()

    def rows(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """The key store inventory's rows, shortened for a table, with masked fingerprints of each
        secret and the countdown to expiry."""
        now = now or self.now()
        entries = self.entries()
        return [
            row
            | {
                "account": _short(row["account"]),
                "key": _short(row["key"]),
                "public": _short(row["public"], 12),
                "fingerprint": " ".join(s.masked() for s in e.secrets.values()),
                "countdown": countdown(e, now),
            }
            for e, row in zip(entries, inventory.rows(entries, now), strict=True)
        ]

    def public_part(self, entry_id: str) -> str:
        """What may be shared: an agent's address, a Lighter public key, an RSA key's fingerprint."""
        return self.store.get(entry_id).public

    def refresh(self) -> list[str]:
        """Ask each venue about each key; returns the problems, one line each."""
        return lifecycle.refresh_all(self.store)

    def _target(self, entry: Entry) -> Any:
        if entry.network == "sandbox" and self.sandbox is not None:
            return self.sandbox
        return entry.base_url

    def _wallet(self, entry: Entry, private_key: Secret | None) -> Wallet:
        if private_key is not None and private_key.reveal():
            return Wallet.from_key(private_key)
        owner = lifecycle.key_owner(entry)
        stored = lifecycle.stored_wallet(self.store, owner)
        if stored is None:
            raise ValueError(f"this key is managed by {owner}: type that wallet's private key")
        return stored

    def _options(self, entry: Entry, secret: Secret | None) -> tuple[dict[str, Any], list[Any]]:
        """What the venue's lifecycle needs, and the clients to close afterwards."""
        keys = lifecycle.adapter(entry)
        return keys.options(entry, self._target(entry), secret, lambda: self._wallet(entry, secret))

    def _act(self, action: str, entry_id: str, secret: Secret | None) -> Entry:
        entry = self.store.get(entry_id)
        if entry.status == "revoked":
            raise ValueError("this key is revoked already")
        options, clients = self._options(entry, secret)
        try:
            return getattr(keystore, action)(entry, store=self.store, **options)
        finally:
            for client in clients:
                client.close()

    def rotate(self, entry_id: str, secret: Secret | None = None) -> Entry:
        """A new key by the venue's rules; the old one is marked revoked. Returns the new entry."""
        return self._act("rotate", entry_id, secret)

    def revoke(self, entry_id: str, secret: Secret | None = None) -> Entry:
        """Revoke an entry's key at its venue (``secret``: what the venue needs, if anything)."""
        return self._act("revoke", entry_id, secret)
