"""PaperExchange billing (seed 003): the subscription view and checkout sessions for a month of a plan.

Checkout stands in for the payment provider: ``subscribe`` opens a session whose ``checkout_url``
points at this sandbox, and the session is paid or expired through the loopback admin routes (what
the provider's webhook would do). A paid session sets the plan and extends the subscription by one
period: from the end of the current paid period if one is running, else from now.
"""

from __future__ import annotations

import math
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox import store
from toolkit.sandbox.accounts import DAY_MS, User
from toolkit.sandbox.clock import Clock, iso
from toolkit.sandbox.errors import ApiError

CENT = Decimal("0.01")


def price(plan: str, first_payment: bool) -> tuple[Decimal, Decimal]:
    """(amount, original amount) of a month of ``plan``."""
    original = Decimal(str(policy.PRICES[plan])).quantize(CENT)
    if not first_payment:
        return original, original
    amount = (original * (1 - Decimal(str(policy.FIRST_MONTH_DISCOUNT)))).quantize(CENT, ROUND_HALF_UP)
    return amount, original


class Billing:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def subscription(self, user: User) -> dict[str, Any]:
        now = self.clock.now_ms()
        status = user.subscription_status(now)
        c = store.px_checkouts
        with self.engine.connect() as conn:
            # the paid period running now; a renewal paid early starts later and is not current yet
            period = conn.execute(
                sa.select(c.c.period_start, c.c.period_end)
                .where(c.c.user_id == user.id, c.c.paid_at.is_not(None), c.c.period_start <= now)
                .order_by(c.c.period_start.desc())
                .limit(1)
            ).first()
        start, end = period if period is not None else (user.created_at, user.trial_expires_at)
        paid_until = user.subscription_expires_at or user.trial_expires_at  # renewals included
        plan = policy.PLANS[user.plan]
        return {
            "status": status,
            "plan": user.plan,
            "current_period_start": iso(start),
            "current_period_end": iso(end),
            "days_remaining": max(0, math.ceil((paid_until - now) / DAY_MS)),
            "features": {
                "balance": plan.balance,
                "api_keys": plan.api_keys,
                "rate_limit": plan.rate_limit,
                "history_days": plan.history_days,
            },
        }

    def subscribe(self, user: User, plan: str, base_url: str) -> dict[str, Any]:
        now = self.clock.now_ms()
        c = store.px_checkouts
        with self.engine.begin() as conn:
            paid_before = conn.execute(
                sa.select(sa.func.count()).where(c.c.user_id == user.id, c.c.paid_at.is_not(None))
            ).scalar_one()
            amount, original = price(plan, first_payment=paid_before == 0)
            row = {
                "id": str(uuid.uuid4()),
                "user_id": user.id,
                "plan": plan,
                "amount": amount,
                "original_amount": original,
                "currency": "USD",
                "created_at": now,
                "expires_at": now + policy.CHECKOUT_LIFETIME_MINUTES * 60_000,
            }
            conn.execute(c.insert().values(**row))
        return self._session(row, base_url)

    def _session(self, m: dict[str, Any], base_url: str) -> dict[str, Any]:
        amount, original = Decimal(m["amount"]), Decimal(m["original_amount"])
        return {
            "checkout_url": f"{base_url.rstrip('/')}/sandbox/checkout/{m['id']}",
            "session_id": m["id"],
            "plan": m["plan"],
            "amount": float(amount),
            "original_amount": float(original),
            "discount": float(original - amount),
            "currency": m["currency"],
        }

    def _status(self, m: dict[str, Any], now: int) -> str:
        if m["paid_at"] is not None:
            return "paid"
        if m["expired_at"] is not None or now >= m["expires_at"]:
            return "expired"
        return "open"

    def _row(self, conn: sa.Connection, session_id: str, user: User | None = None) -> dict[str, Any]:
        c = store.px_checkouts
        query = sa.select(c).where(c.c.id == session_id)
        if user is not None:
            query = query.where(c.c.user_id == user.id)
        row = conn.execute(query).first()
        if row is None:
            raise ApiError(404, "Checkout session not found")
        return dict(row._mapping)

    def checkout(self, session_id: str, base_url: str, user: User | None = None) -> dict[str, Any]:
        with self.engine.connect() as conn:
            m = self._row(conn, session_id, user)
        now = self.clock.now_ms()
        return self._session(m, base_url) | {
            "status": self._status(m, now),
            "expires_at": iso(m["expires_at"]),
            "paid_at": iso(m["paid_at"]),
        }

    def confirm(self, session_id: str, base_url: str) -> dict[str, Any]:
        """The provider reports the payment: set the plan and extend the subscription by a period."""
        now = self.clock.now_ms()
        c, u = store.px_checkouts, store.users
        with self.engine.begin() as conn:
            m = self._row(conn, session_id)
            status = self._status(m, now)
            if status != "open":
                raise ApiError(400, f"Checkout session is {status}: it cannot be paid")
            current = conn.execute(
                sa.select(u.c.subscription_expires_at).where(u.c.id == m["user_id"])
            ).scalar()
            start = current if current is not None and current > now else now
            end = start + policy.SUBSCRIPTION_DAYS * DAY_MS
            conn.execute(
                c.update().where(c.c.id == session_id).values(paid_at=now, period_start=start, period_end=end)
            )
            conn.execute(
                u.update().where(u.c.id == m["user_id"]).values(plan=m["plan"], subscription_expires_at=end)
            )
        return self.checkout(session_id, base_url)

    def expire(self, session_id: str, base_url: str) -> dict[str, Any]:
        """The provider gives up on the session (abandoned, or the payment failed)."""
        now = self.clock.now_ms()
        c = store.px_checkouts
        with self.engine.begin() as conn:
            m = self._row(conn, session_id)
            status = self._status(m, now)
            if status == "paid":
                raise ApiError(400, "Checkout session is paid: it cannot expire")
            if status == "open":
                conn.execute(c.update().where(c.c.id == session_id).values(expired_at=now))
        return self.checkout(session_id, base_url)
