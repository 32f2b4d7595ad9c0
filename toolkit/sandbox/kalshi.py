"""The RSA-keyed API in the sandbox (seed 002): members, their keys, signed-request checks,
read and write rate limits, and balances.

Signature timestamps are checked against the wall clock, not the simulated clock: a real client
signs with the time on its own machine, which fast-forwarding the sandbox does not change.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import ClassVar

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine

from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.errors import VenueRefusal
from toolkit.sandbox.ratelimit import TokenBuckets
from toolkit.venues import kalshi as ks

SIGNATURE_MEMORY_MS = 4 * ks.TIMESTAMP_WINDOW_MS  # replays older than this fail the window anyway
DEFAULT_BALANCE_CENTS = 1_000_000  # $10,000 on a new member's main account


class KalshiRefusal(VenueRefusal):
    """The venue's ``{code, message, details}``; a 429 keeps its own bare ``{"error": ...}``."""

    DEFAULT_CODES: ClassVar[dict[int, str]] = {
        400: "invalid_parameters",
        401: "authentication_error",
        403: "forbidden",
        404: "not_found",
    }

    def __init__(self, status: int, message: str, code: str | None = None, details: str = "") -> None:
        super().__init__(message, status)
        self.code, self.details = code, details

    def body(self) -> dict[str, str]:
        if self.status == 429:
            return {"error": "too many requests"}
        fallback = "internal_server_error" if self.status >= 500 else "error"
        code = self.code or self.DEFAULT_CODES.get(self.status, fallback)
        return {"code": code, "message": self.message, "details": self.details}


def auth_error(details: str, message: str = "authentication failed") -> KalshiRefusal:
    return KalshiRefusal(401, message, code="authentication_error", details=details)


