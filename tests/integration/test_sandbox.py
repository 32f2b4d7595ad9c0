"""The sandbox as a product: start/stop handles, restarts, the CLI, attaching, storage and mail routes."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

import toolkit.sandbox
from toolkit.sandbox import SandboxError, store
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.process import free_port, wait_until_up
from toolkit.sandbox.routes.admin import admin_only
from toolkit.secrets import Secret, generate_password
from toolkit.venues.paperx import PaperClient, PaperExchangeError

from .conftest import unique_email


def test_start_picks_a_free_port_on_loopback_and_stops(tmp_path):
    sb = toolkit.sandbox.start(home=tmp_path)
    assert sb.url.startswith("http://127.0.0.1:") and sb.owned and sb.running
    assert httpx.get(f"{sb.url}/sandbox/status").json()["status"] == "ok"
    sb.stop()
    assert not sb.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{sb.url}/sandbox/status", timeout=2)
    sb.stop()  # idempotent


def test_the_listening_socket_disables_nagle(tmp_path):
    # Measured: 44 ms per keep-alive request without TCP_NODELAY, 1.6 ms with it.
    with toolkit.sandbox.start(home=tmp_path) as sb:
        listener = sb._server.servers[0].sockets[0]
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_a_given_port_is_used_and_a_busy_port_is_a_clear_error(tmp_path):
    port = free_port()
    with toolkit.sandbox.start(home=tmp_path / "a", port=port) as sb:
        assert sb.url == f"http://127.0.0.1:{port}"
        with pytest.raises(SandboxError, match=f"cannot listen on 127.0.0.1:{port}"):
            toolkit.sandbox.start(home=tmp_path / "b", port=port)  # another home: the same home attaches
        assert not (tmp_path / "b" / "sandbox.lock").read_text()  # the refused start let its home go


def test_state_and_logins_survive_a_restart(tmp_path):
    email, password = unique_email(), generate_password()
    with toolkit.sandbox.start(home=tmp_path) as sb:
        client = PaperClient(sb)
        session = client.register(email, password)
        key = client.create_api_key("bot")
    secret_file = tmp_path / "jwt_secret"
    assert oct(secret_file.stat().st_mode & 0o777) == "0o600"
    with toolkit.sandbox.start(home=tmp_path) as sb:
        # the JWT from the first run still verifies: one signing secret per home
        assert PaperClient(sb, access_token=session.access_token).me().email == email
        assert PaperClient(sb, api_key=key.api_key).me().email == email
        assert PaperClient(sb).login(email, password).user_id == session.user_id


def test_another_home_does_not_accept_this_homes_tokens(tmp_path):
    with toolkit.sandbox.start(home=tmp_path / "a") as a, toolkit.sandbox.start(home=tmp_path / "b") as b:
        session = PaperClient(a).register(unique_email(), generate_password())
        with pytest.raises(PaperExchangeError) as err:
            PaperClient(b, access_token=session.access_token).me()
        assert err.value.status == 401


def test_database_url_from_the_environment(tmp_path, monkeypatch):
    db = tmp_path / "elsewhere.db"
    monkeypatch.setenv("TOOLKIT_DATABASE_URL", f"sqlite:///{db}")
    with toolkit.sandbox.start(home=tmp_path / "home") as sb:
        PaperClient(sb).register(unique_email(), generate_password())
    assert db.exists() and not (tmp_path / "home" / "sandbox.db").exists()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from px_users")).scalar() == 1
        assert conn.execute(sa.text("select value from toolkit_meta")).scalar() == str(store.SCHEMA_VERSION)
    engine.dispose()


def test_attach_to_an_announced_sandbox(tmp_path, monkeypatch):
    with toolkit.sandbox.start(home=tmp_path) as running:
        monkeypatch.setenv("TOOLKIT_SANDBOX_URL", running.url)
        attached = toolkit.sandbox.start()
        assert attached.url == running.url and not attached.owned
        attached.stop()  # leaves the real one running
        assert running.running
        # an explicit home means "start my own", whatever is announced
        with toolkit.sandbox.start(home=tmp_path / "own") as own:
            assert own.url != running.url


def test_an_announced_but_dead_sandbox_is_not_attached(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_SANDBOX_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TOOLKIT_HOME", str(tmp_path))
    with toolkit.sandbox.start() as sb:
        assert sb.owned and sb.home == tmp_path.resolve()


def test_embedded_logs_go_to_the_home_not_the_notebook(tmp_path, capfd):
    with toolkit.sandbox.start(home=tmp_path) as sb:
        httpx.get(f"{sb.url}/v1/auth/me")
    out, err = capfd.readouterr()
    assert "/v1/auth/me" not in out + err
    assert "/v1/auth/me" in (tmp_path / "sandbox.log").read_text()


def test_admin_routes_answer_loopback_and_others_only_with_the_admin_token():
    token = Secret("the-admin-token", "admin_token")

    def request(host: str, sent: str | None = None):
        headers = {} if sent is None else {"X-Sandbox-Admin-Token": sent}
        app = types.SimpleNamespace(
            state=types.SimpleNamespace(sandbox=types.SimpleNamespace(admin_token=token))
        )
        return types.SimpleNamespace(client=types.SimpleNamespace(host=host), headers=headers, app=app)

    for host in ("127.0.0.1", "::1", "127.3.2.1"):
        admin_only(request(host))
    refused = (
        "Sandbox admin routes are reachable from loopback only, or with the sandbox's admin token in the "
        "X-Sandbox-Admin-Token header"
    )
    for host in ("10.0.0.5", "192.168.1.2", "testclient", ""):
        for sent in (None, "", "the-admin-toke", "the-admin-token ", "ÿ" * 20):
            with pytest.raises(ApiError, match=re.escape(refused)):
                admin_only(request(host, sent))
        admin_only(request(host, "the-admin-token"))


@pytest.mark.moves_clock
def test_clock_admin_route_validates(http):
    r = http.post("/sandbox/clock/advance", json={"hours": -1})
    assert r.status_code == 400
    assert r.json() == {"detail": "hours: Input should be greater than or equal to 0"}


@pytest.mark.moves_clock
def test_advance_to_a_moment_and_never_back(sandbox):
    from datetime import UTC, datetime, timedelta

    from toolkit.sandbox import SandboxError

    target = datetime.fromtimestamp(sandbox.now_ms() / 1000, tz=UTC) + timedelta(days=2)
    sandbox.advance_to(target)
    assert abs(sandbox.now_ms() - target.timestamp() * 1000) < 5_000
    sandbox.advance_to(sandbox.now_ms() + 3_600_000)  # milliseconds work too
    with pytest.raises(SandboxError, match=r"400: .*the clock only moves forward: 2020-01-01 00:00:00"):
        sandbox.advance_to("2020-01-01T00:00:00Z")
    too_far = httpx.post(
        f"{sandbox.url}/sandbox/clock/advance-to", json={"now_ms": sandbox.now_ms() + 367 * 86_400_000}
    )
    assert (too_far.status_code, too_far.json()) == (
        400,
        {"detail": "now_ms: at most 8784 hours (366 days) ahead of the sandbox's time in one call"},
    )
    with pytest.raises(SandboxError, match=r"400: .*now_ms: Input should be less than or equal to"):
        sandbox.advance_to(10**23)  # what the fuzzer sent: past year 9999
    before = sandbox.now_ms()
    with pytest.raises(ValueError, match="a time in seconds"):  # naive datetimes are UTC: see below
        sandbox.advance_to(before // 1000 + 3_600)
    assert sandbox.now_ms() - before < 60_000  # refused before any request: the clock did not jump


def test_cli_runs_the_sandbox_standalone_and_reads_the_outbox(tmp_path):
    port = free_port()
    toolkit_cmd = os.path.join(os.path.dirname(sys.executable), "toolkit")
    env = {**os.environ, "TOOLKIT_HOME": str(tmp_path / "ignored")}
    proc = subprocess.Popen(
        [toolkit_cmd, "sandbox", "--port", str(port), "--home", str(tmp_path), "--log-level", "warning"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, timeout=30)
        client = PaperClient(url)
        email = unique_email()
        client.register(email, generate_password())
        client.forgot_password(email)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "ignored" / "sandbox.db").exists()
    out = subprocess.run(
        [toolkit_cmd, "sandbox", "outbox", "--home", str(tmp_path), "--email", email],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"To: {email}" in out and "Reset token: " in out
    empty = subprocess.run(
        [toolkit_cmd, "sandbox", "outbox", "--home", str(tmp_path), "--email", "nobody@example.com"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert empty.strip() == "The outbox is empty."


def test_reset_mail_goes_through_smtp_when_configured(tmp_path):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with toolkit.sandbox.start(home=tmp_path, smtp_url=f"smtp://127.0.0.1:{port}") as sb:
            client = PaperClient(sb)
            email = unique_email()
            client.register(email, generate_password())
            client.forgot_password(email)
            assert sb.outbox(email) == []  # SMTP instead of the outbox
    finally:
        controller.stop()
    (mail,) = received
    assert mail["To"] == email and "Reset token: " in mail.get_payload()


def test_an_unreachable_smtp_server_still_answers_the_same(tmp_path):
    with toolkit.sandbox.start(home=tmp_path, smtp_url=f"smtp://127.0.0.1:{free_port()}") as sb:
        client = PaperClient(sb)
        email = unique_email()
        client.register(email, generate_password())
        assert client.forgot_password(email).startswith("If an account exists")
    assert "could not deliver mail" in (tmp_path / "sandbox.log").read_text()


def test_the_clock_reads_times_as_frames_do(own_sandbox):
    from datetime import UTC, datetime, timedelta

    import numpy as np

    now = datetime.fromtimestamp(own_sandbox.now_ms() / 1000, UTC)
    naive = (now + timedelta(hours=2)).replace(tzinfo=None, microsecond=0)  # naive means UTC
    own_sandbox.advance_to(naive)
    target = int(naive.replace(tzinfo=UTC).timestamp() * 1000)
    assert 0 <= own_sandbox.now_ms() - target < 60_000  # the clock runs on from there
    later = np.datetime64(own_sandbox.now_ms() + 3_600_000, "ms")
    own_sandbox.advance_to(later)
    assert 0 <= own_sandbox.now_ms() - int(later.astype("int64")) < 60_000
    with pytest.raises(ValueError, match="a time in seconds"):
        own_sandbox.advance_to(int(time.time()) + 7_200)


def test_cli_takes_a_database_url_and_refuses_more_than_one_worker(tmp_path):
    toolkit_cmd = os.path.join(os.path.dirname(sys.executable), "toolkit")
    env = {k: v for k, v in os.environ.items() if k != "TOOLKIT_DATABASE_URL"}
    workers = subprocess.run(
        [toolkit_cmd, "sandbox", "--home", str(tmp_path), "--workers", "4"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert workers.returncode == 2 and "--workers 4 is refused" in workers.stderr
    assert "a second worker on the same database would silently diverge" in workers.stderr
    assert not (tmp_path / "sandbox.db").exists()  # refused before anything was created
    database = tmp_path / "elsewhere.db"
    port = free_port()
    proc = subprocess.Popen(
        [toolkit_cmd, "sandbox", "--port", str(port), "--home", str(tmp_path / "home"),
         "--database-url", f"sqlite:///{database}", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc, timeout=30)
        email = unique_email()
        PaperClient(url).register(email, generate_password())
        PaperClient(url).forgot_password(email)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert database.exists() and not (tmp_path / "home" / "sandbox.db").exists()
    out = subprocess.run(
        [toolkit_cmd, "sandbox", "outbox", "--database-url", f"sqlite:///{database}", "--email", email],
        capture_output=True, text=True, check=True, env=env,
    ).stdout  # fmt: skip
    assert f"To: {email}" in out


def test_deposit_funds_each_wallet_venue_and_refuses_the_others(sandbox):
    from eth_account import Account as EthAccount

    address = EthAccount.create().address
    assert sandbox.deposit("hyperliquid", address, 250) == 250
    assert sandbox.deposit("aster", address, 300) == 300
    index = sandbox.deposit("lighter", address, 400)
    assert isinstance(index, int) and sandbox.deposit("lighter", address, 1) == index  # the same account
    with pytest.raises(ValueError, match="the sandbox funds no Kalshi address by hand"):
        sandbox.deposit("kalshi", address)
    with pytest.raises(ValueError, match=r"venue must be one of \[.*\], not 'dydx'"):
        sandbox.deposit("dydx", address)


def test_moving_the_shared_clock_without_the_mark_fails_and_with_it_runs_apart(pytester, monkeypatch):
    """The rule the shared sandbox fixture enforces, checked on a run of its own."""
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))  # the conftest's imports
    conftest = Path(__file__).with_name("conftest.py").read_text()
    conftest += "\nfrom tests.conftest import backend, postgres  # noqa: E402, F401\n"  # what it builds on
    pytester.makeconftest(conftest)
    pytester.makeini("[pytest]\nmarkers =\n    moves_clock: own sandbox\n")
    pytester.makepyfile(
        test_clock="""
        import pytest

        def test_reads_the_shared_clock(sandbox):
            assert sandbox.now_ms() > 0

        def test_moves_it_unmarked(sandbox):
            sandbox.advance(hours=2)

        @pytest.mark.moves_clock
        def test_moves_its_own(sandbox, shared_sandbox):
            before = shared_sandbox.clock_state()["now_ms"]
            sandbox.advance(hours=30 * 24)
            assert sandbox is not shared_sandbox
            assert shared_sandbox.clock_state()["now_ms"] - before < 3_600_000
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["*test_moves_it_unmarked moved the shared sandbox's clock by 2 h: mark it @pytest.mark.moves_clock*"]
    )


