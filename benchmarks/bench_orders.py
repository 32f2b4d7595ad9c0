"""Signed orders through HTTP into the clearinghouse.

Target: signed Hyperliquid orders at least 0.8x the rate of unsigned ``/info allMids`` requests
(the baseline: same run, same clients, the lightest call that still goes through the
clearinghouse's worker). Each order is signed by the client (L1 phantom agent), sent over loopback
HTTP, verified and nonce-checked by the sandbox, matched by the engine, and committed to the
database (with the orders that arrived with it) before it is answered. The sandbox runs as its own
process, as ``make lab`` runs it; the clients are threads of this one. The absolute rate is printed
too (the old target was 500/s on this 2-core machine).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

from toolkit.sandbox import _attach
from toolkit.sandbox.process import spawn
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

THREADS = 6
ORDERS = 4_000
TARGET = 0.8  # orders per allMids request, same run


def _rate(
    clients: list[hl.HyperliquidClient], total: int, call: Callable[[hl.HyperliquidClient, int], None]
) -> float:
    per = total // len(clients)
    errors: list[BaseException] = []

    def work(client: hl.HyperliquidClient) -> None:
        try:
            for i in range(per):
                call(client, i)
        except BaseException as exc:  # surfaced below: a failed request must not pass as fast
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return per * len(clients) / elapsed


def _order(client: hl.HyperliquidClient, i: int) -> None:
    # market-style IOC orders that fill, alternating sides, so positions open, grow, shrink and flip
    wire = hl.order_wire(1, i % 2 == 0, "9000" if i % 2 == 0 else "500", "0.05", tif="Ioc")
    status = client.order([wire])["response"]["data"]["statuses"][0]
    if "filled" not in status:
        raise RuntimeError(f"order not filled: {status}")


@contextlib.contextmanager
def traders(database_url: str | None = None) -> Iterator[list[hl.HyperliquidClient]]:
    """``THREADS`` funded Hyperliquid clients on a sandbox process of their own (on ``database_url``,
    else SQLite in a temporary home), warmed up; the sandbox stops on the way out."""
    with tempfile.TemporaryDirectory() as home:
        proc, url = spawn(home, database_url=database_url)
        try:
            sb = _attach(url)
            wallets = [Wallet.generate() for _ in range(THREADS)]
            for w in wallets:
                sb.deposit("hyperliquid", w.address, 1_000_000)
            clients = [hl.HyperliquidClient(url, wallet=w) for w in wallets]
            _rate(clients, 300, _order)  # warm up connections and code paths
            try:
                yield clients
            finally:
                for c in clients:
                    c.close()
        finally:
            proc.terminate()
            proc.wait(30)


def run() -> bool:
    with traders() as clients:
        baseline = _rate(clients, ORDERS, lambda c, i: c.info({"type": "allMids"}))
        orders = _rate(clients, ORDERS, _order)
    ratio = orders / baseline
    ok = ratio >= TARGET
    print(
        f"signed orders over HTTP: {orders:,.0f}/s with {THREADS} client threads, {ratio:.2f}x of "
        f"unsigned /info allMids ({baseline:,.0f}/s) (target {TARGET:.1f}x) {'OK' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
