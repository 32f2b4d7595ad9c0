"""Large synthetic funding histories, for trying the analytics at scale and for the benchmarks:
hourly rates that wander around Hyperliquid's 0.00125% baseline, prices that random-walk, and
positions that flip side from time to time, with payments by Hyperliquid's formula."""

from __future__ import annotations

import numpy as np
import polars as pl

from toolkit.frames import schema
from toolkit.frames.timing import TimeLike, to_ms

BASELINE = 0.0000125  # Hyperliquid's hourly rate when the premium is inside the clamp


def funding_payments(
    coins: int = 8, hours: int = 24 * 365, *, seed: int = 0, start: TimeLike = "2025-01-01"
) -> pl.DataFrame:
    """``coins × hours`` hourly payments, as ``Hyperliquid.user_funding`` returns them."""
    rng = np.random.default_rng(seed)
    names = [f"C{i:03d}" for i in range(coins)]
    t0 = to_ms(start)
    # rates: an AR(1) around the baseline, clipped at the venue's 4% hourly cap
    shocks = rng.normal(0.0, 0.00001, size=(hours, coins))
    rates = np.empty((hours, coins))
    level = np.full(coins, BASELINE)
    for h in range(hours):
        level = BASELINE + 0.97 * (level - BASELINE) + shocks[h]
        rates[h] = level
    np.clip(rates, -0.04, 0.04, out=rates)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.006, size=(hours, coins)), axis=0))
    # positions: a notional of 1k-50k held for 1-30 days, then flipped or resized
    szi = np.empty((hours, coins))
    for c in range(coins):
        h = 0
        while h < hours:
            length = int(rng.integers(24, 24 * 30))
            notional = float(rng.uniform(1_000, 50_000)) * (1 if rng.random() < 0.5 else -1)
            szi[h : h + length, c] = notional / prices[h, c]
            h += length
    usdc = -szi * prices * rates
    times = t0 + np.arange(1, hours + 1, dtype=np.int64) * 3_600_000
    frame = pl.DataFrame(
        {
            "time": np.repeat(times, coins),
            "coin": pl.Series(np.tile(np.array(names), hours)).cast(pl.Categorical),
            "usdc": usdc.ravel(),
            "szi": szi.ravel(),
            "funding_rate": rates.ravel(),
        }
    )
    return schema.conform(frame.with_columns(pl.col("time").cast(schema.UTC_MS)), "funding")


def funding_rates(payments: pl.DataFrame) -> pl.DataFrame:
    """The rate history behind ``funding_payments`` (one row per coin and hour)."""
    return schema.conform(payments.select("time", "coin", "funding_rate"), "funding_rates")


def user_funding_json(payments: pl.DataFrame) -> bytes:
    """``payments`` as the raw JSON Hyperliquid's ``userFunding`` answers with (numbers as strings)."""
    import orjson

    rows = payments.select(
        pl.col("time").dt.epoch("ms"), pl.col("coin").cast(pl.String), "usdc", "szi", "funding_rate"
    ).iter_rows()
    zero = "0x" + "0" * 64
    return orjson.dumps(
        [
            {"delta": {"type": "funding", "coin": coin, "usdc": f"{usdc:.6f}", "szi": f"{szi:.5f}",
                       "fundingRate": f"{rate:.10f}", "nSamples": None}, "hash": zero, "time": time}
            for time, coin, usdc, szi, rate in rows
        ]
    )  # fmt: skip
