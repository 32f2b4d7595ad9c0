"""The typed columns of every frame, and the CCXT-compatible names for funding and liquidations.

Every loader returns these columns in this order, whatever the venue: UTC datetimes (ms), float64
numbers, categorical coins. Columns a venue does not report are null, never missing.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Backend = Literal["pandas", "polars"]
UTC_MS = pl.Datetime("ms", "UTC")
COIN = pl.Categorical()

# one payment per position per funding interval; usdc is the signed cash flow to the account
FUNDING: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "usdc": pl.Float64(),
    "szi": pl.Float64(),
    "funding_rate": pl.Float64(),
    "n_samples": pl.Int64(),
    # Hyperliquid stamps every funding row with the zero hash; as a category it costs 4 bytes a row
    # (and, cast from Arrow, it no longer pins the whole parsed page in memory)
    "hash": pl.Categorical(),
}
# the venue's rate for a coin per funding interval (hourly on Hyperliquid, 8-hourly or hourly on Aster)
FUNDING_RATES: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "funding_rate": pl.Float64(),
    "premium": pl.Float64(),
}
FILLS: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "side": pl.Categorical(),  # "buy" / "sell"
    "px": pl.Float64(),
    "sz": pl.Float64(),
    "dir": pl.Categorical(),  # "Open Long", "Close Short", ...
    "closed_pnl": pl.Float64(),
    "fee": pl.Float64(),
    "start_position": pl.Float64(),
    "crossed": pl.Boolean(),
    "liquidation": pl.Boolean(),  # closed the account's own position in a liquidation
    "mark_px": pl.Float64(),  # the mark price of a liquidation fill
    "oid": pl.Int64(),
    "tid": pl.Int64(),
    "hash": pl.String(),
}
# userNonFundingLedgerUpdates: one row per update; liquidation fields are null on other types
LEDGER: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "type": pl.Categorical(),
    "usdc": pl.Float64(),
    "liquidated_ntl_pos": pl.Float64(),
    "account_value": pl.Float64(),
    "leverage_type": pl.Categorical(),
    "liquidated_positions": pl.Int64(),
    "hash": pl.String(),
}
# one row per liquidated position; side is the side of the position that was closed
LIQUIDATIONS: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "side": pl.Categorical(),  # "long" / "short"
    "size": pl.Float64(),
    "price": pl.Float64(),
    "notional": pl.Float64(),
    "mark_px": pl.Float64(),
    "entry_px": pl.Float64(),
    "closed_pnl": pl.Float64(),
    "fee": pl.Float64(),
    "account_value": pl.Float64(),
    "method": pl.Categorical(),
    "hash": pl.String(),
}
POSITIONS: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "szi": pl.Float64(),
    "entry_px": pl.Float64(),
    "mark_px": pl.Float64(),
    "position_value": pl.Float64(),
    "unrealized_pnl": pl.Float64(),
    "return_on_equity": pl.Float64(),
    "liquidation_px": pl.Float64(),
    "margin_used": pl.Float64(),
    "leverage": pl.Float64(),
    "leverage_type": pl.Categorical(),
    # funding received (positive = money into the account, as in FUNDING's usdc); Hyperliquid's own
    # clearinghouseState counts funding paid as positive, and is negated on the way in
    "cum_funding_all_time": pl.Float64(),
    "cum_funding_since_open": pl.Float64(),
}
ACCOUNT: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "account_value": pl.Float64(),
    "total_margin_used": pl.Float64(),
    "total_ntl_pos": pl.Float64(),
    "total_raw_usd": pl.Float64(),
    "withdrawable": pl.Float64(),
    "cross_maintenance_margin_used": pl.Float64(),
    "positions": pl.Int64(),
}

OPEN_ORDERS: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "side": pl.Categorical(),  # "buy" / "sell"
    "price": pl.Float64(),
    "size": pl.Float64(),
    "orig_size": pl.Float64(),
    "oid": pl.Int64(),
    "cloid": pl.String(),
}

# one row per candle: ``time`` opens it; prices are the mark's path (the sandbox) or trades (a venue)
CANDLES: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "close_time": UTC_MS,
    "coin": COIN,
    "interval": pl.Categorical(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),  # in the coin
    "trades": pl.Int64(),
}
# one row per price level of one side, best first; ``cum_size`` adds the levels up to this one
ORDER_BOOK: dict[str, pl.DataType] = {
    "time": UTC_MS,
    "coin": COIN,
    "side": pl.Categorical(),  # "bid" / "ask"
    "level": pl.Int64(),  # 0 = best
    "price": pl.Float64(),
    "size": pl.Float64(),
    "orders": pl.Int64(),
    "cum_size": pl.Float64(),
    "cum_notional": pl.Float64(),
}

KINDS: dict[str, dict[str, pl.DataType]] = {
    "funding": FUNDING,
    "funding_rates": FUNDING_RATES,
    "fills": FILLS,
    "ledger": LEDGER,
    "liquidations": LIQUIDATIONS,
    "positions": POSITIONS,
    "account": ACCOUNT,
    "open_orders": OPEN_ORDERS,
    "candles": CANDLES,
    "order_book": ORDER_BOOK,
}


def empty(kind: str) -> pl.DataFrame:
    """A frame of ``kind`` with no rows and the right columns and types."""
    return pl.DataFrame(schema=KINDS[kind])


def conform(df: pl.DataFrame, kind: str) -> pl.DataFrame:
    """``df`` with exactly ``kind``'s columns, in order and typed; absent columns become null."""
    schema = KINDS[kind]
    return df.select(
        [
            (pl.col(c) if c in df.columns else pl.lit(None)).cast(t, strict=False).alias(c)
            for c, t in schema.items()
        ]
    )


