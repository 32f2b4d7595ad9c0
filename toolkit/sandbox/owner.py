"""One sandbox per home: ``sandbox.lock`` in the home names the sandbox serving it.

Two servers on one database would each keep their own clock, caches and engine and silently
diverge, so the first takes an exclusive ``flock`` on the file and writes its URL, pid and host
into it; a second ``start()`` on that home attaches to the first instead, and a second
``toolkit sandbox`` refuses. The operating system drops the lock when its process ends, however it
ends, so a lock left by a crash is never mistaken for a live one.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; one sandbox per home is then up to the user
    fcntl = None  # type: ignore[assignment]

import httpx

LOCK_NAME = "sandbox.lock"


@dataclass(frozen=True)
class Owner:
    """The sandbox that holds a home: where it answers, and which process it is."""

    url: str
    pid: int
    host: str

    def __str__(self) -> str:
        return f"{self.url} (pid {self.pid} on {self.host})"


class HomeLock:
    """The exclusive lock on one home's ``sandbox.lock``, held for as long as its sandbox runs."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / LOCK_NAME
        self._fd: int | None = None
        self.stale: Owner | None = None  # what a crashed owner had written, when taken over

    def acquire(self) -> bool:
        """Take the lock; False when a live process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
        self.stale = read_owner(self.path.parent)
        self._fd = fd
        os.ftruncate(fd, 0)
        return True

    def publish(self, url: str) -> None:
        """Write where this sandbox answers, for a second ``start()`` to attach to."""
        if self._fd is None:
            raise RuntimeError("publish before acquire")
        record = json.dumps({"url": url, "pid": os.getpid(), "host": socket.gethostname()})
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, record.encode(), 0)

    def release(self) -> None:
        """Clear the record and let the next sandbox take the home."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock


def read_owner(home: Path) -> Owner | None:
    """The owner a home's lock file names, or None when it names none (yet)."""
    try:
        record = json.loads((Path(home) / LOCK_NAME).read_text() or "null")
        return Owner(str(record["url"]), int(record["pid"]), str(record["host"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def wait_for_owner(home: Path, timeout: float) -> Owner | None:
    """The live owner of ``home`` once it answers (it may still be starting), or None after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        owner = read_owner(home)
        if owner is not None and answers(owner.url):
            return owner
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)


def answers(url: str) -> bool:
    """Whether a sandbox answers its status route at ``url``."""
    try:
        return httpx.get(f"{url.rstrip('/')}/sandbox/status", timeout=2).is_success
    except httpx.HTTPError:
        return False
