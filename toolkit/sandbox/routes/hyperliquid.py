"""Hyperliquid's POST /info and POST /exchange at root paths, in Hyperliquid's words.

Each request is parsed into the venue's typed models (``venues.hyperliquid_wire``) before any
state is read. A body that does not parse is HTTP 422 in plain text, as the venue answers it
(the official SDK raises ``ClientError`` with the text); an action the venue refuses is HTTP 200
``{"status": "err", "response": ...}``. PaperExchange's Hyperliquid face serves the same reads
and trades through ``answer_info`` and ``trade``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from toolkit.sandbox import universe
from toolkit.sandbox.clearinghouse import Clearinghouse, OrderRequest, owner
from toolkit.sandbox.engine.specs import OrderRejected
from toolkit.sandbox.hyperliquid import ActionRefused
from toolkit.sandbox.render import hyperliquid as render
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
    result = await answer_info(state, req, None, "hyperliquid")
    state.info_limits.charge(ip, hl.info_weight(req.type, len(result) if isinstance(result, list) else 0))
    return result


FILLS_PAGE = 2000  # userFills and userFillsByTime serve at most this many
HISTORY_PAGE = 500  # userFunding, ledger updates and fundingHistory page at this many


async def answer_info(
    state: SandboxState,
    req: Any,
    user: str | None,
    venue: str,
    refuse: Callable[[str], VenueRefusal] = bad_body,
) -> Any:
    """One parsed info request; ``user`` is the caller on PaperExchange, else the request names it.
    Engine reads wait for the clearinghouse's worker, history reads run in the threadpool; what the
    parsed request still asks wrongly is refused in ``refuse``'s words (the face's)."""
    ch = state.clearinghouse
    who = owner(venue, user or getattr(req, "user", ""))

    match req:
        case wire.MetaRequest():
            return universe.meta()
        case wire.SpotMetaRequest():
            return {"universe": [], "tokens": []}
        case wire.AllMidsRequest():
            _, marks = await ch.acall(Clearinghouse._marks)
            return render.all_mids(marks)
        case wire.MetaAndAssetCtxsRequest():
            return [universe.meta(), render.asset_contexts(await ch.acall(Clearinghouse._asset_contexts))]
        case wire.ClearinghouseStateRequest():
            return render.clearinghouse_state(await ch.acall(Clearinghouse._view, who))
        case wire.OpenOrdersRequest() | wire.FrontendOpenOrdersRequest():
            return render.open_orders(await ch.acall(Clearinghouse._open_orders, who))
        case wire.UserFillsRequest():
            return await run_in_threadpool(
                lambda: [render.fill(f) for f in ch.fills(who, None, None, FILLS_PAGE)]
            )
        case wire.UserFillsByTimeRequest():
            return await run_in_threadpool(
                lambda: [
                    render.fill(f)
                    for f in ch.fills(who, req.startTime, req.endTime, FILLS_PAGE, oldest_first=True)
                ]
            )
        case wire.FundingHistoryRequest():
            if req.coin not in universe.COINS:
                raise refuse(f"coin: Unknown coin {req.coin[:16]!r}")
            rows = ch.funding_history(req.coin, req.startTime, req.endTime, HISTORY_PAGE)
            return render.funding_history(rows)
        case wire.UserFundingRequest():
            return await run_in_threadpool(
                lambda: render.user_funding(ch.funding(who, req.startTime, req.endTime, limit=HISTORY_PAGE))
            )
        case wire.UserNonFundingLedgerUpdatesRequest():
            return await run_in_threadpool(
                lambda: render.ledger(ch.ledger(who, req.startTime, req.endTime, HISTORY_PAGE))
            )
        case wire.ExtraAgentsRequest() if venue == "hyperliquid":
            return await run_in_threadpool(lambda: state.hyperliquid.extra_agents(who.partition(":")[2]))
        case wire.UserRoleRequest() if venue == "hyperliquid":
            return await run_in_threadpool(lambda: state.hyperliquid.user_role(who.partition(":")[2]))
    raise refuse(f"Unknown info request type {req.type!r}")


@router.post(
    "/exchange", summary="Hyperliquid signed actions", openapi_extra=body_schema(wire.ExchangeRequest)
)
async def exchange(request: Request, state: State) -> Any:
    raw = await read_json(request)
    req = parse(wire.parse_exchange, raw)
    signer = None
    if not isinstance(req.action, wire.ApproveAgentAction):  # recovered here: the worker only decides
        signer = state.hyperliquid.recover_signer(req, raw["action"], raw["signature"])
    return await state.clearinghouse.acall(_exchange, state, req, raw, signer)


def _exchange(
    ch: Clearinghouse, state: SandboxState, req: wire.ExchangeRequest, raw: dict[str, Any], signer: Any = None
) -> Any:
    """On the clearinghouse's worker: the nonce and the trade share its transaction."""
    try:
        action, conn = req.action, ch.connection()
        if isinstance(action, wire.ApproveAgentAction):
            state.hyperliquid.approve_agent(req, raw["action"], conn)
            return OK
        who = state.hyperliquid.authenticate_l1(req, raw["action"], raw["signature"], conn, signer)
        state.hyperliquid.charge_actions(
            who.user,
            max(1, len(getattr(action, "orders", None) or getattr(action, "cancels", None) or ())),
            ch.volume(owner("hyperliquid", who.user)),
            cancels=isinstance(action, wire.CancelAction | wire.CancelByCloidAction),
        )
        if isinstance(action, wire.NoopAction):
            return OK
        return trade(ch, owner("hyperliquid", who.user), action)
    except ActionRefused as exc:
        return exc.body()


