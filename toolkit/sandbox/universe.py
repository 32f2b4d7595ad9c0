"""The perpetual contracts the sandbox lists, in asset-id order, with Hyperliquid's real specs."""

from __future__ import annotations

from toolkit.sandbox.engine.specs import CONTRACTS

COINS: tuple[str, ...] = ("BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE")
ASSET_ID = {name: i for i, name in enumerate(COINS)}


def meta() -> dict:
    """``/info {"type": "meta"}``: the universe in listing order (the index is the asset id)."""
    return {
        "universe": [
            {"name": n, "szDecimals": CONTRACTS[n].sz_decimals, "maxLeverage": CONTRACTS[n].max_leverage}
            for n in COINS
        ],
        "marginTables": [
            [
                CONTRACTS[n].max_leverage,
                {
                    "description": n,
                    "marginTiers": [
                        {"lowerBound": f"{t.lower_bound:.1f}", "maxLeverage": t.max_leverage}
                        for t in CONTRACTS[n].tiers
                    ],
                },
            ]
            for n in COINS
        ],
    }
