"""create_app(): the one FastAPI app of the sandbox, a router per venue protocol."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from toolkit import __version__
from toolkit.sandbox import logs, store
from toolkit.sandbox.accounts import Accounts, load_jwt_secret
from toolkit.sandbox.aster import AsterSandbox
from toolkit.sandbox.billing import Billing
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.config import SandboxConfig
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.hyperdex import HyperdexSandbox
from toolkit.sandbox.hyperliquid import HyperliquidSandbox
from toolkit.sandbox.kalshi import KalshiSandbox
from toolkit.sandbox.lighter import LighterSandbox
from toolkit.sandbox.mail import Mailer
from toolkit.sandbox.paper import PaperVenue
from toolkit.sandbox.ratelimit import FixedWindows
from toolkit.sandbox.routes import (
    admin,
    aster,
    billing,
    hyperdex,
    hyperliquid,
    kalshi,
    lighter,
    paperx,
    paperx_trading,
    providers,
)
from toolkit.sandbox.state import SandboxState
from toolkit.sandbox.vault import Vault
from toolkit.venues import paperx as px

log = logging.getLogger("toolkit.sandbox")


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
    return "; ".join(parts) or "Invalid request"


def _envelope(
    request: Request,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    code: str | None = None,
    details: str = "",
) -> JSONResponse:
    """Each venue answers in its own words; PaperExchange's {"detail": ...} is the default."""
    limits = getattr(request.state, "rate_limit_headers", None)
    if limits:  # a PaperExchange API-key request that got this far was counted: say so
        headers = limits | (headers or {})
    if request.url.path.startswith("/fapi/"):
        return JSONResponse({"code": -1102 if status == 400 else -1000, "msg": message}, status_code=status)
    if request.url.path.startswith(aster.WEB3):
        body = {
            "code": "100001003",
            "message": message,
            "messageDetail": None,
            "data": None,
            "success": False,
        }
        return JSONResponse(body, status_code=status)
    if request.url.path.startswith(lighter.PREFIX + "/"):  # before HyperDEX's /api
        return lighter.envelope(status, message)
    if request.url.path.startswith(hyperdex.router.prefix + "/"):
        return JSONResponse({"success": False, "error": message}, status_code=status, headers=headers)
    if request.url.path in hyperliquid.PATHS:
        body = {"status": "err", "response": message}
        return JSONResponse(body, status_code=422 if status == 400 else status, headers=headers)
    if request.url.path.startswith(kalshi.router.prefix + "/"):
        body = kalshi.envelope(status, message, code, details)
        return JSONResponse(body, status_code=status, headers=headers)
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


def create_app(config: SandboxConfig, clock: Clock | None = None) -> FastAPI:
    """Build the sandbox app over ``config``: creates or migrates the schema first."""
    logs.install()
    engine = store.create_engine(config.database_url)
    store.migrate(engine)
    if clock is None:  # simulated time survives a restart: the offset is stored before it is used
        offset = int(store.read_meta(engine, "clock_offset_ms") or 0)
        clock = Clock(offset, lambda ms: store.write_meta(engine, "clock_offset_ms", str(ms)))
    mailer = Mailer(engine, config.smtp_url)
    accounts = Accounts(engine, clock, load_jwt_secret(config.home), mailer)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="toolkit sandbox",
        version=__version__,
        description="Offline stand-ins for the venues' real wire protocols.",
    )
    vault = Vault(config.home / "sandbox_vault_key")
    app.state.sandbox = SandboxState(
        config,
        engine,
        clock,
        accounts,
        KalshiSandbox(engine, clock),
        HyperliquidSandbox(engine, clock),
        AsterSandbox(engine, clock, vault),
        HyperdexSandbox(engine, clock, config.home),
        PaperVenue(clock, engine),
        Billing(engine, clock),
        FixedWindows(px.RATE_LIMIT_WINDOW_SECONDS),
        LighterSandbox(engine, clock),
    )
    app.include_router(paperx.router)
    app.include_router(paperx_trading.router)
    app.include_router(billing.router)
    app.include_router(kalshi.router)
    app.include_router(hyperliquid.router)
    app.include_router(aster.router)
    app.include_router(hyperdex.router)
    app.include_router(lighter.router)
    app.include_router(providers.router)
    app.include_router(admin.router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _envelope(request, exc.status, exc.message, exc.headers, exc.code, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _envelope(request, 400, describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _envelope(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _fault(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _envelope(request, 500, "Internal server error")

    return app
