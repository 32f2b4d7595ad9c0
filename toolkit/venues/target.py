"""What a client talks to: a network's name (``"mainnet"``, ``"testnet"``, ``"demo"``...), a sandbox
handle (anything with a ``url``), or a base URL. One resolver for every venue's client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class HasUrl(Protocol):
    """A sandbox handle, or anything else that knows its base URL."""

    url: str


Target = str | HasUrl


@dataclass(frozen=True)
class Resolved:
    url: str  # the base URL, without a trailing slash
    network: str  # the network's name when it is one of the venue's (also by its URL), else "sandbox"


def resolve(target: Any, networks: Mapping[str, str], client: str, *, handle_path: str = "") -> Resolved:
    """``target`` as a base URL and the network it is. ``networks`` maps the venue's network names to
    their URLs; a handle's URL gets ``handle_path`` (where the venue's API sits in the sandbox)."""
    if isinstance(target, str) and target in networks:
        return Resolved(networks[target].rstrip("/"), target)
    if isinstance(target, HasUrl) and isinstance(target.url, str) and target.url.startswith("http"):
        return Resolved(target.url.rstrip("/") + handle_path, "sandbox")
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        url = target.rstrip("/")
        named = {u.rstrip("/"): name for name, u in networks.items()}
        return Resolved(url, named.get(url, "sandbox"))
    names = ", ".join(repr(n) for n in networks)
    raise ValueError(f"{client} needs {names}, a sandbox handle or a base URL")
