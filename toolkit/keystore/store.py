"""The encrypted local key store: one file per entry under ``$TOOLKIT_HOME/keystore``.

Each write goes to a temporary file that is fsynced and renamed over the target, under an
exclusive ``flock``, so two kernels can write at once and a process killed mid-write leaves
every committed entry readable. Files are mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolkit.keystore import crypto
from toolkit.secrets import Secret

FORMAT = "toolkit-keystore"
VERSION = 1
PASSPHRASE_ENV = "TOOLKIT_KEYSTORE_PASSPHRASE"
KEYRING_SERVICE = "toolkit-keystore"
ENTRY_AAD_PREFIX = b"toolkit-keystore/entry/v1\n"


class KeystoreError(Exception):
    """Something is wrong with the key store; the message says what and where."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not open this key store."""

    pass


class KeystoreLocked(KeystoreError):
    """No passphrase was given and none is in the environment or the keyring."""

    pass


class CorruptEntry(KeystoreError):
    """An entry file cannot be read or decrypted; the others still can."""

    def __init__(self, entry_id: str, path: Path, why: str) -> None:
        super().__init__(f"key store entry {entry_id!r} ({path.name}) is corrupt: {why}")
        self.entry_id = entry_id
        self.path = path


@dataclass(frozen=True)
class Entry:
    """One credential: public facts in the clear (authenticated), secrets encrypted.

    ``key_ref`` is what the venue calls the key: an agent address, an API key id, a Lighter
    ``api_key_index``, a PaperExchange key prefix.
    """

    venue: str
    kind: str
    network: str
    account: str
    key_ref: str
    public: str = ""
    label: str = ""
    created_at: str = field(default_factory=lambda: _now_iso())
    expires_at: str | None = None
    status: str = "active"
    last_used_at: str | None = None
    base_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict, repr=False)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def meta(self) -> dict[str, Any]:
        """Everything but the secrets and the id, as stored in the clear."""
        data = asdict(replace(self, secrets={}))
        data.pop("secrets")
        data.pop("id")
        return data

    def secret(self, name: str) -> Secret:
        """The secret called ``name`` (``private_key``, ``api_secret`` ...)."""
        try:
            return self.secrets[name]
        except KeyError:
            raise KeyError(f"entry {self.id} has no secret named {name!r}") from None

    def __repr__(self) -> str:
        names = ", ".join(sorted(self.secrets)) or "none"
        return (
            f"Entry({self.venue}/{self.network} {self.kind} {self.key_ref!r} of {self.account!r}, "
            f"status={self.status}, secrets: {names})"
        )


