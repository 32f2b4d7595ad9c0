"""Which market a sandbox's database belongs to: the synthetic one, or one replay of real history.

A database keeps its market for life: its accounts, positions and clock were made in it. The
first start writes ``market`` in ``toolkit_meta`` (``synthetic`` or ``replay:<fingerprint>``);
a later start on another market is refused with both named. A replay with no home of its own gets
one under the toolkit home, named by the data's fingerprint, so the same replay carries on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from toolkit.home import toolkit_home
from toolkit.sandbox import SandboxError, store

if TYPE_CHECKING:
    from toolkit.frames.replay import MarketHistory

KEY = "market"
SYNTHETIC = "synthetic"


class MarketMismatch(SandboxError):
    """The database belongs to another market than the one asked for."""


def label(history: MarketHistory | None) -> str:
    return SYNTHETIC if history is None else f"replay:{history.fingerprint()}"


def _used(engine: Engine) -> bool:
    """Whether a database without the key has been used (by a sandbox older than it)."""
    from toolkit.sandbox.paper_store import PaperStore

    return store.read_meta(engine, "clock_offset_ms") is not None or PaperStore(engine).load() is not None


def claim(engine: Engine, history: MarketHistory | None) -> None:
    """Mark a new database as ``history``'s (or the synthetic market's); refuse another's."""
    wanted = label(history)
    held = store.read_meta(engine, KEY)
    if held is None:
        held = SYNTHETIC if _used(engine) else None
    if held is None:
        store.write_meta(engine, KEY, wanted)
        return
    if held == wanted:
        return
    if history is None:
        raise MarketMismatch(
            f"this sandbox's database holds a replay of real history ({held}); start it with that "
            "replay (toolkit sandbox --replay DIR, or start(market=...)) or give another home"
        )
    what = "the synthetic market" if held == SYNTHETIC else f"another replay ({held})"
    raise MarketMismatch(
        f"this sandbox's database was made in {what}, not in this replay ({wanted}); give the replay "
        "a home of its own (leave home unset and one is made for it)"
    )


def default_home(history: MarketHistory) -> Path:
    """Where a replay keeps its state when no home is given: one folder per replay's data, under
    the toolkit home."""
    return toolkit_home(None) / "replays" / history.fingerprint()


def resolve(
    market: Any, home: str | os.PathLike[str] | None, database_url: str | None
) -> tuple[MarketHistory | None, str | os.PathLike[str] | None, str | None]:
    """The history to replay (a ``MarketHistory``, or the folder one was saved to), and where its
    sandbox keeps its state: as given, else a home of the replay's own with SQLite in it."""
    if market is None:
        return None, home, database_url
    from toolkit.sandbox.config import private_file

    history = history_of(market)
    if home is None and database_url is None:
        home = toolkit_home(default_home(history))
        database_url = f"sqlite:///{private_file(home / 'sandbox.db')}"
    return history, home, database_url


def history_of(market: Any) -> MarketHistory:
    """``market`` as a ``MarketHistory``: one already, or the folder one was saved to."""
    from toolkit.frames.replay import MarketHistory

    if isinstance(market, MarketHistory):
        return market
    if isinstance(market, str | os.PathLike):
        return MarketHistory.load(market)
    raise TypeError(
        f"market must be a frames.MarketHistory or the folder one was saved to, not {type(market).__name__}"
    )
