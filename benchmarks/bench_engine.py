"""The paper engine's hot paths (issue 3).

Targets: one funding tick over 100,000 open positions in at most 50 ms (baseline: the same tick as
a plain Python loop, in the same run); a one-year hourly run (8,760 ticks) with 1,000 accounts x 3
positions, funding and liquidation checks included, in at most 10 s.
"""

from __future__ import annotations

import time

import numpy as np

from toolkit.sandbox.engine.core import Engine, FundingBatch, Liquidation
from toolkit.sandbox.market import HOUR_MS, SyntheticMarket

START = 1_767_225_600_000


def _engine_with_positions(n_positions: int, per_account: int = 3) -> Engine:
    market = SyntheticMarket(seed=42, start_ms=START)
    engine = Engine(market, capacity=n_positions)
    engine.keep_events = False
    rng = np.random.default_rng(7)
    marks = engine.marks()
    for account in range(n_positions // per_account):
        # deposits from 400 to 100,000 against 6,000 of notional: some accounts run at 15x
        engine.open_account(float(rng.choice([400.0, 800.0, 2_000.0, 100_000.0])))
        for c in rng.choice(len(engine.coins), per_account, replace=False):
            szi = float(rng.choice([-1, 1]) * 2_000 / marks[c])
            engine.positions.add(account, int(c), szi=szi, entry=float(marks[c]), leverage=10)
    return engine


def _python_tick(engine: Engine, hour: int, ts: int) -> None:
    """The baseline: the same payment, one position at a time."""
    rates = {c: engine.market.funding_rate(c, hour) for c in engine.coins}
    oracle = {c: engine.market.oracle(c, ts) for c in engine.coins}
    cash: dict[int, float] = {}
    p = engine.positions
    accounts, coins, sizes = p.account.tolist(), p.coin.tolist(), p.szi.tolist()
    for account, c, szi in zip(accounts, coins, sizes, strict=True):
        coin = engine.coins[c]
        cash[account] = cash.get(account, 0.0) - szi * oracle[coin] * rates[coin]


def _best(fn, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> bool:
    engine = _engine_with_positions(100_002)
    ts = START + 5 * HOUR_MS
    engine.market.hour_snapshot(4)  # market data generated outside the timing
    tick = _best(lambda: engine._funding_tick(4, ts))
    baseline = _best(lambda: _python_tick(engine, 4, ts))

    year = _engine_with_positions(3_000)
    seen = {"liquidations": 0, "funding_rows": 0}

    def count(event: object) -> None:
        if isinstance(event, Liquidation):
            seen["liquidations"] += 1
        elif isinstance(event, FundingBatch):
            seen["funding_rows"] += len(event.usdc)

    year.listeners.append(count)
    start = time.perf_counter()
    year.advance_to(START + 8_760 * HOUR_MS)
    year_s = time.perf_counter() - start
    liquidations = seen["liquidations"]

    ok = tick <= 0.050 and year_s <= 10.0
    print("paper engine")
    print(f"  funding tick, 100,002 positions : {tick * 1e3:8.1f} ms (target <= 50 ms); "
          f"python loop {baseline * 1e3:.1f} ms, {baseline / tick:.0f}x slower")  # fmt: skip
    print(f"  one year hourly, 1,000 accounts x 3 positions : {year_s:6.2f} s (target <= 10 s); "
          f"{seen['funding_rows']:,} payments, {liquidations} liquidations")  # fmt: skip
    print(f"  {'PASS' if ok else 'FAIL'}")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if run() else 1)
