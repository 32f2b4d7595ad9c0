"""The perps engine: Hyperliquid's mechanics as pure Python and numpy (no HTTP, no SQL).

``specs`` holds contract rules (tiers, ticks, lots, fees), ``funding`` the funding formula and
payments, ``margin`` maintenance margin and liquidation prices.
"""
