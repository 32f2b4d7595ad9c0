"""Refusals and the one place that turns them into responses.

Sandbox logic raises a ``VenueRefusal`` subclass anywhere; each subclass knows its venue's envelope
and status. ``install`` registers one handler for all of them, one for HTTP-level failures (a path
that does not exist, a query that does not parse), and a last-resort guard that answers any bug in
the venue's envelope with a 500 and logs it, so a client never sees its connection dropped.

HTTP-level failures happen before any venue code runs, so their envelope is picked by the path's
face (``Face``: a prefix and the refusal that speaks for it), registered by each router module.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from toolkit.sandbox import store
from toolkit.venues.refusal import VenueRefusal

__all__ = ["ApiError", "Face", "VenueRefusal", "install"]

log = logging.getLogger("toolkit.sandbox")

MAX_BODY_BYTES = 1 << 20  # 1 MiB: more than any venue request needs
MAX_JSON_DEPTH = 32  # venue bodies nest a handful of levels; deep nesting is an attack on the parser


class ApiError(VenueRefusal):
    """PaperExchange's ``{"detail": message}`` (and the sandbox's own admin routes)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, status, headers)


@dataclass(frozen=True)
class Face:
    """The paths that answer in one venue's words, and how that venue refuses at the HTTP level."""

    matches: Callable[[str], bool]
    refusal: Callable[[int, str], VenueRefusal]


def prefix(*prefixes: str) -> Callable[[str], bool]:
    return lambda path: path in prefixes or any(path.startswith(p.rstrip("/") + "/") for p in prefixes)


def describe_validation_errors(errors: Any) -> str:
    """One readable sentence from pydantic's error list, never echoing the input (it may be a password)."""
    parts: list[str] = []
    for err in errors:
        kind = err.get("type", "")
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if kind == "json_invalid":
            return "Malformed JSON body"
        if kind == "missing" and not loc:
            return "Request body is required (a JSON object)"
        if kind in ("model_attributes_type", "dict_type") and not loc:
            return "Request body must be a JSON object"
        message = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    return "; ".join(parts)[:500] or "Invalid request"


def render(refusal: VenueRefusal, extra_headers: dict[str, str] | None = None) -> Response:
    headers = (extra_headers or {}) | refusal.headers
    body = refusal.body()
    if isinstance(body, str):
        return PlainTextResponse(body, status_code=refusal.status, headers=headers)
    return JSONResponse(body, status_code=refusal.status, headers=headers)


def install(app: FastAPI, faces: list[Face]) -> None:
    """One handler for every refusal, the HTTP-level faces, and the guards around the whole app."""

    def face_refusal(path: str, status: int, message: str) -> VenueRefusal:
        for face in faces:
            if face.matches(path):
                return face.refusal(status, message)
        return ApiError(status, message)

    def counted(request: Request) -> dict[str, str] | None:
        # a PaperExchange API-key request that got this far was counted against its limit: say so
        return getattr(request.state, "rate_limit_headers", None)

    @app.exception_handler(VenueRefusal)
    async def _refused(request: Request, exc: VenueRefusal) -> Response:
        return render(exc, counted(request))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        refusal = face_refusal(request.url.path, 400, describe_validation_errors(exc.errors()))
        return render(refusal, counted(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        refusal = face_refusal(request.url.path, exc.status_code, str(exc.detail))
        refusal.headers |= dict(getattr(exc, "headers", None) or {})
        return render(refusal, counted(request))

    @app.exception_handler(sa.exc.DataError)
    async def _unstorable(request: Request, exc: sa.exc.DataError) -> Response:
        # SQLSTATE class 22: a value the database refuses (a NUL in a form field, text past its
        # column, a number past its type): bad input, rolled back with its transaction
        refusal = face_refusal(
            request.url.path,
            400,
            f"The request holds a value the database refuses: {store.error_reason(exc)}",
        )
        return render(refusal, counted(request))

    app.add_middleware(GuardBodies, refuse=face_refusal)
    app.add_middleware(LastResort, refuse=face_refusal)


class LastResort:
    """A bug answers 500 in the venue's envelope, is logged, and leaves the connection open."""

    def __init__(self, app: ASGIApp, refuse: Callable[[str, int, str], VenueRefusal]) -> None:
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late to answer: the client sees a cut response, the log says why
                return
            refusal = self.refuse(scope.get("path", ""), 500, "Internal server error")
            await render(refusal)(scope, receive, send)


_HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")
_LOW = re.compile(rb"(?<![0-9a-fA-F]{2}\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deep a JSON text nests (strings ignored). Cheap for the usual shallow body."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return MAX_JSON_DEPTH  # cannot nest deeper than it has openers: no need to look closer
    brackets = _BRACKET.findall(_STRING.sub(b"", body))
    if not brackets:
        return 0
    steps = np.fromiter((1 if b in (b"[", b"{") else -1 for b in brackets), dtype=np.int64)
    return int(np.cumsum(steps).max())


_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # an escaped NUL, not an escaped backslash before "u0000"


def nul_character(body: bytes) -> bool:
    """A ``\\u0000`` escape: valid JSON, but no venue field holds it and PostgreSQL cannot store it."""
    return b"\\u0000" in body and _NUL.search(body) is not None


def lone_surrogate(body: bytes) -> bool:
    """A ``\\uD800``-style escape with no partner: valid JSON syntax, but not text."""
    return b"\\u" in body and (_HIGH.search(body) is not None or _LOW.search(body) is not None)


class GuardBodies:
    """Bodies over 1 MiB get 413 before they are read whole; JSON nesting deeper than 32 levels, text
    that is not Unicode (a lone surrogate), or a NUL character in JSON, a form or a query string (no
    venue field holds one, and PostgreSQL cannot store it) gets 400 before any parser sees it."""

    def __init__(self, app: ASGIApp, refuse: Callable[[str, int, str], VenueRefusal]) -> None:
        self.app, self.refuse = app, refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await self._refuse(scope, receive, send, 400, "Query string holds a NUL character (%00)")
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await self._refuse(scope, receive, send, 413, f"Request body over {MAX_BODY_BYTES} bytes")
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                await self._refuse(scope, receive, send, 413, f"Request body over {MAX_BODY_BYTES} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if body[:1] in (b"{", b"[") or b"json" in headers.get(b"content-type", b""):
            if json_depth(body) > MAX_JSON_DEPTH:
                await self._refuse(
                    scope, receive, send, 400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
                )
                return
            if lone_surrogate(body):
                await self._refuse(scope, receive, send, 400, "JSON text holds a lone UTF-16 surrogate")
                return
            if nul_character(body):
                await self._refuse(scope, receive, send, 400, "JSON text holds a NUL character (\\u0000)")
                return
        elif b"%00" in body and b"form-urlencoded" in headers.get(b"content-type", b""):
            await self._refuse(scope, receive, send, 400, "Form body holds a NUL character (%00)")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        await render(self.refuse(scope.get("path", ""), status, message))(scope, receive, send)
