"""One sandbox per home and per database: each names the sandbox that owns it.

Two servers on one database would each keep their own clock, caches and engine and silently
diverge. So the first takes an exclusive ``flock`` on ``sandbox.lock`` in its home and writes its
URL, pid and host into it (a second ``start()`` on that home attaches to the first instead, a
second ``toolkit sandbox`` refuses), and it owns its database the same way: a lock file beside a
SQLite database, a session-level advisory lock on PostgreSQL, with the owner's record in
``toolkit_meta``. A second sandbox on the same database, from any home or host, refuses naming the
owner. The operating system (or PostgreSQL, when the owner's connection drops) frees a lock when
its process ends, however it ends, so a lock left by a crash is never mistaken for a live one.
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

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:  # sqlalchemy is imported when a lock is taken: `import toolkit.sandbox` stays light
    import sqlalchemy as sa

LOCK_NAME = "sandbox.lock"
# pg_try_advisory_lock's key: advisory locks are per database, so one constant names "the sandbox"
ADVISORY_KEY = int.from_bytes(b"toolkitS", "big") & (2**63 - 1)
OWNER_KEY = "owner"  # the toolkit_meta row naming a PostgreSQL database's owner
DEAD_OWNER_GRACE = 10.0  # seconds PostgreSQL may take to free the lock of an owner that died


@dataclass(frozen=True)
class Owner:
    """The sandbox that holds a home: where it answers, and which process it is."""

    url: str
    pid: int
    host: str

    def __str__(self) -> str:
        return f"{self.url} (pid {self.pid} on {self.host})"


def _record(url: str) -> str:
    return json.dumps({"url": url, "pid": os.getpid(), "host": socket.gethostname()})


def _parse(text: str | None) -> Owner | None:
    try:
        record = json.loads(text or "null")
        return Owner(str(record["url"]), int(record["pid"]), str(record["host"]))
    except (ValueError, TypeError, KeyError):
        return None


def _gone(holder: Owner | None) -> bool:
    """Whether ``holder`` is a process of this host that no longer runs."""
    if holder is None or holder.host != socket.gethostname():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, and someone else's
        return False
    return False


class FileLock:
    """An exclusive ``flock`` on one lock file, with its owner's record inside, held for as long as
    its sandbox runs."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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
        self.stale = self.holder()
        self._fd = fd
        os.ftruncate(fd, 0)
        return True

    def publish(self, url: str) -> None:
        """Write where this sandbox answers, for a second ``start()`` to attach to."""
        if self._fd is None:
            raise RuntimeError("publish before acquire")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, _record(url).encode(), 0)

    def release(self) -> None:
        """Clear the record and let the next sandbox take the home."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock

    def holder(self) -> Owner | None:
        """The owner the lock file names, or None when it names none (yet)."""
        try:
            return _parse(self.path.read_text())
        except OSError:
            return None


class HomeLock(FileLock):
    """The lock on one home: its ``sandbox.lock``."""

    def __init__(self, home: Path) -> None:
        super().__init__(Path(home) / LOCK_NAME)


def read_owner(home: Path) -> Owner | None:
    """The owner a home's lock file names, or None when it names none (yet)."""
    return HomeLock(home).holder()


class DatabaseBusy(Exception):
    """Another sandbox owns this database."""


