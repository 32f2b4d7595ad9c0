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
from toolkit.sandbox.engine.core import Filled, Rejected, Resting, _num
from toolkit.sandbox.engine.specs import Reason
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import aster as av
from toolkit.venues import aster_wire as aw

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
        return state.aster.balance(state.aster.authenticate_v3(query, body).user)

    return await _run(work)


# -- trading and funding on the paper engine ------------------------------------------------------------

# engine refusal -> Aster code (Binance-futures numbering)
ENGINE_CODES = {
    Reason.PRICE: -1111,
    Reason.SIZE: -1111,
    Reason.MIN_VALUE: -4164,
    Reason.MARGIN: -2019,
    Reason.LEVERAGE: -2027,
    Reason.REDUCE_ONLY: -2022,
    Reason.POST_ONLY: -5022,
}
TIF = {"GTC": "Gtc", "IOC": "Ioc", "FOK": "Ioc", "GTX": "Alo"}


def _paper_account(state: SandboxState, address: str) -> int:
    account = state.paper.account(address, "aster")
    return account if account is not None else state.paper.open(address, "aster")


def _params(model: type[Any], params: dict[str, str]) -> Any:
    try:
        return aw.parse(model, params)
    except aw.ParamError as exc:
        raise AsterRefusal(exc.code, str(exc)) from None


def place_order(state: SandboxState, address: str, params: dict[str, str]) -> dict[str, Any]:
    from toolkit.sandbox.universe import COINS

    p = _params(aw.OrderParams, params)
    symbol, side, kind, quantity = p.symbol, p.side, p.type, p.quantity
    coin = symbol.removesuffix("USDT")
    if not symbol.endswith("USDT") or coin not in COINS:
        raise AsterRefusal(-1121, "Invalid symbol.")
    is_buy = side == "BUY"
    with state.paper.lock:
        state.paper.sync()
        engine = state.paper.engine
        c = engine.coin_index(coin)
        if kind == "MARKET":
            tif = "Ioc"
            mark = float(engine.marks()[c])
            price = f"{mark * (1.05 if is_buy else 0.95):.5g}"
            price = repr(round(float(price), max(0, 6 - engine.contracts[c].sz_decimals)))
        else:
            price = p.price
            if not price:
                raise AsterRefusal(
                    -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed."
                )
            tif = TIF[p.timeInForce or "GTC"]
        reduce_only = p.reduceOnly.lower() == "true"
        account = _paper_account(state, address)
        result = engine.place(
            account,
            coin,
            is_buy,
            price,
            quantity,
            tif=tif,
            reduce_only=reduce_only,
            cloid=p.newClientOrderId,
        )
        now = engine.now
    match result:
        case Rejected(Reason.NO_MATCH, _):  # as on Aster: an IOC that cannot fill expires
            oid, status, executed, avg = 0, "EXPIRED", "0", "0"
        case Rejected(reason, message):
            raise AsterRefusal(ENGINE_CODES.get(reason, -1000), message)
        case Filled(oid, sz, px):
            status, executed, avg = "FILLED", _num(sz), _num(px)
        case Resting(oid, _):
            status, executed, avg = "NEW", "0", "0"
    return {
        "orderId": oid,
        "symbol": symbol,
        "status": status,
        "clientOrderId": p.newClientOrderId or "",
        "price": price if kind == "LIMIT" else "0",
        "avgPrice": avg,
        "origQty": quantity,
        "executedQty": executed,
        "cumQuote": _num(float(executed) * float(avg)),
        "timeInForce": p.timeInForce or ("GTC" if kind == "LIMIT" else "IOC"),
        "type": kind,
        "reduceOnly": reduce_only,
        "side": side,
        "positionSide": "BOTH",
        "updateTime": now,
    }


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


@router.get("/fapi/v1/income", summary="Income history (USER_DATA, HMAC-signed)")
async def income_v1(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        address = state.aster.authenticate_v1(request.headers.get("x-mbx-apikey"), query, body)
        params = _params(aw.IncomeParams, _form(query, body))
        return state.paper.income_rows(state.paper.account(address, "aster"), params)

    return await _run(work)


@router.get("/fapi/v3/income", summary="Income history (signed by an agent)")
async def income_v3(request: Request, state: State) -> Any:
    query, body = await _raw(request)

    def work() -> Any:
        caller = state.aster.authenticate_v3(query, body)
        params = _params(aw.IncomeParams, caller.params)
        return state.paper.income_rows(state.paper.account(caller.user, "aster"), params)

    return await _run(work)


def funding_rate_rows(state: SandboxState, params: dict[str, str]) -> list[dict[str, Any]]:
    from toolkit.sandbox.market import HOUR_MS
    from toolkit.sandbox.universe import COINS

    p = _params(aw.FundingRateParams, params)
    limit, start, end, symbol = p.limit, p.startTime, p.endTime, p.symbol
    coins = COINS if not symbol else [symbol.removesuffix("USDT")]
    if symbol and (not symbol.endswith("USDT") or coins[0] not in COINS):
        raise AsterRefusal(-1121, "Invalid symbol.")
    with state.paper.lock:
        state.paper.sync()
        market, now = state.paper.market, state.paper.engine.now
        end = min(end if end is not None else now, now)
        rows = []
        for coin in coins:
            first = start if start is not None else end - limit * HOUR_MS
            for r in market.funding_history(coin, max(first, market.start_ms), end):
                rows.append(
                    {
                        "symbol": f"{coin}USDT",
                        "fundingRate": f"{float(r['fundingRate']):.8f}",
                        "fundingTime": r["time"],
                    }
                )
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
    from toolkit.sandbox.engine.funding import HOURLY_CAP
    from toolkit.sandbox.universe import COINS

    now = state.clock.now_ms()
    return [
        {"symbol": f"{c}USDT", "interestRate": "0.00010000", "time": now, "fundingIntervalHours": 1,
         "fundingFeeCap": HOURLY_CAP, "fundingFeeFloor": -HOURLY_CAP}
        for c in COINS
    ]  # fmt: skip
