"""The sandbox keeps answering while the clearinghouse does long work.

Figure: the worst ``/sandbox/status`` latency while one year (8,760 hours) is processed for 1,000
accounts with open positions (every hour: resting fills, funding for every position, liquidation
checks, and the rows stored). Target: at most 0.25 s. Baseline, same run: the median status latency
of an idle sandbox. The sandbox runs as its own process, as ``make lab`` runs it.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from toolkit.sandbox import _attach
from toolkit.sandbox.process import spawn
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

ACCOUNTS = 1_000
HOURS = 8_760
TARGET = 0.25


def _open(sb, wallet: Wallet) -> None:
    sb.deposit("hyperliquid", wallet.address, 10_000)
    with hl.HyperliquidClient(sb, wallet=wallet) as client:
        client.order([hl.order_wire(1, True, "9000", "0.5", tif="Ioc")])


def _latency(http: httpx.Client) -> tuple[float, bool]:
    start = time.perf_counter()
    body = http.get("/sandbox/status").json()
    return time.perf_counter() - start, body["clearinghouse"]["caught_up"]


def run() -> bool:
    with tempfile.TemporaryDirectory() as home:
        proc, url = spawn(home)
        try:
            sb = _attach(url)
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda w: _open(sb, w), [Wallet.generate() for _ in range(ACCOUNTS)]))
            http = httpx.Client(base_url=url, timeout=60)
            idle = statistics.median(_latency(http)[0] for _ in range(50))
            http.post("/sandbox/clock/advance", json={"hours": HOURS, "wait": False})
            start, worst, polls = time.perf_counter(), 0.0, 0
            while True:
                took, caught_up = _latency(http)
                worst, polls = max(worst, took), polls + 1
                if caught_up:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - start
            http.close()
        finally:
            proc.terminate()
            proc.wait(60)
    ok = worst <= TARGET
    print(
        f"worst /sandbox/status latency during a one-year advance of {ACCOUNTS:,} accounts: {worst:.3f} s "
        f"(target {TARGET} s) {'OK' if ok else 'MISSED'}\n"
        f"  baseline, idle status latency (median): {idle * 1000:.1f} ms; the advance took {elapsed:.0f} s, "
        f"{polls} polls"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
