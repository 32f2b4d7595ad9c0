"""The paper engine survives restarts: positions, resting orders, histories and simulated time come
back as they were, and a process killed in the middle of a long clock advance resumes it without
paying any hour's funding twice or skipping one, for every venue's accounts on the clearinghouse."""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa

import toolkit.sandbox
from toolkit.sandbox import _attach
from toolkit.sandbox.engine.core import Engine
from toolkit.sandbox.process import spawn
from toolkit.venues import aster as av
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient
from toolkit.venues.paperx import PaperClient

pytestmark = pytest.mark.heavy

HOUR = 3_600_000
OTHER_VENUES = 5  # Aster accounts, and as many PaperExchange and Lighter accounts


def test_a_restarted_sandbox_carries_on_where_it_stopped(tmp_path, database_url):
    wallet = Wallet.generate()
    with toolkit.sandbox.start(home=tmp_path, database_url=database_url) as sb:
        sb.deposit("hyperliquid", wallet.address, 10_000)
        with hl.HyperliquidClient(sb, wallet=wallet) as client:
            client.order([hl.order_wire(1, True, "5000", "0.5", tif="Ioc")])
            resting = client.order([hl.order_wire(0, True, "20000", "0.01")])
            oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]
            sb.advance(hours=10)
            before = {
                "state": client.info({"type": "clearinghouseState", "user": wallet.address}),
                "orders": client.info({"type": "openOrders", "user": wallet.address}),
                "fills": client.info({"type": "userFills", "user": wallet.address}),
                "funding": client.info({"type": "userFunding", "user": wallet.address, "startTime": 0}),
            }
        stopped_at = sb.now_ms()
    assert len(before["funding"]) == 10

    with (
        toolkit.sandbox.start(home=tmp_path, database_url=database_url) as sb,
        hl.HyperliquidClient(sb, wallet=wallet) as client,
    ):
        assert sb.now_ms() >= stopped_at  # simulated time is not handed back to the wall clock
        assert client.info({"type": "openOrders", "user": wallet.address}) == before["orders"]
        assert [o["oid"] for o in before["orders"]] == [oid]
        assert client.info({"type": "userFills", "user": wallet.address}) == before["fills"]
        assert (
            client.info({"type": "userFunding", "user": wallet.address, "startTime": 0}) == before["funding"]
        )
        state = client.info({"type": "clearinghouseState", "user": wallet.address})
        assert state["assetPositions"][0]["position"]["szi"] == "0.5"
        assert (
            state["assetPositions"][0]["position"]["entryPx"]
            == (before["state"]["assetPositions"][0]["position"]["entryPx"])
        )
        sb.advance(hours=5)
        funding = client.info({"type": "userFunding", "user": wallet.address, "startTime": 0})
        assert len(funding) == 15 and funding[:10] == before["funding"]
        # order ids carry on from where they were, never reused
        again = client.order([hl.order_wire(0, True, "20000", "0.01")])
        assert again["response"]["data"]["statuses"][0]["resting"]["oid"] > oid