def _order_request(order: wire.OrderWire) -> OrderRequest | str:
    """The engine's order, or Hyperliquid's words for why it cannot be one."""
    if order.a >= len(universe.COINS):
        return f"Asset {order.a} does not exist"
    if order.t.limit is None:
        return "Trigger orders are not supported by this sandbox yet"
    tif = order.t.limit.tif
    market = tif == "Ioc" and Decimal(order.p) == 0  # PaperExchange's market order: p "0" with Ioc
    return OrderRequest(
        universe.COINS[order.a], order.b, order.s, None if market else order.p, tif, order.r, order.c
    )


def trade(ch: Clearinghouse, who: str, action: Any) -> dict[str, Any]:
    """One parsed trading action on ``who``'s account, answered as Hyperliquid does."""
    match action:
        case wire.OrderAction():
            requests = [_order_request(o) for o in action.orders]
            results = iter(ch.place(who, [r for r in requests if isinstance(r, OrderRequest)]))
            statuses = [
                render.order_status(next(results)) if isinstance(r, OrderRequest) else {"error": r}
                for r in requests
            ]
            response: dict[str, Any] = {"type": "order", "data": {"statuses": statuses}}
        case wire.CancelAction():
            results = ch.cancel(who, [c.o for c in action.cancels])
            response = {"type": "cancel", "data": {"statuses": [render.cancel_status(r) for r in results]}}
        case wire.CancelByCloidAction():
            results = ch.cancel_by_cloid(who, [c.cloid for c in action.cancels])
            response = {"type": "cancel", "data": {"statuses": [render.cancel_status(r) for r in results]}}
        case wire.UpdateLeverageAction():
            if action.asset >= len(universe.COINS):
                raise ActionRefused(f"Asset {action.asset} does not exist")
            try:
                ch.update_leverage(who, universe.COINS[action.asset], action.leverage, action.isCross)
            except OrderRejected as exc:
                raise ActionRefused(render.text(exc.reason, exc.context)) from None
            response = {"type": "default"}
        case _:
            raise ActionRefused(f"Unsupported action type {action.type!r}")
    return {"status": "ok", "response": response}
