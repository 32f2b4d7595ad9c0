"""Hyperliquid's WebSocket under load.

1. ``allMids`` to 50 subscribers at the clock's pace: over 10 s, the share of the market ticker's
   beats (one per ``TICK_SECONDS`` while the clock moves) that the slowest subscriber receives.
   Target: at least 0.9.
2. Streaming costs little: one simulated day advanced for 350 accounts with positions (50 of them
   with resting orders that fill as prices move), timed with 50 subscribers each streaming their
   own account's fills, fundings and order updates, against the same day with no subscribers
   (baseline, same run, a twin sandbox with the same seed and the same orders). Target: at most 2x.

The sandboxes run as their own processes, as ``make lab`` runs them; subscribers are threads here.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time

from websockets.sync.client import connect

from toolkit.sandbox import _attach
from toolkit.sandbox.process import spawn
from toolkit.sandbox.streams import TICK_SECONDS
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

SUBSCRIBERS = 50
BACKGROUND = 300  # accounts with positions nobody watches: the day's ordinary work
MIDS_SECONDS = 10.0
FANOUT_TARGET = 0.9
ADVANCE_TARGET = 2.0
ROUNDS = 3


class Listener(threading.Thread):
    """One subscriber: subscribes, then counts what arrives until told to stop."""

    def __init__(self, url: str, subscriptions: list[dict]) -> None:
        super().__init__(daemon=True)
        self.ws = connect(url, open_timeout=60, max_size=None).__enter__()
        for sub in subscriptions:
            self.ws.send(json.dumps({"method": "subscribe", "subscription": sub}))
        self.counts: dict[str, int] = {}
        self.stopping = False

    def run(self) -> None:
        while not self.stopping:
            try:
                msg = json.loads(self.ws.recv(timeout=0.5))
            except TimeoutError:
                continue
            except Exception:
                return
            self.counts[msg["channel"]] = self.counts.get(msg["channel"], 0) + 1

    def stop(self) -> None:
        self.stopping = True
        self.join(5)
        self.ws.close()


def _ws(url: str) -> str:
    return "ws" + url.removeprefix("http") + "/ws"


def _fanout(url: str) -> float:
    listeners = [Listener(_ws(url), [{"type": "allMids"}]) for _ in range(SUBSCRIBERS)]
    for listener in listeners:
        listener.start()
    time.sleep(2)  # every subscription acknowledged, the ticker running
    before = [dict(lst.counts) for lst in listeners]
    time.sleep(MIDS_SECONDS)
    got = [
        lst.counts.get("allMids", 0) - b.get("allMids", 0) for lst, b in zip(listeners, before, strict=True)
    ]
    for listener in listeners:
        listener.stop()
    return min(got) / (MIDS_SECONDS / TICK_SECONDS)


def _setup(url: str) -> list[Wallet]:
    """The same accounts and orders in either sandbox: positions everywhere, resting orders on the
    watched accounts at prices the day's path will cross."""
    sb = _attach(url)
    watched = [Wallet.from_key(f"0x{i + 1:064x}") for i in range(SUBSCRIBERS)]
    background = [Wallet.from_key(f"0x{i + 1000:064x}") for i in range(BACKGROUND)]
    mark = float(hl.HyperliquidClient(url).info({"type": "allMids"})["ETH"])
    for n, wallet in enumerate(watched + background):
        sb.deposit("hyperliquid", wallet.address, 100_000)
        with hl.HyperliquidClient(url, wallet=wallet) as client:
            client.order([hl.order_wire(1, n % 2 == 0, "9000" if n % 2 == 0 else "500", "0.5", tif="Ioc")])
            if n < SUBSCRIBERS:
                steps = [(k % 2 == 0, 1 + (-1 if k % 2 == 0 else 1) * 0.002 * (k + 1)) for k in range(10)]
                wires = [hl.order_wire(1, buy, f"{mark * f:.5g}", "0.05") for buy, f in steps]
                client.order(wires)
    return watched


def _advance(url: str, watched: list[Wallet] | None) -> float:
    sb = _attach(url)
    listeners = []
    if watched is not None:
        for wallet in watched:
            user = wallet.address.lower()
            subs = [{"type": t, "user": user} for t in ("userFills", "userFundings", "orderUpdates")]
            listeners.append(Listener(_ws(url), subs))
        for listener in listeners:
            listener.start()
        time.sleep(2)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        sb.advance(hours=24)  # returns once every hour is processed (and its rows streamed)
        times.append(time.perf_counter() - start)
    time.sleep(1)
    streamed = sum(sum(lst.counts.get(c, 0) for c in ("userFills", "userFundings")) for lst in listeners)
    for listener in listeners:
        listener.stop()
    if watched is not None and streamed < len(watched) * ROUNDS:
        raise RuntimeError(f"the subscribers received only {streamed} fill and funding messages")
    return statistics.median(times)


def run() -> bool:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        quiet, quiet_url = spawn(a)
        busy, busy_url = spawn(b)
        try:
            share = _fanout(quiet_url)
            _setup(quiet_url)
            watched = _setup(busy_url)
            baseline = _advance(quiet_url, None)
            streaming = _advance(busy_url, watched)
        finally:
            for proc in (quiet, busy):
                proc.terminate()
                proc.wait(30)
    ratio = streaming / baseline
    ok_fanout, ok_advance = share >= FANOUT_TARGET, ratio <= ADVANCE_TARGET
    print(
        f"websocket allMids to {SUBSCRIBERS} subscribers: the slowest got {share:.2f} of the ticker's beats "
        f"(target {FANOUT_TARGET}) {'OK' if ok_fanout else 'MISSED'}"
    )
    print(
        f"one day advanced for {SUBSCRIBERS + BACKGROUND} accounts: {streaming:.2f} s with {SUBSCRIBERS} "
        f"subscribers streaming their fills, {baseline:.2f} s with none: {ratio:.2f}x "
        f"(target {ADVANCE_TARGET:.1f}x) {'OK' if ok_advance else 'MISSED'}"
    )
    return ok_fanout and ok_advance


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
