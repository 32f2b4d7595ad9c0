"""PaperExchange trading (seed 003): the Hyperliquid-compatible /info and /exchange under
/v1/exchanges/hyperliquid, authenticated by ``X-API-Key`` (or a login), and the account views:
overview, reset, funding, liquidations. Each PaperExchange user has one paper account, opened with
its plan's balance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox.accounts import User
from toolkit.sandbox.clearinghouse import Clearinghouse, owner
from toolkit.sandbox.clock import iso
from toolkit.sandbox.engine.specs import OrderRejected, Reason
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.hyperliquid import ActionRefused
from toolkit.sandbox.routes import hyperliquid
from toolkit.sandbox.routes.paperx import ERRORS, AnyUser
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import hyperliquid_wire as wire
from toolkit.venues.eip712 import ZERO_ADDRESS
from toolkit.venues.refusal import VenueRefusal

router = APIRouter(prefix="/v1/exchanges/hyperliquid", tags=["PaperExchange trading"], responses=ERRORS)
State = Annotated[SandboxState, Depends(get_state)]
VENUE = "paperx"
RESET_BELOW = 100.0


def _opened(state: SandboxState, user: User) -> str:
    """The caller's clearinghouse account, opened with its plan's balance on first use."""
    who = owner(VENUE, user.id)
    state.clearinghouse.open_funded(who, policy.PLANS[user.plan].balance)
    return who


def require_active(state: SandboxState, user: User) -> None:
    """A lapsed trial or subscription may read, but not trade or top up."""
    if user.subscription_status(state.clock.now_ms()) == "expired":
        raise ApiError(
            403, "Trial expired" if user.subscription_expires_at is None else "Subscription expired"
        )


def _not_json() -> ApiError:
    return ApiError(400, "Malformed JSON body")


def _refuse(problem: str) -> ApiError:
    """PaperExchange's words for a body its Hyperliquid face cannot read."""
    return ApiError(400, f"Invalid request: {problem}")


async def answer_info(
    state: SandboxState, user: User, raw: Any, problem: Callable[[str], VenueRefusal] = hyperliquid.bad_body
) -> Any:
    """An info body (from ``/info`` or the websocket's ``post``) about the user's paper account: the
    API key says whose, so a ``user`` in the body means nothing here."""
    if isinstance(raw, dict):
        raw = raw | {"user": ZERO_ADDRESS}
    req = hyperliquid.parse(wire.parse_info, raw, _refuse)
    return await hyperliquid.answer_info(state, req, user.id, VENUE, problem)


async def answer_exchange(state: SandboxState, user: User, raw: Any) -> Any:
    """An action body (from ``/exchange`` or the websocket's ``post``) on the user's paper account."""
    req = hyperliquid.parse(wire.parse_paper_exchange, raw, _refuse)
    require_active(state, user)
    return await state.clearinghouse.acall(_exchange, user, req)


@router.post(
    "/info",
    summary="Hyperliquid info requests for the caller's paper account",
    openapi_extra=hyperliquid.body_schema(wire.InfoRequest),
)
async def info(request: Request, user: AnyUser, state: State) -> Any:
    raw = await hyperliquid.read_json(request, _not_json)
    await state.clearinghouse.acall(
        Clearinghouse._open_funded, owner(VENUE, user.id), policy.PLANS[user.plan].balance
    )
    return await answer_info(state, user, raw, lambda problem: ApiError(400, problem))


@router.post(
    "/exchange",
    summary="Hyperliquid actions on the caller's paper account (no signature)",
    openapi_extra=hyperliquid.body_schema(wire.PaperExchangeRequest),
)
async def exchange(request: Request, user: AnyUser, state: State) -> Any:
    return await answer_exchange(state, user, await hyperliquid.read_json(request, _not_json))


