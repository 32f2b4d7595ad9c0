"""Hyperliquid's POST /info and POST /exchange at root paths, in Hyperliquid's words.

As on Hyperliquid, an action the venue refuses is HTTP 200 ``{"status": "err", "response": ...}``
(the official SDK reads it that way); a body that cannot be read at all is a 4xx in the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from toolkit.sandbox import universe
from toolkit.sandbox.engine.specs import OrderRejected
from toolkit.sandbox.hyperliquid import ActionRefused
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import hyperliquid as hl

router = APIRouter(tags=["Hyperliquid"])
State = Annotated[SandboxState, Depends(get_state)]
PATHS = ("/info", "/exchange")

OK = {"status": "ok", "response": {"type": "default"}}


def err(message: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"status": "err", "response": message}, status_code=status)


def _ms(body: dict[str, Any], field: str, default: int | None = None) -> int | None:
    value = body.get(field, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{field} must be milliseconds since the epoch")
    return value


def _address(body: dict[str, Any], field: str = "user") -> str:
    return hl.user_address(body.get(field), field)


async def _on_the_loop_if_free(state: SandboxState, handler: Callable[..., Any], *args: Any) -> Any:
    """Run ``handler`` right on the event loop while the paper venue is free, else in the threadpool.

    The hot path (a signed order) then skips the hop to a worker thread, which under concurrent
    clients cost more than the order itself; a request that would wait (an advance is being
    processed) waits in a worker instead, never blocking the loop."""
    lock = state.paper.lock
    if lock.acquire(blocking=False):
        try:
            return handler(state, *args)
        finally:
            lock.release()
    return await run_in_threadpool(handler, state, *args)


@router.post("/info", summary="Hyperliquid info requests")
async def info(request: Request, state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    ip = request.client.host if request.client else ""
    kind = str(body.get("type"))
    wait = state.info_limits.admit(ip, hl.info_weight(kind))
    if wait:
        return JSONResponse(
            {"status": "err", "response": "Too many requests: the weight budget per minute is spent"},
            status_code=429,
            headers={"Retry-After": f"{wait:.3f}"},
        )
    result = await _on_the_loop_if_free(state, _info, body)
    state.info_limits.charge(ip, hl.info_weight(kind, len(result) if isinstance(result, list) else 0))
    return result


def _info(state: SandboxState, body: dict[str, Any]) -> Any:
    kind = body.get("type")
    try:
        if kind == "meta":
            return universe.meta()
        if kind == "spotMeta":
            return {"universe": [], "tokens": []}
        if kind == "allMids":
            return state.paper.all_mids()
        if kind == "metaAndAssetCtxs":
            return [universe.meta(), state.paper.asset_contexts()]
        if kind == "clearinghouseState":
            return state.paper.clearinghouse_state(_address(body))
        if kind in ("openOrders", "frontendOpenOrders"):
            return state.paper.open_orders(_address(body))
        if kind == "userFills":
            return state.paper.user_fills(_address(body))
        if kind == "userFillsByTime":
            start, end = _ms(body, "startTime", 0), _ms(body, "endTime")
            return state.paper.user_fills_by_time(_address(body), start, end)
        if kind == "fundingHistory":
            return state.paper.funding_history(
                str(body.get("coin")), _ms(body, "startTime", 0), _ms(body, "endTime")
            )
        if kind == "userFunding":
            return state.paper.user_funding(_address(body), _ms(body, "startTime", 0), _ms(body, "endTime"))
        if kind == "userNonFundingLedgerUpdates":
            return state.paper.ledger(_address(body), _ms(body, "startTime", 0), _ms(body, "endTime"))
        if kind == "extraAgents":
            return state.hyperliquid.extra_agents(_address(body))
        if kind == "userRole":
            return state.hyperliquid.user_role(_address(body))
    except ValueError as exc:
        return err(str(exc), 422)
    return err(f"Unknown info request type {kind!r}", 422)


@router.post("/exchange", summary="Hyperliquid signed actions")
async def exchange(state: State, body: Annotated[dict[str, Any], Body()]) -> Any:
    return await _on_the_loop_if_free(state, _exchange, body)


def _exchange(state: SandboxState, body: dict[str, Any]) -> Any:
    action = body.get("action")
    if not isinstance(action, dict) or not isinstance(action.get("type"), str):
        return err("The body needs an action object with a type", 422)
    if not isinstance(body.get("signature"), dict | str):
        return err("The body needs a signature {r, s, v}", 422)
    try:
        if action["type"] == "approveAgent":
            state.hyperliquid.approve_agent(body)
            return OK
        if action["type"] == "noop":
            state.hyperliquid.authenticate_l1(body)
            return OK
        if action["type"] in TRADING:
            who = state.hyperliquid.authenticate_l1(body)
            return {"status": "ok", "response": _trade(state, who.user, action)}
    except (ActionRefused, OrderRejected) as exc:
        return err(str(exc))
    except (KeyError, TypeError, ValueError) as exc:
        return err(f"Invalid {action['type']} action: {exc}")
    return err(f"Unsupported action type {action['type']!r}")


TRADING = ("order", "cancel", "cancelByCloid", "updateLeverage")


def _trade(state: SandboxState, user: str, action: dict[str, Any]) -> dict[str, Any]:
    paper = state.paper
    if paper.account(user) is None:  # deposited before paper state was stored (schema v5): open it now
        paper.deposit(user, state.hyperliquid.deposited(user))
    if action["type"] == "order":
        return paper.order(user, action)
    if action["type"] == "cancel":
        return paper.cancel(user, action, by_cloid=False)
    if action["type"] == "cancelByCloid":
        return paper.cancel(user, action, by_cloid=True)
    paper.update_leverage(user, action)
    return {"type": "default"}
