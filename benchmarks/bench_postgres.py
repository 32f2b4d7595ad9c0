"""Signed orders on a sandbox backed by PostgreSQL, beside the same sandbox on SQLite.

Target: PostgreSQL at least 0.5x SQLite's rate of signed Hyperliquid orders, same run, same
clients (``bench_orders``' load: six client threads over loopback HTTP into a sandbox process; each
order signed, verified, matched and committed before its answer). PostgreSQL is Debian's server,
started for the run on a unix socket with ``synchronous_commit=off``: the durability of SQLite's WAL
with ``synchronous=NORMAL`` (a crashed process loses nothing, a crashed machine the last commits).
Each backend runs twice, interleaved, and the best of each is compared (the machine is shared).
"""

from __future__ import annotations

import sys

from benchmarks.bench_orders import THREADS, _order, _rate, traders
from tests.postgres import PostgresServer

ORDERS = 3_000
TARGET = 0.5  # PostgreSQL's orders per SQLite's, same run


def _orders_per_second(database_url: str | None) -> float:
    with traders(database_url) as clients:
        return _rate(clients, ORDERS, _order)


def run() -> bool:
    with PostgresServer() as server:
        sqlite, postgres = [], []
        for _ in range(2):
            sqlite.append(_orders_per_second(None))
            postgres.append(_orders_per_second(server.create_database("bench")))
    ratio = max(postgres) / max(sqlite)
    ok = ratio >= TARGET
    print(
        f"signed orders on PostgreSQL: {max(postgres):,.0f}/s, {ratio:.2f}x of SQLite ({max(sqlite):,.0f}/s) "
        f"with {THREADS} client threads, best of 2 each (runs: PostgreSQL "
        f"{', '.join(f'{r:,.0f}' for r in postgres)}; SQLite {', '.join(f'{r:,.0f}' for r in sqlite)}) "
        f"(target {TARGET:.1f}x) {'OK' if ok else 'MISSED'}"
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