@contextlib.contextmanager
def _read(database_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _committed(database_url: str) -> tuple[int, dict[str, np.ndarray]]:
    """The last committed funding boundary, and each account's balances as columns."""
    with _read(database_url) as conn:
        hour = conn.execute(sa.text("select funded_hour from pp_state where id = 1")).scalar_one()
        query = sa.text("select state from pp_accounts order by account")
        states = [json.loads(s) for (s,) in conn.execute(query)]
    acc = np.array([s["acc"] for s in states]).reshape(-1, len(Engine.ACCOUNT_FIELDS))
    return hour, {f"acc_{k}": acc[:, i] for i, k in enumerate(Engine.ACCOUNT_FIELDS)}


def _funding_rows(database_url: str) -> list[tuple[int, str, int, float]]:
    with _read(database_url) as conn:
        query = sa.text("select account, coin, hour, usdc from pp_funding order by account, coin, hour")
        return [tuple(row) for row in conn.execute(query)]


@pytest.mark.timeout(300)
def test_sigkill_in_the_middle_of_an_advance_pays_no_hour_twice_and_loses_none(tmp_path, database_url):
    days = 150
    db = database_url
    proc, url = spawn(tmp_path, database_url=database_url)
    port = int(url.rsplit(":", 1)[1])
    try:
        sb = _attach(url)
        wallets = [Wallet.generate() for _ in range(40)]
        for wallet in wallets:
            sb.deposit("hyperliquid", wallet.address, 100_000)
            with hl.HyperliquidClient(sb, wallet=wallet) as client:
                statuses = client.order([
                    hl.order_wire(0, True, "150000", "0.2", tif="Ioc"),
                    hl.order_wire(1, False, "1000", "5", tif="Ioc"),
                    hl.order_wire(2, True, "400", "50", tif="Ioc"),
                ])["response"]["data"]["statuses"]  # fmt: skip
                assert all("filled" in s for s in statuses), statuses
        for i in range(OTHER_VENUES):  # Aster and PaperExchange accounts trade on the same clearinghouse
            aster_wallet = Wallet.generate()
            sb.deposit("aster", aster_wallet.address, 100_000)
            aster = av.AsterClient(sb)
            aster.create_api_key(aster_wallet, "bot")
            for symbol, side, qty in (
                ("BTCUSDT", "BUY", "0.2"),
                ("ETHUSDT", "SELL", "5"),
                ("SOLUSDT", "BUY", "50"),
            ):
                assert aster.order(symbol, side, qty)["status"] == "FILLED"
            with PaperClient(sb) as web:
                web.register(f"sigkill-{i}@example.com", "correct horse battery staple 42")
                key = web.create_api_key("bot")
            with PaperClient(sb, api_key=key.api_key) as bot:
                for coin, is_buy, size in (("BTC", True, 0.02), ("ETH", False, 0.5), ("SOL", True, 5)):
                    assert "filled" in bot.order(coin, is_buy, size)
            lighter_wallet = Wallet.generate()
            index = sb.deposit("lighter", lighter_wallet.address, 100_000)
            with LighterClient(sb) as lighter:
                lighter_key = lighter.register_api_key(lighter_wallet)
                for market, is_ask, size in ((1, False, 20_000), (0, True, 5_000), (2, False, 5_000)):
                    bid, ask = lighter.best_prices(market)
                    worst = bid // 2 if is_ask else ask * 2
                    lighter.create_market_order(
                        lighter_key, market_index=market, base_amount=size, worst_price=worst, is_ask=is_ask
                    )
                assert len(lighter.account(index)["positions"]) == 3
        first_hour, _ = _committed(db)
        target = sb.now_ms() + days * 24 * HOUR
        advancing = threading.Thread(target=lambda: _swallow(sb.advance, hours=days * 24), daemon=True)
        advancing.start()
        deadline = time.monotonic() + 120
        while _committed(db)[0] < first_hour + 48:  # a few days in: well inside the advance
            assert time.monotonic() < deadline, "the advance made no progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        killed_at, _ = _committed(db)
        assert killed_at < first_hour + days * 24, "the advance finished before the kill: make it longer"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)

    proc, url = spawn(tmp_path, port, database_url=database_url)
    try:
        sb = _attach(url)
        assert sb.now_ms() >= target  # the advance was stored before it was processed
        sb._follow(sb.clock_state())  # the restart's catch-up runs in the background: wait for it
        with hl.HyperliquidClient(sb, wallet=wallets[0]) as client:
            state = client.info({"type": "clearinghouseState", "user": wallets[0].address})
        assert len(state["assetPositions"]) == 3
        final_hour, arrays = _committed(db)
        assert final_hour >= first_hour + days * 24
    finally:
        proc.kill()
        proc.wait(30)

    rows = _funding_rows(db)
    by_position: dict[tuple[int, str], list[int]] = {}
    accounts = len(wallets) + 3 * OTHER_VENUES
    assert len(arrays["acc_cash"]) == accounts
    paid = np.zeros(accounts)
    for account, coin, hour, usdc in rows:
        by_position.setdefault((account, coin), []).append(hour)
        paid[account] += usdc
    assert len(by_position) == 3 * accounts
    last_paid = final_hour - 2  # boundary k pays hour k - 1, then the next boundary is k + 1
    for hours in by_position.values():  # every hour from the opening one to the last, once each
        assert hours == list(range(hours[0], last_paid + 1))
        assert hours[0] < first_hour
    # and the engine's cash holds exactly those payments, once
    np.testing.assert_allclose(arrays["acc_funding"], paid, rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        arrays["acc_cash"],
        arrays["acc_deposits"] - arrays["acc_withdrawn"] + arrays["acc_realized"] - arrays["acc_fees"]
        + arrays["acc_funding"],
        rtol=0, atol=1e-6,
    )  # fmt: skip


def _swallow(fn, **kwargs) -> None:
    with contextlib.suppress(Exception):  # the process is killed under this call: its connection drops
        fn(**kwargs)
