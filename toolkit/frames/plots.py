"""Plotly figures for what people would rather look at than read: funding rates over time,
cumulative funding PnL, rate distributions, carry, the spread between venues, equity and its
attribution, and prices with the account's fills. Money is positive into the account in every figure."""

from __future__ import annotations

from typing import Any

import polars as pl

from toolkit.frames import analytics


def _polars(frame: Any) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)


def _pandas(frame: pl.DataFrame) -> Any:
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String)).to_pandas()


def funding_rates(rates: Any, *, annualised: bool = True, window: str = "1d") -> Any:
    """Funding rate per coin over time, as APR (smoothed over ``window``) or raw.

    >>> from toolkit.frames import plots, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=72))
    >>> plots.funding_rates(rates).layout.title.text
    'Funding APR per coin (1d mean)'
    """
    import plotly.express as px

    df = _polars(rates)
    if annualised:
        df = analytics.rolling_apr(df, window).with_columns((pl.col("apr") * 100).alias("APR %"))
        y, title = "APR %", f"Funding APR per coin ({window} mean)"
    else:
        y, title = "funding_rate", "Funding rate per interval"
    fig = px.line(_pandas(df.sort("time")), x="time", y=y, color="coin", title=title)
    fig.update_layout(hovermode="x unified", legend_title_text="")
    return fig


def cumulative_funding(funding: Any, *, by: str = "coin") -> Any:
    """Cumulative funding PnL over time per coin (``by="coin"``) or for the whole account.

    >>> from toolkit.frames import plots, synthetic
    >>> paid = synthetic.funding_payments(coins=2, hours=72)
    >>> [trace.name for trace in plots.cumulative_funding(paid).data]
    ['C000', 'C001']
    """
    import plotly.express as px

    df = _polars(funding).sort("time")
    if by == "coin":
        df = df.with_columns(pl.col("usdc").cum_sum().over("coin").alias("cumulative"))
        fig = px.line(_pandas(df), x="time", y="cumulative", color="coin", title="Cumulative funding PnL")
    else:
        df = df.group_by("time").agg(pl.col("usdc").sum()).sort("time")
        df = df.with_columns(pl.col("usdc").cum_sum().alias("cumulative"))
        fig = px.area(_pandas(df), x="time", y="cumulative", title="Cumulative funding PnL (account)")
    fig.update_layout(yaxis_title="USDC", hovermode="x unified", legend_title_text="")
    return fig


def rate_histogram(rates: Any, *, bins: int = 80) -> Any:
    """The distribution of funding rates per coin.

    >>> from toolkit.frames import plots, synthetic
    >>> rates = synthetic.funding_rates(synthetic.funding_payments(coins=2, hours=72))
    >>> len(plots.rate_histogram(rates).data)
    2
    """
    import plotly.express as px

    fig = px.histogram(_pandas(_polars(rates)), x="funding_rate", color="coin", nbins=bins,
                       barmode="overlay", opacity=0.6, title="Funding-rate distribution")  # fmt: skip
    fig.update_layout(legend_title_text="")
    return fig


def carry(funding: Any, every: str = "1d") -> Any:
    """Funding PnL against price PnL per period, summed over coins.

    >>> from toolkit.frames import plots, synthetic
    >>> paid = synthetic.funding_payments(coins=2, hours=24 * 7)
    >>> [trace.name for trace in plots.carry(paid).data]
    ['funding (carry)', 'price']
    """
    import plotly.graph_objects as go

    df = _polars(analytics.carry(_polars(funding), every))
    df = df.group_by("period").agg(pl.col("funding_pnl", "price_pnl").sum()).sort("period")
    df = df.with_columns(pl.col("funding_pnl", "price_pnl").cum_sum().name.suffix("_cum"))
    pdf = _pandas(df)
    fig = go.Figure()
    fig.add_scatter(x=pdf["period"], y=pdf["funding_pnl_cum"], name="funding (carry)")
    fig.add_scatter(x=pdf["period"], y=pdf["price_pnl_cum"], name="price")
    fig.update_layout(title="Cumulative funding vs price PnL", yaxis_title="USDC", hovermode="x unified")
    return fig


def equity(samples: Any) -> Any:
    """Account value over time, from a frame of ``time`` and ``account_value`` samples.

    >>> from datetime import UTC, datetime
    >>> import polars as pl
    >>> from toolkit.frames import plots
    >>> samples = pl.DataFrame({"time": [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)],
    ...                         "account_value": [10_000.0, 10_250.0, 9_900.0]})
    >>> plots.equity(samples).layout.title.text
    'Equity'
    """
    import plotly.express as px

    df = _polars(samples).sort("time")
    fig = px.line(_pandas(df), x="time", y="account_value", title="Equity", markers=len(df) < 50)
    fig.update_layout(yaxis_title="account value (USDC)", xaxis_title="")
    return fig


