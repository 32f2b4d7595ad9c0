"""What a shared sandbox must hold against a careless or hostile user: one email form, body and
nesting limits, private files, logs without credentials, a bound on password hashing, a key store
that lists what it can read."""

from __future__ import annotations

import concurrent.futures
import logging
import stat
import unicodedata
import uuid

import httpx
import pytest

import toolkit
import toolkit.sandbox
from toolkit.keystore import CorruptEntryWarning, Entry
from toolkit.keystore import open as open_store
from toolkit.sandbox.logs import redact
from toolkit.sandbox.process import spawn
from toolkit.secrets import Secret, generate_password
from toolkit.venues.paperx import PaperClient, PaperExchangeError


def test_an_email_registered_decomposed_logs_in_and_resets_composed(sandbox):
    local = f"rene-{uuid.uuid4().hex[:8]}"
    decomposed = unicodedata.normalize("NFD", f"{local}é@example.com")
    composed = unicodedata.normalize("NFC", f"{local}É@EXAMPLE.com")
    assert decomposed != composed.lower()
    password = generate_password()
    client = PaperClient(sandbox)
    client.register(decomposed, password)
    assert PaperClient(sandbox).login(composed, password).email == unicodedata.normalize(
        "NFKC", f"{local}é@example.com"
    )
    PaperClient(sandbox).forgot_password(composed)
    assert sandbox.outbox(unicodedata.normalize("NFKC", f"{local}é@example.com"))
    with pytest.raises(PaperExchangeError) as err:
        PaperClient(sandbox).register(composed, generate_password())
    assert (err.value.status, err.value.detail) == (400, "Email already registered")


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/info", 413, "Request body over 1048576 bytes"),
        ("/v1/auth/login", 413, {"detail": "Request body over 1048576 bytes"}),
        ("/fapi/v1/order", 413, {"code": -1000, "msg": "Request body over 1048576 bytes"}),
        ("/api/v1/sendTx", 413, {"code": 20001, "message": "Request body over 1048576 bytes"}),
    ],
)
def test_a_20_mib_body_is_413_before_it_is_parsed(http, path, status, body):
    r = http.post(
        path, content=b"[" + b"1," * (10 << 20) + b"1]", headers={"content-type": "application/json"}
    )
    assert r.status_code == status
    assert (r.text if isinstance(body, str) else r.json()) == body


def test_nesting_and_lone_surrogates_are_400_in_the_venues_envelope(http):
    deep = b'{"type":' + b"[" * 5000 + b"]" * 5000 + b"}"
    r = http.post("/info", content=deep, headers={"content-type": "application/json"})
    assert (r.status_code, r.text) == (
        422,
        "Failed to deserialize the JSON body into the target type: JSON nested deeper than 32 levels",
    )
    r = http.post("/v1/auth/login", content=b'{"email":"\\ud800@x.io","password":"p"}')
    assert (r.status_code, r.json()) == (400, {"detail": "JSON text holds a lone UTF-16 surrogate"})
    # the connection is still good, and so is the server
    assert http.post("/info", json={"type": "allMids"}).status_code == 200


def test_a_new_home_and_its_files_are_private(tmp_path):
    home = tmp_path / "fresh-home"
    with toolkit.sandbox.start(home=home) as sb:
        PaperClient(sb).register(f"{uuid.uuid4().hex[:8]}@example.com", generate_password())
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    files = [p for p in home.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"sandbox.db", "sandbox.log"}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


def test_a_home_made_by_a_shell_with_a_loose_umask_is_tightened(tmp_path):
    home = tmp_path / "shell-home"
    home.mkdir(mode=0o755)
    (home / "sandbox.db").touch(mode=0o644)
    home.chmod(0o755)
    with toolkit.sandbox.start(home=home):
        pass
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "sandbox.db").stat().st_mode) == 0o600


SECRET_NAMES = ["api_secret", "access_token", "passphrase", "apiPrivateKey[]", "apiKeyPrivateKey", "password",
                "secret", "token", "private_key", "session", "jwt", "x_custom_credential"]  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_log_lines_carry_query_parameters_by_name_only(name):
    value = "s3cr3t-" + uuid.uuid4().hex
    encoded = "".join(f"%{ord(c):02X}" for c in name)
    for spelled in (name, encoded):
        line = f'127.0.0.1:5 - "GET /api/v1/x?symbol=ETHUSDT&{spelled}={value}&limit=5 HTTP/1.1" 200'
        out = redact(line)
        assert value not in out and f"{spelled}=[redacted]" in out
        assert "symbol=ETHUSDT" in out and "limit=5" in out  # harmless ones stay readable


def test_the_sandbox_log_never_holds_a_query_credential(sandbox, http):
    value = "s3cr3t-" + uuid.uuid4().hex
    http.get(f"/api/v1/nextNonce?account_index=1&api_key_index=4&%61pi_secret={value}&passphrase={value}")
    for handler in logging.getLogger("uvicorn.access").handlers:
        handler.flush()
    assert value not in (sandbox.home / "sandbox.log").read_text()


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_sixteen_concurrent_unknown_logins_stay_under_300_mb(tmp_path):
    proc, url = spawn(tmp_path)
    try:
        before = _peak_rss_mb(proc.pid)

        def login(i: int) -> int:
            body = {"email": f"nobody-{i}@example.com", "password": "Wrong-pass-123"}
            return httpx.post(f"{url}/v1/auth/login", json=body, timeout=120).status_code

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(login, range(16)))
        assert set(statuses) <= {401, 503} and 401 in statuses
        peak = _peak_rss_mb(proc.pid)
        assert peak < 300, f"peak RSS {peak:.0f} MB (before the logins: {before:.0f} MB)"
    finally:
        proc.kill()
        proc.wait()


def test_a_corrupt_key_store_entry_is_listed_not_fatal(tmp_path):
    store = open_store(tmp_path / "ks", passphrase="correct horse")
    good = store.put(Entry("paperx", "api_key", "sandbox", "me", "pk_1", secrets={"api_key": Secret("v1")}))
    bad = store.put(Entry("paperx", "api_key", "sandbox", "me", "pk_2", secrets={"api_key": Secret("v2")}))
    path = store._path(bad.id)
    path.write_bytes(path.read_bytes().replace(b'"pk_2"', b'"pk_3"'))
    with pytest.warns(CorruptEntryWarning, match=f"key store entry '{bad.id}'.*is corrupt"):
        frame = toolkit.keys(store)
    by_id = dict(zip(frame["id"], frame["status"], strict=True))
    assert by_id == {good.id: "active", bad.id: "corrupt"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/sandbox/hyperliquid/deposit", {"user": "0x" + "cd" * 20, "usdc": 1e12}, "usdc"),
        ("/sandbox/aster/deposit", {"address": "0x" + "ce" * 20, "usdt": 1e12}, "usdt"),
        ("/sandbox/lighter/deposit", {"l1_address": "0x" + "cf" * 20, "usdc": 1e12}, "usdc"),
    ],
)
def test_running_deposit_totals_cannot_overflow(http, path, body, field):
    unique = body | {k: v[:-8] + uuid.uuid4().hex[:8] for k, v in body.items() if isinstance(v, str)}
    statuses = [http.post(path, json=unique).status_code for _ in range(12)]
    assert statuses[0] == 200 and statuses[-1] == 400, statuses
    r = http.post(path, json=unique)
    assert r.json() == {"detail": f"{field}: a balance may hold at most 1000000000000"}
    assert http.post("/info", json={"type": "allMids"}).status_code == 200