def shown(database_url: str) -> str:
    """``database_url`` fit for a message: any password replaced by stars."""
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(database_url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(an unreadable database URL)"


class DatabaseLock:
    """The lock that makes one sandbox the owner of its database: ``acquire()``, ``publish(url)``
    once it listens, ``release()`` on the way out; ``stale`` names a crashed owner it took over from.

    SQLite: a ``flock`` on ``<database file>.lock`` (an in-memory database is nobody else's).
    PostgreSQL: ``pg_try_advisory_lock`` on a connection kept open for the sandbox's life (the
    server frees it when that connection drops), the owner's record in ``toolkit_meta``."""

    def __init__(self, database_url: str) -> None:
        import sqlalchemy as sa

        try:
            self.url = sa.engine.make_url(database_url)
        except sa.exc.ArgumentError:
            raise ValueError("the database URL does not parse as an SQLAlchemy URL") from None
        if self.url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(
                f"the sandbox runs on SQLite or PostgreSQL, not {self.url.get_backend_name()}: only those "
                "two can say which sandbox owns a database"
            )
        self.stale: Owner | None = None
        self._file: FileLock | None = None
        self._engine: sa.Engine | None = None
        self._conn: sa.Connection | None = None
        if self.url.get_backend_name() == "sqlite":
            database = self.url.database or ""
            if database and database != ":memory:" and not database.startswith("file:"):
                self._file = FileLock(Path(database).with_name(Path(database).name + ".lock"))

    def acquire(self) -> None:
        """Own the database, or raise ``DatabaseBusy`` naming the sandbox that does."""
        if self.url.get_backend_name() == "sqlite":
            if self._file is not None and not self._file.acquire():
                raise DatabaseBusy(self._refusal(self._file.holder()))
            self.stale = self._file.stale if self._file is not None else None
            return
        if self._engine is not None:
            return
        import sqlalchemy as sa

        from toolkit.sandbox import store

        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            deadline = time.monotonic() + DEAD_OWNER_GRACE
            while not conn.execute(sa.select(sa.func.pg_try_advisory_lock(ADVISORY_KEY))).scalar():
                holder = self._read(conn)
                # an owner on this host whose process is gone: the server has yet to notice its
                # connection dropped, and frees the lock in a moment
                if not (_gone(holder) and time.monotonic() < deadline):
                    raise DatabaseBusy(self._refusal(holder))
                time.sleep(0.05)
            store.meta.create(conn, checkfirst=True)
            self.stale = self._read(conn)
        except BaseException:
            conn.close()
            engine.dispose()
            raise
        self._engine, self._conn = engine, conn

    @staticmethod
    def _read(conn: sa.Connection) -> Owner | None:
        import sqlalchemy as sa

        from toolkit.sandbox import store

        if not sa.inspect(conn).has_table(store.meta.name):
            return None
        return _parse(store.get_meta(conn, OWNER_KEY))

    def _refusal(self, holder: Owner | None) -> str:
        who = f"the sandbox at {holder}" if holder is not None else "another sandbox (still starting)"
        return (
            f"the database {shown(str(self.url))} is owned by {who}: one sandbox serves a database "
            "(a second would silently diverge from the first); stop that one, or give another database"
        )

    def publish(self, url: str) -> None:
        """Write where this sandbox answers, for a refused second sandbox to name."""
        if self._file is not None:
            self._file.publish(url)
        elif self._conn is not None:
            from toolkit.sandbox import store

            store.put_meta(self._conn, OWNER_KEY, _record(url))

    def release(self) -> None:
        """Clear the record and free the database for the next sandbox."""
        if self._file is not None:
            self._file.release()
        if self._conn is not None:
            import sqlalchemy as sa

            from toolkit.sandbox import store

            conn, self._conn = self._conn, None
            try:
                conn.execute(store.meta.delete().where(store.meta.c.key == OWNER_KEY))
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_KEY)))
            except sa.exc.DBAPIError:
                pass  # the server went away: the lock went with the connection
            finally:
                conn.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


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


class Ownership:
    """A sandbox's hold on its home and on its database, taken in that order and released together."""

    def __init__(self, home: Path, database_url: str) -> None:
        self.home = HomeLock(home)
        self.database = DatabaseLock(database_url)

    def acquire_home(self) -> bool:
        """Take the home; False when a live sandbox holds it (a caller may attach to that one)."""
        return self.home.acquire()

    def acquire_database(self) -> None:
        """Take the database, or free the home again and raise ``DatabaseBusy`` naming its owner."""
        try:
            self.database.acquire()
        except BaseException:
            self.home.release()
            raise

    @property
    def stale(self) -> list[tuple[str, Owner]]:
        """What crashed owners had written, for each lock taken over: (where, owner)."""
        found = [(str(self.home.path), self.home.stale)]
        found.append((f"the database {shown(str(self.database.url))}", self.database.stale))
        return [(where, who) for where, who in found if who is not None]

    def publish(self, url: str) -> None:
        """Name this sandbox in both records once it listens at ``url``."""
        self.home.publish(url)
        self.database.publish(url)

    def release(self) -> None:
        """Free the database, then the home."""
        try:
            self.database.release()
        finally:
            self.home.release()
