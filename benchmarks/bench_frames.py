"""The DataFrame views at millions of rows (issue 8).

Targets, each against its baseline in the same run:
- 1,000,000 raw Hyperliquid ``userFunding`` rows (JSON bytes) to a typed frame at least 10x faster
  than ``pandas.json_normalize`` followed by ``astype``;
- 10,000,000 funding rows aggregated by coin x day (sum, mean rate, count, cumulative sum) at
  least 2x faster than the same in pandas, and in at most 1.0 s;
- peak memory of both at most 2x the Arrow size of the data (measured in a fresh process: the
  growth of resident memory over what the input already holds).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time

import pandas as pd

from benchmarks.timing import best_per_call
from toolkit.frames import analytics, parse, synthetic

PARSE_ROWS = 1_000_000
AGG_COINS, AGG_HOURS = 50, 200_000  # 10,000,000 rows


def _pandas_parse(raw: bytes) -> pd.DataFrame:
    df = pd.json_normalize(json.loads(raw))
    df = df.astype({"delta.usdc": "float64", "delta.szi": "float64", "delta.fundingRate": "float64",
                    "delta.coin": "category"})  # fmt: skip
    df["time"] = pd.to_datetime(df["time"], unit="ms", utc=True)
    return df


def _pandas_daily(p: pd.DataFrame) -> pd.DataFrame:
    g = (
        p.assign(period=p["time"].dt.floor("D"))
        .groupby(["coin", "period"], observed=True)
        .agg(usdc=("usdc", "sum"), mean_rate=("funding_rate", "mean"), count=("usdc", "size"))
        .reset_index()
    )
    g["cum_usdc"] = g.groupby("coin", observed=True)["usdc"].cumsum()
    return g


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _peak_growth(fn) -> int:
    """The most resident memory grew above its level before ``fn`` ran (sampled every ms)."""
    before, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.001)

    t = threading.Thread(target=sample)
    t.start()
    try:
        fn()
    finally:
        done.set()
        t.join()
    return max(peak[0], _rss()) - before


def _memory_case(case: str, queue) -> None:
    if case == "parse":
        raw = synthetic.user_funding_json(synthetic.funding_payments(coins=8, hours=PARSE_ROWS // 8, seed=1))
        size = parse.user_funding(
            raw[: len(raw) // 100].rsplit(b"},{", 1)[0] + b"}]"
        ).estimated_size()  # warm-up
        grown = _peak_growth(lambda: queue.put(("size", parse.user_funding(raw).estimated_size())))
    else:
        df = synthetic.funding_payments(coins=AGG_COINS, hours=AGG_HOURS, seed=2)
        size = df.estimated_size()
        queue.put(("size", size))
        grown = _peak_growth(lambda: analytics.daily(df))
    queue.put(("grown", grown))


def _memory(case: str) -> tuple[int, int]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_case, args=(case, queue))
    proc.start()
    got = dict(queue.get(timeout=600) for _ in range(2))
    proc.join()
    return got["grown"], got["size"]


def run() -> bool:
    payments = synthetic.funding_payments(coins=8, hours=PARSE_ROWS // 8, seed=1)
    raw = synthetic.user_funding_json(payments)
    del payments
    ours = best_per_call(lambda _: parse.user_funding(raw), 1, rounds=3)
    theirs = best_per_call(lambda _: _pandas_parse(raw), 1, rounds=2)
    parse_ratio = theirs / ours

    rows = synthetic.funding_payments(coins=AGG_COINS, hours=AGG_HOURS, seed=2)
    agg = best_per_call(lambda _: analytics.daily(rows), 1, rounds=5)
    as_pandas = rows.to_pandas()
    agg_pandas = best_per_call(lambda _: _pandas_daily(as_pandas), 1, rounds=3)
    agg_ratio = agg_pandas / agg

    parse_grown, parse_size = _memory("parse")
    agg_grown, agg_size = _memory("aggregate")

    ok = parse_ratio >= 10 and agg_ratio >= 2 and agg <= 1.0
    ok = ok and parse_grown <= 2 * parse_size and agg_grown <= 2 * agg_size
    mb = 1 << 20
    print("DataFrame views")
    print(f"  userFunding JSON -> typed frame, {PARSE_ROWS:,} rows ({len(raw) / mb:.0f} MB): {ours:.2f} s; "
          f"json_normalize + astype {theirs:.2f} s: {parse_ratio:.1f}x (target >= 10x)")  # fmt: skip
    print(f"  coin x day aggregate, {rows.height:,} rows: {agg:.3f} s (target <= 1.0 s); "
          f"pandas {agg_pandas:.3f} s: {agg_ratio:.1f}x (target >= 2x)")  # fmt: skip
    print(f"  peak memory, parse: {parse_grown / mb:.0f} MB over the input, {parse_size / mb:.0f} MB frame "
          f"({parse_grown / parse_size:.2f}x; target <= 2x)")  # fmt: skip
    print(f"  peak memory, aggregate: {agg_grown / mb:.0f} MB over {agg_size / mb:.0f} MB of data "
          f"({agg_grown / agg_size:.2f}x; target <= 2x)")  # fmt: skip
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    run()
