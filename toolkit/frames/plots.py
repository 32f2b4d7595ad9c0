"""Plotly figures for what people would rather look at than read: funding rates over time,
cumulative funding PnL, rate distributions and carry."""

from __future__ import annotations

from typing import Any

import polars as pl

from toolkit.frames import analytics


def _polars(frame: Any) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else pl.from_pandas(frame)


def _pandas(frame: pl.DataFrame) -> Any:
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String)).to_pandas()


def funding_rates(rates: Any, *, annualised: bool = True, window: str = "1d") -> Any:
    """Funding rate per coin over time, as APR (smoothed over ``window``) or raw."""
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
    """Cumulative funding PnL over time per coin (``by="coin"``) or for the whole account."""
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
    """The distribution of funding rates per coin."""
    import plotly.express as px

    fig = px.histogram(_pandas(_polars(rates)), x="funding_rate", color="coin", nbins=bins,
                       barmode="overlay", opacity=0.6, title="Funding-rate distribution")  # fmt: skip
    fig.update_layout(legend_title_text="")
    return fig


def carry(funding: Any, every: str = "1d") -> Any:
    """Funding PnL against price PnL per period, summed over coins."""
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
    """Account value over time, from a frame of ``time`` and ``account_value`` samples."""
    import plotly.express as px

    df = _polars(samples).sort("time")
    fig = px.line(_pandas(df), x="time", y="account_value", title="Equity", markers=len(df) < 50)
    fig.update_layout(yaxis_title="account value (USDC)", xaxis_title="")
    return fig


def prices_with_fills(candles: Any, fills: Any) -> Any:
    """Each coin's price (candle closes) with the account's fills on it: buys as green triangles up,
    sells as red triangles down, one panel per coin."""
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