def _now_iso() -> str:
    # to the microsecond: entries list in the order they were made, and two made in one second
    # (a setup record right after the key it replaces) must not fall back on their random ids
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _canonical(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()


def _entry_aad(entry_id: str, meta: dict[str, Any]) -> bytes:
    return ENTRY_AAD_PREFIX + entry_id.encode() + b"\n" + _canonical(meta)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _keyring() -> Any | None:
    """The OS keyring if the optional ``keyring`` package has a usable backend here."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return keyring


def _read_passphrase(source: Any) -> str | None:
    """A passphrase from a str, a Secret, or a Password widget (emptied as soon as it is read)."""
    if source is None:
        return None
    if isinstance(source, Secret):
        return source.reveal()
    if isinstance(source, str):
        return source
    if hasattr(source, "value"):  # an ipywidgets.Password: read, then clear what the browser holds
        value = source.value
        source.value = ""
        return value
    raise TypeError("passphrase must be a str, a Secret or a Password widget")


class KeyStore:
    """Every credential the toolkit creates or imports, encrypted at rest.

    Open with ``KeyStore.open()``: the passphrase comes from the argument, then
    ``TOOLKIT_KEYSTORE_PASSPHRASE``, then a prompt when one is possible. A store created without
    a passphrase where an OS keyring exists keeps a random master key there instead.
    """

    def __init__(self, root: Path, data_key: bytes, protection: str) -> None:
        self.root = root
        self._data_key = data_key
        self.protection = protection

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        home: str | os.PathLike[str] | None = None,
        passphrase: Any = None,
        *,
        use_keyring: bool | None = None,
    ) -> KeyStore:
        """Open (or create) the store under ``home`` with ``passphrase``, or from
        ``TOOLKIT_KEYSTORE_PASSPHRASE`` or the keyring."""
        from toolkit.home import toolkit_home

        root = toolkit_home(home) / "keystore"
        (root / "entries").mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(root, 0o700)
        given = _read_passphrase(passphrase)
        header_path = root / "header.json"
        with _locked(root):
            _sweep_temp_files(root)
            if not header_path.exists():
                return cls._create(root, given, use_keyring)
        header = cls._read_header(root)
        if header["protection"] == "keyring":
            ring = _keyring()
            if ring is None:
                raise KeystoreLocked(f"the key store at {root} keeps its key in an OS keyring, none is here")
            stored = ring.get_password(KEYRING_SERVICE, str(root))
            if stored is None:
                raise KeystoreLocked(f"the OS keyring holds no key for the key store at {root}")
            return cls(root, crypto.b64d(stored), "keyring")
        phrase = (
            given or os.environ.get(PASSPHRASE_ENV) or _prompt(f"Passphrase for the key store at {root}: ")
        )
        if not phrase:
            raise KeystoreLocked(
                f"the key store at {root} needs its passphrase: pass passphrase=, "
                f"set {PASSPHRASE_ENV}, or open it where a prompt can ask"
            )
        try:
            data_key = crypto.unwrap_data_key(phrase, header["wrapped_key"])
        except crypto.DecryptionError:
            raise WrongPassphrase(
                f"wrong passphrase for the key store at {root}; nothing was changed"
            ) from None
        return cls(root, data_key, "passphrase")

    @classmethod
    def _create(cls, root: Path, passphrase: str | None, use_keyring: bool | None) -> KeyStore:
        phrase = passphrase or os.environ.get(PASSPHRASE_ENV)
        data_key = crypto.new_data_key()
        header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "created_at": _now_iso()}
        ring = _keyring() if use_keyring is not False else None
        if phrase is None and ring is not None:
            ring.set_password(KEYRING_SERVICE, str(root), crypto.b64e(data_key))
            header |= {
                "protection": "keyring",
                "keyring": {"service": KEYRING_SERVICE, "username": str(root)},
            }
        else:
            phrase = phrase or _prompt(f"Choose a passphrase for a new key store at {root}: ")
            if not phrase:
                raise KeystoreLocked(
                    f"a new key store needs a passphrase (pass passphrase= or set {PASSPHRASE_ENV}); "
                    "no OS keyring is available here"
                )
            header |= {"protection": "passphrase", "wrapped_key": crypto.wrap_data_key(phrase, data_key)}
        _atomic_write(root / "header.json", json.dumps(header, indent=1).encode())
        return cls(root, data_key, header["protection"])

    @staticmethod
    def _read_header(root: Path) -> dict[str, Any]:
        try:
            header = json.loads((root / "header.json").read_text())
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"cannot read {root / 'header.json'}: {exc}") from None
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise KeystoreError(f"{root / 'header.json'} is not a toolkit key store (version {VERSION})")
        return header

    def __repr__(self) -> str:
        return f"KeyStore({str(self.root)!r}, {len(self._paths())} entries, protected by {self.protection})"

    # -- entries -------------------------------------------------------------------------

    def _path(self, entry_id: str) -> Path:
        if not entry_id or not all(c.isalnum() or c in "-_" for c in entry_id):
            raise KeystoreError(f"invalid entry id {entry_id!r}")
        return self.root / "entries" / f"{entry_id}.json"

    def _paths(self) -> list[Path]:
        return sorted(p for p in (self.root / "entries").glob("*.json"))

    def _encode(self, entry: Entry) -> bytes:
        meta = entry.meta()
        payload = json.dumps({k: v.reveal() for k, v in entry.secrets.items()}).encode()
        sealed = crypto.seal(self._data_key, payload, _entry_aad(entry.id, meta))
        return json.dumps({"id": entry.id, "meta": meta, "sealed": sealed}, sort_keys=True).encode()

    def _decode(self, path: Path) -> Entry:
        entry_id = path.stem
        try:
            record = json.loads(path.read_bytes())
            meta, sealed = record["meta"], record["sealed"]
            if record.get("id") != entry_id:
                raise CorruptEntry(entry_id, path, "its id does not match its file name")
        except (ValueError, KeyError, TypeError):
            raise CorruptEntry(entry_id, path, "not a readable entry record") from None
        try:
            payload = crypto.open_sealed(self._data_key, sealed, _entry_aad(entry_id, meta))
        except crypto.DecryptionError:
            raise CorruptEntry(
                entry_id, path, "the ciphertext or its metadata failed authentication (changed or damaged)"
            ) from None
        secrets = {k: Secret(v, k) for k, v in json.loads(payload).items()}
        return Entry(**meta, secrets=secrets, id=entry_id)

    def put(self, entry: Entry) -> Entry:
        """Store (or replace) an entry; returns it."""
        data = self._encode(entry)
        with _locked(self.root):
            _atomic_write(self._path(entry.id), data)
        return entry

    def get(self, entry_id: str) -> Entry:
        """The entry with id ``entry_id``, decrypted."""
        path = self._path(entry_id)
        if not path.exists():
            raise KeyError(f"no key store entry {entry_id!r}")
        return self._decode(path)

    def entries(self) -> list[Entry]:
        """Every entry, decrypted; a damaged one raises ``CorruptEntry`` naming it."""
        good, damaged = self.survey()
        if damaged:
            raise damaged[0]
        return good

    def survey(self) -> tuple[list[Entry], list[CorruptEntry]]:
        """Every entry that decrypts, and a ``CorruptEntry`` for each one that does not: one damaged
        file must not hide the rest."""
        out, damaged = [], []
        for path in self._paths():
            try:
                out.append(self._decode(path))
            except FileNotFoundError:  # deleted by another process meanwhile
                continue
            except CorruptEntry as exc:
                damaged.append(exc)
        return sorted(out, key=lambda e: (e.created_at, e.id)), damaged

    def find(self, **criteria: Any) -> list[Entry]:
        """Entries whose public fields equal every given value, e.g. ``find(venue="kalshi")``."""
        return [e for e in self.entries() if all(getattr(e, k) == v for k, v in criteria.items())]

    def update(self, entry_id: str, **changes: Any) -> Entry:
        """Change public fields (status, last_used_at, expires_at, ...) of one entry, atomically."""
        if "id" in changes or "secrets" in changes:
            raise KeystoreError("update changes public fields only; put a new entry to change secrets")
        with _locked(self.root):
            entry = replace(self.get(entry_id), **changes)
            _atomic_write(self._path(entry_id), self._encode(entry))
        return entry

    def delete(self, entry_id: str) -> None:
        """Remove the entry with id ``entry_id`` from disk."""
        with _locked(self.root):
            try:
                os.unlink(self._path(entry_id))
            except FileNotFoundError:
                raise KeyError(f"no key store entry {entry_id!r}") from None

    def verify(self) -> list[str]:
        """A line per damaged entry; empty when every entry decrypts."""
        problems = []
        for path in self._paths():
            try:
                self._decode(path)
            except CorruptEntry as exc:
                problems.append(str(exc))
        return problems

    # -- passphrase and backups ------------------------------------------------------------

    def change_passphrase(self, old: Any, new: Any) -> None:
        """Re-wrap the data key under a new passphrase; entries are untouched."""
        old_phrase, new_phrase = _read_passphrase(old), _read_passphrase(new)
        if not new_phrase:
            raise KeystoreError("the new passphrase must not be empty")
        with _locked(self.root):
            header = self._read_header(self.root)
            if header["protection"] == "passphrase":
                try:
                    crypto.unwrap_data_key(old_phrase or "", header["wrapped_key"])
                except crypto.DecryptionError:
                    raise WrongPassphrase("the old passphrase is wrong; nothing was changed") from None
            header["protection"] = "passphrase"
            header.pop("keyring", None)
            header["wrapped_key"] = crypto.wrap_data_key(new_phrase, self._data_key)
            _atomic_write(self.root / "header.json", json.dumps(header, indent=1).encode())
        self.protection = "passphrase"

    def export_backup(self, path: str | os.PathLike[str], passphrase: Any) -> Path:
        """One file holding every entry, encrypted under ``passphrase`` (its own data key)."""
        phrase = _read_passphrase(passphrase)
        if not phrase:
            raise KeystoreError("a backup needs a passphrase")
        backup_key = crypto.new_data_key()
        records = []
        for entry in self.entries():
            meta = entry.meta()
            payload = json.dumps({k: v.reveal() for k, v in entry.secrets.items()}).encode()
            records.append(
                {
                    "id": entry.id,
                    "meta": meta,
                    "sealed": crypto.seal(backup_key, payload, _entry_aad(entry.id, meta)),
                }
            )
        doc = {
            "format": FORMAT + "-backup",
            "version": VERSION,
            "created_at": _now_iso(),
            "wrapped_key": crypto.wrap_data_key(phrase, backup_key),
            "entries": records,
        }
        target = Path(path)
        _atomic_write(target, json.dumps(doc).encode())
        return target

    def import_backup(self, path: str | os.PathLike[str], passphrase: Any, *, overwrite: bool = False) -> int:
        """Add the entries of a backup; existing ids are kept unless ``overwrite``. Returns how many."""
        phrase = _read_passphrase(passphrase) or ""
        try:
            doc = json.loads(Path(path).read_text())
            assert doc["format"] == FORMAT + "-backup"
        except (OSError, ValueError, KeyError, AssertionError):
            raise KeystoreError(f"{path} is not a toolkit key store backup") from None
        try:
            backup_key = crypto.unwrap_data_key(phrase, doc["wrapped_key"])
        except crypto.DecryptionError:
            raise WrongPassphrase(f"wrong passphrase for the backup {path}; nothing was imported") from None
        entries = []
        for record in doc["entries"]:
            try:
                payload = crypto.open_sealed(
                    backup_key, record["sealed"], _entry_aad(record["id"], record["meta"])
                )
            except crypto.DecryptionError:
                raise CorruptEntry(record["id"], Path(path), "failed authentication in the backup") from None
            secrets = {k: Secret(v, k) for k, v in json.loads(payload).items()}
            entries.append(Entry(**record["meta"], secrets=secrets, id=record["id"]))
        added = 0
        for entry in entries:  # every record checked before any is written
            if overwrite or not self._path(entry.id).exists():
                self.put(entry)
                added += 1
        return added


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _sweep_temp_files(root: Path) -> None:
    """Leftovers of writers killed mid-write; safe to remove while holding the lock."""
    for tmp in list(root.glob(".*.tmp")) + list((root / "entries").glob(".*.tmp")):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _can_prompt() -> bool:
    """A terminal, or a running Jupyter kernel (whose front end may answer input requests)."""
    if sys.stdin is not None and sys.stdin.isatty():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _prompt(text: str) -> str | None:
    if not _can_prompt():
        return None
    try:
        return getpass.getpass(text) or None
    except (EOFError, OSError, NotImplementedError):  # a kernel whose front end cannot prompt
        return None