def forbidden(message: str) -> KalshiRefusal:
    return KalshiRefusal(403, message, code="forbidden")


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a member, and the key it was signed with (None for a session token)."""

    member_id: str
    usage_level: str
    key_id: str | None = None
    scopes: tuple[str, ...] = ks.SCOPES
    subaccount: int | None = None

    def require(self, *any_of: str) -> None:
        if self.key_id is not None and not set(any_of) & set(self.scopes):
            raise forbidden(f"this API key lacks the scope for this call (needs one of: {', '.join(any_of)})")


class KalshiSandbox:
    """Members, keys and request authentication for the /trade-api/v2 routes."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.buckets = TokenBuckets()
        self._public_keys: dict[str, rsa.RSAPublicKey] = {}
        self._lock = threading.Lock()
        self._seen_since_prune = 0

    # -- members (sandbox admin) -------------------------------------------------------

    def create_member(
        self, email: str, usage_level: str, balance_cents: int = DEFAULT_BALANCE_CENTS
    ) -> tuple[str, str]:
        """A new member; returns (member_id, session token). The token stands in for a web login."""
        member_id, token = str(uuid.uuid4()), secrets.token_urlsafe(32)
        now = self.clock.now_ms()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    store.ks_members.insert().values(
                        id=member_id,
                        email=email.strip().lower(),
                        usage_level=usage_level,
                        session_token_hash=_sha256(token),
                        created_at=now,
                    )
                )
                conn.execute(
                    store.ks_balances.insert().values(
                        member_id=member_id, subaccount=0, balance_cents=balance_cents, updated_at=now
                    )
                )
        except sa.exc.IntegrityError:
            raise KalshiRefusal(
                400, "a member with this email already exists", code="invalid_parameters"
            ) from None
        return member_id, token

    def set_usage_level(self, member_id: str, usage_level: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                store.ks_members.update()
                .where(store.ks_members.c.id == member_id)
                .values(usage_level=usage_level)
            ).rowcount
        if not done:
            raise KalshiRefusal(404, "member not found", code="not_found")
        self.buckets.reset(member_id)

    def set_balance(self, member_id: str, subaccount: int, balance_cents: int) -> None:
        b = store.ks_balances
        with self.engine.begin() as conn:
            if not conn.execute(
                sa.select(store.ks_members.c.id).where(store.ks_members.c.id == member_id)
            ).first():
                raise KalshiRefusal(404, "member not found", code="not_found")
            values = {"balance_cents": balance_cents, "updated_at": self.clock.now_ms()}
            done = conn.execute(
                b.update().where(b.c.member_id == member_id, b.c.subaccount == subaccount).values(**values)
            ).rowcount
            if not done:
                conn.execute(b.insert().values(member_id=member_id, subaccount=subaccount, **values))

    # -- authentication ----------------------------------------------------------------

    def authenticate(
        self, method: str, path: str, headers: dict[str, str], authorization: str | None
    ) -> Caller:
        """Check the three signed headers (or a session token) and the rate limit; return the caller."""
        key_id = headers.get("kalshi-access-key")
        timestamp = headers.get("kalshi-access-timestamp")
        signature = headers.get("kalshi-access-signature")
        if key_id is None and timestamp is None and signature is None:
            if authorization and authorization.lower().startswith("bearer "):
                return self._from_session(authorization[7:].strip())
            raise auth_error(
                "MISSING_AUTH_HEADERS",
                "send KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP and KALSHI-ACCESS-SIGNATURE",
            )
        if not (key_id and timestamp and signature):
            missing = [
                name
                for name, value in (
                    ("KALSHI-ACCESS-KEY", key_id),
                    ("KALSHI-ACCESS-TIMESTAMP", timestamp),
                    ("KALSHI-ACCESS-SIGNATURE", signature),
                )
                if not value
            ]
            raise auth_error("MISSING_AUTH_HEADERS", f"missing header {', '.join(missing)}")
        row = self._key_row(key_id)
        if row is None:
            raise auth_error("API_KEY_NOT_FOUND", "unknown or deleted API key")
        if not re.fullmatch(r"[0-9]{1,15}", timestamp):
            raise auth_error("INVALID_TIMESTAMP", "KALSHI-ACCESS-TIMESTAMP must be Unix time in milliseconds")
        skew = int(timestamp) - int(time.time() * 1000)
        if abs(skew) > ks.TIMESTAMP_WINDOW_MS:
            raise auth_error(
                "TIMESTAMP_OUT_OF_WINDOW",
                f"KALSHI-ACCESS-TIMESTAMP is {skew / 1000:+.1f} s from server time (allowed ±30 s)",
            )
        raw = ks.signature_bytes(signature)
        if raw is None or not ks.verify_signature(self._public_key(row), raw, timestamp, method, path):
            raise auth_error("INCORRECT_API_KEY_SIGNATURE", "the signature does not match this request")
        self._remember_signature(raw)  # by its bytes: another spelling of them is a replay
        if not ks.is_canonical(signature, raw):
            raise auth_error("INCORRECT_API_KEY_SIGNATURE", "KALSHI-ACCESS-SIGNATURE is not canonical base64")
        scopes = tuple(row.scopes.split())
        return Caller(row.member_id, row.usage_level, row.id, scopes, row.subaccount)

    def _from_session(self, token: str) -> Caller:
        m = store.ks_members
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(m.c.id, m.c.usage_level).where(m.c.session_token_hash == _sha256(token))
            ).first()
        if row is None:
            raise auth_error("INVALID_SESSION", "invalid session token")
        return Caller(row.id, row.usage_level)

    def _key_row(self, key_id: str) -> sa.Row | None:
        k, m = store.ks_api_keys, store.ks_members
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(k, m.c.usage_level).join(m, m.c.id == k.c.member_id).where(k.c.id == key_id)
            ).first()

    def _public_key(self, row: sa.Row) -> rsa.RSAPublicKey:
        key = self._public_keys.get(row.id)
        if key is None:
            key = self._public_keys[row.id] = ks.load_public_key(row.public_key_pem)
        return key

    def _remember_signature(self, signature: bytes) -> None:
        """Refuse a signature seen before, by its bytes, never its spelling (stored, so a restart or
        a second process sees it too)."""
        now = int(time.time() * 1000)
        t = store.ks_seen_signatures
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    t.insert().values(signature_hash=hashlib.sha256(signature).hexdigest(), seen_at=now)
                )
                self._seen_since_prune += 1
                if self._seen_since_prune >= 1000:
                    self._seen_since_prune = 0
                    conn.execute(t.delete().where(t.c.seen_at < now - SIGNATURE_MEMORY_MS))
        except sa.exc.IntegrityError:
            raise auth_error("SIGNATURE_REPLAYED", "this signature was already used") from None

    def rate_limit(self, caller: Caller, write: bool) -> None:
        read_budget, write_budget = ks.USAGE_LEVELS[caller.usage_level]
        budget = write_budget if write else read_budget
        capacity = budget * 2 if write and caller.usage_level != "basic" else budget
        if self.buckets.take((caller.member_id, write), ks.REQUEST_COST, capacity, budget) > 0:
            raise KalshiRefusal(429, "too many requests", code="too_many_requests")

    # -- keys ----------------------------------------------------------------------------

    def add_key(
        self,
        caller: Caller,
        name: str,
        public_key_pem: str,
        scopes: list[str] | None,
        subaccount: int | None,
        generated: bool,
    ) -> str:
        key_id = str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(
                store.ks_api_keys.insert().values(
                    id=key_id,
                    member_id=caller.member_id,
                    name=name,
                    public_key_pem=public_key_pem,
                    scopes=" ".join(ks.normalize_scopes(scopes)),
                    subaccount=subaccount,
                    generated=generated,
                    created_at=self.clock.now_ms(),
                )
            )
        return key_id

    def list_keys(self, member_id: str) -> list[dict]:
        k = store.ks_api_keys
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(k).where(k.c.member_id == member_id).order_by(k.c.created_at, k.c.id)
            ).all()
        out = []
        for r in rows:
            item = {"api_key_id": r.id, "name": r.name, "scopes": r.scopes.split()}
            if r.subaccount is not None:
                item["subaccount"] = r.subaccount
            out.append(item)
        return out

    def delete_key(self, member_id: str, key_id: str) -> None:
        k = store.ks_api_keys
        with self.engine.begin() as conn:
            done = conn.execute(k.delete().where(k.c.id == key_id, k.c.member_id == member_id)).rowcount
        if not done:
            raise KalshiRefusal(404, "API key not found", code="not_found")
        self._public_keys.pop(key_id, None)

    # -- portfolio -------------------------------------------------------------------------

    def balance(self, caller: Caller, subaccount: int | None) -> dict:
        if caller.subaccount is not None:
            if subaccount is not None and subaccount != caller.subaccount:
                raise forbidden(
                    f"this API key is restricted to subaccount {caller.subaccount}; "
                    f"it cannot read subaccount {subaccount}"
                )
            subaccount = caller.subaccount
        b = store.ks_balances
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(b.c.balance_cents, b.c.updated_at).where(
                    b.c.member_id == caller.member_id, b.c.subaccount == (subaccount or 0)
                )
            ).first()
        cents, updated = (row.balance_cents, row.updated_at) if row else (0, self.clock.now_ms())
        return {"balance": cents, "portfolio_value": cents, "updated_ts": updated // 1000}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
