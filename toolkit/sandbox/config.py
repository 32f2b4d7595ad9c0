"""Where the sandbox keeps its state, read from arguments first and the environment second."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "~/.toolkit"


def toolkit_home(home: str | os.PathLike[str] | None = None) -> Path:
    """``home``, else ``$TOOLKIT_HOME``, else ``~/.toolkit``; created with mode 0700."""
    path = Path(home or os.environ.get("TOOLKIT_HOME") or DEFAULT_HOME).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


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
        url = database_url or os.environ.get("TOOLKIT_DATABASE_URL") or f"sqlite:///{path / 'sandbox.db'}"
        return cls(home=path, database_url=url, smtp_url=smtp_url or os.environ.get("TOOLKIT_SMTP_URL"))
