"""Lighter's JSON for the clearinghouse's market: order book details and books, book orders, candles,
fundings and funding rates, in the shapes the official SDK's models read (lighter-reads.md §2-3).

The market is the one every paper venue trades on; Lighter sees it through its own market ids and
decimals (``toolkit.venues.lighter.markets``). Funding is the market's hourly rate, by Hyperliquid's
formula: Lighter publishes no formula of its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

from toolkit.sandbox.engine.market import FundingRow
from toolkit.sandbox.engine.marketdata import Candle, Level
from toolkit.venues import funding as formula
from toolkit.venues.lighter.markets import LighterMarket, fixed

MARKET_MAKER_ACCOUNT = 1  # the owner the synthetic book's orders show (an index no user gets)
ORDER_LIFETIME_MS = 28 * 24 * 3_600_000  # the SDK's default order expiry, as book orders show it
STANDARD_FEE = "0.0000"  # percent; standard accounts trade without fees (premium pays per account)


def order_book(m: LighterMarket, open_interest: float) -> dict[str, Any]:
    """One entry of ``orderBooks``: the fields every view of a market shares."""
    return {
        "symbol": m.symbol,
        "market_id": m.market_id,
        "market_type": "perp",
        "base_asset_id": 0,
        "quote_asset_id": 0,
        "status": "active",
        "taker_fee": STANDARD_FEE,
        "maker_fee": STANDARD_FEE,
        "liquidation_fee": "1.0000",
        "min_base_amount": m.min_base_amount,
        "min_quote_amount": m.min_quote_amount,
        "supported_size_decimals": m.size_decimals,
        "supported_price_decimals": m.price_decimals,
        "supported_quote_decimals": m.size_decimals + m.price_decimals,
        "order_quote_limit": "281474976.710655",
        "is_maker_fee_enabled": True,
        "is_taker_fee_enabled": True,
        "open_interest": open_interest,
    }


def order_book_detail(
    m: LighterMarket, mark: float, index: float, open_interest: float, day: list[Candle]
) -> dict[str, Any]:
    """One ``PerpsOrderBookDetail``: the market's specs, fractions and the last day's trading."""
    first, last = (day[0], day[-1]) if day else (None, None)
    low = min((c.low for c in day), default=mark)
    high = max((c.h for c in day), default=mark)
    change = (last.c / first.o - 1) * 100 if first and first.o else 0.0
    return order_book(m, open_interest) | {
        "size_decimals": m.size_decimals,
        "price_decimals": m.price_decimals,
        "quote_multiplier": 1,
        "default_initial_margin_fraction": m.default_initial_margin_fraction,
        "min_initial_margin_fraction": m.min_initial_margin_fraction,
        "maintenance_margin_fraction": m.maintenance_margin_fraction,
        "closeout_margin_fraction": m.closeout_margin_fraction,
        "last_trade_price": float(m.price(mark)),
        "daily_trades_count": sum(c.n for c in day),
        "daily_base_token_volume": round(sum(c.v for c in day), m.size_decimals),
        "daily_quote_token_volume": round(sum(c.v * (c.o + c.c) / 2 for c in day), 6),
        "daily_price_low": float(m.price(low)),
        "daily_price_high": float(m.price(high)),
        "daily_price_change": change,
        "daily_chart": {},
        "market_config": {
            "market_margin_mode": 0,
            "insurance_fund_account_index": 281474976710655,
            "liquidation_mode": 0,
            "force_reduce_only": False,
            "trading_hours": "",
            "funding_fee_discounts_enabled": False,
            "hidden": False,
            "rfq_enabled": False,
        },
        "strategy_index": 0,
        "mark_price": m.price(mark),
        "index_price": m.price(index),
        # the funding formula's parameters, in percent: Hyperliquid's, which the sandbox pays by (Lighter
        # publishes none): the 8-hour interest rate, the clamp of interest minus premium, the hourly cap
        "base_interest_rate": fixed(formula.INTEREST_8H * 100, 4),
        "funding_clamp_small": fixed(formula.CLAMP * 100, 4),
        "funding_clamp_big": fixed(formula.HOURLY_CAP * 100, 4),
        "funding_premium_multiplier": 1,
        "multiplier": "1",
        "market_flags": 0,
        "is_frozen": False,
    }


def _order_index(market_id: int, is_ask: bool, rank: int) -> int:
    """A stable index for a synthetic book order: the same level keeps its index between reads."""
    digest = hashlib.blake2b(f"{market_id}:{is_ask}:{rank}".encode(), digest_size=6).digest()
    return 281_474_976_710_656 + int.from_bytes(digest, "big") % 10**12


def simple_orders(m: LighterMarket, levels: list[Level], is_ask: bool, now: int) -> list[dict[str, Any]]:
    """The book's levels as ``SimpleOrder`` entries, best first, one order per level."""
    out = []
    for rank, level in enumerate(levels):
        index = _order_index(m.market_id, is_ask, rank)
        size = m.size(level.sz)
        out.append(
            {
                "order_index": index,
                "order_id": str(index),
                "owner_account_index": MARKET_MAKER_ACCOUNT,
                "initial_base_amount": size,
                "remaining_base_amount": size,
                "price": m.price(level.px),
                "order_expiry": now + ORDER_LIFETIME_MS,
                "transaction_time": 0,
            }
        )
    return out


def candle(m: LighterMarket, c: Candle, last_trade_id: int) -> dict[str, Any]:
    """One ``Candle``: ``t`` in ms, ``v`` base and ``V`` quote volume, ``i`` the last trade id."""
    return {
        "t": c.t,
        "o": float(m.price(c.o)),
        "h": float(m.price(c.h)),
        "l": float(m.price(c.low)),
        "c": float(m.price(c.c)),
        "v": round(c.v, m.size_decimals),
        "V": round(c.v * (c.o + c.c) / 2, 6),
        "i": last_trade_id,
    }


def funding(row: FundingRow, price: float) -> dict[str, Any]:
    """One ``Funding``: ``timestamp`` in seconds, ``rate`` in percent for the period, ``value`` the
    USDC a unit of position paid, ``direction`` the side that paid."""
    return {
        "timestamp": row.time // 1000,
        "value": f"{abs(row.rate) * price:.8f}",
        "rate": f"{abs(row.rate) * 100:.6f}",  # the venue prints 4 decimals; 6 keep the rate exact
        "direction": "long" if row.rate >= 0 else "short",
    }
