"""Aster under /fapi (V1 HMAC and V3 agents) and /bapi (the web3 key flow), in Aster's words.

Signed routes read the raw query string and body: a signature covers the exact bytes sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Body, Depends, Request
from fastapi.concurrency import run_in_threadpool

from toolkit.sandbox.aster import AsterRefusal, BapiRefusal
from toolkit.sandbox.clearinghouse import OrderRequest, owner
from toolkit.sandbox.engine.core import Rejected
from toolkit.sandbox.engine.market import HOUR_MS
from toolkit.sandbox.engine.specs import Reason
from toolkit.sandbox.render import aster as render
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.sandbox.universe import COINS
from toolkit.venues import aster as av
from toolkit.venues import aster_wire as aw
from toolkit.venues.funding import HOURLY_CAP

router = APIRouter(tags=["Aster"])
State = Annotated[SandboxState, Depends(get_state)]
WEB3 = av.BAPI_PREFIX + "/public/future/web3"


def refusal(status: int, message: str) -> AsterRefusal:
    """An /fapi refusal at the HTTP level: -1102 for a bad parameter, -1000 otherwise."""
    return AsterRefusal(-1102 if status == 400 else -1000, message, status)


def bapi_refusal(status: int, message: str) -> BapiRefusal:
    return BapiRefusal("100001003", message, status)


def bapi_ok(data: Any) -> dict[str, Any]:
    return {"code": "000000", "message": None, "messageDetail": None, "data": data, "success": True}


async def _raw(request: Request) -> tuple[str, str]:
    return request.url.query, (await request.body()).decode("utf-8", errors="replace")


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    return await run_in_threadpool(fn, *args)


# -- web3 (bapi) -------------------------------------------------------------------------------------


@router.post(f"{WEB3}/get-nonce", summary="Aster web3: a nonce to sign")
def get_nonce(state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    return bapi_ok({"nonce": state.aster.get_nonce(body.get("sourceAddr"), body.get("type"))})


@router.post(f"{WEB3}/broker-create-api-key", summary="Aster web3: an API key and secret for a signature")
def broker_create_api_key(state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    return bapi_ok(state.aster.create_api_key(body))


# -- V1 --------------------------------------------------------------------------------------------------


@router.get("/fapi/v1/time", summary="Server time (ms)")
def server_time() -> dict[str, int]:
    import time

    return {"serverTime": int(time.time() * 1000)}


def _v1(request: Request, state: SandboxState, query: str, body: str) -> str:
    return state.aster.authenticate_v1(request.headers.get("x-mbx-apikey"), query, body)


@router.get("/fapi/v2/balance", summary="Futures balance (USER_DATA, HMAC-signed)")
async def balance_v2(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = _v1(request, state, query, body)
        return render.balance(_view(state, address), address[-8:])

    return await _run(work)


@router.get("/fapi/v2/account", summary="Account: balances, margins and positions (USER_DATA, HMAC-signed)")
async def account_v2(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    return await _run(lambda: render.account(_view(state, _v1(request, state, query, body))))


@router.get("/fapi/v2/positionRisk", summary="Positions with mark, PnL and liquidation price (HMAC-signed)")
async def position_risk_v2(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = _v1(request, state, query, body)
        return render.position_risk(_view(state, address), _symbol(_form(query, body)))

    return await _run(work)


# -- V3 ------------------------------------------------------------------------------------------------------


def _form(query: str, body: str) -> dict[str, str]:
    return dict(parse_qsl(body, keep_blank_values=True)) | dict(parse_qsl(query, keep_blank_values=True))


async def _main_action(request: Request, action: Callable[[dict[str, str]], Any]) -> Any:
    """A main-wallet action on the request's form: Aster's refusal, else its success envelope."""
    query, body = await _raw(request)
    await _run(action, _form(query, body))
    return {"code": 200, "msg": "success"}


@router.post("/fapi/v3/approveAgent", summary="The main wallet approves an agent (EIP-712, chain 56)")
async def approve_agent(request: Request, state: State) -> Any:
    return await _main_action(request, state.aster.approve_agent)


@router.post("/fapi/v3/registerAndApproveAgent", summary="Register the main wallet and approve an agent")
async def register_and_approve_agent(request: Request, state: State) -> Any:
    return await _main_action(request, state.aster.register_and_approve_agent)


@router.delete("/fapi/v3/agent", summary="The main wallet deletes an agent")
async def delete_agent(request: Request, state: State) -> Any:
    return await _main_action(request, state.aster.delete_agent)


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
        user = state.aster.authenticate_v3(query, body).user
        return render.balance(_view(state, user), user[-8:])

    return await _run(work)


@router.get("/fapi/v3/account", summary="Account: balances, margins and positions (signed by an agent)")
async def account_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    return await _run(lambda: render.account(_view(state, state.aster.authenticate_v3(query, body).user)))


@router.get("/fapi/v3/positionRisk", summary="Positions with mark, PnL and liquidation price (agent-signed)")
async def position_risk_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        caller = state.aster.authenticate_v3(query, body)
        return render.position_risk(_view(state, caller.user), _symbol(caller.params))

    return await _run(work)


# -- trading and funding on the clearinghouse ---------------------------------------------------------

TIF = {"GTC": "Gtc", "IOC": "Ioc", "FOK": "Ioc", "GTX": "Alo"}


def _params(model: type[Any], params: dict[str, str]) -> Any:
    try:
        return aw.parse(model, params)
    except aw.ParamError as exc:
        raise AsterRefusal(exc.code, str(exc)) from None


def _coin(symbol: str) -> str:
    coin = symbol.removesuffix("USDT")
    if not symbol.endswith("USDT") or coin not in COINS:
        raise AsterRefusal(-1121, "Invalid symbol.")
    return coin


def place_order(state: SandboxState, address: str, params: dict[str, str]) -> dict[str, Any]:
    """One order on the clearinghouse, stored before it is answered."""
    p = _params(aw.OrderParams, params)
    coin = _coin(p.symbol)
    if p.type == "LIMIT" and not p.price:
        raise AsterRefusal(-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
    market = p.type == "MARKET"
    request = OrderRequest(
        coin, p.side == "BUY", p.quantity, None if market else p.price,
        tif="Ioc" if market else TIF[p.timeInForce or "GTC"],
        reduce_only=p.reduceOnly.lower() == "true", cloid=p.newClientOrderId,
    )  # fmt: skip
    (result,) = state.clearinghouse.place(owner("aster", address), [request])
    if isinstance(result, Rejected) and result.reason is not Reason.NO_MATCH:
        raise AsterRefusal(*render.refusal(result))
    return render.order(
        result, symbol=p.symbol, side=p.side, kind=p.type, price=p.price, quantity=p.quantity,
        client_id=p.newClientOrderId, tif=p.timeInForce or ("IOC" if market else "GTC"),
        reduce_only=request.reduce_only, now=state.clearinghouse.now(),
    )  # fmt: skip


def _view(state: SandboxState, address: str) -> Any:
    return state.clearinghouse.view(owner("aster", address))


def _symbol(params: dict[str, str]) -> str | None:
    symbol = params.get("symbol") or None
    if symbol is not None:
        _coin(symbol)
    return symbol


@router.post("/fapi/v1/order", summary="New order (TRADE, HMAC-signed)")
async def order_v1(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = state.aster.authenticate_v1(request.headers.get("x-mbx-apikey"), query, body)
        return place_order(state, address, _form(query, body))

    return await _run(work)


@router.post("/fapi/v3/order", summary="New order (signed by an agent)")
async def order_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        caller = state.aster.authenticate_v3(query, body)
        caller.require_perp_trade()
        return place_order(state, caller.user, caller.params)

    return await _run(work)


def _income(state: SandboxState, address: str, params: dict[str, str]) -> list[dict[str, Any]]:
    """Income rows, newest last; with no range, the last 7 days; ``limit`` at most 1000."""
    p = _params(aw.IncomeParams, params)
    coin = _coin(p.symbol) if p.symbol else None
    return state.clearinghouse.income(
        owner("aster", address), p.startTime, p.endTime, coin, p.incomeType, p.limit
    )


@router.get("/fapi/v1/income", summary="Income history (USER_DATA, HMAC-signed)")
async def income_v1(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = _v1(request, state, query, body)
        return _income(state, address, _form(query, body))

    return await _run(work)


@router.get("/fapi/v3/income", summary="Income history (signed by an agent)")
async def income_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        caller = state.aster.authenticate_v3(query, body)
        return _income(state, caller.user, caller.params)

    return await _run(work)


def funding_rate_rows(state: SandboxState, params: dict[str, str]) -> list[dict[str, Any]]:
    p = _params(aw.FundingRateParams, params)
    limit, start, end = p.limit, p.startTime, p.endTime
    coins = [_coin(p.symbol)] if p.symbol else list(COINS)
    ch = state.clearinghouse
    now = ch.now()
    end = min(end if end is not None else now, now)
    first = start if start is not None else end - limit * HOUR_MS
    rows = [
        {"symbol": f"{r.coin}USDT", "fundingRate": f"{r.rate:.8f}", "fundingTime": r.time}
        for coin in coins
        for r in ch.funding_history(coin, first, end, limit + 1)
    ]
    rows.sort(key=lambda r: (r["fundingTime"], r["symbol"]))
    return rows[:limit] if start is not None else rows[-limit:]


@router.get("/fapi/v1/fundingRate", summary="Funding-rate history (public)")
@router.get("/fapi/v3/fundingRate", summary="Funding-rate history (public)")
async def funding_rate(request: Request, state: State) -> Any:
    query, body = await _raw(request)
    return await _run(funding_rate_rows, state, _form(query, body))


@router.get("/fapi/v1/fundingInfo", summary="Funding settings per symbol (public)")
@router.get("/fapi/v3/fundingInfo", summary="Funding settings per symbol (public)")
def funding_info(state: State) -> list[dict[str, Any]]:
    now = state.clock.now_ms()
    return [
        {"symbol": f"{c}USDT", "interestRate": "0.00010000", "time": now, "fundingIntervalHours": 1,
         "fundingFeeCap": HOURLY_CAP, "fundingFeeFloor": -HOURLY_CAP}
        for c in COINS
    ]  # fmt: skip
