"""Each embedded sandbox's log in its own home (``$TOOLKIT_HOME/sandbox.log``), at its own level,
never in notebook cells.

Several sandboxes may run in one process (a notebook with two homes, a test run), while loggers are
process-wide. So each record goes to the log of the sandbox that handled it, known by a context
variable that its server thread sets and that asyncio tasks, worker threads and the clearinghouse's
thread inherit. A record from outside any sandbox's context (a handle's own messages while it starts)
goes to every open log.
"""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from pathlib import Path

from toolkit.sandbox.config import private_file

LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "toolkit.sandbox")
_SERVING: ContextVar[str | None] = ContextVar("toolkit_sandbox_home", default=None)
_OPEN: dict[str, logging.Handler] = {}
_LOCK = threading.Lock()


class _Own(logging.Filter):
    def __init__(self, home: str) -> None:
        super().__init__()
        self.home = home

    def filter(self, record: logging.LogRecord) -> bool:
        serving = _SERVING.get()
        return serving is None or serving == self.home


def open_log(home: Path, level: int) -> None:
    """Start writing ``home``'s log at ``level`` (records below it are not written there)."""
    key = str(home)
    handler = logging.FileHandler(private_file(home / "sandbox.log"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(level)
    handler.addFilter(_Own(key))
    with _LOCK:
        _close(key)
        _OPEN[key] = handler
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            logger.propagate = False
        _set_levels()


def close_log(home: Path) -> None:
    """Stop writing ``home``'s log and close its file."""
    with _LOCK:
        _close(str(home))
        _set_levels()


def serving(home: Path) -> None:
    """Mark this thread (and the tasks and worker threads it starts) as serving ``home``."""
    _SERVING.set(str(home))


def _close(key: str) -> None:
    handler = _OPEN.pop(key, None)
    if handler is not None:
        for name in LOGGERS:
            logging.getLogger(name).removeHandler(handler)
        handler.close()


def _set_levels() -> None:
    """Each logger passes what the most talkative open log wants; each log keeps to its own level."""
    lowest = min((h.level for h in _OPEN.values()), default=logging.WARNING)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(lowest)