def attribution(history: Any) -> Any:
    """An account's equity over time with its PnL taken apart: trading, funding and fees (fees
    drawn as what they took, below zero), from ``account_history`` or a backtest's ``equity``.

    >>> from datetime import UTC, datetime
    >>> import polars as pl
    >>> from toolkit.frames import plots
    >>> history = pl.DataFrame({"time": [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(3)],
    ...                         "equity": [1000.0, 1004.0, 1007.0], "trading_pnl": [0.0, 3.0, 4.0],
    ...                         "funding": [0.0, 1.5, 3.5], "fees": [0.0, 0.5, 0.5]})
    >>> [trace.name for trace in plots.attribution(history).data]
    ['equity', 'trading', 'funding', 'fees']
    """
    from plotly.subplots import make_subplots

    pdf = _pandas(_polars(history).sort("time"))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.06)
    fig.add_scatter(x=pdf["time"], y=pdf["equity"], name="equity", row=1, col=1)
    fig.add_scatter(x=pdf["time"], y=pdf["trading_pnl"], name="trading", row=2, col=1)
    fig.add_scatter(x=pdf["time"], y=pdf["funding"], name="funding", row=2, col=1)
    fig.add_scatter(x=pdf["time"], y=-pdf["fees"], name="fees", row=2, col=1)
    fig.update_layout(title="Equity, and its PnL by source", hovermode="x unified")
    fig.update_yaxes(title_text="equity (USDC)", row=1, col=1)
    fig.update_yaxes(title_text="cumulative PnL (USDC)", row=2, col=1)
    return fig


def prices_with_fills(candles: Any, fills: Any) -> Any:
    """Each coin's price (candle closes) with the account's fills on it: buys as green triangles up,
    sells as red triangles down, one panel per coin.

    >>> from datetime import UTC, datetime
    >>> import polars as pl
    >>> from toolkit.frames import plots
    >>> hours = [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(3)]
    >>> candles = pl.DataFrame({"time": hours, "coin": ["ETH"] * 3, "close": [3000.0, 3010.0, 2995.0]})
    >>> fills = pl.DataFrame({"time": hours[1:2], "coin": ["ETH"], "side": ["buy"],
    ...                       "px": [3008.5], "sz": [0.5]})
    >>> [trace.name for trace in plots.prices_with_fills(candles, fills).data]
    ['ETH price', 'ETH buys']
    """
    from plotly.subplots import make_subplots

    prices, trades = _polars(candles), _polars(fills)
    coins = list(dict.fromkeys(prices.get_column("coin").cast(pl.String).to_list()))
    fig = make_subplots(rows=max(1, len(coins)), cols=1, shared_xaxes=True, subplot_titles=coins or None,
                        vertical_spacing=0.08)  # fmt: skip
    for row, coin in enumerate(coins, start=1):
        series = _pandas(prices.filter(pl.col("coin").cast(pl.String) == coin).sort("time"))
        fig.add_scatter(x=series["time"], y=series["close"], name=f"{coin} price", mode="lines",
                        line={"color": "#555"}, row=row, col=1)  # fmt: skip
        for side, symbol, color in (("buy", "triangle-up", "#1a9850"), ("sell", "triangle-down", "#d73027")):
            mine = trades.filter(
                (pl.col("coin").cast(pl.String) == coin) & (pl.col("side").cast(pl.String) == side)
            )
            if mine.height:
                pdf = _pandas(mine)
                fig.add_scatter(x=pdf["time"], y=pdf["px"], mode="markers", name=f"{coin} {side}s",
                                marker={"symbol": symbol, "size": 10, "color": color},
                                customdata=pdf["sz"], hovertemplate="%{y} × %{customdata}<extra></extra>",
                                row=row, col=1)  # fmt: skip
    fig.update_layout(title="Prices and fills", height=260 * max(1, len(coins)) + 60, hovermode="x unified")
    return fig


def cross_venue(table: Any, coin: str) -> Any:
    """One coin's hourly funding on each venue (``analytics.cross_venue``) and the spread between the
    highest and the lowest as an APR: where the basis trade earns.

    >>> from toolkit.frames import analytics, plots, synthetic
    >>> hl = synthetic.funding_rates(synthetic.funding_payments(coins=1, hours=48, seed=1))
    >>> aster = synthetic.funding_rates(synthetic.funding_payments(coins=1, hours=48, seed=2))
    >>> table = analytics.cross_venue({"Hyperliquid": hl, "Aster": aster})
    >>> [trace.name for trace in plots.cross_venue(table, "C000").data]
    ['Hyperliquid', 'Aster', 'spread APR %']
    """
    from plotly.subplots import make_subplots

    df = _polars(table).filter(pl.col("coin").cast(pl.String) == coin).sort("time")
    venues = [c for c in df.columns if c not in ("time", "coin", "spread", "spread_apr", "short", "long")]
    pdf = _pandas(df)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("hourly rate (bps)", "spread between venues (APR %)"))  # fmt: skip
    for venue in venues:
        fig.add_scatter(x=pdf["time"], y=pdf[venue] * 10_000, name=venue, mode="lines", row=1, col=1)
    fig.add_scatter(x=pdf["time"], y=pdf["spread_apr"] * 100, name="spread APR %", mode="lines",
                    line={"color": "#444"}, row=2, col=1)  # fmt: skip
    fig.update_layout(title=f"{coin}: funding across venues", hovermode="x unified", height=520)
    return fig