def check_backend(backend: str) -> None:
    """Refuse a backend other than pandas or polars, before any request."""
    if backend not in ("pandas", "polars"):
        raise ValueError(f"backend must be 'pandas' or 'polars', not {backend!r}")


def output(df: pl.DataFrame, backend: Backend) -> pl.DataFrame | object:
    """The frame in the library asked for: polars as is, pandas through Arrow (categoricals stay
    categorical, datetimes stay UTC)."""
    check_backend(backend)
    return df if backend == "polars" else df.to_pandas()


# -- CCXT's unified rows (reference/venues.md §F) ---------------------------------------------------


def ccxt_symbol(coin: pl.Expr, quote: str) -> pl.Expr:
    """CCXT's linear-perp symbol: ``BTC`` → ``BTC/USDC:USDC``."""
    return pl.concat_str([coin.cast(pl.String), pl.lit(f"/{quote}:{quote}")]).cast(pl.Categorical)


def _timestamps(df: pl.DataFrame) -> list[pl.Expr]:
    return [pl.col("time").dt.epoch("ms").alias("timestamp"), pl.col("time").alias("datetime")]


def ccxt_funding_history(df: pl.DataFrame, quote: str) -> pl.DataFrame:
    """FundingHistory: symbol, code, timestamp, datetime, id, amount, rate."""
    return df.select(
        ccxt_symbol(pl.col("coin"), quote).alias("symbol"),
        pl.lit(quote).cast(pl.Categorical).alias("code"),
        *_timestamps(df),
        pl.col("hash").alias("id"),
        pl.col("usdc").alias("amount"),
        pl.col("funding_rate").alias("rate"),
    )


def ccxt_funding_rate_history(df: pl.DataFrame, quote: str) -> pl.DataFrame:
    """FundingRateHistory: symbol, fundingRate, timestamp, datetime."""
    return df.select(
        ccxt_symbol(pl.col("coin"), quote).alias("symbol"),
        pl.col("funding_rate").alias("fundingRate"),
        *_timestamps(df),
    )


def ccxt_liquidations(df: pl.DataFrame, quote: str) -> pl.DataFrame:
    """Liquidation: symbol, timestamp, datetime, price, baseValue, quoteValue, contracts,
    contractSize, side (as CCXT's safe_liquidation fills them: baseValue = contracts × size)."""
    return df.select(
        ccxt_symbol(pl.col("coin"), quote).alias("symbol"),
        *_timestamps(df),
        pl.col("price"),
        pl.col("size").alias("baseValue"),
        (pl.col("size") * pl.col("price")).alias("quoteValue"),
        pl.col("size").alias("contracts"),
        pl.lit(1.0).alias("contractSize"),
        pl.col("side"),
    )
