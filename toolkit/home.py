"""The toolkit's home folder (``$TOOLKIT_HOME``, else ``~/.toolkit``): where the key store, the
sandbox's database and its logs live. One module every layer may read, so none reaches into another
for it."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

DEFAULT_HOME = "~/.toolkit"


def toolkit_home(home: str | os.PathLike[str] | None = None) -> Path:
    """``home``, else ``$TOOLKIT_HOME``, else ``~/.toolkit``: mode 0700, whoever created it."""
    path = Path(home or os.environ.get("TOOLKIT_HOME") or DEFAULT_HOME).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o777 != 0o700 and path.owner() == getpass.getuser():
        path.chmod(0o700)
    return path
