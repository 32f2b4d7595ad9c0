"""One sandbox per database, on both backends: a second sandbox on the same database, from another
home, refuses naming the owner (URL, pid, host); the lock is released on exit and taken over after
the owner is killed, and the new owner carries on from the last commit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

import toolkit.sandbox
from toolkit.sandbox import SandboxError, _attach, owner
from toolkit.sandbox.process import free_port, spawn
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

pytestmark = pytest.mark.moves_clock


def _serve(home, database_url: str) -> subprocess.CompletedProcess:
    """`toolkit sandbox` on ``database_url`` (given in the environment), as a second server would be."""
    return subprocess.run(
        [sys.executable, "-m", "toolkit", "sandbox", "--home", str(home), "--port", str(free_port())],
        env=os.environ | {"TOOLKIT_DATABASE_URL": database_url}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _position(url: str, wallet: Wallet) -> dict:
    with hl.HyperliquidClient(_attach(url), wallet=wallet) as client:
        return client.info({"type": "clearinghouseState", "user": wallet.address})


def test_a_second_sandbox_refuses_naming_the_owner_and_a_new_one_takes_over_after_a_kill(
    tmp_path, database_url
):
    wallet = Wallet.generate()
    first, url = spawn(tmp_path / "first", database_url=database_url)
    try:
        sb = _attach(url)
        sb.deposit("hyperliquid", wallet.address, 10_000)
        with hl.HyperliquidClient(sb, wallet=wallet) as client:
            assert "filled" in client.order([hl.order_wire(0, True, "200000", "0.01", tif="Ioc")])[
                "response"]["data"]["statuses"][0]  # fmt: skip
        sb.advance(hours=3)
        before, clock = _position(url, wallet), sb.now_ms()
        named = f"is owned by the sandbox at {url} (pid {first.pid} on {socket.gethostname()})"

        cli = _serve(tmp_path / "second", database_url)
        assert cli.returncode == 1, cli.stderr
        assert f"toolkit sandbox: the database {owner.shown(database_url)} {named}" in cli.stderr
        assert "stop that one, or give another database" in cli.stderr
        with pytest.raises(
            SandboxError, match=f"the database .* {named}".replace("(", r"\(").replace(")", r"\)")
        ):
            toolkit.sandbox.start(home=tmp_path / "third", database_url=database_url)
        still = _position(url, wallet)  # the owner is untouched (its clock runs on: marks move)
        assert still["assetPositions"][0]["position"]["szi"] == before["assetPositions"][0]["position"]["szi"]
        assert still["marginSummary"]["totalRawUsd"] == before["marginSummary"]["totalRawUsd"]

        first.send_signal(signal.SIGKILL)
        first.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(30)

    # a new owner, from another home, takes over and carries on from the last commit
    with toolkit.sandbox.start(home=tmp_path / "third", database_url=database_url) as again:
        assert again.owned and again.now_ms() >= clock
        after = _position(again.url, wallet)
        assert after["assetPositions"][0]["position"]["szi"] == "0.01"
        assert (
            after["assetPositions"][0]["position"]["entryPx"]
            == before["assetPositions"][0]["position"]["entryPx"]
        )
        assert after["marginSummary"]["totalRawUsd"] == before["marginSummary"]["totalRawUsd"]
    log = (tmp_path / "third" / "sandbox.log").read_text()
    assert "took over the database " in log and f" from {url} (pid {first.pid} on " in log

    # released on a clean exit (the server's own shutdown): the next one starts without a word
    proc, url = spawn(tmp_path / "second", database_url=database_url)
    proc.terminate()
    assert proc.wait(30) == 0
    with toolkit.sandbox.start(home=tmp_path / "fourth", database_url=database_url) as last:
        assert last.owned
    assert "took over" not in (tmp_path / "fourth" / "sandbox.log").read_text()


def test_a_database_password_never_reaches_the_refusal(tmp_path):
    lock = owner.DatabaseLock("postgresql+psycopg://teacher:s3cret-Pa55@db.example:5432/class")
    assert "s3cret-Pa55" not in lock._refusal(owner.Owner("http://10.0.0.5:8765", 42, "server"))
    assert owner.shown("postgresql+psycopg://teacher:s3cret-Pa55@db.example/class") == (
        "postgresql+psycopg://teacher:***@db.example/class"
    )


def test_a_database_no_lock_can_guard_or_no_url_names_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(SandboxError, match="the sandbox runs on SQLite or PostgreSQL, not mysql: only those"):
        toolkit.sandbox.start(home=tmp_path / "a", database_url="mysql+pymysql://teacher:pw@db/class")
    cli = _serve(tmp_path / "b", "::not a url:s3cret-Pa55")
    assert cli.returncode == 2
    assert "toolkit sandbox: the database URL does not parse as an SQLAlchemy URL" in cli.stderr
    assert "s3cret" not in cli.stderr + cli.stdout
    with toolkit.sandbox.start(home=tmp_path / "a") as sb:  # the refused start left the home free
        assert sb.owned
