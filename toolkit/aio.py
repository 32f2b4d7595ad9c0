"""Run async code (the official Lighter SDK, any asyncio client) from plain, synchronous code.

``asyncio.run()`` refuses to run inside a loop that is already running, and JupyterLab's kernel
always runs one; the usual fix, nest-asyncio, patches asyncio for the whole process and is no
longer maintained. ``run`` needs no patch: it hands the coroutine to one private event loop on a
daemon thread and waits for the result. The loop is the same for every call, so an SDK client
made in one call (an aiohttp session bound to its loop) still works in the next.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def loop() -> asyncio.AbstractEventLoop:
    """The toolkit's private event loop, started on its own daemon thread on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _loop.is_closed() or _thread is None or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="toolkit-asyncio", daemon=True)
            _thread.start()
        return _loop


def run(awaitable: Awaitable[T], *, timeout: float | None = None) -> T:
    """Run ``awaitable`` to completion and return its result (or raise its exception).

    Works the same in a script, a thread, or a Jupyter cell whose kernel loop is running.
    ``timeout`` (seconds) cancels the coroutine and raises ``TimeoutError``; so does Ctrl-C (the
    kernel's interrupt), with ``KeyboardInterrupt``. Inside a coroutine, ``await`` instead.
    """
    if not inspect.isawaitable(awaitable):
        raise TypeError(
            f"toolkit.run takes a coroutine (what an async function returns), not {type(awaitable).__name__}"
        )
    private = loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is private:
        _close(awaitable)
        raise RuntimeError(
            "toolkit.run was called from a coroutine on the toolkit's own loop: await it instead"
        )

    async def main() -> T:
        return await awaitable

    future = asyncio.run_coroutine_threadsafe(main(), private)
    try:
        concurrent.futures.wait([future], timeout)
    except BaseException:  # KeyboardInterrupt in a kernel: stop the work too
        future.cancel()
        raise
    if not future.done():
        future.cancel()
        raise TimeoutError(f"toolkit.run: the coroutine did not finish within {timeout} s; it was cancelled")
    return future.result()


def _close(awaitable: Any) -> None:
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never awaited on purpose: no "was never awaited" warning


@atexit.register
def _shutdown() -> None:
    with _lock:
        current, thread = _loop, _thread
    if current is None or current.is_closed() or thread is None:
        return
    current.call_soon_threadsafe(current.stop)
    thread.join(timeout=2)
