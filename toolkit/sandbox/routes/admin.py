"""The sandbox's own routes under /sandbox: status, the mail outbox, the clock. Loopback only, or with
the admin token."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from toolkit import __version__
from toolkit.sandbox import store
from toolkit.sandbox.clearinghouse import owner
from toolkit.sandbox.clock import ClockAtEnd, iso
from toolkit.sandbox.config import ADMIN_TOKEN_HEADER
from toolkit.sandbox.errors import ApiError, VenueRefusal
from toolkit.sandbox.mail import read_outbox
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import kalshi as ks
from toolkit.venues import paperx as px


def admin_only(request: Request) -> None:
    """Admin routes answer callers on this machine, and others only with the sandbox's admin token
    (a sandbox serving a class on ``--host 0.0.0.0``: the instructor's laptop, never a student's)."""
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    sent = request.headers.get(ADMIN_TOKEN_HEADER, "")
    token = request.app.state.sandbox.admin_token
    if sent and token is not None and hmac.compare_digest(sent.encode(), token.reveal().encode()):
        return
    raise ApiError(
        403,
        "Sandbox admin routes are reachable from loopback only, or with the sandbox's admin token in "
        f"the {ADMIN_TOKEN_HEADER} header",
    )


router = APIRouter(
    prefix="/sandbox",
    tags=["sandbox"],
    dependencies=[Depends(admin_only)],
    responses={403: {"model": px.ErrorResponse}, 400: {"model": px.ErrorResponse}},
)
State = Annotated[SandboxState, Depends(get_state)]


class Progress(BaseModel):
    """How far the paper venues' clearinghouse is behind the clock (a long advance, a restart's
    catch-up): requests are served meanwhile, at the time it has reached."""

    engine_now: str
    engine_now_ms: int
    caught_up: bool
    hours_behind: int
    fraction: float = Field(description="of the current catch-up done, 0 to 1")


class Status(BaseModel):
    status: str
    version: str
    schema_version: int
    now: str
    clearinghouse: Progress


MAX_ADVANCE_HOURS = 24 * 366  # one request moves the clock at most a (leap) year
MAX_ADVANCE_MS = MAX_ADVANCE_HOURS * 3_600_000
WAIT_SECONDS = 20.0  # a request waits at most this long for the catch-up; then it reports progress


class Advance(BaseModel):
    hours: float = Field(default=0, ge=0, le=MAX_ADVANCE_HOURS)
    minutes: float = Field(default=0, ge=0, le=MAX_ADVANCE_HOURS * 60)
    seconds: float = Field(default=0, ge=0, le=MAX_ADVANCE_HOURS * 3600)
    wait: bool = Field(
        default=True, description="wait (up to 20 s) for every hour on the way to be processed"
    )

    @model_validator(mode="after")
    def _bounded(self) -> Advance:
        if (self.hours * 60 + self.minutes) * 60 + self.seconds > MAX_ADVANCE_HOURS * 3600:
            raise ValueError(f"at most {MAX_ADVANCE_HOURS} hours (366 days) in one call")
        return self


class ClockState(BaseModel):
    now: str
    now_ms: int
    engine_now_ms: int = Field(description="the time the clearinghouse has processed up to")
    caught_up: bool


def _progress(state: SandboxState) -> dict:
    p = state.clearinghouse.progress()
    return {
        "engine_now": iso(p.engine_ms).isoformat(),
        "engine_now_ms": p.engine_ms,
        "caught_up": p.caught_up,
        "hours_behind": p.hours_behind,
        "fraction": round(p.fraction, 4),
    }


@router.get("/status", response_model=Status, summary="Is the sandbox up, and which version")
def status(state: State) -> dict:
    return {
        "status": "ok",
        "version": __version__,
        "schema_version": store.SCHEMA_VERSION,
        "now": state.clock.now().isoformat(),
        "clearinghouse": _progress(state),
    }


@router.get("/outbox", response_model=px.Outbox, summary="Mail the sandbox sent, newest first")
def outbox(
    state: State,
    email: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict:
    rows = read_outbox(state.engine, email, limit)
    return {
        "messages": [
            {
                "id": r["id"],
                "to": r["to_addr"],
                "subject": r["subject"],
                "body": r["body"],
                "sent_at": iso(r["sent_at"]),
            }
            for r in rows
        ]
    }


def _clock(state: SandboxState) -> dict:
    p = state.clearinghouse.progress()
    return {
        "now": datetime.fromtimestamp(p.clock_ms / 1000, tz=UTC).isoformat(),
        "now_ms": p.clock_ms,
        "engine_now_ms": p.engine_ms,
        "caught_up": p.caught_up,
    }


@router.get("/clock", response_model=ClockState, summary="Simulated time now")
def clock(state: State) -> dict:
    return _clock(state)


async def _follow(state: SandboxState, target_ms: int, seconds: float) -> dict:
    """Wait (without blocking the loop) until the clearinghouse reaches ``target_ms``, or ``seconds``."""
    future = asyncio.wrap_future(state.clearinghouse.until(target_ms))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(future), seconds)
    return _clock(state)


@router.post("/clock/advance", response_model=ClockState, summary="Move simulated time forward")
async def advance(body: Advance, state: State) -> dict:
    """Every funding tick, fill and liquidation on the way is processed in time order, in slices
    that let other requests through; with ``wait`` the answer comes once that is done (or after
    20 s with ``caught_up`` false: follow it with ``/sandbox/clock/wait`` or ``/sandbox/status``)."""
    try:
        now = await run_in_threadpool(
            state.clock.advance, hours=body.hours, minutes=body.minutes, seconds=body.seconds
        )
    except ClockAtEnd as exc:
        raise ApiError(400, str(exc)) from None
    state.clearinghouse.wake()
    return await _follow(state, now, WAIT_SECONDS if body.wait else 0.0)


class AdvanceTo(BaseModel):
    now_ms: int = Field(
        ge=0, le=253_402_300_799_999, description="the new simulated time, ms since the epoch (UTC)"
    )
    wait: bool = True


@router.post(
    "/clock/advance-to", response_model=ClockState, summary="Move simulated time forward to a moment"
)
async def advance_to(body: AdvanceTo, state: State) -> dict:
    if body.now_ms - state.clock.now_ms() > MAX_ADVANCE_MS:
        raise ApiError(
            400,
            f"now_ms: at most {MAX_ADVANCE_HOURS} hours (366 days) ahead of the sandbox's time in one call",
        )
    try:
        now = await run_in_threadpool(state.clock.advance_to, body.now_ms)
    except ClockAtEnd as exc:
        raise ApiError(400, f"now_ms: {exc}") from None
    except ValueError as exc:
        current = state.clock.now()
        raise ApiError(
            400, f"{exc}: {iso(body.now_ms // 1000 * 1000)} is before now ({current:%Y-%m-%d %H:%M:%S})"
        ) from None
    state.clearinghouse.wake()
    return await _follow(state, now, WAIT_SECONDS if body.wait else 0.0)


class Wait(BaseModel):
    seconds: float = Field(default=WAIT_SECONDS, ge=0, le=WAIT_SECONDS)


@router.post("/clock/wait", response_model=ClockState, summary="Wait for a long advance to be processed")
async def wait(body: Wait, state: State) -> dict:
    return await _follow(state, state.clock.now_ms(), body.seconds)


# -- the RSA-keyed API's members: what the venue's website would do -------------------------

UsageLevel = Literal[tuple(ks.USAGE_LEVELS)]  # type: ignore[valid-type]


class NewKalshiMember(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    usage_level: UsageLevel = "basic"
    balance_cents: int = Field(default=1_000_000, ge=0, le=10**12)


class KalshiMember(BaseModel):
    member_id: str
    email: str
    usage_level: str
    session_token: str


class UsageLevelChange(BaseModel):
    usage_level: UsageLevel


class BalanceChange(BaseModel):
    subaccount: int = Field(default=0, ge=0, le=63)
    balance_cents: int = Field(ge=0, le=10**12)


def _as_admin(work: Any, *args: Any) -> Any:
    """A venue service called for the admin routes: its refusal in the admin routes' own words."""
    try:
        return work(*args)
    except VenueRefusal as exc:
        raise ApiError(exc.status, exc.message) from None


