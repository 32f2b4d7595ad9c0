"""Where the sandbox keeps its state, read from arguments first and the environment second."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.home import toolkit_home
from toolkit.secrets import Secret

ADMIN_TOKEN_FILE = "sandbox_admin_token"
ADMIN_TOKEN_HEADER = "X-Sandbox-Admin-Token"


def private_file(path: Path) -> Path:
    """``path`` created empty if missing, and mode 0600 either way: for the database (SQLite gives
    its -wal and -shm files the database's mode), the logs and every secret in the home."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    if path.stat().st_mode & 0o777 != 0o600:
        path.chmod(0o600)
    return path


def harden_home(home: Path) -> None:
    """Every file directly in the home, and in its folders, to 0600 (folders 0700): older sandboxes
    and shell scripts created some with the umask's 0644."""
    for path in home.rglob("*"):
        if path.is_symlink():
            continue
        wanted = 0o700 if path.is_dir() else 0o600
        if path.stat().st_mode & 0o777 != wanted:
            path.chmod(wanted)


def made_once(path: Path, make: Callable[[], str]) -> str:
    """The text in ``path``, which ``make()`` writes (mode 0600) the first time it is asked for: a
    home's own keys, the same on every start."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    text = make()
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return text


def load_admin_token(home: Path) -> Secret:
    """The token that opens the admin routes to callers off this machine (an instructor's laptop
    when the sandbox serves a class): made once per home, read by whoever can read the home on the
    server, and sent in the ``X-Sandbox-Admin-Token`` header."""
    return Secret(made_once(home / ADMIN_TOKEN_FILE, lambda: secrets.token_urlsafe(32)), "admin_token")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything ``create_app`` needs: the home folder, the database URL and the mail route."""

    home: Path
    database_url: str
    smtp_url: str | None = None

    @classmethod
    def resolve(
        cls,
        home: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        smtp_url: str | None = None,
    ) -> SandboxConfig:
        path = toolkit_home(home)
        url = database_url or os.environ.get("TOOLKIT_DATABASE_URL")
        if not url:
            url = f"sqlite:///{private_file(path / 'sandbox.db')}"
        return cls(home=path, database_url=url, smtp_url=smtp_url or os.environ.get("TOOLKIT_SMTP_URL"))
