"""Hyperliquid's POST /info and POST /exchange at root paths, in Hyperliquid's words.

Each request is parsed into the venue's typed models (``venues.hyperliquid_wire``) before any
state is read. A body that does not parse is HTTP 422 in plain text, as the venue answers it
(the official SDK raises ``ClientError`` with the text); an action the venue refuses is HTTP 200
``{"status": "err", "response": ...}``. PaperExchange's Hyperliquid face serves the same reads
and trades through ``answer_info`` and ``trade``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from toolkit.sandbox import universe
from toolkit.sandbox.engine.specs import OrderRejected
from toolkit.sandbox.hyperliquid import ActionRefused
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import hyperliquid as hl
from toolkit.venues import hyperliquid_wire as wire
from toolkit.venues.refusal import VenueRefusal

router = APIRouter(tags=["Hyperliquid"])
State = Annotated[SandboxState, Depends(get_state)]
PATHS = ("/info", "/exchange")

OK = {"status": "ok", "response": {"type": "default"}}
DESERIALIZE = "Failed to deserialize the JSON body into the target type"


class BadRequest(VenueRefusal):
    """Hyperliquid's HTTP-level refusal: plain text, which the SDK raises as ``ClientError``."""

    status = 422

    def body(self) -> str:
        return self.message


def refusal(status: int, message: str) -> BadRequest:
    return BadRequest(
        message if status != 400 else f"{DESERIALIZE}: {message}", 422 if status == 400 else status
    )


def body_schema(model: Any) -> dict[str, Any]:
    """The request body's schema for OpenAPI (the route reads the raw bytes itself), its
    definitions inlined so the schema stands alone."""
    schema = TypeAdapter(model).json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    content = {"application/json": {"schema": inline(schema)}}
    return {"requestBody": {"required": True, "content": content}}


def bad_body(problem: str) -> BadRequest:
    return BadRequest(f"{DESERIALIZE}: {problem}")


def not_json() -> BadRequest:
    return bad_body("the body is not JSON")


async def read_json(request: Request, refuse: Callable[[], VenueRefusal] = not_json) -> Any:
    """The body as JSON, or ``refuse()``'s refusal."""
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise refuse() from None


def parse(parser: Callable[[Any], Any], raw: Any, refuse: Callable[[str], VenueRefusal] = bad_body) -> Any:
    """Parse ``raw`` with one of the wire parsers; what does not parse is refused (``refuse`` words
    it for the venue's face) before any state is read."""
    try:
        return parser(raw)
    except wire.WireError as exc:
        raise refuse(str(exc)) from None


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


@router.post("/info", summary="Hyperliquid info requests", openapi_extra=body_schema(wire.InfoRequest))
async def info(request: Request, state: State) -> Any:
    req = parse(wire.parse_info, await read_json(request))
    ip = request.client.host if request.client else ""
    wait = state.info_limits.admit(ip, hl.info_weight(req.type))
    if wait:
        return PlainTextResponse(
            "Too many requests: the weight budget per minute is spent",
            status_code=429,
            headers={"Retry-After": f"{wait:.3f}"},
        )
    result = await _on_the_loop_if_free(state, answer_info, req, None, "hyperliquid")
    state.info_limits.charge(ip, hl.info_weight(req.type, len(result) if isinstance(result, list) else 0))
    return result


def answer_info(
    state: SandboxState,
    req: Any,
    user: str | None,
    venue: str,
    refuse: Callable[[str], VenueRefusal] = bad_body,
) -> Any:
    """One parsed info request; ``user`` is the caller on PaperExchange, else the request names it.
    What the parsed request still asks wrongly is refused in ``refuse``'s words (the face's)."""
    paper, who = state.paper, user or getattr(req, "user", "").lower()
    match req:
        case wire.MetaRequest():
            return universe.meta()
        case wire.SpotMetaRequest():
            return {"universe": [], "tokens": []}
        case wire.AllMidsRequest():
            return paper.all_mids()
        case wire.MetaAndAssetCtxsRequest():
            return [universe.meta(), paper.asset_contexts()]
        case wire.ClearinghouseStateRequest():
            return paper.clearinghouse_state(who, venue)
        case wire.OpenOrdersRequest() | wire.FrontendOpenOrdersRequest():
            return paper.open_orders(who, venue)
        case wire.UserFillsRequest():
            return paper.user_fills(who, venue=venue)
        case wire.UserFillsByTimeRequest():
            return paper.user_fills_by_time(who, req.startTime, req.endTime, venue)
        case wire.FundingHistoryRequest():
            if req.coin not in universe.COINS:
                raise refuse(f"coin: Unknown coin {req.coin[:16]!r}")
            return paper.funding_history(req.coin, req.startTime, req.endTime)
        case wire.UserFundingRequest():
            return paper.user_funding(who, req.startTime, req.endTime, venue)
        case wire.UserNonFundingLedgerUpdatesRequest():
            return paper.ledger(who, req.startTime, req.endTime, venue)
        case wire.ExtraAgentsRequest() if venue == "hyperliquid":
            return state.hyperliquid.extra_agents(who)
        case wire.UserRoleRequest() if venue == "hyperliquid":
            return state.hyperliquid.user_role(who)
    raise refuse(f"Unknown info request type {req.type!r}")


@router.post(
    "/exchange", summary="Hyperliquid signed actions", openapi_extra=body_schema(wire.ExchangeRequest)
)
async def exchange(request: Request, state: State) -> Any:
    raw = await read_json(request)
    req = parse(wire.parse_exchange, raw)
    return await _on_the_loop_if_free(state, _exchange, req, raw)


def _exchange(state: SandboxState, req: wire.ExchangeRequest, raw: dict[str, Any]) -> Any:
    try:
        action = req.action
        if isinstance(action, wire.ApproveAgentAction):
            state.hyperliquid.approve_agent(req, raw["action"])
            return OK
        who = state.hyperliquid.authenticate_l1(req, raw["action"], raw["signature"])
        state.hyperliquid.charge_actions(
            who.user,
            max(1, len(getattr(action, "orders", None) or getattr(action, "cancels", None) or ())),
            state.paper.volume(who.user),
            cancels=isinstance(action, wire.CancelAction | wire.CancelByCloidAction),
        )
        if isinstance(action, wire.NoopAction):
            return OK
        return trade(state, who.user, action, "hyperliquid")
    except ActionRefused as exc:
        return {"status": "err", "response": str(exc)}


def trade(state: SandboxState, user: str, action: Any, venue: str) -> dict[str, Any]:
    """One parsed trading action on ``venue:user``'s paper account, answered as Hyperliquid does."""
    paper = state.paper
    if venue == "hyperliquid" and paper.account(user) is None:  # deposited before paper state was stored
        paper.deposit(user, state.hyperliquid.deposited(user))
    match action:
        case wire.OrderAction():
            response = paper.order(user, action, venue)
        case wire.CancelAction():
            response = paper.cancel(user, [(c.a, c.o) for c in action.cancels], by_cloid=False, venue=venue)
        case wire.CancelByCloidAction():
            response = paper.cancel(
                user, [(c.asset, c.cloid) for c in action.cancels], by_cloid=True, venue=venue
            )
        case wire.UpdateLeverageAction():
            try:
                paper.update_leverage(user, action, venue)
            except OrderRejected as exc:
                raise ActionRefused(str(exc)) from None
            response = {"type": "default"}
        case _:
            raise ActionRefused(f"Unsupported action type {action.type!r}")
    return {"status": "ok", "response": response}
