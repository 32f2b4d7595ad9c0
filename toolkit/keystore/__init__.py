"""One encrypted local store for every credential, and one view of every key across venues.

store = toolkit.keystore.open()            # passphrase: argument, $TOOLKIT_KEYSTORE_PASSPHRASE, prompt
toolkit.keys()                             # a DataFrame: venue, account, key, status, expiry...
toolkit.keystore.rotate(entry_id, client=...)
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Literal

from toolkit.keystore.store import (
    CorruptEntry,
    Entry,
    KeyStore,
    KeystoreError,
    KeystoreLocked,
    WrongPassphrase,
)

__all__ = [
    "CorruptEntry",
    "Entry",
    "ExpiryWarning",
    "KeyStore",
    "KeystoreError",
    "KeystoreLocked",
    "WrongPassphrase",
    "keys",
    "open",
    "revoke",
    "rotate",
]

_opened: dict[str, KeyStore] = {}


class ExpiryWarning(UserWarning):
    """A stored key has expired or is about to."""


def open(home: str | os.PathLike[str] | None = None, passphrase: Any = None, **options: Any) -> KeyStore:
    """Open (or create) the key store under ``home``; later calls in this process reuse it."""
    from toolkit.home import toolkit_home

    root = str(toolkit_home(home))
    if passphrase is not None or root not in _opened:
        _opened[root] = KeyStore.open(root, passphrase, **options)
    return _opened[root]


def _resolve(store: KeyStore | None) -> KeyStore:
    return store or open()


class CorruptEntryWarning(UserWarning):
    """A key store entry that cannot be read; ``toolkit.keys()`` lists it with status ``corrupt``."""


def keys(
    store: KeyStore | None = None,
    *,
    refresh: bool = False,
    frame: Literal["pandas", "polars"] = "pandas",
) -> Any:
    """Every stored key with its status and expiry; ``refresh=True`` asks the venues first.

    Keys that have expired or expire soon raise an ``ExpiryWarning`` each, so they are noticed.
    """
    from toolkit.keystore import inventory, lifecycle

    store = _resolve(store)
    if refresh:
        for problem in lifecycle.refresh_all(store):
            warnings.warn(problem, RuntimeWarning, stacklevel=2)
    entries, damaged = store.survey()
    for line in inventory.expiring(entries):
        warnings.warn(line, ExpiryWarning, stacklevel=2)
    for problem in damaged:
        warnings.warn(str(problem), CorruptEntryWarning, stacklevel=2)
    return inventory.frame([*entries, *map(inventory.corrupt_entry, damaged)], frame)


def _entry(store: KeyStore, entry: Entry | str) -> Entry:
    return store.get(entry) if isinstance(entry, str) else entry


def rotate(entry: Entry | str, *, store: KeyStore | None = None, **options: Any) -> Entry:
    """Replace a key by its venue's rules; returns the new entry (the old one is marked revoked)."""
    from toolkit.keystore import lifecycle

    store = _resolve(store)
    found = _entry(store, entry)
    return lifecycle.adapter(found).rotate(store, found, **options)


def revoke(entry: Entry | str, *, store: KeyStore | None = None, **options: Any) -> Entry:
    """Revoke a key at its venue and mark it revoked here."""
    from toolkit.keystore import lifecycle

    store = _resolve(store)
    found = _entry(store, entry)
    return lifecycle.adapter(found).revoke(store, found, **options)
