"""Busy ports, named with the process that holds them: ``make lab`` checks its two ports with this
before it starts anything, so a second ``make lab`` stops at once and says why.

    python -m toolkit.sandbox.ports SANDBOX_PORT=8765 LAB_PORT=8888
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path


def is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no owner
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def holder(port: int) -> str:
    """Who listens on ``port``: ``pid 123 (jupyter-lab --port 8888)``, read from /proc on Linux,
    else ``another process``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    for pid in (p for p in os.listdir("/proc") if p.isdigit()) if inodes else ():
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if not any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                continue
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or not ours to read
            continue
        command = command.strip()
        return f"pid {pid} ({command if len(command) <= 120 else command[:119] + '…'})"
    return "another process"


def refusals(named: dict[str, int]) -> list[str]:
    """One line per busy port of ``named`` (``{"LAB_PORT": 8888}``), saying who holds it and how to
    choose another."""
    return [
        f"port {port} ({name}) is in use by {holder(port)}: stop it, or choose another port, "
        f"e.g. make lab {name}={port + 1}"
        for name, port in named.items()
        if not is_free(port)
    ]


def main(argv: list[str]) -> int:
    """``NAME=PORT`` arguments; prints each busy one to stderr and exits 1 if any is busy."""
    named = {}
    for arg in argv:
        name, _, value = arg.partition("=")
        if not value.isdigit() or not 0 < int(value) < 65536:
            print(f"{name}={value!r} is not a port (1 to 65535)", file=sys.stderr)
            return 2
        named[name] = int(value)
    lines = refusals(named)
    for line in lines:
        print(line, file=sys.stderr)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
