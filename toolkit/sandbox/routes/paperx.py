"""PaperExchange account endpoints (seed 003): /v1/auth/*. Errors are {"detail": "..."}."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox.accounts import User
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import paperx as px

ERRORS = {
    status: {"model": px.ErrorResponse, "description": text}
    for status, text in {
        400: "Bad request",
        401: "Missing or invalid authentication",
        403: "Not permitted",
        404: "Not found",
    }.items()
}

router = APIRouter(prefix="/v1/auth", tags=["PaperExchange accounts"], responses=ERRORS)

_bearer = HTTPBearer(auto_error=False, description="JWT from /v1/auth/login or /v1/auth/register")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="pe_… key for bots")

State = Annotated[SandboxState, Depends(get_state)]


def _from_bearer(
    state: SandboxState, request: Request, creds: HTTPAuthorizationCredentials | None
) -> User | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    if creds is None or not creds.credentials:
        raise ApiError(
            401, "Invalid Authorization header: expected 'Bearer <token>'", {"WWW-Authenticate": "Bearer"}
        )
    return state.accounts.user_from_jwt(creds.credentials)


def rate_limit(state: SandboxState, request: Request, response: Response, user: User) -> None:
    """Per API key, the plan's requests a minute; the headers go on every answer, 429 past the limit."""
    assert user.via_api_key is not None
    limit = policy.PLANS[user.plan].rate_limit
    verdict = state.limits.hit(user.via_api_key, limit)
    headers = verdict.headers(time.time())
    request.state.rate_limit_headers = headers  # error envelopes carry them too
    if not verdict.allowed:
        raise ApiError(
            429,
            f"Rate limit exceeded: {limit} requests per minute per API key on the {user.plan} plan;"
            f" retry after {headers['Retry-After']} s",
            headers,
        )
    response.headers.update(headers)


def current_user(
    state: State,
    request: Request,
    response: Response,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> User:
    """The caller, by JWT (``Authorization: Bearer``) or by key (``X-API-Key``, rate limited)."""
    user = _from_bearer(state, request, creds)
    if user is not None:
        return user
    if api_key is not None:
        user = state.accounts.user_from_api_key(api_key)
        rate_limit(state, request, response, user)
        return user
    raise ApiError(
        401,
        "Not authenticated: send Authorization: Bearer <token> or X-API-Key",
        {"WWW-Authenticate": "Bearer"},
    )


def logged_in_user(
    state: State,
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> User:
    """The caller by JWT only: a leaked bot key must not be able to mint or revoke keys."""
    user = _from_bearer(state, request, creds)
    if user is not None:
        return user
    if api_key is not None:
        state.accounts.user_from_api_key(api_key)  # an invalid key is still a 401
        what = "billing" if request.url.path.startswith("/v1/billing") else "API keys"
        raise ApiError(403, f"API keys cannot manage {what}: log in and use Authorization: Bearer")
    raise ApiError(
        401, "Not authenticated: send Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"}
    )


AnyUser = Annotated[User, Depends(current_user)]
JwtUser = Annotated[User, Depends(logged_in_user)]


@router.post("/register", response_model=px.AuthResponse, summary="Create an account (3-day trial)")
def register(body: px.RegisterRequest, state: State) -> dict:
    user, token = state.accounts.register(body.email, body.password, body.plan)
    return {"access_token": token, "user_id": user.id, "email": user.email}


@router.post("/login", response_model=px.AuthResponse, summary="Log in and get a JWT (24 h)")
def login(body: px.LoginRequest, state: State) -> dict:
    user, token = state.accounts.login(body.email, body.password)
    return {"access_token": token, "user_id": user.id, "email": user.email}


@router.post("/forgot-password", response_model=px.MessageResponse, summary="Mail a reset token")
def forgot_password(body: px.ForgotPasswordRequest, state: State) -> dict:
    state.accounts.forgot_password(body.email)
    return {"message": policy.FORGOT_PASSWORD_MESSAGE}


@router.post("/reset-password", response_model=px.MessageResponse, summary="Set a new password")
def reset_password(body: px.ResetPasswordRequest, state: State) -> dict:
    state.accounts.reset_password(body.token, body.new_password)
    return {"message": policy.RESET_PASSWORD_MESSAGE}


@router.get("/me", response_model=px.Profile, summary="Profile and subscription status")
def me(user: AnyUser, state: State) -> dict:
    return state.accounts.profile(user)


@router.get("/api-keys", response_model=px.ApiKeyList, summary="List API keys (prefixes only)")
def list_api_keys(user: AnyUser, state: State) -> dict:
    return {"api_keys": state.accounts.list_api_keys(user)}


@router.post("/api-keys", response_model=px.ApiKeyCreated, summary="Create an API key (shown once)")
def create_api_key(body: px.ApiKeyCreateRequest, user: JwtUser, state: State) -> dict:
    key_id, key = state.accounts.create_api_key(user, body.name)
    return {"api_key": key, "id": key_id, "name": body.name, "message": policy.API_KEY_CREATED_MESSAGE}


@router.delete("/api-keys/{key_id}", response_model=px.MessageResponse, summary="Revoke an API key")
def revoke_api_key(key_id: str, user: JwtUser, state: State) -> dict:
    state.accounts.revoke_api_key(user, key_id)
    return {"message": policy.API_KEY_REVOKED_MESSAGE}
