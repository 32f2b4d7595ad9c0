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
from toolkit.sandbox.engine import marketdata
from toolkit.sandbox.engine.specs import OrderRejected, Reason
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
HISTORICAL_ORDERS = 2000  # historicalOrders: the most recent orders
RECENT_TRADES = 500
FEE_DAYS = 14  # userFees: the daily volumes the fee tier looks back on
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
            return render.SPOT_META
        case wire.SpotMetaAndAssetCtxsRequest():
            return [render.SPOT_META, []]
        case wire.SpotClearinghouseStateRequest():
            return {"balances": []}  # a perps-only venue: nothing is held on the spot side
        case wire.PerpDexsRequest():
            return [None]  # the first perp dex only
        case wire.ExchangeStatusRequest():
            return {"time": ch.now(), "specialStatuses": None}
        case wire.SubAccountsRequest():
            return None
        case wire.UserVaultEquitiesRequest():
            return []
        case wire.ReferralRequest():
            return render.referral(ch.volume(who))
        case wire.PredictedFundingsRequest():
            contexts = await ch.acall(Clearinghouse._asset_contexts)
            now = ch.now()
            return render.predicted_fundings(contexts, now - now % 3_600_000 + 3_600_000)
        case wire.UserTwapSliceFillsRequest():
            return []
        case wire.L2BookRequest():
            if req.mantissa is not None and req.nSigFigs != 5:
                raise refuse("mantissa: only allowed with nSigFigs 5")
            if req.coin not in universe.COINS:
                return None
            time, bids, asks = await ch.acall(Clearinghouse._book, req.coin)
            return render.l2_book(
                req.coin,
                time,
                marketdata.aggregate(bids, True, req.nSigFigs, req.mantissa),
                marketdata.aggregate(asks, False, req.nSigFigs, req.mantissa),
            )
        case wire.CandleSnapshotRequest():
            r = req.req
            if r.coin not in universe.COINS:
                raise refuse(f"req.coin: Unknown coin {r.coin[:16]!r}")
            now = ch.now()
            end = now if r.endTime is None else r.endTime
            rows = await run_in_threadpool(
                marketdata.candles, ch.market, r.coin, r.interval, r.startTime, end, now
            )
            return [render.candle(c, r.coin, r.interval) for c in rows]
        case wire.RecentTradesRequest():
            if req.coin not in universe.COINS:
                return []
            return await run_in_threadpool(
                lambda: [render.trade(f) for f in ch.recent_trades(req.coin, RECENT_TRADES)]
            )
        case wire.OrderStatusRequest():
            row = await run_in_threadpool(ch.order_status, who, req.oid)
            return (
                {"status": "unknownOid"}
                if row is None
                else {"status": "order", "order": render.order_update(row)}
            )
        case wire.HistoricalOrdersRequest():
            return await run_in_threadpool(
                lambda: [render.order_update(r) for r in ch.historical_orders(who, HISTORICAL_ORDERS)]
            )
        case wire.UserFeesRequest():
            return await run_in_threadpool(lambda: render.user_fees(ch.daily_volume(who, FEE_DAYS)))
        case wire.PortfolioRequest():
            view = await ch.acall(Clearinghouse._view, who)
            return await run_in_threadpool(lambda: render.portfolio(view, ch.value_history, who))
        case wire.UserRateLimitRequest():
            used = state.hyperliquid.requests_used(who.partition(":")[2]) if venue == "hyperliquid" else 0
            return render.user_rate_limit(ch.volume(who), used, state.hyperliquid.action_budget)
        case wire.MaxBuilderFeeRequest():
            user = who.partition(":")[2]
            return await run_in_threadpool(state.hyperliquid.max_builder_fee, None, user, req.builder)
        case wire.ActiveAssetDataRequest():
            if req.coin not in universe.COINS:
                raise refuse(f"coin: Unknown coin {req.coin[:16]!r}")
            view, leverage, mark = await ch.acall(Clearinghouse._asset_view, who, req.coin)
            decimals = universe.CONTRACTS[req.coin].sz_decimals
            return render.active_asset_data(req.user, req.coin, view, leverage, mark, decimals)
        case wire.AllMidsRequest():
            _, marks = await ch.acall(Clearinghouse._marks)
            return render.all_mids(marks)
        case wire.MetaAndAssetCtxsRequest():
            return [universe.meta(), render.asset_contexts(await ch.acall(Clearinghouse._asset_contexts))]
        case wire.ClearinghouseStateRequest():
            return render.clearinghouse_state(await ch.acall(Clearinghouse._view, who))
        case wire.OpenOrdersRequest():
            return render.open_orders(await ch.acall(Clearinghouse._open_orders, who))
        case wire.FrontendOpenOrdersRequest():
            return render.frontend_orders(await ch.acall(Clearinghouse._open_snapshots, who))
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
    return await exchange_body(state, req, raw)


