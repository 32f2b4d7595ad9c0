"""A writer process for the key store's concurrency and crash tests.

Usage: writer.py HOME PASSPHRASE TAG COUNT. Prints each entry id once ``put`` has returned
(so the parent knows it was committed), then exits.
"""

import sys

from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret


def main() -> None:
    home, passphrase, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = KeyStore.open(home, passphrase, use_keyring=False)
    for i in range(count):
        entry = Entry(
            venue="paperx",
            kind="api_key",
            network="sandbox",
            account=f"{tag}@example.com",
            key_ref=f"{tag}-{i}",
            label=f"{tag} {i}",
            secrets={"api_key": Secret(f"pe_{tag}_{i:05d}_secret")},
        )
        store.put(entry)
        print(entry.id, flush=True)


if __name__ == "__main__":
    main()
