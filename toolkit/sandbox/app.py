"""create_app(): the one FastAPI app of the sandbox, a router per venue protocol."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from toolkit import __version__
from toolkit.sandbox import errors, logs, replay, store, universe
from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox.accounts import Accounts, load_jwt_secret
from toolkit.sandbox.aster import AsterSandbox
from toolkit.sandbox.billing import Billing
from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.config import SandboxConfig, harden_home, load_admin_token
from toolkit.sandbox.errors import Face, prefix
from toolkit.sandbox.hyperdex import HyperdexSandbox
from toolkit.sandbox.hyperliquid import HyperliquidSandbox
from toolkit.sandbox.kalshi import KalshiSandbox
from toolkit.sandbox.lighter import LighterSandbox
from toolkit.sandbox.mail import Mailer
from toolkit.sandbox.market import ReplayMarket
from toolkit.sandbox.ratelimit import FixedWindows
from toolkit.sandbox.routes import (
    admin,
    aster,
    billing,
    hyperdex,
    hyperliquid,
    hyperliquid_ws,
    kalshi,
    lighter,
    lighter_ws,
    paperx,
    paperx_trading,
    providers,
)
from toolkit.sandbox.state import SandboxState
from toolkit.sandbox.vault import Vault

if TYPE_CHECKING:
    from toolkit.frames.replay import MarketHistory

log = logging.getLogger("toolkit.sandbox")
DOCS_ASSETS = "/docs-assets"


def create_app(
    config: SandboxConfig,
    clock: Clock | None = None,
    self_url: str | None = None,
    market: MarketHistory | None = None,
    driven: bool = False,
) -> FastAPI:
    """Build the sandbox app over ``config``: creates or migrates the schema first. ``self_url`` is
    where it will listen (HyperDEX's sandbox credentials point there). ``market``: real history to
    replay instead of the synthetic market; the clock then starts at its beginning, stands still
    between advances and stops at its end. ``driven``: a throwaway sandbox one loop drives (a
    backtest's): the clock's moves are not stored, and the clearinghouse runs each job in the
    thread that asks for it."""
    logs.install()
    engine = store.create_engine(config.database_url)
    store.migrate(engine)
    harden_home(config.home)
    replayed = None if market is None else ReplayMarket.from_history(market, universe.COINS)
    replay.claim(engine, market)
    if clock is None:  # simulated time survives a restart: the offset is stored before it is used
        stored = store.read_meta(engine, "clock_offset_ms")
        save = (lambda ms: store.write_meta(engine, "clock_offset_ms", str(ms))) if not driven else None
        if replayed is None:
            clock = Clock(int(stored or 0), save)
        else:  # a held clock: the offset is the time itself
            start = int(stored) if stored is not None else replayed.start_ms
            clock = Clock(start, save, held=True, end_ms=replayed.end_ms)
    mailer = Mailer(engine, config.smtp_url)
    accounts = Accounts(engine, clock, load_jwt_secret(config.home), mailer)

    hyperliquid_sandbox = HyperliquidSandbox(engine, clock)
    clearinghouse = Clearinghouse(clock, engine, market=replayed, driven=driven)
    clearinghouse.on_rollback.append(hyperliquid_sandbox.forget)
    clearinghouse.before_commit.append(hyperliquid_sandbox.flush)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        clearinghouse.start()  # a restart's catch-up runs in the background from here
        await clearinghouse.acall(Clearinghouse._adopt)  # balances older sandboxes kept per venue
        yield
        clearinghouse.close()
        engine.dispose()

    # /docs and /redoc with Swagger UI and ReDoc served from the package: they render with no network
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
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
        hyperliquid_sandbox,
        AsterSandbox(engine, clock, vault),
        HyperdexSandbox(engine, clock, config.home, self_url),
        clearinghouse,
        Billing(engine, clock),
        FixedWindows(policy.RATE_LIMIT_WINDOW_SECONDS),
        LighterSandbox(engine, clock, clearinghouse),
        admin_token=load_admin_token(config.home),
    )
    app.include_router(hyperliquid.router)  # first: /info and /exchange are the busiest routes
    app.include_router(paperx.router)
    app.include_router(paperx_trading.router)
    app.include_router(billing.router)
    app.include_router(kalshi.router)
    app.include_router(hyperliquid_ws.router)
    app.include_router(aster.router)
    app.include_router(hyperdex.router)
    app.include_router(lighter.router)
    app.include_router(lighter_ws.router)
    app.include_router(providers.router)
    app.include_router(admin.router)

    errors.install(
        app,
        [
            Face(prefix(lighter.PREFIX), lighter.refusal),  # before HyperDEX's /api
            Face(prefix(hyperdex.router.prefix), hyperdex.refusal),
            Face(prefix(aster.WEB3), aster.bapi_refusal),
            Face(prefix("/fapi"), aster.refusal),
            Face(prefix(*hyperliquid.PATHS), hyperliquid.refusal),
            Face(prefix(kalshi.router.prefix), kalshi.refusal),
        ],
    )
    return app
