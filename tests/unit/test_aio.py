"""toolkit.run: a coroutine run to completion from plain code, with or without a running loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

import toolkit
from toolkit import aio


async def answer(value: int) -> int:
    await asyncio.sleep(0)
    return value


def test_a_coroutine_runs_from_plain_code_and_from_inside_a_running_loop():
    assert toolkit.run(answer(42)) == 42

    async def kernel_cell() -> int:  # what a Jupyter cell is: code under a running loop
        early = answer(1)
        with pytest.raises(RuntimeError, match="cannot be called from a running event loop"):
            asyncio.run(early)
        early.close()
        return toolkit.run(answer(7))

    assert asyncio.run(kernel_cell()) == 7


def test_every_call_shares_one_loop_so_sdk_clients_outlive_a_call():
    async def make_queue() -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        await queue.put("kept")
        return queue

    queue = toolkit.run(make_queue())  # bound to the loop it was used on

    async def drain() -> tuple[str, asyncio.AbstractEventLoop]:
        return await queue.get(), asyncio.get_running_loop()

    item, used = toolkit.run(drain())
    assert item == "kept" and used is aio.loop()
    assert threading.current_thread() is threading.main_thread()


def test_exceptions_arrive_as_raised_even_a_timeout_error_of_the_coroutines_own():
    async def fails(error: BaseException) -> None:
        raise error

    with pytest.raises(ValueError, match="bad price"):
        toolkit.run(fails(ValueError("bad price")))
    with pytest.raises(TimeoutError, match=r"^the venue timed out$"):
        toolkit.run(fails(TimeoutError("the venue timed out")))


def test_a_timeout_cancels_the_work():
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"did not finish within 0\.05 s; it was cancelled"):
        toolkit.run(slow(), timeout=0.05)
    assert cancelled.wait(30)


def test_what_is_not_a_coroutine_and_a_call_from_its_own_loop_are_refused():
    with pytest.raises(
        TypeError, match=r"toolkit.run takes a coroutine \(what an async function returns\), not function"
    ):
        toolkit.run(answer)  # the function, not its call

    async def nested() -> None:
        toolkit.run(answer(1))

    with pytest.raises(
        RuntimeError, match="called from a coroutine on the toolkit's own loop: await it instead"
    ):
        toolkit.run(nested())
