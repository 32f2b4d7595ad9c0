"""What a quant computes from funding history: per-coin daily and weekly aggregates (of payments
or of rates), annualised rates, the same coins' rates across venues and the spread between them,
the next hour's rate predicted from the premium, cumulative funding per position, carry (funding
against price PnL) and rate distributions.

Pure polars; every function takes a polars or pandas frame in the shape the loaders return and
answers in the same library it was given. Money is positive into the account; a positive rate is
paid by longs to shorts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from toolkit.venues import funding as formula

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
    """Per coin and period (``"1d"``, ``"1w"`` or any polars duration).

    Payments (``user_funding``: a ``usdc`` column): funding PnL (``usdc`` summed), mean rate, count,
    and the running total per coin (``cum_usdc``). Rates (``funding_history``): the mean rate, in
    basis points and annualised (``apr``, by the interval the data shows), the lowest and highest,
    and the count.

    >>> from toolkit.frames import analytics, synthetic
    >>> paid = synthetic.funding_payments(coins=2, hours=48)
    >>> analytics.aggregate(paid, "1d").columns
    ['coin', 'period', 'usdc', 'mean_rate', 'count', 'cum_usdc']
    >>> rates = synthetic.funding_rates(paid)
    >>> analytics.aggregate(rates, "1d").columns
    ['coin', 'period', 'mean_rate', 'mean_bps', 'apr', 'min_rate', 'max_rate', 'count']
    """
    df, pandas = _polars(funding)
    if "usdc" not in df.columns:
        return _back(_rate_aggregate(df, every), pandas)
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


def _rate_aggregate(df: pl.DataFrame, every: str) -> pl.DataFrame:
    interval = df.group_by("coin").agg(_interval_hours(df))
    r = pl.col("funding_rate")
    return (
        df.lazy()
        .group_by(pl.col("coin"), _period(every).alias("period"))
        .agg(
            r.mean().alias("mean_rate"),
            r.min().alias("min_rate"),
            r.max().alias("max_rate"),
            pl.len().alias("count"),
        )
        .join(interval.lazy(), on="coin", how="left")
        .with_columns(
            (pl.col("mean_rate") * 10_000).alias("mean_bps"),
            (pl.col("mean_rate") * HOURS_PER_YEAR / pl.col("interval_hours")).alias("apr"),
        )
        .select("coin", "period", "mean_rate", "mean_bps", "apr", "min_rate", "max_rate", "count")
        .sort("coin", "period")
        .collect()
    )


def daily(funding: Any) -> Any:
    """``aggregate`` by UTC day: payments (funding PnL) or rates (mean, bps, APR), whichever it is given.

    >>> from toolkit.frames import analytics, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=3, hours=72))
    >>> analytics.daily(rates).height  # 3 coins x 4 days (the last payment opens a 4th day)
    12
    """
    return aggregate(funding, "1d")


def weekly(funding: Any) -> Any:
    """``aggregate`` by ISO week (from Monday): payments or rates.

    >>> from toolkit.frames import analytics, synthetic
    >>> paid = synthetic.funding_payments(coins=1, hours=24 * 14, start="2025-01-06")
    >>> analytics.weekly(paid)["count"].to_list()  # paid at the end of each hour: Monday 01:00 on
    [167, 168, 1]
    """
    return aggregate(funding, "1w")


def cross_venue(rates: Mapping[str, Any], *, coins: list[str] | None = None) -> Any:
    """The same coins' funding on several venues, hour by hour: the basis trade's table.

    ``rates`` maps a venue's name to its rate history (``Hyperliquid.funding_history``,
    ``Aster.funding_rate``, ...). Each rate becomes hourly (an 8-hour rate pays an eighth each hour
    of the interval it settles); one column per venue. ``spread`` is the highest hourly rate less
    the lowest, ``spread_apr`` its annual rate, and ``short`` / ``long`` name the venues to short
    (the highest rate, paid by longs) and to be long on. Only hours every venue covers are kept.

    >>> import polars as pl
    >>> from toolkit.frames import analytics, synthetic
    >>> hl = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=48, seed=1))
    >>> aster = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=48, seed=2))
    >>> table = analytics.cross_venue({"Hyperliquid": hl, "Aster": aster})
    >>> table.columns
    ['time', 'coin', 'Hyperliquid', 'Aster', 'spread', 'spread_apr', 'short', 'long']
    >>> bool((table["spread"] >= 0).all()), table.height
    (True, 96)
    """
    frames = {venue: _polars(frame) for venue, frame in rates.items()}
    pandas = any(is_pandas for _, is_pandas in frames.values())
    names = list(frames)
    if len(names) < 2:
        raise ValueError("cross_venue compares two venues or more")
    hourly = []
    for venue, (df, _) in frames.items():
        df = df.select(pl.col("time"), pl.col("coin").cast(pl.String), "funding_rate")
        if coins is not None:
            df = df.filter(pl.col("coin").is_in(coins))
        interval = df.group_by("coin").agg(_interval_hours(df).round(0).cast(pl.Int64).clip(1, 24))
        expanded = (
            df.join(interval, on="coin")
            .with_columns(pl.int_ranges(0, pl.col("interval_hours")).alias("back"))
            .explode("back")
            .select(
                (pl.col("time").dt.truncate("1h") - pl.duration(hours=pl.col("back"))).alias("time"),
                "coin",
                (pl.col("funding_rate") / pl.col("interval_hours")).alias(venue),
            )
        )
        hourly.append(expanded.unique(["time", "coin"], keep="last"))
    table = hourly[0]
    for frame in hourly[1:]:
        table = table.join(frame, on=["time", "coin"], how="inner")
    values = pl.concat_list(names)
    venues = pl.concat_list([pl.lit(n) for n in names])
    high, low = values.list.max(), values.list.min()
    table = table.with_columns(
        (high - low).alias("spread"),
        ((high - low) * HOURS_PER_YEAR).alias("spread_apr"),
        venues.list.get(values.list.arg_max()).alias("short"),
        venues.list.get(values.list.arg_min()).alias("long"),
    ).sort("coin", "time")
    table = table.with_columns(pl.col("coin").cast(pl.Categorical))
    return _back(table.select("time", "coin", *names, "spread", "spread_apr", "short", "long"), pandas)


def predicted(rates: Any) -> Any:
    """The rate the next hour pays, per coin, from the latest premium (Hyperliquid's formula:
    the 8-hour rate is the premium plus the 0.01% interest, the difference clamped to ±0.05%).

    >>> import polars as pl
    >>> from toolkit.frames import analytics
    >>> rates = pl.DataFrame({"time": [0, 3_600_000], "coin": ["BTC", "BTC"],
    ...                       "funding_rate": [0.0000125, 0.0000125], "premium": [0.0, 0.0008]})
    >>> rates = rates.with_columns(pl.col("time").cast(pl.Datetime("ms", "UTC")))
    >>> row = analytics.predicted(rates).row(0, named=True)
    >>> row["coin"], round(row["predicted_rate"], 10), round(row["predicted_apr"], 4)  # (0.0008 - 0.0005) / 8
    ('BTC', 3.75e-05, 0.3285)
    """
    df, pandas = _polars(rates)
    latest = df.sort("time").group_by("coin").agg(pl.col("time").last(), pl.col("premium").last())
    rate = formula.hourly_rate(latest["premium"].cast(pl.Float64).to_numpy())
    out = latest.with_columns(
        (pl.col("time") + pl.duration(hours=1)).alias("time"),
        pl.Series("predicted_rate", rate, dtype=pl.Float64),
    ).with_columns((pl.col("predicted_rate") * HOURS_PER_YEAR).alias("predicted_apr"))
    return _back(
        out.select("coin", "time", "premium", "predicted_rate", "predicted_apr").sort("coin"), pandas
    )


def _interval_hours(df: pl.DataFrame) -> pl.Expr:
    """Each coin's funding interval: the median spacing of its rows, in hours (1 on Hyperliquid)."""
    hours = pl.col("time").sort().diff().dt.total_milliseconds().median() / MS_PER_HOUR
    return hours.round(6).alias("interval_hours")


