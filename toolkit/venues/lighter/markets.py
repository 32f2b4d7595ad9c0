"""Lighter's perpetual markets as the venue numbers and sizes them, over the sandbox's coins.

Lighter prices and sizes are integers on the wire (``price · 10^price_decimals``, ``size ·
10^size_decimals``) and text with exactly that many decimals in its reads: the SDK turns book
prices back into integers by deleting the dot, so ``"2361.30"`` must never be ``"2361.3"``.
Margin fractions are in 1/10,000 (500 = 5% = 20x).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

QUOTE_DECIMALS = 6  # USDC on Lighter; a market's size and price decimals add up to it
ALL_MARKETS = 255  # the "nil" market id: every market, in queries
MAX_MARKET_ID = 2**48 - 1  # market ids are no longer 16-bit (reference/lighter-reads.md §2)
MARGIN_SCALE = 10_000


@dataclass(frozen=True)
class LighterMarket:
    """One perpetual market: its id, symbol, decimals, order minimums and margin fractions."""

    market_id: int
    symbol: str
    size_decimals: int
    min_base_amount: str
    min_initial_margin_fraction: int  # the most leverage: 10,000 / this
    maintenance_margin_fraction: int
    closeout_margin_fraction: int
    default_initial_margin_fraction: int = 500  # 20x until the account sets its leverage
    min_quote_amount: str = "10.000000"

    @property
    def price_decimals(self) -> int:
        """Decimals of a price: the quote's six less the size's."""
        return QUOTE_DECIMALS - self.size_decimals

    @property
    def max_leverage(self) -> float:
        """The most leverage the market allows."""
        return MARGIN_SCALE / self.min_initial_margin_fraction

    def price(self, value: float) -> str:
        """A price as Lighter prints it: exactly ``price_decimals`` decimals."""
        return fixed(value, self.price_decimals)

    def size(self, value: float) -> str:
        """A size as Lighter prints it: exactly ``size_decimals`` decimals."""
        return fixed(value, self.size_decimals)


def fixed(value: float, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals, rounded half to even (never ``1e-05``)."""
    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN))


# ETH 0 and BTC 1 are Lighter's own ids (reference/lighter-reads.md §2), and ETH's decimals, minimum
# and fractions are its captured mainnet values. The other ids are the sandbox's choice; their size
# decimals are Hyperliquid's for the coin, and their fractions follow the coin's maximum leverage there.
MARKETS: tuple[LighterMarket, ...] = (
    LighterMarket(0, "ETH", 4, "0.0050", 200, 120, 80),
    LighterMarket(1, "BTC", 5, "0.00020", 250, 150, 100),
    LighterMarket(2, "SOL", 2, "0.10", 500, 300, 200),
    LighterMarket(3, "DOGE", 0, "60", 1000, 600, 400, default_initial_margin_fraction=1000),
    LighterMarket(8, "LINK", 1, "1.0", 1000, 600, 400, default_initial_margin_fraction=1000),
    LighterMarket(9, "AVAX", 2, "0.50", 1000, 600, 400, default_initial_margin_fraction=1000),
    LighterMarket(50, "ARB", 1, "30.0", 1000, 600, 400, default_initial_margin_fraction=1000),
)
BY_ID = {m.market_id: m for m in MARKETS}
BY_SYMBOL = {m.symbol: m for m in MARKETS}


def selected(market_id: int) -> list[LighterMarket]:
    """The markets a ``market_id`` query asks for: one, or every one for 255."""
    if market_id == ALL_MARKETS:
        return list(MARKETS)
    return [BY_ID[market_id]] if market_id in BY_ID else []