def test_two_sandboxes_in_one_process_each_log_to_their_own_home(tmp_path):
    """Loggers are process-wide: each request still lands in the log of the sandbox that answered
    it, at that sandbox's level, and a stopped sandbox's log is closed."""
    import logging

    with (
        toolkit.sandbox.start(home=tmp_path / "a") as a,
        toolkit.sandbox.start(home=tmp_path / "b", log_level="warning") as b,
    ):
        httpx.get(f"{a.url}/only-in-a")  # a 404, logged like any request
        httpx.get(f"{b.url}/only-in-b")
        a_log = (tmp_path / "a" / "sandbox.log").read_text()
        b_log = (tmp_path / "b" / "sandbox.log").read_text()
    assert "GET /only-in-a" in a_log and "only-in-b" not in a_log  # b's quieter level left a's alone
    assert "only-in" not in b_log  # b logs warnings only, and none of a's requests
    handlers = [h for h in logging.getLogger("uvicorn.access").handlers if "sandbox.log" in str(h)]
    assert not any(str(tmp_path) in getattr(h, "baseFilename", "") for h in handlers)


def test_the_clearinghouse_threads_errors_land_in_their_own_sandboxs_log(tmp_path):
    with (
        toolkit.sandbox.start(home=tmp_path / "a") as a,
        toolkit.sandbox.start(home=tmp_path / "b") as b,
    ):
        state = a._server.config.app.state.sandbox

        def broken(committed, owners):
            raise RuntimeError("injected listener failure")

        state.clearinghouse.after_commit.append(broken)
        a.deposit("hyperliquid", "0x" + "ab" * 20, 100)  # a commit on a's clearinghouse thread
        state.clearinghouse.after_commit.remove(broken)
        b.deposit("hyperliquid", "0x" + "cd" * 20, 100)
    a_log = (tmp_path / "a" / "sandbox.log").read_text()
    b_log = (tmp_path / "b" / "sandbox.log").read_text()
    assert "an after-commit listener failed" in a_log and "injected listener failure" in a_log
    assert "listener failed" not in b_log
