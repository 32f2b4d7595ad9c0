"""One NonceManager under load: 8 threads x 500 transactions on one key, against a sandbox in its own
process, with "invalid nonce" injected by another client jumping the same key's nonce meanwhile."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from toolkit.sandbox import _attach
from toolkit.sandbox.process import spawn
from toolkit.venues.eip712 import Wallet
from toolkit.venues.lighter import LighterClient, wire

pytestmark = pytest.mark.heavy

THREADS, PER_THREAD, INJECTIONS = 8, 500, 3


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory):
    proc, url = spawn(tmp_path_factory.mktemp("lighter-nonces"))
    try:
        yield _attach(url)
    finally:
        proc.terminate()
        proc.wait(30)


def test_eight_threads_share_one_key_without_a_lost_duplicate_or_skipped_nonce(own_sandbox):
    sb = own_sandbox
    wallet = Wallet.generate()
    account = sb.deposit("lighter", wallet.address, 1_000)
    client = LighterClient(sb)
    key = client.register_api_key(wallet)
    results: list[list[str]] = [[] for _ in range(THREADS)]
    half_done = threading.Event()
    done = [0]
    lock = threading.Lock()

    def worker(t: int) -> None:
        for i in range(PER_THREAD):
            if i % 2 == 0:
                answer = client.create_order(
                    key, market_index=0, base_amount=200, price=100_000 + i, is_ask=False,
                    time_in_force="post_only", client_order_index=t * 10_000 + i + 1,
                )  # fmt: skip
            else:
                answer = client.cancel_order(key, 0, t * 10_000 + i)
            results[t].append(answer["tx_hash"])
            with lock:
                done[0] += 1
                if done[0] == THREADS * PER_THREAD // 4:
                    half_done.set()

    injected: list[int] = []

    def recovered(jump: int) -> bool:
        """The manager noticed the jump and has since committed a transaction past it."""
        ahead = client.nonces.peek(account, 42)
        return client.nonces.stats.refreshed >= len(injected) and ahead is not None and ahead > jump + 1

    def intruder() -> None:
        """Another client on the same key (another process, the website) jumps the key's nonce
        ahead with SkipNonce: the manager's next nonce is stale from then on. Each jump waits until
        the last one was recovered from, however slow the machine (the manager retries once)."""
        half_done.wait(600)
        signer = key.signer()
        with LighterClient(sb) as other:
            for _ in range(INJECTIONS):
                nonce = other.next_nonce(account, 42) + 200
                other.send_tx(signer.sign_cancel_all_orders(0, 0, nonce, skip_nonce=True))
                injected.append(nonce)
                deadline = time.monotonic() + 600
                while not recovered(nonce):
                    assert time.monotonic() < deadline, "the manager never recovered from a jump"
                    time.sleep(0.01)

    with ThreadPoolExecutor(THREADS + 1) as pool:
        futures = [pool.submit(worker, t) for t in range(THREADS)] + [pool.submit(intruder)]
        for f in futures:
            f.result()

    hashes = [h for r in results for h in r]
    assert len(hashes) == THREADS * PER_THREAD == len(set(hashes))  # every transaction answered, once
    accepted = sb.lighter_accepted_nonces(account, 42)
    assert len(accepted) == 1 + THREADS * PER_THREAD + INJECTIONS  # the registration, the load, the jumps
    assert accepted == sorted(set(accepted))  # in order, none twice
    ours = [n for n in accepted if n not in injected]
    for previous, nonce in itertools.pairwise(accepted):
        if nonce not in injected:
            assert nonce == previous + 1  # the manager never skipped one: each follows the last accepted
    assert ours[0] == 0 and len(injected) == INJECTIONS
    assert client.next_nonce(account, 42) == accepted[-1] + 1
    stats = client.nonces.stats
    assert 1 <= stats.refreshed <= INJECTIONS  # each stale nonce was noticed and re-read
    assert stats.committed == 1 + THREADS * PER_THREAD
    assert len(client.api_keys(account)) == 1
    client.close()


def test_asyncio_tasks_share_the_manager_with_threads(own_sandbox):
    sb = own_sandbox
    wallet = Wallet.generate()
    account = sb.deposit("lighter", wallet.address, 1_000)
    client = LighterClient(sb)
    key = client.register_api_key(wallet)
    signer = key.signer()

    def send(nonce: int) -> dict:
        return client.send_tx(signer.sign_cancel_all_orders(wire.IMMEDIATE_OR_CANCEL, 0, nonce))

    async def task() -> None:
        for _ in range(10):
            await client.nonces.asubmit(account, 42, lambda n: asyncio.to_thread(send, n))

    async def main() -> None:
        await asyncio.gather(*(task() for _ in range(6)))

    thread = threading.Thread(target=lambda: [client.nonces.submit(account, 42, send) for _ in range(20)])
    thread.start()
    asyncio.run(main())
    thread.join()
    assert sb.lighter_accepted_nonces(account, 42) == list(range(1 + 60 + 20))
    client.close()
