"""The sandbox in a process of its own, as ``make lab`` runs it: for load from another process, and
for killing it outright (crash tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Return once ``url`` answers its status route; raise if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise RuntimeError(
                f"the sandbox process exited while starting (status {proc.returncode}) {output}"
            )
        try:
            if httpx.get(f"{url}/sandbox/status", timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the sandbox process did not answer at {url} within {timeout:.0f} s")


def spawn(
    home: str | os.PathLike[str],
    port: int | None = None,
    log_level: str = "warning",
    replay: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    host: str = "127.0.0.1",
) -> tuple[subprocess.Popen, str]:
    """Start ``python -m toolkit sandbox`` on loopback with state in ``home`` (replaying the saved
    history in the folder ``replay``, if given; on ``database_url`` rather than the home's SQLite
    file, if given; listening on ``host``, e.g. ``0.0.0.0`` as for a class); return it and its
    loopback URL once it answers. The caller stops it (``terminate``, or ``kill`` to simulate a
    crash)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # where this machine reaches it
    port = port or free_port(local)
    env = os.environ | {"TOOLKIT_HOME": str(home)}
    env.pop("TOOLKIT_SANDBOX_URL", None)
    cmd = [sys.executable, "-m", "toolkit", "sandbox", "--host", host, "--port", str(port),
           "--home", str(Path(home)), "--log-level", log_level]  # fmt: skip
    if replay is not None:
        cmd += ["--replay", str(replay)]
    if database_url is not None:  # the environment, not argv: a password in it stays out of `ps`
        env["TOOLKIT_DATABASE_URL"] = database_url
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    try:
        wait_until_up(url, proc)
    except BaseException:
        proc.kill()
        proc.wait(30)
        raise
    return proc, url
