"""The key store on disk: encryption, passphrases, damage detection, backups, permissions."""

from __future__ import annotations

import json
import os
import stat
import types

import pytest

from toolkit.keystore import crypto
from toolkit.keystore.store import (
    CorruptEntry,
    Entry,
    KeyStore,
    KeystoreError,
    KeystoreLocked,
    WrongPassphrase,
)
from toolkit.secrets import Secret

PASS = "correct horse battery staple"
SECRET_VALUE = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


@pytest.fixture
def store(tmp_path):
    return KeyStore.open(tmp_path, PASS, use_keyring=False)


def agent(**changes) -> Entry:
    base = dict(
        venue="hyperliquid",
        kind="agent",
        network="testnet",
        account="0xabc",
        key_ref="0xdef",
        public="0xdef",
        label="bot",
        secrets={"private_key": Secret(SECRET_VALUE)},
    )
    return Entry(**(base | changes))


def test_round_trip_and_nothing_readable_on_disk(store, tmp_path):
    saved = store.put(agent())
    again = KeyStore.open(tmp_path, PASS)
    got = again.get(saved.id)
    assert got.secret("private_key").reveal() == SECRET_VALUE
    assert got.meta() == saved.meta()
    for path in (tmp_path / "keystore").rglob("*"):
        if path.is_file():
            assert SECRET_VALUE.encode() not in path.read_bytes()
            assert SECRET_VALUE[2:20].encode() not in path.read_bytes()


