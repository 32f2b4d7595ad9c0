"""Aster under /fapi (V1 HMAC and V3 agents) and /bapi (the web3 key flow), in Aster's words.

Signed routes read the raw query string and body: a signature covers the exact bytes sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from toolkit.sandbox.aster import AsterRefusal, BapiRefusal
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import aster as av

router = APIRouter(tags=["Aster"])
State = Annotated[SandboxState, Depends(get_state)]
WEB3 = av.BAPI_PREFIX + "/public/future/web3"


def fapi_error(code: int, msg: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"code": code, "msg": msg}, status_code=status)


def bapi_ok(data: Any) -> dict[str, Any]:
    return {"code": "000000", "message": None, "messageDetail": None, "data": data, "success": True}


def bapi_error(code: str, message: str, status: int = 400) -> JSONResponse:
    body = {"code": code, "message": message, "messageDetail": None, "data": None, "success": False}
    return JSONResponse(body, status_code=status)


async def _raw(request: Request) -> tuple[str, str]:
    return request.url.query, (await request.body()).decode("utf-8", errors="replace")


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return await run_in_threadpool(fn, *args)
    except AsterRefusal as exc:
        return fapi_error(exc.code, exc.msg, exc.status)


# -- web3 (bapi) -------------------------------------------------------------------------------------


@router.post(f"{WEB3}/get-nonce", summary="Aster web3: a nonce to sign")
def get_nonce(state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    try:
        return bapi_ok({"nonce": state.aster.get_nonce(body.get("sourceAddr"), body.get("type"))})
    except BapiRefusal as exc:
        return bapi_error(exc.code, exc.message)


@router.post(f"{WEB3}/broker-create-api-key", summary="Aster web3: an API key and secret for a signature")
def broker_create_api_key(state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    try:
        return bapi_ok(state.aster.create_api_key(body))
    except BapiRefusal as exc:
        return bapi_error(exc.code, exc.message)


# -- V1 --------------------------------------------------------------------------------------------------


@router.get("/fapi/v1/time", summary="Server time (ms)")
def server_time() -> dict[str, int]:
    import time

    return {"serverTime": int(time.time() * 1000)}


@router.get("/fapi/v2/balance", summary="Futures balance (USER_DATA, HMAC-signed)")
async def balance_v2(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = state.aster.authenticate_v1(request.headers.get("x-mbx-apikey"), query, body)
        return state.aster.balance(address)

    return await _run(work)


# -- V3 ------------------------------------------------------------------------------------------------------


def _form(query: str, body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True)) | dict(parse_qsl(query, keep_blank_values=True))


@router.post("/fapi/v3/approveAgent", summary="The main wallet approves an agent (EIP-712, chain 56)")
async def approve_agent(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    result = await _run(state.aster.approve_agent, _form(query, body))
    return result if isinstance(result, JSONResponse) else {"code": 200, "msg": "success"}


@router.post("/fapi/v3/registerAndApproveAgent", summary="Register the main wallet and approve an agent")
async def register_and_approve_agent(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    result = await _run(state.aster.register_and_approve_agent, _form(query, body))
    return result if isinstance(result, JSONResponse) else {"code": 200, "msg": "success"}


@router.delete("/fapi/v3/agent", summary="The main wallet deletes an agent")
async def delete_agent(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    result = await _run(state.aster.delete_agent, _form(query, body))
    return result if isinstance(result, JSONResponse) else {"code": 200, "msg": "success"}


@router.get("/fapi/v3/agent", summary="The account's agents (signed by an agent)")
async def agents(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        return state.aster.agents(state.aster.authenticate_v3(query, body).user)

    return await _run(work)


@router.get("/fapi/v3/balance", summary="Futures balance (signed by an agent)")
async def balance_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        return state.aster.balance(state.aster.authenticate_v3(query, body).user)

    return await _run(work)