async def exchange_body(state: SandboxState, req: wire.ExchangeRequest, raw: dict[str, Any]) -> Any:
    """A parsed ``/exchange`` body, answered (also what the websocket's ``post`` actions run)."""
    signer = None
    if req.action.type not in wire.USER_SIGNED_TYPES:  # recovered here: the worker only decides
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
        if isinstance(action, wire.ApproveBuilderFeeAction):
            state.hyperliquid.approve_builder_fee(req, raw["action"], conn)
            return OK
        if isinstance(action, wire.Withdraw3Action | wire.UsdSendAction):
            return _transfer(ch, state, req, raw, action)
        who = state.hyperliquid.authenticate_l1(req, raw["action"], raw["signature"], conn, signer)
        items = getattr(action, "orders", None) or getattr(action, "cancels", None)
        state.hyperliquid.charge_actions(
            who.user,
            max(1, len(items or getattr(action, "modifies", None) or ())),
            ch.volume(owner("hyperliquid", who.user)),
            cancels=isinstance(action, wire.CancelAction | wire.CancelByCloidAction),
        )
        if isinstance(action, wire.NoopAction):
            return OK
        builder = None
        if isinstance(action, wire.OrderAction) and action.builder is not None:
            approved = state.hyperliquid.max_builder_fee(conn, who.user, action.builder.b)
            if approved == 0 or action.builder.f > approved:
                raise ActionRefused(render.text(Reason.BUILDER_FEE))
            builder = (action.builder.b.lower(), action.builder.f)
        return trade(ch, owner("hyperliquid", who.user), action, builder)
    except ActionRefused as exc:
        return exc.body()


def _transfer(
    ch: Clearinghouse, state: SandboxState, req: wire.ExchangeRequest, raw: dict[str, Any], action: Any
) -> dict[str, Any]:
    """``withdraw3`` (USDC out of the venue) or ``usdSend`` (to another address, which becomes an
    account), from the withdrawable balance."""
    user = state.hyperliquid.transfer_signer(req, raw["action"], conn=ch.connection())
    amount = float(Decimal(action.amount))
    try:
        if isinstance(action, wire.Withdraw3Action):
            ch._withdraw(owner("hyperliquid", user), amount)
        else:
            destination = action.destination.lower()
            ch._send(owner("hyperliquid", user), owner("hyperliquid", destination), amount,
                     lambda conn: state.hyperliquid.register(conn, destination))  # fmt: skip
    except OrderRejected as exc:
        raise ActionRefused(render.text(exc.reason, exc.context)) from None
    return OK


def _order_request(order: wire.OrderWire) -> OrderRequest | str:
    """The engine's order, or Hyperliquid's words for why it cannot be one."""
    if order.a >= len(universe.COINS):
        return f"Asset {order.a} does not exist"
    coin, cloid = universe.COINS[order.a], order.c.lower() if order.c else None
    if order.t.trigger is not None:
        t = order.t.trigger
        return OrderRequest(
            coin, order.b, order.s, order.p, "Gtc", order.r, cloid, (t.triggerPx, t.isMarket, t.tpsl)
        )
    tif = order.t.limit.tif if order.t.limit is not None else "Gtc"
    market = tif == "Ioc" and Decimal(order.p) == 0  # PaperExchange's market order: p "0" with Ioc
    return OrderRequest(coin, order.b, order.s, None if market else order.p, tif, order.r, cloid)


def _statuses(requests: list[OrderRequest | str], results: list[Any]) -> list[Any]:
    """One status per requested order: the engine's result, or why it never reached the engine."""
    placed = iter(results)
    return [
        render.order_status(next(placed)) if isinstance(r, OrderRequest) else {"error": r} for r in requests
    ]


def _ref(oid: int | str) -> int | str:
    return oid.lower() if isinstance(oid, str) else oid


def trade(ch: Clearinghouse, who: str, action: Any, builder: tuple[str, int] | None = None) -> dict[str, Any]:
    """One parsed trading action on ``who``'s account, answered as Hyperliquid does."""
    match action:
        case wire.OrderAction():
            requests = [_order_request(o) for o in action.orders]
            if action.grouping != "na" and any(isinstance(r, str) for r in requests):
                bad = next(r for r in requests if isinstance(r, str))
                return {"status": "err", "response": bad}  # a group is placed whole or not at all
            orders = [r for r in requests if isinstance(r, OrderRequest)]
            results = ch.place(who, orders, action.grouping, builder)
            response: dict[str, Any] = {"type": "order", "data": {"statuses": _statuses(requests, results)}}
        case wire.BatchModifyAction() | wire.ModifyAction():
            modifies = action.modifies if isinstance(action, wire.BatchModifyAction) else [action]
            requests = [_order_request(m.order) for m in modifies]
            results = ch.modify(
                who,
                [
                    (_ref(m.oid), r)
                    for m, r in zip(modifies, requests, strict=True)
                    if isinstance(r, OrderRequest)
                ],
            )
            statuses = _statuses(requests, results)
            if isinstance(action, wire.ModifyAction):
                if isinstance(statuses[0], dict) and "error" in statuses[0]:
                    return {"status": "err", "response": statuses[0]["error"]}
                return OK
            response = {"type": "order", "data": {"statuses": statuses}}
        case wire.ScheduleCancelAction():
            try:
                ch.schedule_cancel(who, action.time)
            except OrderRejected as exc:
                raise ActionRefused(render.text(exc.reason, exc.context)) from None
            response = {"type": "default"}
        case wire.UpdateIsolatedMarginAction():
            if action.asset >= len(universe.COINS):
                raise ActionRefused(f"Asset {action.asset} does not exist")
            try:
                ch.update_isolated_margin(who, universe.COINS[action.asset], action.ntli / 1e6)
            except OrderRejected as exc:
                raise ActionRefused(render.text(exc.reason, exc.context)) from None
            response = {"type": "default"}
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
