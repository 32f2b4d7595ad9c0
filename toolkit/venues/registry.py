"""Every venue the toolkit speaks, described once: its name as users know it, its networks, how an
account proves it is yours, the kind of key the key store records, its client and its error, and how
the sandbox funds an address on it.

Setup, the key store, the widgets and the sandbox handle read what they need from here instead of
keeping their own tables (a test holds every layer to this list). Clients and errors are named by
import path and loaded on first use, so reading the registry imports no venue.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal

Credential = Literal["wallet", "session", "login"]


@dataclass(frozen=True)
class VenueSpec:
    name: str  # the toolkit's id, as the key store and setup take it: "hyperliquid"
    label: str  # as users know it: "Hyperliquid"
    networks: tuple[str, ...]  # the sandbox first, then the venue's own
    credential: Credential  # an EVM wallet's key, a member's session token, or an email and password
    key_kind: str  # what the key store records a registered key as: "agent" or "api_key"
    client_path: str  # "module:Class"
    error_path: str  # "module:Class": the refusals a user can act on, in the venue's words
    sandbox_deposit: str | None = None  # the sandbox handle's method that funds an address, if any

    def client_class(self) -> type:
        """The venue's client class (imported now, on first use)."""
        return _load(self.client_path)

    def error_class(self) -> type[Exception]:
        """The venue's refusal class (imported now, on first use)."""
        return _load(self.error_path)

    def client(self, network: str, sandbox: Any = None, **options: Any) -> Any:
        """The venue's client on ``network`` (the ``sandbox`` handle for the sandbox network)."""
        if network not in self.networks:
            raise ValueError(f"{self.label} networks are {list(self.networks)}, not {network!r}")
        return self.client_class()(sandbox if network == "sandbox" else network, **options)


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


_SPECS = (
    VenueSpec(
        "hyperliquid", "Hyperliquid", ("sandbox", "testnet", "mainnet"), "wallet", "agent",
        "toolkit.venues.hyperliquid:HyperliquidClient", "toolkit.venues.hyperliquid:HyperliquidError",
        sandbox_deposit="hyperliquid_deposit",
    ),
    VenueSpec(
        "aster", "Aster", ("sandbox", "testnet", "mainnet"), "wallet", "agent",
        "toolkit.venues.aster:AsterClient", "toolkit.venues.aster:AsterError",
        sandbox_deposit="aster_deposit",
    ),
    VenueSpec(
        "lighter", "Lighter", ("sandbox", "testnet", "mainnet"), "wallet", "api_key",
        "toolkit.venues.lighter:LighterClient", "toolkit.venues.lighter.wire:LighterError",
        sandbox_deposit="lighter_deposit",
    ),
    VenueSpec(
        "kalshi", "Kalshi", ("sandbox", "demo", "production"), "session", "api_key",
        "toolkit.venues.kalshi:KalshiClient", "toolkit.venues.kalshi:KalshiError",
    ),
    VenueSpec(
        "paperx", "PaperExchange", ("sandbox", "mainnet"), "login", "api_key",
        "toolkit.venues.paperx:PaperClient", "toolkit.venues.paperx:PaperExchangeError",
    ),
)  # fmt: skip
VENUES: dict[str, VenueSpec] = {spec.name: spec for spec in _SPECS}


def spec(name: str) -> VenueSpec:
    """The venue called ``name``, or ValueError listing the ones there are."""
    try:
        return VENUES[name]
    except KeyError:
        raise ValueError(f"venue must be one of {sorted(VENUES)}, not {name!r}") from None
