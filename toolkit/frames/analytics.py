"""What a quant computes from funding history: per-coin daily and weekly aggregates, annualised
rates, cumulative funding per position, carry (funding against price PnL) and rate distributions.

Pure polars; every function takes a polars or pandas frame in the shape the loaders return and
answers in the same library it was given.
"""

from __future__ import annotations

from typing import Any

import polars as pl

HOURS_PER_YEAR = 24 * 365
MS_PER_HOUR = 3_600_000


def _polars(frame: Any) -> tuple[pl.DataFrame, bool]:
    if isinstance(frame, pl.DataFrame):
        return frame, False
    return pl.from_pandas(frame), True


def _back(frame: pl.DataFrame, pandas: bool) -> Any:
    return frame.to_pandas() if pandas else frame


def _period(every: str) -> pl.Expr:
    """The start of each row's period: "1d" days (UTC), "1w" ISO weeks from Monday, or any polars
    duration."""
    if every == "1d":  # integer floor: several times faster than truncate on millions of rows
        return ((pl.col("time").dt.epoch("ms") // 86_400_000) * 86_400_000).cast(pl.Datetime("ms", "UTC"))
    return pl.col("time").dt.truncate(every)


def aggregate(funding: Any, every: str = "1d") -> Any:
    """Per coin and period: funding PnL (``usdc`` summed), mean rate, payment count, and the
    running total of funding PnL per coin (``cum_usdc``)."""
    df, pandas = _polars(funding)
    rate = [pl.col("funding_rate").mean().alias("mean_rate")] if "funding_rate" in df.columns else []
    out = (
        df.lazy()
        .group_by(pl.col("coin"), _period(every).alias("period"))
        .agg(pl.col("usdc").sum().alias("usdc"), *rate, pl.len().alias("count"))
        .sort("coin", "period")
        .with_columns(pl.col("usdc").cum_sum().over("coin").alias("cum_usdc"))
        .collect()
    )
    return _back(out, pandas)


def daily(funding: Any) -> Any:
    return aggregate(funding, "1d")


def weekly(funding: Any) -> Any:
    return aggregate(funding, "1w")


def _interval_hours(df: pl.DataFrame) -> pl.Expr:
    """Each coin's funding interval: the median spacing of its rows, in hours (1 on Hyperliquid)."""
    hours = pl.col("time").sort().diff().dt.total_milliseconds().median() / MS_PER_HOUR
    return hours.round(6).alias("interval_hours")


def apr(rates: Any) -> Any:
    """Annualised funding per coin from rate history: mean rate × intervals per year (simple, as
    venues quote it), with the interval read from the data (hourly, 8-hourly, ...)."""
    df, pandas = _polars(rates)
    out = (
        df.group_by("coin")
        .agg(
            pl.col("funding_rate").mean().alias("mean_rate"),
            _interval_hours(df),
            pl.col("funding_rate").last().alias("last_rate"),
            pl.len().alias("count"),
        )
        .with_columns(
            (pl.col("mean_rate") * HOURS_PER_YEAR / pl.col("interval_hours")).alias("apr"),
            (pl.col("last_rate") * HOURS_PER_YEAR / pl.col("interval_hours")).alias("apr_now"),
        )
        .sort("coin")
    )
    return _back(out, pandas)


def rolling_apr(rates: Any, window: str = "7d") -> Any:
    """The annualised mean rate over a trailing ``window``, per coin, at every row."""
    df, pandas = _polars(rates)
    df = df.sort("coin", "time")
    interval = df.group_by("coin").agg(_interval_hours(df))
    out = (
        df.join(interval, on="coin")
        .with_columns(
            pl.col("funding_rate").rolling_mean_by("time", window_size=window).over("coin").alias("mean_rate")
        )
        .with_columns((pl.col("mean_rate") * HOURS_PER_YEAR / pl.col("interval_hours")).alias("apr"))
        .select("time", "coin", "funding_rate", "mean_rate", "apr")
    )
    return _back(out, pandas)


def distribution(rates: Any) -> Any:
    """Per coin: count, mean, std, min, 1/5/25/50/75/95/99th percentiles, max, the share of
    intervals with a positive rate (longs paying), and APR."""
    df, pandas = _polars(rates)
    r = pl.col("funding_rate")
    qs = {"p01": 0.01, "p05": 0.05, "p25": 0.25, "median": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
    out = (
        df.group_by("coin")
        .agg(
            pl.len().alias("count"), r.mean().alias("mean"), r.std().alias("std"), r.min().alias("min"),
            *[r.quantile(q, "linear").alias(name) for name, q in qs.items()],
            r.max().alias("max"), (r > 0).mean().alias("share_positive"), _interval_hours(df),
        )
        .with_columns((pl.col("mean") * HOURS_PER_YEAR / pl.col("interval_hours")).alias("apr"))
        .sort("coin")
    )  # fmt: skip
    return _back(out, pandas)


def _positions(df: pl.DataFrame, gap_intervals: float = 1.5) -> pl.DataFrame:
    """Rows numbered by position: a position is a run of payments on one coin with the same sign
    of ``szi`` and no gap longer than ``gap_intervals`` funding intervals."""
    df = df.sort("coin", "time")
    step = pl.col("time").diff().dt.total_milliseconds().over("coin")
    interval = step.median().over("coin")
    new = (
        (pl.col("szi").sign() != pl.col("szi").sign().shift(1).over("coin"))
        | (step > interval * gap_intervals)
        | step.is_null()
    )
    return df.with_columns(new.fill_null(True).cum_sum().over("coin").alias("position"))


def position_funding(funding: Any) -> Any:
    """Every payment with its position number and the position's cumulative funding PnL so far
    (``cum_usdc``): what the position has earned or paid in funding since it opened."""
    df, pandas = _polars(funding)
    out = _positions(df).with_columns(pl.col("usdc").cum_sum().over("coin", "position").alias("cum_usdc"))
    return _back(out, pandas)


def positions_summary(funding: Any) -> Any:
    """One row per position: coin, side, opened, last payment, payments, mean size and the funding
    it earned (usdc > 0) or paid."""
    df, pandas = _polars(funding)
    out = (
        _positions(df)
        .group_by("coin", "position")
        .agg(
            pl.when(pl.col("szi").first() > 0).then(pl.lit("long")).otherwise(pl.lit("short")).alias("side"),
            pl.col("time").min().alias("opened"),
            pl.col("time").max().alias("last_payment"),
            pl.len().alias("payments"),
            pl.col("szi").abs().mean().alias("mean_size"),
            pl.col("usdc").sum().alias("usdc"),
        )
        .sort("opened", "coin")
    )
    return _back(out, pandas)


def carry(funding: Any, every: str = "1d") -> Any:
    """Funding PnL against price PnL per coin and period, from the payments alone.

    Hyperliquid pays ``usdc = -szi × oracle × rate``, so each payment implies the oracle price;
    the price PnL between two payments of one position is ``szi × Δprice``. ``carry_share`` is
    funding's part of the total (1.0: all carry, no price move). Payments at a zero rate imply no
    price; the last known one is carried forward."""
    df, pandas = _polars(funding)
    implied = pl.when((pl.col("szi") != 0) & (pl.col("funding_rate") != 0)).then(
        -pl.col("usdc") / (pl.col("szi") * pl.col("funding_rate"))
    )
    df = (
        _positions(df)
        .with_columns(implied.alias("oracle_px"))
        .with_columns(pl.col("oracle_px").forward_fill().over("coin", "position"))
        .with_columns(
            (pl.col("szi").shift(1) * pl.col("oracle_px").diff())
            .over("coin", "position")
            .fill_null(0.0)
            .alias("price_pnl")
        )
    )
    out = (
        df.group_by("coin", _period(every).alias("period"))
        .agg(pl.col("usdc").sum().alias("funding_pnl"), pl.col("price_pnl").sum())
        .with_columns((pl.col("funding_pnl") + pl.col("price_pnl")).alias("total_pnl"))
        .with_columns(
            pl.when(pl.col("funding_pnl").abs() + pl.col("price_pnl").abs() > 0)
            .then(pl.col("funding_pnl").abs() / (pl.col("funding_pnl").abs() + pl.col("price_pnl").abs()))
            .alias("carry_share")
        )
        .sort("coin", "period")
    )
    return _back(out, pandas)
