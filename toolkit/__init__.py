"""toolkit: API keys, paper trading and funding analysis for perp DEX and event-market quants.

A map of the package (each part loads on first use, so ``import toolkit`` stays cheap):

* ``toolkit.sandbox``: ``start()`` serves the offline sandbox (every venue's wire protocol, real
  signature checks, a clock you move) and returns a handle; ``toolkit sandbox`` runs it standalone.
* ``toolkit.venues``: one module per venue, its wire format, signing and client:
  ``hyperliquid``, ``aster``, ``lighter``, ``kalshi``, ``paperx`` (PaperExchange), ``hyperdex``.
* ``toolkit.setup``: provider setup for every venue: ``check_setup``, ``sign_setup_action``,
  ``execute_setup``.
* ``toolkit.keystore``: one encrypted local store for every credential; ``toolkit.keys()`` lists
  them as a DataFrame.
* ``toolkit.frames``: DataFrame views (pandas or polars) of funding, fills, liquidations and account
  figures, with ``frames.analytics`` and ``frames.plots``.
* ``toolkit.widgets``: ``SetupWizard``, ``KeyPanel`` and ``AccountDashboard`` for JupyterLab.
* ``toolkit.secrets``: ``Secret``, which every password, token and key is wrapped in.
* ``toolkit.times``: times as users type them, in milliseconds.
* ``toolkit.backtest(strategy, market, start, end)``: run a bot, unchanged, on replayed real history
  (``frames.Hyperliquid(...).market_history(...)``) and get its fills, funding and equity back.
* ``toolkit.run(coro)``: run a coroutine (an async SDK's call) to completion from plain code, in a
  script or inside a running Jupyter kernel alike.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Secret": ("toolkit.secrets", "Secret"),
    "generate_password": ("toolkit.secrets", "generate_password"),
    "PaperClient": ("toolkit.venues.paperx", "PaperClient"),
    "PaperExchangeError": ("toolkit.venues.paperx", "PaperExchangeError"),
    "keys": ("toolkit.keystore", "keys"),
    "run": ("toolkit.aio", "run"),
    "backtest": ("toolkit.backtesting", "backtest"),
}
_SUBMODULES = {"frames", "keystore", "sandbox", "secrets", "setup", "times", "venues", "widgets"}

__all__ = [*_LAZY, *_SUBMODULES, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"toolkit.{name}")
    else:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