def test_files_are_private(store, tmp_path):
    saved = store.put(agent())
    root = tmp_path / "keystore"
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    for path in (root / "header.json", root / "entries" / f"{saved.id}.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_wrong_passphrase_is_a_clear_error_that_changes_nothing(store, tmp_path):
    store.put(agent())
    before = {p: p.read_bytes() for p in (tmp_path / "keystore").rglob("*.json")}
    with pytest.raises(WrongPassphrase) as err:
        KeyStore.open(tmp_path, "wrong passphrase")
    assert (
        str(err.value)
        == f"wrong passphrase for the key store at {tmp_path / 'keystore'}; nothing was changed"
    )
    after = {p: p.read_bytes() for p in (tmp_path / "keystore").rglob("*.json")}
    assert before == after


def test_no_passphrase_anywhere_is_a_clear_error(store, tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_KEYSTORE_PASSPHRASE", raising=False)
    with pytest.raises(
        KeystoreLocked, match="needs its passphrase: pass passphrase=, set TOOLKIT_KEYSTORE_PASSPHRASE"
    ):
        KeyStore.open(tmp_path)
    monkeypatch.setenv("TOOLKIT_KEYSTORE_PASSPHRASE", PASS)
    assert KeyStore.open(tmp_path).protection == "passphrase"


def _flip(path, where: str) -> None:
    record = json.loads(path.read_text())
    raw = bytearray(crypto.b64d(record["sealed"]["ciphertext"]))
    index = {"first": 0, "middle": len(raw) // 2, "tag": len(raw) - 1}[where]
    raw[index] ^= 0x01
    record["sealed"]["ciphertext"] = crypto.b64e(bytes(raw))
    path.write_text(json.dumps(record))


@pytest.mark.parametrize("where", ["first", "middle", "tag"])
def test_one_flipped_byte_is_detected_and_named(store, tmp_path, where):
    good, bad = store.put(agent(label="good")), store.put(agent(label="bad"))
    path = tmp_path / "keystore" / "entries" / f"{bad.id}.json"
    _flip(path, where)
    with pytest.raises(CorruptEntry) as err:
        store.get(bad.id)
    assert err.value.entry_id == bad.id
    assert str(err.value) == (
        f"key store entry {bad.id!r} ({bad.id}.json) is corrupt: "
        "the ciphertext or its metadata failed authentication (changed or damaged)"
    )
    assert store.get(good.id).label == "good"  # the rest is unharmed
    assert store.verify() == [str(err.value)]
    with pytest.raises(CorruptEntry, match=bad.id):
        store.entries()


def test_edited_metadata_and_swapped_files_are_detected(store, tmp_path):
    a, b = store.put(agent(label="a")), store.put(agent(label="b"))
    entries = tmp_path / "keystore" / "entries"
    record = json.loads((entries / f"{a.id}.json").read_text())
    record["meta"]["status"] = "active"
    record["meta"]["account"] = "0xattacker"
    (entries / f"{a.id}.json").write_text(json.dumps(record))
    with pytest.raises(CorruptEntry, match="failed authentication"):
        store.get(a.id)
    swapped = json.loads((entries / f"{b.id}.json").read_text())
    swapped["id"] = a.id
    (entries / f"{a.id}.json").write_text(json.dumps(swapped))
    with pytest.raises(CorruptEntry, match="failed authentication"):
        store.get(a.id)
    (entries / f"{b.id}.json").write_text("{not json")
    with pytest.raises(CorruptEntry, match="not a readable entry record"):
        store.get(b.id)


def test_change_passphrase(store, tmp_path):
    saved = store.put(agent())
    with pytest.raises(WrongPassphrase, match="the old passphrase is wrong; nothing was changed"):
        store.change_passphrase("not it", "new passphrase")
    assert KeyStore.open(tmp_path, PASS).get(saved.id)
    store.change_passphrase(PASS, "new passphrase")
    with pytest.raises(WrongPassphrase):
        KeyStore.open(tmp_path, PASS)
    assert (
        KeyStore.open(tmp_path, "new passphrase").get(saved.id).secret("private_key").reveal() == SECRET_VALUE
    )
    with pytest.raises(KeystoreError, match="must not be empty"):
        store.change_passphrase("new passphrase", "")


def test_update_delete_find(store):
    saved = store.put(agent())
    store.put(agent(venue="kalshi", kind="api_key"))
    assert [e.venue for e in store.find(venue="kalshi")] == ["kalshi"]
    updated = store.update(saved.id, status="revoked", last_used_at="2026-01-01T00:00:00+00:00")
    assert store.get(saved.id).status == "revoked" and updated.secrets == saved.secrets
    with pytest.raises(KeystoreError, match="public fields only"):
        store.update(saved.id, secrets={})
    store.delete(saved.id)
    with pytest.raises(KeyError, match="no key store entry"):
        store.get(saved.id)
    with pytest.raises(KeystoreError, match="invalid entry id"):
        store.get("../../etc/passwd")


def test_backup_export_and_import(store, tmp_path):
    a, b = store.put(agent(label="a")), store.put(agent(label="b"))
    backup = store.export_backup(tmp_path / "backup.json", "backup pass")
    assert SECRET_VALUE not in backup.read_text()
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600
    other = KeyStore.open(tmp_path / "elsewhere", "other pass", use_keyring=False)
    with pytest.raises(WrongPassphrase, match="nothing was imported"):
        other.import_backup(backup, "nope")
    assert other.entries() == []
    assert other.import_backup(backup, "backup pass") == 2
    assert {e.label for e in other.entries()} == {"a", "b"}
    assert other.get(a.id).secret("private_key").reveal() == SECRET_VALUE
    assert other.import_backup(backup, "backup pass") == 0  # existing ids kept
    assert other.import_backup(backup, "backup pass", overwrite=True) == 2
    assert b.id in {e.id for e in other.entries()}


def test_a_password_widget_is_emptied_once_read(tmp_path):
    widget = types.SimpleNamespace(value=PASS)
    store = KeyStore.open(tmp_path, widget, use_keyring=False)
    assert widget.value == "" and store.protection == "passphrase"
    assert KeyStore.open(tmp_path, Secret(PASS))


class MemoryKeyring:
    """An OS keyring stand-in for this test: the keyring package's own backend interface."""

    def __init__(self):
        self.saved = {}

    def set_password(self, service, user, value):
        self.saved[(service, user)] = value

    def get_password(self, service, user):
        return self.saved.get((service, user))


def test_keyring_keeps_a_random_master_key_when_there_is_no_passphrase(tmp_path, monkeypatch):
    from toolkit.keystore import store as store_module

    ring = MemoryKeyring()
    monkeypatch.setattr(store_module, "_keyring", lambda: ring)
    monkeypatch.delenv("TOOLKIT_KEYSTORE_PASSPHRASE", raising=False)
    created = KeyStore.open(tmp_path)
    assert created.protection == "keyring" and len(ring.saved) == 1
    saved = created.put(agent())
    header = json.loads((tmp_path / "keystore" / "header.json").read_text())
    assert "wrapped_key" not in header and header["protection"] == "keyring"
    assert KeyStore.open(tmp_path).get(saved.id).secret("private_key").reveal() == SECRET_VALUE
    ring.saved.clear()
    with pytest.raises(KeystoreLocked, match="the OS keyring holds no key"):
        KeyStore.open(tmp_path)


def test_reprs_show_no_secret(store):
    saved = store.put(agent())
    for text in (repr(saved), str(saved), repr(store), repr(saved.secrets)):
        assert SECRET_VALUE not in text
    assert "secrets: private_key" in repr(saved)
