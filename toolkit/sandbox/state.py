"""What one running sandbox holds: its config, database, clock and services."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.engine import Engine

from toolkit.sandbox.accounts import Accounts
from toolkit.sandbox.aster import AsterSandbox
from toolkit.sandbox.billing import Billing
from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.config import SandboxConfig
from toolkit.sandbox.hyperdex import HyperdexSandbox
from toolkit.sandbox.hyperliquid import HyperliquidSandbox
from toolkit.sandbox.kalshi import KalshiSandbox
from toolkit.sandbox.lighter import LighterSandbox
from toolkit.sandbox.lighter_feed import AccountFeed
from toolkit.sandbox.ratelimit import FixedWindows, WeightWindow
from toolkit.sandbox.streams import Hub
from toolkit.secrets import Secret


@dataclass
class SandboxState:
    config: SandboxConfig
    engine: Engine
    clock: Clock
    accounts: Accounts
    kalshi: KalshiSandbox
    hyperliquid: HyperliquidSandbox
    aster: AsterSandbox
    hyperdex: HyperdexSandbox
    clearinghouse: Clearinghouse  # every paper venue's accounts, orders, positions and money
    billing: Billing
    limits: FixedWindows  # PaperExchange API-key rate limits
    lighter: LighterSandbox
    info_limits: WeightWindow = field(default_factory=WeightWindow)  # Hyperliquid's IP budget
    hub: Hub = field(init=False)  # Hyperliquid's websocket connections, fed by the clearinghouse
    lighter_stream_ips: dict[str, int] = field(default_factory=dict)  # Lighter's /stream, per address
    lighter_feed: AccountFeed = field(init=False)  # Lighter's account_all subscriptions
    admin_token: Secret | None = None  # opens the admin routes to callers off this machine

    def __post_init__(self) -> None:
        self.hub = Hub(self.clearinghouse)
        self.lighter_feed = AccountFeed(self.clearinghouse)


async def get_state(request: Request) -> SandboxState:
    """FastAPI dependency: the sandbox serving this request."""
    return request.app.state.sandbox
