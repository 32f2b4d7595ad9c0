"""Lining up funding across venues: 3 venues x 50 coins x 1 year of hourly history (one venue
settling every 8 hours), each rate made hourly, joined by hour and coin, with the spread, its APR
and the sides to take. Target: ``analytics.cross_venue`` at least 2x faster than the same in pandas
(the baseline, same run, same data, same answer)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import polars as pl

from benchmarks.timing import best_per_call
from toolkit.frames import analytics, synthetic

COINS, HOURS = 50, 24 * 365
TARGET = 2.0


def _venues() -> dict[str, pl.DataFrame]:
    hourly = {
        name: synthetic.funding_rates(synthetic.funding_payments(coins=COINS, hours=HOURS, seed=seed))
        for name, seed in (("Hyperliquid", 1), ("Lighter", 3))
    }
    eight = synthetic.funding_rates(synthetic.funding_payments(coins=COINS, hours=HOURS, seed=2))
    every_8h = eight.filter(pl.col("time").dt.hour() % 8 == 0).with_columns(pl.col("funding_rate") * 8)
    return {"Hyperliquid": hourly["Hyperliquid"], "Aster": every_8h, "Lighter": hourly["Lighter"]}


def _pandas_cross_venue(rates: dict[str, pd.DataFrame]) -> pd.DataFrame:
    names, hourly = list(rates), []
    for venue, df in rates.items():
        df = df[["time", "coin", "funding_rate"]].assign(coin=lambda d: d["coin"].astype(str))
        step = df.sort_values("time").groupby("coin")["time"].apply(lambda t: t.diff().median())
        k = (step / pd.Timedelta(hours=1)).round().clip(1, 24).astype(int).rename("k")
        df = df.join(k, on="coin").reset_index(drop=True)
        rep = df.loc[df.index.repeat(df["k"])]
        back = rep.groupby(level=0).cumcount()
        rep = rep.assign(time=rep["time"].dt.floor("h") - pd.to_timedelta(back.to_numpy(), unit="h"),
                         **{venue: rep["funding_rate"] / rep["k"]})  # fmt: skip
        hourly.append(rep[["time", "coin", venue]].drop_duplicates(["time", "coin"], keep="last"))
    table = hourly[0]
    for frame in hourly[1:]:
        table = table.merge(frame, on=["time", "coin"], how="inner")
    values = table[names]
    table["spread"] = values.max(axis=1) - values.min(axis=1)
    table["spread_apr"] = table["spread"] * 24 * 365
    table["short"], table["long"] = values.idxmax(axis=1), values.idxmin(axis=1)
    return table.sort_values(["coin", "time"]).reset_index(drop=True)


def run() -> bool:
    venues = _venues()
    as_pandas = {name: frame.to_pandas() for name, frame in venues.items()}
    ours = best_per_call(lambda _: analytics.cross_venue(venues), 1, rounds=3)
    theirs = best_per_call(lambda _: _pandas_cross_venue(as_pandas), 1, rounds=2)
    mine, baseline = analytics.cross_venue(venues), _pandas_cross_venue(as_pandas)
    same = len(mine) == len(baseline) and np.allclose(
        mine["spread"].to_numpy(), baseline["spread"].to_numpy()
    )
    ratio = theirs / ours
    ok = same and ratio >= TARGET
    rows = sum(len(f) for f in venues.values())
    print(
        f"cross-venue funding, 3 venues x {COINS} coins x 1 year ({rows:,} rate rows, "
        f"{len(mine):,} aligned hours): {ours:.2f} s; pandas {theirs:.2f} s: {ratio:.1f}x "
        f"(target >= {TARGET:.0f}x)"
        f"{'' if same else ' (ANSWERS DIFFER)'} {'OK' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
