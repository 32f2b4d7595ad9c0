"""An httpx transport straight into an embedded sandbox's app: every client's ``transport=`` seam.

A request runs on a private event loop in the caller's thread (on the toolkit's own loop thread when
the caller's thread already runs a loop, as a Jupyter kernel's does), through the same routes, models,
signature checks and error envelopes as one over a socket, without the socket, the HTTP parsing
and the hop to the server's thread. A backtest's client uses it; its peer is loopback.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

PEER = ("127.0.0.1", 0)


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport that calls an ASGI app on an event loop of its own."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a plain thread: the request runs right here
            status, headers, body = self._loop.run_until_complete(self._call(request))
        else:  # a loop runs in this thread (a Jupyter kernel's): the toolkit's own loop thread runs it
            from toolkit.aio import run

            status, headers, body = run(self._call(request))
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    async def _call(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "client": PEER,
        }
        body = request.read()
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status, headers, chunks = 500, [], []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status, headers = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status, headers, b"".join(chunks)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()
