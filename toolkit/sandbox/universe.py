"""The perpetual contracts the sandbox lists, with Hyperliquid's real specs (reference/hyperliquid.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Contract:
    name: str
    sz_decimals: int
    max_leverage: int


UNIVERSE: tuple[Contract, ...] = (
    Contract("BTC", 5, 40),
    Contract("ETH", 4, 25),
    Contract("SOL", 2, 20),
    Contract("AVAX", 2, 10),
    Contract("LINK", 1, 10),
    Contract("ARB", 1, 10),
    Contract("DOGE", 0, 10),
)
ASSET_ID = {c.name: i for i, c in enumerate(UNIVERSE)}


def meta() -> dict:
    """``/info {"type": "meta"}``: the universe in listing order (the index is the asset id)."""
    return {
        "universe": [
            {"name": c.name, "szDecimals": c.sz_decimals, "maxLeverage": c.max_leverage} for c in UNIVERSE
        ]
    }