@router.post("/kalshi/members", response_model=KalshiMember, summary="Open a Kalshi member")
def kalshi_member(body: NewKalshiMember, state: State) -> dict:
    member_id, token = _as_admin(state.kalshi.create_member, body.email, body.usage_level, body.balance_cents)
    return {
        "member_id": member_id,
        "email": body.email.strip().lower(),
        "usage_level": body.usage_level,
        "session_token": token,
    }


@router.post("/kalshi/members/{member_id}/usage_level", summary="Set a member's API usage level")
def kalshi_usage_level(member_id: str, body: UsageLevelChange, state: State) -> dict:
    _as_admin(state.kalshi.set_usage_level, member_id, body.usage_level)
    return {"member_id": member_id, "usage_level": body.usage_level}


@router.post("/kalshi/members/{member_id}/balance", summary="Set a member's balance on a subaccount")
def kalshi_balance(member_id: str, body: BalanceChange, state: State) -> dict:
    _as_admin(state.kalshi.set_balance, member_id, body.subaccount, body.balance_cents)
    return {"member_id": member_id, "subaccount": body.subaccount, "balance_cents": body.balance_cents}


# -- Hyperliquid accounts: an address exists once it has deposited ------------------------------


def _capped(field: str, deposit: Any, *args: Any) -> Any:
    try:
        return deposit(*args)
    except store.BalanceCap as exc:
        raise ApiError(400, f"{field}: {exc}") from None


