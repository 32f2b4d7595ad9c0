"""PaperExchange billing (seed 003): the subscription and a checkout session for a month of a plan."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from toolkit.sandbox.routes.paperx import ERRORS, AnyUser, JwtUser
from toolkit.sandbox.state import SandboxState, get_state
from toolkit.venues import paperx as px

router = APIRouter(prefix="/v1/billing", tags=["PaperExchange billing"], responses=ERRORS)
State = Annotated[SandboxState, Depends(get_state)]


@router.get("/subscription", response_model=px.Subscription, summary="Subscription status and plan features")
def subscription(user: AnyUser, state: State) -> dict[str, Any]:
    return state.billing.subscription(user)


@router.post("/subscribe", response_model=px.CheckoutSession, summary="Open a checkout session for a plan")
def subscribe(user: JwtUser, state: State, body: px.SubscribeRequest, request: Request) -> dict[str, Any]:
    return state.billing.subscribe(user, body.plan, str(request.base_url))


@router.get("/checkout/{session_id}", response_model=px.CheckoutStatus, summary="One checkout session")
def checkout(session_id: str, user: AnyUser, state: State, request: Request) -> dict[str, Any]:
    return state.billing.checkout(session_id, str(request.base_url), user)
