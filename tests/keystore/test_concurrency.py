"""Several processes writing at once lose nothing; a writer killed mid-write damages nothing."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from toolkit.keystore.store import KeyStore

WRITER = str(Path(__file__).with_name("writer.py"))
PASS = "concurrent passphrase"


def test_four_processes_writing_a_thousand_entries_each_lose_none(tmp_path):
    # No store exists yet: the four also race to create it, and must agree on one data key.
    procs = [
        subprocess.Popen(
            [sys.executable, WRITER, str(tmp_path), PASS, f"w{n}", "1000"], stdout=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    committed = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0
        committed += out.split()
    assert len(committed) == len(set(committed)) == 4000
    store = KeyStore.open(tmp_path, PASS)
    assert store.verify() == []
    entries = {e.id: e for e in store.entries()}
    assert set(entries) == set(committed)
    for entry in entries.values():
        tag, i = entry.key_ref.split("-")
        assert entry.secret("api_key").reveal() == f"pe_{tag}_{int(i):05d}_secret"
        assert entry.account == f"{tag}@example.com"


def test_writers_killed_at_random_points_leave_a_store_that_opens(tmp_path):
    KeyStore.open(tmp_path, PASS, use_keyring=False)
    rng = random.Random(20261121)
    committed: list[str] = []
    for round_ in range(12):
        proc = subprocess.Popen(
            [sys.executable, WRITER, str(tmp_path), PASS, f"k{round_}", "100000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = proc.stdout.readline()  # it is writing now
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        committed += (first + rest).split()
    store = KeyStore.open(tmp_path, PASS)  # also sweeps the temporary files of killed writers
    assert store.verify() == []
    present = {e.id for e in store.entries()}
    assert set(committed) <= present  # every entry reported committed is there and decrypts
    assert len(present - set(committed)) <= 12  # at most the one in flight per killed writer
    assert not list((tmp_path / "keystore").rglob(".*.tmp"))
