"""The RSA-keyed API (seed 002) under /trade-api/v2. Errors are {"code", "message", "details"};
a throttled request gets 429 {"error": "too many requests"}, as the venue answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import APIKeyHeader, HTTPBearer

from toolkit.sandbox.kalshi import Caller, KalshiRefusal, forbidden
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import kalshi as ks

ERRORS = {
    status: {"model": ks.ErrorResponse, "description": text}
    for status, text in {
        400: "Bad request - invalid input",
        401: "Unauthorized - authentication required",
        403: "Forbidden - insufficient permissions",
        404: "Resource not found",
    }.items()
}

State = Annotated[SandboxState, Depends(get_state)]

# Declared for the OpenAPI schema; the checks themselves are in KalshiSandbox.authenticate.
_key = APIKeyHeader(name="KALSHI-ACCESS-KEY", auto_error=False)
_timestamp = APIKeyHeader(name="KALSHI-ACCESS-TIMESTAMP", auto_error=False)
_signature = APIKeyHeader(name="KALSHI-ACCESS-SIGNATURE", auto_error=False)
_session = HTTPBearer(auto_error=False, description="a member's session token (the website login)")


def caller(
    request: Request,
    state: State,
    _k: Annotated[str | None, Depends(_key)],
    _t: Annotated[str | None, Depends(_timestamp)],
    _s: Annotated[str | None, Depends(_signature)],
    _b: Annotated[object, Depends(_session)],
) -> Caller:
    """The verified caller of a signed request, after its rate limit is charged."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else request.url.path
    headers = {k.lower(): v for k, v in request.headers.items()}
    who = state.kalshi.authenticate(request.method, path, headers, headers.get("authorization"))
    state.kalshi.rate_limit(who, write=request.method not in ("GET", "HEAD"))
    return who


Who = Annotated[Caller, Depends(caller)]
router = APIRouter(prefix=ks.API_PREFIX, tags=["Kalshi"], responses=ERRORS)


def _may_manage_keys(who: Caller) -> None:
    who.require("write")
    if who.subaccount is not None:
        raise forbidden("a subaccount-restricted API key cannot manage API keys")


@router.post(
    "/api_keys",
    status_code=201,
    response_model=ks.CreateApiKeyResponse,
    summary="Create an API key with your own RSA public key",
)
def create_api_key(body: ks.CreateApiKeyRequest, who: Who, state: State) -> dict:
    _may_manage_keys(who)
    if who.usage_level not in ks.CREATE_KEY_LEVELS:
        raise forbidden(
            "creating an API key from your own public key needs the Premier or Market Maker "
            f"API usage level (this account: {who.usage_level}); use /api_keys/generate instead"
        )
    key_id = state.kalshi.add_key(who, body.name, body.public_key, body.scopes, body.subaccount, False)
    return {"api_key_id": key_id}


@router.post(
    "/api_keys/generate",
    status_code=201,
    response_model=ks.GenerateApiKeyResponse,
    summary="Generate a key pair; the private key is returned once",
)
def generate_api_key(body: ks.GenerateApiKeyRequest, who: Who, state: State) -> dict:
    _may_manage_keys(who)
    pair = ks.KeyPair.generate()
    key_id = state.kalshi.add_key(who, body.name, pair.public_key, body.scopes, body.subaccount, True)
    # Only the public half is stored: the private one exists in this response and nowhere else.
    return {"api_key_id": key_id, "private_key": pair.private_key.reveal()}


@router.get("/api_keys", response_model=ks.GetApiKeysResponse, summary="List API keys")
def get_api_keys(who: Who, state: State) -> dict:
    who.require("read")
    return {"api_keys": state.kalshi.list_keys(who.member_id), "api_key_region_expiration_ts": None}


@router.delete(
    "/api_keys/{api_key}",
    status_code=204,
    response_class=Response,
    responses={204: {"description": "API key successfully deleted"}},
    summary="Delete an API key",
)
def delete_api_key(api_key: str, who: Who, state: State) -> Response:
    _may_manage_keys(who)
    state.kalshi.delete_key(who.member_id, api_key)
    return Response(status_code=204)


@router.get("/portfolio/balance", response_model=ks.GetBalanceResponse, summary="Balance in cents")
def get_balance(
    who: Who,
    state: State,
    subaccount: Annotated[int | None, Query(ge=0, le=63)] = None,
) -> dict:
    who.require("read", "read::portfolio_balance")
    return state.kalshi.balance(who, subaccount)


def refusal(status: int, message: str) -> KalshiRefusal:
    """A refusal at the HTTP level (a query that does not parse, an unknown path)."""
    return KalshiRefusal(status, message)