def _exchange(ch: Clearinghouse, user: User, req: wire.PaperExchangeRequest) -> Any:
    who = owner(VENUE, user.id)
    ch.open_funded(who, policy.PLANS[user.plan].balance)
    if isinstance(req.action, wire.OrderAction) and req.action.builder is not None:
        return {"status": "err", "response": "Builder fees are not available on PaperExchange"}
    try:
        return hyperliquid.trade(ch, who, req.action)
    except ActionRefused as exc:
        return exc.body()


POSITION_FIELDS = ("coin", "szi", "entry_px", "mark_px", "position_value", "unrealized_pnl", "leverage",
                   "isolated", "margin_used", "liquidation_px", "cum_funding")  # fmt: skip


@router.get("/account/overview", summary="Account value, PnL, positions and trading statistics")
def overview(user: AnyUser, state: State) -> dict[str, Any]:
    view = state.clearinghouse.view(_opened(state, user))
    value, initial = view.value, view.deposits - view.withdrawn
    return {
        "account_value": value,
        "initial_balance": initial,
        "total_pnl": value - initial,
        "total_pnl_percent": round(100 * (value - initial) / initial, 4) if initial else 0.0,
        "withdrawable": view.withdrawable,
        "margin_used": view.margin_used,
        "positions_count": len(view.positions),
        "open_orders_count": view.open_orders,
        "positions": [{k: getattr(p, k) for k in POSITION_FIELDS} for p in view.positions],
        "stats": view.stats,
    }


@router.post("/account/reset", summary="Top up a nearly empty account (balance below $100)")
def reset(user: AnyUser, state: State) -> dict[str, Any]:
    require_active(state, user)
    added = policy.PLANS[user.plan].balance
    try:
        before, after = state.clearinghouse.top_up(_opened(state, user), added, RESET_BELOW)
    except OrderRejected as exc:
        if exc.reason is Reason.TOP_UP:
            raise ApiError(400, "Balance too high for reset") from None
        raise
    return {"message": "Account topped up successfully", "previous_balance": before, "added_amount": added,
            "new_balance": after}  # fmt: skip


@router.get("/account/funding", summary="Funding payments, newest first, with a summary")
def funding(
    user: AnyUser,
    state: State,
    coin: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    who = _opened(state, user)
    rows = state.clearinghouse.funding(who, coin=coin, limit=limit, newest_first=True)
    totals = state.clearinghouse.funding_totals(who, coin).values()
    paid, received = sum(t["paid"] for t in totals), sum(t["received"] for t in totals)
    return {
        "funding_payments": [
            {
                "coin": r["coin"],
                "position_size": r["szi"],
                "funding_rate": r["rate"],
                "oracle_price": r["oracle_px"],
                "payment_amount": r["usdc"],
                "timestamp": iso(r["time"]),
            }
            for r in rows
        ],
        "summary": {
            "total_paid": paid,
            "total_received": received,
            "net": paid + received,
            "count": sum(int(t["count"]) for t in totals),
        },
    }


@router.get("/account/funding/summary", summary="Funding totals by coin")
def funding_summary(user: AnyUser, state: State) -> dict[str, Any]:
    totals = state.clearinghouse.funding_totals(_opened(state, user))
    by_coin = {c: {"total_funding": t["net"], "payment_count": int(t["count"])} for c, t in totals.items()}
    return {"by_coin": by_coin, "total": sum(t["net"] for t in totals.values())}


@router.get("/account/liquidations", summary="Liquidation events with a summary")
def liquidations(user: AnyUser, state: State) -> dict[str, Any]:
    events = state.clearinghouse.liquidations(_opened(state, user))
    fields = ("coin", "position_size", "entry_price", "liquidation_price", "mark_price",
              "account_value_before", "maintenance_margin", "realized_loss")  # fmt: skip
    return {
        "liquidations": [{k: e[k] for k in fields} | {"timestamp": iso(e["time"])} for e in events],
        "summary": {"total_liquidations": len(events), "total_loss": sum(e["realized_loss"] for e in events)},
    }
