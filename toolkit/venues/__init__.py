"""One module per venue: its wire formats, its signing, and an httpx client.

The client signs with these modules and the sandbox verifies with them, so each wire
format is written exactly once. Each loads on first use:

* ``hyperliquid``: agents, orders and transfers, EIP-712 and L1 signing; ``hyperliquid_wire`` holds
  the typed wire models;
* ``aster``: API keys with HMAC signing, V3 agents; ``aster_wire`` holds the wire models;
* ``lighter``: API keys at slots, auth tokens, nonces, signed by the official native signer;
* ``kalshi``: Kalshi's Trade API v2, RSA-PSS signed requests;
* ``paperx``: PaperExchange's account API and ``PaperClient``;
* ``hyperdex``: HyperDEX custodial server wallets;
* ``providers``: provider setup descriptors as the perps SDK shapes them;
* ``eip712`` (typed-data signing, ``Wallet``) and ``funding`` (Hyperliquid's funding formula).
"""

from __future__ import annotations

import importlib
from types import ModuleType

_MODULES = (
    "aster",
    "aster_wire",
    "eip712",
    "funding",
    "hyperdex",
    "hyperliquid",
    "hyperliquid_wire",
    "kalshi",
    "lighter",
    "paperx",
    "providers",
)

__all__ = list(_MODULES)


def __getattr__(name: str) -> ModuleType:
    if name not in _MODULES:
        raise AttributeError(f"module 'toolkit.venues' has no attribute {name!r}")
    module = importlib.import_module(f"toolkit.venues.{name}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(__all__)
