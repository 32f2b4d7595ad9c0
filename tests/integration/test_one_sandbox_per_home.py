"""One sandbox per home: a second start() attaches, a second `toolkit sandbox` refuses, a lock left by
a dead process is taken over, and `make lab` refuses a busy port before starting anything."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import toolkit
from toolkit.sandbox import SandboxError, owner
from toolkit.sandbox.process import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_a_second_start_on_a_home_attaches_to_the_first(tmp_path):
    home = tmp_path / "home"
    first = toolkit.sandbox.start(home=home)
    try:
        with pytest.warns(
            UserWarning,
            match=rf"a sandbox already serves {home}: attached to it at {first.url} \(pid {os.getpid()} on ",
        ):
            second = toolkit.sandbox.start(home=home)
        assert second.url == first.url and not second.owned
        assert repr(second) == f"Sandbox({first.url!r}, attached, running)"
        first.advance(hours=5)
        assert abs(second.now_ms() - first.now_ms()) < 60_000  # one clock, moved through either handle
        second.stop()  # an attached handle leaves the sandbox running
        assert first.running and owner.read_owner(home).url == first.url
        with pytest.raises(
            SandboxError,
            match=rf"a sandbox already serves {home}: {first.url} \(pid {os.getpid()} on .*\); attach with start\(\)",
        ):
            toolkit.sandbox.start(home=home, reuse=False)
    finally:
        first.stop()
    assert repr(first) == f"Sandbox({first.url!r}, embedded, stopped)"
    assert owner.read_owner(home) is None  # released: the next start owns the home
    with toolkit.sandbox.start(home=home) as again:
        assert again.owned and owner.read_owner(home).url == again.url


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = {"url": "http://127.0.0.1:9", "pid": int(dead.stdout), "host": socket.gethostname()}
    (home / owner.LOCK_NAME).write_text(json.dumps(stale))
    with toolkit.sandbox.start(home=home) as sb:
        assert sb.owned
        assert owner.read_owner(home) == owner.Owner(sb.url, os.getpid(), socket.gethostname())
    assert "which had stopped" in (home / "sandbox.log").read_text()


def test_a_second_command_line_sandbox_on_a_home_refuses_naming_the_first(tmp_path):
    home = tmp_path / "home"
    with toolkit.sandbox.start(home=home) as sb:
        cli = subprocess.run(
            [sys.executable, "-m", "toolkit", "sandbox", "--home", str(home), "--port", str(free_port())],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert cli.returncode == 1
        assert f"a sandbox already serves {home}: {sb.url} (pid {os.getpid()} on" in cli.stderr
        assert sb.status() and owner.read_owner(home).url == sb.url  # the first is untouched


def test_make_lab_refuses_a_busy_port_before_starting_anything(tmp_path):
    home = tmp_path / "home"
    env = os.environ | {"BIN": str(Path(sys.executable).parent), "TOOLKIT_HOME": str(home)}
    for busy in ("SANDBOX_PORT", "LAB_PORT"):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            ports = {"SANDBOX_PORT": str(free_port()), "LAB_PORT": str(free_port())} | {busy: str(port)}
            lab = subprocess.run(
                ["bash", str(ROOT / "scripts" / "lab")], env=env | ports, capture_output=True, text=True,
                timeout=120, cwd=ROOT,
            )  # fmt: skip
        assert lab.returncode == 1, lab.stdout + lab.stderr
        assert f"port {port} ({busy}) is in use by pid {os.getpid()} (" in lab.stderr
        assert f"{busy}=" in lab.stderr  # how to choose another
        assert not (home / "sandbox-console.log").exists()  # nothing was started
        sandbox_port = int(ports["SANDBOX_PORT"])
        if busy == "LAB_PORT":
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{sandbox_port}/sandbox/status", timeout=2)