class HyperliquidDeposit(BaseModel):
    user: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    usdc: float = Field(gt=0, le=1e12)


@router.post("/hyperliquid/deposit", summary="Credit USDC to a Hyperliquid account, creating it")
def hyperliquid_deposit(body: HyperliquidDeposit, state: State) -> dict:
    user = body.user.lower()
    ledger = _capped(
        "usdc", state.clearinghouse.deposit, owner("hyperliquid", user), body.usdc,
        lambda conn: state.hyperliquid.register(conn, user),
    )  # fmt: skip
    return {"user": user, "deposited": ledger["deposits"]}


class InfoLimits(BaseModel):
    """Hyperliquid's IP weight budget on /info (off by default) and 429s to inject."""

    budget: int | None = Field(default=None, ge=1, le=10**6, description="weight per window; null: off")
    window_seconds: float = Field(default=60.0, gt=0, le=3600)
    fail_next: int = Field(default=0, ge=0, le=10_000, description="answer the next n requests with 429")
    retry_after: float = Field(default=1.0, ge=0, le=600, description="the Retry-After of injected 429s")


class InfoLimitStats(BaseModel):
    budget: int | None
    window_seconds: float
    requests: int
    refused: int
    injected: int
    peak_weight: int


def _info_stats(state: SandboxState) -> dict:
    limits = state.info_limits
    return {"budget": limits.budget, "window_seconds": limits.window} | vars(limits.stats)


@router.post(
    "/hyperliquid/info-limits", response_model=InfoLimitStats, summary="Set Hyperliquid's /info budget"
)
def set_info_limits(body: InfoLimits, state: State) -> dict:
    state.info_limits.configure(body.budget, body.window_seconds, body.fail_next, body.retry_after)
    return _info_stats(state)


@router.get(
    "/hyperliquid/info-limits", response_model=InfoLimitStats, summary="Hyperliquid /info budget and counts"
)
def info_limits(state: State) -> dict:
    return _info_stats(state)


class AsterDeposit(BaseModel):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    usdt: float = Field(gt=0, le=1e12)


@router.post("/aster/deposit", summary="Credit USDT to an Aster account, creating it")
def aster_deposit(body: AsterDeposit, state: State) -> dict:
    address = body.address.lower()
    ledger = _capped(
        "usdt", state.clearinghouse.deposit, owner("aster", address), body.usdt,
        lambda conn: state.aster.register(conn, address),
    )  # fmt: skip
    return {"address": address, "balance": ledger["cash"]}


class LighterDeposit(BaseModel):
    l1_address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    usdc: float = Field(gt=0, le=1e12)


@router.post("/lighter/deposit", summary="Credit USDC to a Lighter account, creating it on the first deposit")
def lighter_deposit(body: LighterDeposit, state: State) -> dict:
    return _capped("usdc", state.lighter.deposit, body.l1_address, body.usdc)


@router.get("/lighter/accepted-nonces", summary="Every nonce a Lighter key slot has had accepted, in order")
def lighter_accepted_nonces(
    state: State,
    account_index: Annotated[int, Query(ge=0, le=2**48 - 2)],
    api_key_index: Annotated[int, Query(ge=0, le=254)],
) -> dict:
    return {"nonces": state.lighter.accepted_nonces(account_index, api_key_index)}


class HyperdexTenant(BaseModel):
    label: str = Field(default="sandbox tenant", min_length=1, max_length=100)


@router.post("/hyperdex/api-keys", summary="Issue a HyperDEX tenant API key (shown once)")
def hyperdex_api_key(body: HyperdexTenant, state: State) -> dict:
    return {"api_key": state.hyperdex.create_tenant(body.label)}


# -- billing: what the payment provider would do ---------------------------------------------------------


@router.get(
    "/checkout/{session_id}", response_model=px.CheckoutStatus, summary="A checkout session (its page)"
)
def checkout_page(session_id: str, state: State, request: Request) -> dict:
    return state.billing.checkout(session_id, str(request.base_url))


@router.post(
    "/checkout/{session_id}/confirm", response_model=px.CheckoutStatus, summary="Pay a checkout session"
)
def confirm_checkout(session_id: str, state: State, request: Request) -> dict:
    return state.billing.confirm(session_id, str(request.base_url))


@router.post(
    "/checkout/{session_id}/expire", response_model=px.CheckoutStatus, summary="Abandon a checkout session"
)
def expire_checkout(session_id: str, state: State, request: Request) -> dict:
    return state.billing.expire(session_id, str(request.base_url))
