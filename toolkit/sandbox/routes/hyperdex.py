"""HyperDEX (seed 000) under /api: server wallets and exchange API-key registration.

Errors are ``{"success": false, "error": "..."}``; tenants authenticate with ``X-API-KEY``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header

from toolkit.sandbox.hyperdex import HyperdexRefusal
from toolkit.sandbox.state import SandboxState, get_state

router = APIRouter(prefix="/api", tags=["HyperDEX"])
State = Annotated[SandboxState, Depends(get_state)]
ApiKey = Annotated[str | None, Header(alias="X-API-KEY")]


def refusal(status: int, message: str) -> HyperdexRefusal:
    """A refusal at the HTTP level (a body that does not parse, an unknown path)."""
    return HyperdexRefusal(status, message)


Json = Annotated[dict[str, Any], Body()]


@router.post("/wallets", summary="Create a server wallet for a user")
def create_wallet(state: State, body: Json, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.create_wallet(hx.tenant(api_key), body.get("userId"))


@router.get("/wallets/{walletIdOrAddress}", summary="Look up a wallet by userId, walletId or address")
def get_wallet(walletIdOrAddress: str, state: State, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.wallet(hx.tenant(api_key), walletIdOrAddress)


@router.post("/wallets/{walletIdOrAddress}/sign", summary="Sign a message with a server wallet")
def sign(walletIdOrAddress: str, state: State, body: Json, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.sign(hx.tenant(api_key), walletIdOrAddress, body.get("message"))


@router.post("/trading/aster/apikey", summary="Register a server wallet with Aster")
def aster_apikey(state: State, body: Json, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.register_aster(hx.tenant(api_key), body.get("walletIdOrAddress"))


@router.post("/trading/hyperliquid/apikey", summary="Create a Hyperliquid API wallet for a server wallet")
def hyperliquid_apikey(state: State, body: Json, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.register_hyperliquid(hx.tenant(api_key), body.get("walletIdOrAddress"))


@router.post("/trading/lighter/import", summary="Import Lighter API credentials for a server wallet")
def lighter_import(state: State, body: Json, api_key: ApiKey = None) -> Any:
    hx = state.hyperdex
    return hx.import_lighter(hx.tenant(api_key), body)
