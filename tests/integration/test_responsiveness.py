"""The sandbox never stops answering: while a long advance, a restart's catch-up or a big batch
runs, the status route and ``/info allMids`` keep answering (answers report the
clearinghouse still behind the clock), and an order sent during an advance is filled at a time the
clearinghouse has reached.

The sandbox runs as its own process, as ``make lab`` runs it. How fast those answers come is a
figure of ``make bench`` (``benchmarks/bench_responsiveness.py``), not a bound here: a busy machine
slows every answer, and no test may depend on wall-clock time.
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from toolkit.sandbox import _attach
from toolkit.sandbox.process import spawn
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

POLL = 0.05


class Poller:
    """Polls ``/sandbox/status`` and ``/info allMids`` every 50 ms; counts the answers given while
    the clearinghouse was behind the clock (answers given during the work) and keeps the slowest
    answer for the log."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.worst, self.polls, self.behind = 0.0, 0, 0
        self.failures: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:  # at least one poll, however soon the work ends
            start = time.perf_counter()
            status = self.http.get("/sandbox/status")
            middle = time.perf_counter()
            mids = self.http.post("/info", json={"type": "allMids"})
            end = time.perf_counter()
            if status.status_code != 200 or mids.status_code != 200:
                self.failures.append((status.status_code, status.text, mids.status_code, mids.text))
            else:
                self.behind += not status.json()["clearinghouse"]["caught_up"]
            self.worst = max(self.worst, middle - start, end - middle)
            self.polls += 1
            if self._stop.wait(POLL):
                return

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)
        self.http.close()
        assert not self._thread.is_alive(), "a poll never came back"
        assert not self.failures, self.failures

    def until_caught_up(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not self.http.get("/sandbox/status").json()["clearinghouse"]["caught_up"]:
            assert time.monotonic() < deadline, "the clearinghouse did not catch up"
            time.sleep(0.1)


def _funded(sb, n: int = 20) -> list[Wallet]:
    wallets = [Wallet.generate() for _ in range(n)]
    for wallet in wallets:
        sb.deposit("hyperliquid", wallet.address, 100_000)
        with hl.HyperliquidClient(sb, wallet=wallet) as client:
            statuses = client.order([
                hl.order_wire(0, True, "150000", "0.2", tif="Ioc"),
                hl.order_wire(1, False, "1000", "5", tif="Ioc"),
                hl.order_wire(2, True, "400", "50", tif="Ioc"),
            ])["response"]["data"]["statuses"]  # fmt: skip
            assert all("filled" in s for s in statuses), statuses
    return wallets


def _signed(wallet: Wallet, action: dict) -> dict:
    nonce = int(time.time() * 1000)
    signature = hl.sign_l1_action(wallet.signer, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature.to_wire(), "vaultAddress": None}


@pytest.mark.timeout(900)
def test_the_sandbox_answers_while_long_work_runs(tmp_path):
    proc, url = spawn(tmp_path)
    try:
        sb = _attach(url)
        wallets = _funded(sb)
        trader = hl.HyperliquidClient(sb, wallet=wallets[0])

        # 1. a 2,000-hour advance, followed by the status route; an order sent meanwhile
        before = sb.now_ms()
        with Poller(url) as poller:
            moved = httpx.post(
                f"{url}/sandbox/clock/advance", json={"hours": 2000, "wait": False}, timeout=30
            )
            assert moved.status_code == 200 and moved.json()["caught_up"] is False
            status = trader.order([hl.order_wire(1, True, "9000", "0.1", tif="Ioc")])
            assert "filled" in status["response"]["data"]["statuses"][0]
            poller.until_caught_up()
        print(f"worst answer during the advance: {poller.worst:.3f} s over {poller.polls} polls")
        assert poller.behind >= 1, f"none of {poller.polls} answers came during the advance"
        fill = trader.info({"type": "userFills", "user": wallets[0].address})[0]  # newest first
        assert fill["coin"] == "ETH" and before <= fill["time"] <= before + 2000 * 3_600_000
        recent = sb.now_ms() - 3 * 3_600_000  # every position was paid through the end of the advance
        funding = trader.info({"type": "userFunding", "user": wallets[0].address, "startTime": recent})
        assert {row["delta"]["coin"] for row in funding} == {"BTC", "ETH", "SOL"}

        # 2. a restart's catch-up runs in the background: killed right after a long advance began
        httpx.post(f"{url}/sandbox/clock/advance", json={"hours": 2000, "wait": False}, timeout=30)
        trader.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc, url = spawn(tmp_path)  # answers its status route while it catches up
        sb = _attach(url)
        with Poller(url) as poller:
            poller.until_caught_up()
        print(f"worst answer during the catch-up: {poller.worst:.3f} s over {poller.polls} polls")
        assert poller.behind >= 1, "no answer came during the catch-up"

        # 3. a batch over the limit is refused at once; one at the limit runs while others are served
        wallet = wallets[1]
        orders = [hl.order_wire(1, True, "100", "0.5") for _ in range(5000)]
        with Poller(url) as poller:
            big = httpx.post(f"{url}/exchange", json=_signed(wallet, hl.order_action(orders)), timeout=60)
            assert big.status_code == 422
            assert big.text.endswith(
                "action.orders: List should have at most 1000 items after validation, not 5000"
            )
            done = httpx.post(
                f"{url}/exchange", json=_signed(wallet, hl.order_action(orders[:1000])), timeout=60
            )
            statuses = done.json()["response"]["data"]["statuses"]
            assert len(statuses) == 1000 and all("resting" in s for s in statuses)
        print(f"worst answer during the batch: {poller.worst:.3f} s over {poller.polls} polls")
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
