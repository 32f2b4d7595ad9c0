"""Lighter under /api/v1 at the root (the native signer replaces any base-URL path), in Lighter's
``{code, message}`` envelope. Posts are form-encoded, as the SDK sends them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.wire import LighterError

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX, tags=["Lighter"])
State = Annotated[SandboxState, Depends(get_state)]
Auth = Annotated[str | None, Header(alias="authorization")]
AccountIndex = Annotated[int, Query(ge=0, le=wire.MAX_ACCOUNT_INDEX)]


def refusal(status: int, message: str) -> LighterError:
    """A refusal that did not come from Lighter's own rules (a malformed query, an unknown path)."""
    return LighterError(wire.INVALID_PARAM, message, status)


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _field(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if value is None or value == "":
        raise LighterError(wire.INVALID_PARAM, f"{name} is required")
    return value


def _int_field(form: dict[str, str], name: str, low: int = 0, high: int = wire.MAX_ACCOUNT_INDEX) -> int:
    text = _field(form, name)
    try:
        value = int(text)
    except ValueError:
        raise LighterError(wire.INVALID_PARAM, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise LighterError(wire.INVALID_PARAM, f"{name} must be between {low} and {high}")
    return value


def _bool_field(form: dict[str, str], name: str) -> bool:
    text = form.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise LighterError(wire.INVALID_PARAM, f"{name} must be true or false")
    return text in ("true", "1")


# -- public ------------------------------------------------------------------------------------


@router.get("/accountsByL1Address", summary="Lighter: the accounts of an L1 address")
async def accounts_by_l1_address(
    state: State, l1_address: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$")]
) -> Any:
    return await _run(state.lighter.accounts_by_l1_address, l1_address)


@router.get("/nextNonce", summary="Lighter: the next nonce of an API key")
async def next_nonce(
    state: State, account_index: AccountIndex, api_key_index: Annotated[int, Query(ge=0, le=255)]
) -> Any:
    return await _run(state.lighter.next_nonce, account_index, api_key_index)


@router.get("/apikeys", summary="Lighter: the API keys of an account (255 or none: all)")
async def apikeys(
    state: State,
    account_index: AccountIndex,
    api_key_index: Annotated[int | None, Query(ge=0, le=255)] = None,
) -> Any:
    return await _run(state.lighter.api_keys, account_index, api_key_index)


@router.post("/sendTx", summary="Lighter: submit one signed transaction (form: tx_type, tx_info)")
async def send_tx(state: State, request: Request) -> Any:
    form = await _form(request)

    def run() -> Any:
        tx_type = _int_field(form, "tx_type", 0, 255)
        tx_info = _field(form, "tx_info")
        if not tx_info.lstrip().startswith("{"):
            raise LighterError(wire.INVALID_TX, "tx_info must be a JSON object")
        return state.lighter.send_tx(tx_type, tx_info)

    return await _run(run)


# -- authenticated -------------------------------------------------------------------------------


async def _write(
    state: SandboxState,
    request: Request,
    authorization: str | None,
    act: Callable[[dict[str, str], int], Any],
) -> Any:
    """A form post that changes an account: only a signed auth token for that account may."""
    form = await _form(request)

    def run() -> Any:
        account = _int_field(form, "account_index")
        state.lighter.authenticate(authorization, account, write=True)
        return act(form, account)

    return await _run(run)


async def _read(
    state: SandboxState, account_index: int, authorization: str | None, act: Callable[[int], Any]
) -> Any:
    """A private read: a signed auth token or a read-only token for that account."""

    def run() -> Any:
        state.lighter.authenticate(authorization, account_index, write=False)
        return act(account_index)

    return await _run(run)


@router.post("/tokens/create", summary="Lighter: create a read-only API token")
async def tokens_create(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.create_token(
            account,
            form.get("name", ""),
            _int_field(form, "expiry", 0, 2**63 - 1),
            _bool_field(form, "sub_account_access"),
            form.get("scopes") or "read.*",
        )

    return await _write(state, request, authorization, act)


@router.get("/tokens", summary="Lighter: the read-only API tokens of an account")
async def tokens(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.tokens)


@router.post("/tokens/revoke", summary="Lighter: revoke a read-only API token")
async def tokens_revoke(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.revoke_token(account, _int_field(form, "token_id", 0, 2**63 - 1))

    return await _write(state, request, authorization, act)


@router.post("/setMakerOnlyApiKeys", summary="Lighter: replace the account's maker-only keys")
async def set_maker_only(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.set_maker_only(account, _field(form, "api_key_indexes"))

    return await _write(state, request, authorization, act)


@router.get("/getMakerOnlyApiKeys", summary="Lighter: the account's maker-only keys")
async def get_maker_only(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.get_maker_only)


@router.post("/changeAccountTier", summary="Lighter: switch between standard and premium")
async def change_account_tier(state: State, request: Request, authorization: Auth = None) -> Any:
    def act(form: dict[str, str], account: int) -> Any:
        return state.lighter.change_tier(account, _field(form, "new_tier"))

    return await _write(state, request, authorization, act)


@router.get("/accountLimits", summary="Lighter: the account's tier and fee ticks")
async def account_limits(state: State, account_index: AccountIndex, authorization: Auth = None) -> Any:
    return await _read(state, account_index, authorization, state.lighter.account_limits)