def apr(rates: Any) -> Any:
    """Annualised funding per coin from rate history: mean rate × intervals per year (simple, as
    venues quote it), with the interval read from the data (hourly, 8-hourly, ...).

    >>> from toolkit.frames import analytics, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=48))
    >>> table = analytics.apr(rates)
    >>> table["interval_hours"].to_list(), table.columns[-2:]
    ([1.0, 1.0], ['apr', 'apr_now'])
    """
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
    """The annualised mean rate over a trailing ``window``, per coin, at every row.

    >>> from toolkit.frames import analytics, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=1, hours=48))
    >>> analytics.rolling_apr(rates, "1d").columns
    ['time', 'coin', 'funding_rate', 'mean_rate', 'apr']
    """
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
    intervals with a positive rate (longs paying), and APR.

    >>> from toolkit.frames import analytics, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=240))
    >>> row = analytics.distribution(rates).row(0, named=True)
    >>> row["count"], row["min"] <= row["median"] <= row["max"]
    (240, True)
    """
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
    (``cum_usdc``): what the position has earned or paid in funding since it opened.

    >>> from toolkit.frames import analytics, synthetic
    >>> paid = synthetic.funding_payments(coins=1, hours=24 * 60)
    >>> by_position = analytics.position_funding(paid)
    >>> by_position["position"].n_unique() > 1  # sizes change every few days
    True
    """
    df, pandas = _polars(funding)
    out = _positions(df).with_columns(pl.col("usdc").cum_sum().over("coin", "position").alias("cum_usdc"))
    return _back(out, pandas)


def positions_summary(funding: Any) -> Any:
    """One row per position: coin, side, opened, last payment, payments, mean size and the funding
    it earned (usdc > 0) or paid.

    >>> from toolkit.frames import analytics, synthetic
    >>> paid = synthetic.funding_payments(coins=1, hours=24 * 60)
    >>> summary = analytics.positions_summary(paid)
    >>> int(summary["payments"].sum()), round(summary["usdc"].sum() - paid["usdc"].sum(), 9)
    (1440, 0.0)
    """
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
    price; the last known one is carried forward.

    >>> from toolkit.frames import analytics, synthetic
    >>> paid = synthetic.funding_payments(coins=1, hours=24 * 7)
    >>> analytics.carry(paid, "1d").columns
    ['coin', 'period', 'funding_pnl', 'price_pnl', 'total_pnl', 'carry_share']
    """
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
