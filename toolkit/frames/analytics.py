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

import numpy as np
import polars as pl

from toolkit.times import to_ms
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
    # one integer key per (hour, coin): joins on it cost a fraction of joins on time and text
    known = sorted(
        set().union(*(set(df.get_column("coin").cast(pl.String).unique()) for df, _ in frames.values()))
    )
    if coins is not None:
        known = [c for c in known if c in set(coins)]
    coded = pl.Enum(known)  # a coin's number is its place in name order
    columns = []  # per venue: (hour, coin number, hourly rate) arrays
    for df, _ in frames.values():
        rows = df.select(
            (pl.col("time").dt.epoch("ms") // MS_PER_HOUR).alias("hour"),
            pl.col("coin")
            .cast(pl.String)
            .cast(coded, strict=False)
            .to_physical()
            .cast(pl.Int64)
            .alias("cid"),
            pl.col("funding_rate").cast(pl.Float64),
        ).drop_nulls()
        step = rows.sort("hour").group_by("cid").agg(pl.col("hour").diff().median().alias("k"))
        step = step.with_columns(pl.col("k").fill_null(1).round(0).cast(pl.Int64).clip(1, 24))
        rows = rows.join(step, on="cid", how="left")
        k = rows.get_column("k").to_numpy()
        hour, cid = rows.get_column("hour").to_numpy(), rows.get_column("cid").to_numpy()
        rate = rows.get_column("funding_rate").to_numpy() / k
        if k.max(initial=1) > 1:  # a rate settling every k hours pays 1/k in each hour it covers
            repeat = np.repeat(np.arange(len(k)), k)
            back = np.arange(len(repeat)) - np.repeat(np.cumsum(k) - k, k)
            hour, cid, rate = hour[repeat] - back, cid[repeat], rate[repeat]
        columns.append((hour, cid, rate))
    if not any(len(h) for h, _, _ in columns):
        return _back(pl.DataFrame(schema={"time": pl.Datetime("ms", "UTC"), "coin": pl.Categorical}), pandas)
    first = min(int(h.min()) for h, _, _ in columns if len(h))
    last = max(int(h.max()) for h, _, _ in columns if len(h))
    grids = []
    for hour, cid, rate in columns:  # one dense coin x hour grid per venue: a later row wins
        grid = np.full((len(known), last - first + 1), np.nan)
        grid[cid, hour - first] = rate
        grids.append(grid)
    values = np.stack(grids)  # venue x coin x hour
    covered = ~np.isnan(values).any(axis=0)
    coin_at, hour_at = np.nonzero(covered)  # coin by coin, then in time order
    cells = values[:, coin_at, hour_at].T  # row x venue
    high, low = cells.max(axis=1), cells.min(axis=1)
    sides = pl.Enum(names)
    table = pl.DataFrame(
        {
            "time": pl.Series((hour_at + first) * MS_PER_HOUR).cast(pl.Datetime("ms", "UTC")),
            "coin": pl.Series(coin_at.astype(np.uint32)),
            **{name: cells[:, i] for i, name in enumerate(names)},
            "spread": high - low,
            "spread_apr": (high - low) * HOURS_PER_YEAR,
            "short": pl.Series(cells.argmax(axis=1).astype(np.uint32)),
            "long": pl.Series(cells.argmin(axis=1).astype(np.uint32)),
        }
    ).with_columns(
        pl.col("coin").replace_strict(dict(enumerate(known)), return_dtype=pl.String).cast(pl.Categorical),
        pl.col("short").replace_strict(dict(enumerate(names)), return_dtype=sides),
        pl.col("long").replace_strict(dict(enumerate(names)), return_dtype=sides),
    )
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


def _utc_ms(df: pl.DataFrame) -> pl.DataFrame:
    """``time`` as UTC milliseconds, whatever unit or zone it came in (naive is UTC)."""
    dtype = df.schema["time"]
    time = pl.col("time")
    if isinstance(dtype, pl.Datetime):
        time = (
            time.dt.replace_time_zone("UTC") if dtype.time_zone is None else time.dt.convert_time_zone("UTC")
        )
        return df.with_columns(time.dt.cast_time_unit("ms"))
    return df.with_columns(time.cast(pl.Datetime("ms", "UTC")))


def account_history(
    fills: Any, funding: Any, ledger: Any, candles: Any, every: str = "1h", end: Any = None
) -> Any:
    """An account's equity and PnL at every ``every`` from its first event, rebuilt from its own
    history: what it deposited (``ledger``), traded (``fills``), paid in fees and was paid in
    funding (``funding``), with its positions marked to the price of the hour (``candles``' closes).

    Trading PnL is the cash the trades moved plus the positions at the mark, so a position's
    unrealised PnL is in it; ``pnl = trading + funding - fees`` and ``equity = deposits + pnl``.
    ``drawdown`` is the fall of equity from its running high, as a fraction. A candle's close is
    the price at its ``close_time`` (when the frame has one, as ``candles()`` returns it); ``end``
    (default: the last event) closes the curve, and a candle still open at ``end`` prices it.

    >>> from datetime import UTC, datetime
    >>> import polars as pl
    >>> from toolkit.frames import analytics
    >>> t = lambda h: datetime(2026, 1, 1, h, tzinfo=UTC)
    >>> ledger = pl.DataFrame({"time": [t(0)], "type": ["deposit"], "usdc": [1_000.0]})
    >>> fills = pl.DataFrame({"time": [t(1)], "coin": ["ETH"], "side": ["buy"], "px": [3_000.0],
    ...                       "sz": [0.1], "fee": [0.135]})
    >>> funding = pl.DataFrame({"time": [t(2)], "coin": ["ETH"], "usdc": [-0.05]})
    >>> candles = pl.DataFrame({"time": [t(h) for h in range(4)], "coin": ["ETH"] * 4,
    ...                         "close": [3_000.0, 3_000.0, 3_100.0, 2_900.0]})
    >>> curve = analytics.account_history(fills, funding, ledger, candles, end=t(3))
    >>> [round(x, 3) for x in curve["equity"]]  # from the deposit; the fill's hour is marked at its close
    [1000.0, 999.865, 1009.815, 989.815]
    >>> round(curve["trading_pnl"][-1], 3), round(curve["drawdown"].min(), 4)
    (-10.0, -0.0198)
    """
    f, pandas = _polars(fills)
    f, pay, led, marks = (
        _utc_ms(df) for df in (f, _polars(funding)[0], _polars(ledger)[0], _polars(candles)[0])
    )
    flows = led.filter(pl.col("usdc").is_not_null() & (pl.col("type").cast(pl.String) != "liquidation"))
    starts = [df.get_column("time").min() for df in (f, pay, flows) if df.height]
    if not starts:
        raise ValueError("no history: the account has no fills, payments or deposits")
    if "close_time" in marks.columns:  # a close is the price when the candle closes
        stamp = pl.col("close_time").cast(pl.Datetime("ms", "UTC")) + pl.duration(milliseconds=1)
        marks = marks.with_columns(stamp.alias("time"))
    if end is not None:
        last = pl.Series([to_ms(end, "end")]).cast(pl.Datetime("ms", "UTC"))[0]
        marks = marks.with_columns(pl.min_horizontal("time", pl.lit(last)).alias("time"))
    else:
        last = max(df.get_column("time").max() for df in (f, pay, flows) if df.height)
    first = min(starts)
    # the first event, every period boundary after it, and the end
    steps = pl.datetime_range(first, last, every, time_zone="UTC", time_unit="ms", eager=True).dt.truncate(
        every
    )
    ends = pl.Series([first, last]).cast(pl.Datetime("ms", "UTC"))
    grid = pl.DataFrame({"time": pl.concat([steps.filter(steps > first), ends])}).unique("time").sort("time")

    def running(df: pl.DataFrame, value: pl.Expr, name: str) -> pl.DataFrame:
        """``value`` summed up to each grid time (the events at that instant included)."""
        if not df.height:
            return grid.with_columns(pl.lit(0.0).alias(name))
        totals = df.sort("time").select("time", value.cum_sum().alias(name)).unique("time", keep="last")
        joined = grid.join_asof(totals.sort("time"), on="time", strategy="backward")
        return joined.with_columns(pl.col(name).fill_null(0.0))

    f = f.with_columns(pl.col("coin").cast(pl.String), pl.col("side").cast(pl.String))
    signed = pl.when(pl.col("side") == "buy").then(pl.col("sz")).otherwise(-pl.col("sz"))
    trading = grid.with_columns(pl.lit(0.0).alias("trading_pnl"))
    close = marks.with_columns(pl.col("coin").cast(pl.String)).sort("time")
    for coin in f.get_column("coin").unique().sort().to_list():
        mine = f.filter(pl.col("coin") == coin)
        position = running(mine, signed, "position")
        cash = running(mine, -signed * pl.col("px"), "cash")
        price = close.filter(pl.col("coin") == coin).select("time", pl.col("close").alias("mark"))
        # the mark of each hour: that hour's close (or, before the first candle, the first fill's price)
        at = grid.join_asof(price, on="time", strategy="backward").with_columns(
            pl.col("mark").fill_null(mine.get_column("px")[0])
        )
        value = position.join(cash, on="time").join(at, on="time")
        value = value.select("time", (pl.col("cash") + pl.col("position") * pl.col("mark")).alias("pnl"))
        trading = trading.join(value, on="time").select(
            "time", (pl.col("trading_pnl") + pl.col("pnl")).alias("trading_pnl")
        )
    out = (
        trading.join(running(f, pl.col("fee"), "fees"), on="time")
        .join(running(pay, pl.col("usdc"), "funding"), on="time")
        .join(running(flows, pl.col("usdc"), "deposits"), on="time")
        .with_columns((pl.col("trading_pnl") + pl.col("funding") - pl.col("fees")).alias("pnl"))
        .with_columns((pl.col("deposits") + pl.col("pnl")).alias("equity"))
        .with_columns((pl.col("equity") / pl.col("equity").cum_max() - 1).fill_nan(0.0).alias("drawdown"))
        .select("time", "equity", "deposits", "pnl", "trading_pnl", "funding", "fees", "drawdown")
    )
    return _back(out, pandas)


def performance(history: Any) -> Any:
    """One row summing up ``account_history``: PnL and its attribution to trading, funding and
    fees, the worst drawdown, and the Sharpe ratio of the hourly returns, annualised (deposits and
    withdrawals are not returns: each hour's PnL change over the equity it started with).

    >>> from datetime import UTC, datetime, timedelta
    >>> import polars as pl
    >>> from toolkit.frames import analytics
    >>> start = datetime(2026, 1, 1, tzinfo=UTC)
    >>> history = pl.DataFrame({"time": [start + timedelta(hours=h) for h in range(4)],
    ...                         "equity": [1000.0, 1010.0, 1005.0, 1020.0], "deposits": [1000.0] * 4,
    ...                         "pnl": [0.0, 10.0, 5.0, 20.0], "trading_pnl": [0.0, 11.0, 7.0, 23.0],
    ...                         "funding": [0.0, 0.0, -1.0, -1.0], "fees": [0.0, 1.0, 1.0, 2.0],
    ...                         "drawdown": [0.0, 0.0, -0.00495, 0.0]})
    >>> row = analytics.performance(history).row(0, named=True)
    >>> row["pnl"], row["trading_pnl"], row["funding"], row["fees"], row["max_drawdown"]
    (20.0, 23.0, -1.0, 2.0, -0.00495)
    """
    df, pandas = _polars(history)
    hours = (
        df.get_column("time").diff().dt.total_milliseconds().median() / MS_PER_HOUR if df.height > 1 else 1.0
    )
    start_equity = df.get_column("equity").shift(1)
    returns = (df.get_column("pnl").diff() / start_equity).filter(start_equity > 0).drop_nulls()
    spread = returns.std() if returns.len() > 1 else None
    sharpe = float(returns.mean()) / spread * (HOURS_PER_YEAR / (hours or 1.0)) ** 0.5 if spread else None
    out = (
        df.tail(1)
        .select(pl.col("time").alias("until"), "equity", "deposits", "pnl", "trading_pnl", "funding", "fees")
        .with_columns(
            pl.lit(df.get_column("drawdown").min(), pl.Float64).alias("max_drawdown"),
            pl.lit(sharpe, pl.Float64).alias("sharpe"),
            pl.lit(df.get_column("time").min(), df.schema["time"]).alias("since"),
        )
    )
    return _back(
        out.select("since", "until", *[c for c in out.columns if c not in ("since", "until")]), pandas
    )
