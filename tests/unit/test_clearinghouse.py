"""The clearinghouse's worker: requests that arrive together share one transaction, yet one that
fails costs only itself; a refusal changes nothing; long advances are followed to the end."""

from __future__ import annotations

import threading

import pytest

from toolkit.sandbox import store
from toolkit.sandbox.clearinghouse import Clearinghouse, OrderRequest
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.engine.core import Filled
from toolkit.sandbox.engine.specs import OrderRejected, Reason


@pytest.fixture
def ch(tmp_path):
    db = store.create_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    store.migrate(db)
    house = Clearinghouse(Clock(), db)
    yield house
    house.close()
    db.dispose()


def _group(ch: Clearinghouse, *jobs):
    """Submit ``jobs`` while the worker is held, so they run as one group; their futures."""
    held, release = threading.Event(), threading.Event()

    def hold(_ch):
        held.set()
        release.wait(10)

    first = ch.submit(hold)
    held.wait(10)
    futures = [ch.submit(fn, *args) for fn, *args in jobs]
    release.set()
    first.result(10)
    return futures


def test_a_failing_job_costs_only_itself(ch):
    def broken(house):
        house.engine.deposit(house._open("hyperliquid:0xbad"), 5.0)  # changes memory, then fails
        raise RuntimeError("a bug")

    futures = _group(
        ch,
        (Clearinghouse._deposit_and_ledger, "hyperliquid:0xa", 100.0, None),
        (broken,),
        (Clearinghouse._deposit_and_ledger, "hyperliquid:0xb", 200.0, None),
    )
    assert futures[0].result(10)["cash"] == 100.0 and futures[2].result(10)["cash"] == 200.0
    with pytest.raises(RuntimeError, match="a bug"):
        futures[1].result(10)
    assert ch.account("hyperliquid:0xbad") is None  # its half-made change was rolled back
    saved = ch.store.load()
    assert set(saved.owners) == {"hyperliquid:0xa", "hyperliquid:0xb"}


def test_a_refusal_changes_nothing_and_the_group_stands(ch):
    ch.deposit("hyperliquid:0xa", 1_000.0)
    futures = _group(
        ch,
        (Clearinghouse._withdraw, "hyperliquid:0xa", 5_000.0),
        (Clearinghouse._place, "hyperliquid:0xa", [OrderRequest("ETH", True, "0.01", None)]),
    )
    with pytest.raises(OrderRejected) as refused:
        futures[0].result(10)
    assert refused.value.reason is Reason.WITHDRAW
    (filled,) = futures[1].result(10)
    assert isinstance(filled, Filled)
    assert ch.view("hyperliquid:0xa").withdrawn == 0.0


def test_an_advance_is_followed_to_its_end_and_commits_every_hour_once(ch):
    ch.deposit("hyperliquid:0xa", 10_000.0)
    ch.place("hyperliquid:0xa", [OrderRequest("BTC", True, "0.01", None)])
    target = ch.clock.advance(hours=100)
    ch.wake()
    assert ch.until(target).result(60) >= target
    assert ch.progress().caught_up
    payments = ch.funding("hyperliquid:0xa")
    assert len(payments) == len({p["hour"] for p in payments}) >= 100


def _count(path, table: str) -> int:
    """Rows in ``table`` as another process would see them (sqlite3, not the sandbox's engine)."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]


def test_a_driven_clearinghouse_stores_its_hours_a_day_at_a_time_and_before_any_read(tmp_path):
    path = tmp_path / "sandbox.db"
    db = store.create_engine(f"sqlite:///{path}")
    store.migrate(db)
    house = Clearinghouse(Clock(), db, driven=True)
    try:
        house.deposit("hyperliquid:0xa", 10_000.0)
        house.place("hyperliquid:0xa", [OrderRequest("BTC", True, "0.01", None)])
        stored = _count(path, "pp_funding")
        for _ in range(5):  # five steps of a backtest: an hour each, an account read after each
            house.until(house.clock.advance(hours=1)).result(10)
            assert house.view("hyperliquid:0xa").funding != 0.0
        assert _count(path, "pp_funding") == stored  # held in memory, not a commit per step
        payments = house.funding("hyperliquid:0xa")  # a read of the database stores them first
        assert len(payments) == len({p["hour"] for p in payments}) >= 5
        assert _count(path, "pp_funding") == len(payments)
        house.until(house.clock.advance(hours=30)).result(10)  # a simulated day commits by itself
        assert _count(path, "pp_funding") >= len(payments) + 24
        assert len(house.funding("hyperliquid:0xa")) == len(payments) + 30
    finally:
        house.close()
        db.dispose()
