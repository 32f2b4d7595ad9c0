"""A throwaway PostgreSQL server for the tests and benchmarks: Debian's ``initdb`` and ``pg_ctl``,
a data folder and a unix socket in a temporary folder, no TCP port, trust authentication.

PostgreSQL refuses to run as root; under root (CI, containers) the server runs as Debian's
``postgres`` user, which owns only the temporary folder. When the binaries are missing they are
installed with apt (as the browser test installs Chromium), or the caller is told why not.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

from tests.apt import AptUnavailable, apt_install

SUPERUSER = "toolkit"
BACKENDS = ["sqlite", "postgresql"]  # the databases a sandbox runs on, in the tests' parametrisations


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here, and none could be installed."""


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``, installing Debian's package when missing."""
    found = _bin_dir()
    if found is None:
        try:
            apt_install("postgresql")
        except AptUnavailable as exc:
            raise PostgresUnavailable(str(exc)) from None
        found = _bin_dir()
    if found is None:
        raise PostgresUnavailable("postgresql was installed but no pg_ctl was found")
    return found


class PostgresServer:
    """One PostgreSQL server in ``root``: ``url(name)`` makes a fresh database on it."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="toolkit-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.bin = binaries()
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            user = "postgres" if _has_user("postgres") else "nobody"
            self._run_as = ["runuser", "-u", user, "--"]
            self.root.mkdir(parents=True, exist_ok=True)
            self.socket_dir.mkdir(exist_ok=True)
            entry = pwd.getpwnam(user)
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        else:
            self.socket_dir.mkdir(parents=True, exist_ok=True)

    def _run(self, *command: str) -> None:
        done = subprocess.run(
            [*self._run_as, *command], capture_output=True, text=True, timeout=180, cwd=self.root
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(command[0]).name} failed: {done.stdout[-1500:]}{done.stderr[-1500:]}"
            )

    def start(self) -> PostgresServer:
        """initdb (once) and start; durable commits off, as SQLite's WAL with synchronous=NORMAL."""
        if not (self.data / "PG_VERSION").exists():
            self._run(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C", "--no-sync",
            )  # fmt: skip
        options = (
            f"-k {self.socket_dir} -c listen_addresses='' -c synchronous_commit=off "
            "-c max_connections=200 -c shared_buffers=64MB"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        """Stop the server (fast: its clients are cut off) and delete its folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3, over the unix socket)."""
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def create_database(self, prefix: str = "sandbox") -> str:
        """A new, empty database; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
