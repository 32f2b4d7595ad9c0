"""toolkit: API keys, paper trading and funding analysis for perp DEX and event-market quants.

``import toolkit`` is cheap: the heavy parts (FastAPI, pandas, polars) load on first use.
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
}
_SUBMODULES = {"keystore", "sandbox", "secrets", "venues"}

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
