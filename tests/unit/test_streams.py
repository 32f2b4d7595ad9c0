"""The websocket hub's per-connection queue: a client that does not read is closed, never waited for."""

from __future__ import annotations

import asyncio

from toolkit.sandbox import streams
from toolkit.sandbox.streams import Subscriber


def test_a_subscriber_that_falls_behind_is_closed_not_waited_for():
    async def scenario() -> None:
        sub = Subscriber(lambda user: user)
        message = "x" * 1000
        for _ in range(streams.QUEUE_BYTES // len(message)):
            sub.send(message)
        assert not sub.closed and sub.queued_bytes == streams.QUEUE_BYTES // 1000 * 1000
        sub.send(message * 10)  # past the bytes it may hold: closed, and this one dropped
        assert sub.closed
        sub.send(message)  # a closed subscriber takes nothing more
        assert sub.queue.qsize() == streams.QUEUE_BYTES // 1000 + 1  # the messages and the end marker

        reader = Subscriber(lambda user: user)
        for _ in range(3):
            reader.send(message)
            got = reader.queue.get_nowait()
            reader.sent(got)  # what the writer does once a message is on the wire
        assert reader.queued_bytes == 0 and not reader.closed

    asyncio.run(scenario())
