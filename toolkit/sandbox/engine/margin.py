"""Margin and liquidation prices (reference/hyperliquid.md §5).

``liq_px = price − side × margin_available / |size| / (1 − l × side)``, with ``l`` the maintenance
margin rate of the tier at the liquidation notional; cross uses ``account_value − maintenance``,
isolated ``isolated_margin − maintenance``.
"""

from __future__ import annotations

from toolkit.sandbox.engine.specs import Contract


def initial_margin(notional: float, leverage: float) -> float:
    return abs(notional) / leverage


def liquidation_price(contract: Contract, szi: float, price: float, margin_available: float) -> float | None:
    """The mark at which this position's margin falls to maintenance; None when it cannot."""
    if szi == 0:
        return None
    side = 1.0 if szi > 0 else -1.0
    size = abs(szi)
    tier = contract.tier_index(size * price)
    for _ in range(len(contract.tiers) + 1):
        mmr = contract.tiers[tier].mmr  # l is the rate of the tier at the liquidation notional
        px = price - side * margin_available / size / (1 - mmr * side)
        if px <= 0:
            return None
        found = contract.tier_index(size * px)
        if found == tier:
            return px
        tier = found
    return px


def isolated_liquidation_price(
    contract: Contract, szi: float, price: float, isolated_margin: float
) -> float | None:
    notional = abs(szi) * price
    return liquidation_price(contract, szi, price, isolated_margin - contract.maintenance_margin(notional))


def cross_liquidation_price(contract: Contract, szi: float, price: float, account_value: float,
                            maintenance_other: float = 0.0) -> float | None:  # fmt: skip
    """Cross: the whole account's value backs the position; other positions' maintenance counts."""
    notional = abs(szi) * price
    return liquidation_price(
        contract, szi, price, account_value - maintenance_other - contract.maintenance_margin(notional)
    )
