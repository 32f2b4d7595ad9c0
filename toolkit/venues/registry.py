"""Every venue the toolkit speaks, described once: its name as users know it, its networks, how an
account proves it is yours, the kind of key the key store records, its client and its error, and how
the sandbox funds an address on it.

Setup, the key store, the widgets and the sandbox handle read what they need from here instead of
keeping their own tables (a test holds every layer to this list). Clients and errors are named by
import path and loaded on first use, so reading the registry imports no venue.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

Credential = Literal["wallet", "session", "login"]


@dataclass(frozen=True)
class SandboxFunding:
    """How the sandbox credits an address on a wallet venue, as a bridge deposit would on the venue:
    its admin route (under ``/admin``), the body's fields, and the answer's field handed back."""

    path: str  # "/hyperliquid/deposit"
    address: str  # the body's address field: "user"
    amount: str  # the body's amount field, named by its asset: "usdc"
    answer: str  # what the deposit returns: the total, the balance, or Lighter's account_index


@dataclass(frozen=True)
class VenueSpec:
    name: str  # the toolkit's id, as the key store and setup take it: "hyperliquid"
    label: str  # as users know it: "Hyperliquid"
    networks: tuple[str, ...]  # the sandbox first, then the venue's own
    credential: Credential  # an EVM wallet's key, a member's session token, or an email and password
    key_kind: str  # what the key store records a registered key as: "agent" or "api_key"
    client_path: str  # "module:Class"
    error_path: str  # "module:Class": the refusals a user can act on, in the venue's words
    sandbox_funding: SandboxFunding | None = None  # how the sandbox funds an address by hand, if it does
    setup_path: str = ""  # the module of its setup steps and key life (``KEYS``): toolkit.setup.<name>

    def client_class(self) -> type:
        """The venue's client class (imported now, on first use)."""
        return _load(self.client_path)

    def error_class(self) -> type[Exception]:
        """The venue's refusal class (imported now, on first use)."""
        return _load(self.error_path)

    def setup_module(self) -> ModuleType:
        """The venue's setup steps (``check``, ``sign``, ``execute``) and key life (``KEYS``)."""
        return importlib.import_module(self.setup_path or f"toolkit.setup.{self.name}")

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
        sandbox_funding=SandboxFunding("/hyperliquid/deposit", "user", "usdc", "deposited"),
    ),
    VenueSpec(
        "aster", "Aster", ("sandbox", "testnet", "mainnet"), "wallet", "agent",
        "toolkit.venues.aster:AsterClient", "toolkit.venues.aster:AsterError",
        sandbox_funding=SandboxFunding("/aster/deposit", "address", "usdt", "balance"),
    ),
    VenueSpec(
        "lighter", "Lighter", ("sandbox", "testnet", "mainnet"), "wallet", "api_key",
        "toolkit.venues.lighter:LighterClient", "toolkit.venues.lighter.wire:LighterError",
        sandbox_funding=SandboxFunding("/lighter/deposit", "l1_address", "usdc", "account_index"),
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


def register(venue: VenueSpec) -> None:
    """Add a venue: from now on setup, the key store and the widgets serve it (a test's stub venue,
    or one a plugin brings). A name already taken is refused."""
    if venue.name in VENUES:
        raise ValueError(f"a venue called {venue.name!r} is already registered")
    VENUES[venue.name] = venue


def unregister(name: str) -> None:
    """Remove a venue added with ``register``."""
    spec(name)
    del VENUES[name]


class Column(Mapping[str, Any]):
    """One field of every registered venue, by name, read live: ``Column("label")["aster"]``."""

    def __init__(self, field: str) -> None:
        self._field = field

    def __getitem__(self, name: str) -> Any:
        return getattr(VENUES[name], self._field)

    def __iter__(self) -> Iterator[str]:
        return iter(list(VENUES))

    def __len__(self) -> int:
        return len(VENUES)

    def __repr__(self) -> str:
        return f"Column({self._field!r}: {dict(self)!r})"


def errors() -> tuple[type[Exception], ...]:
    """Every registered venue's refusal class."""
    return tuple(v.error_class() for v in VENUES.values())
