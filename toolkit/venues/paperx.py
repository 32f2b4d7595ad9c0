"""PaperExchange (paperx.co): the account and API-key wire format, and a client for it.

The pydantic models below are the contract: the sandbox validates requests and renders
responses with them, and ``PaperClient`` parses responses with them. Errors are
``{"detail": "..."}``.
"""
# shapes follow seed 003 (reference/venues.md §C.4)

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from toolkit.secrets import Secret, reveal
from toolkit.venues._http import HttpClient, retry_after
from toolkit.venues.target import resolve

MAINNET_URL = "https://api.paperx.co"

# ---------------------------------------------------------------------------------------
# Plan names and the key format
# ---------------------------------------------------------------------------------------

PlanName = Literal["basic", "pro"]


PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 1024

API_KEY_PREFIX = "pe_"
API_KEY_BODY_LENGTH = 32
API_KEY_SHOWN_PREFIX_LENGTH = len(API_KEY_PREFIX) + 6
API_KEY_PATTERN = re.compile(rf"^{API_KEY_PREFIX}[A-Za-z0-9]{{{API_KEY_BODY_LENGTH}}}$")


def api_key_prefix(key: str) -> str:
    """The public part shown in listings, e.g. ``pe_abc123``."""
    return key[:API_KEY_SHOWN_PREFIX_LENGTH]


# ---------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------


def _check_password(value: str) -> str:
    if len(value) < PASSWORD_MIN_LENGTH:
        raise ValueError(f"Password must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(value) > PASSWORD_MAX_LENGTH:
        raise ValueError(f"Password must be at most {PASSWORD_MAX_LENGTH} characters")
    return value


class RegisterRequest(BaseModel):
    """``POST /v1/auth/register``: email, password and plan."""

    email: EmailStr = Field(max_length=320)
    password: str
    plan: PlanName = "basic"

    _password = field_validator("password")(_check_password)


class LoginRequest(BaseModel):
    """``POST /v1/auth/login``."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=PASSWORD_MAX_LENGTH)


class ForgotPasswordRequest(BaseModel):
    """``POST /v1/auth/forgot-password``."""

    email: str = Field(max_length=320)


class ResetPasswordRequest(BaseModel):
    """``POST /v1/auth/reset-password``: the mailed token and the new password."""

    token: str = Field(max_length=256)
    new_password: str

    _password = field_validator("new_password")(_check_password)


class ApiKeyCreateRequest(BaseModel):
    """``POST /v1/auth/api-keys``: the key's name."""

    name: str = Field(min_length=1, max_length=100)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Name must not be blank")
        return value


# ---------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AuthResponse(_Response):
    """A login: the access token (a JWT) and the user."""

    access_token: str
    user_id: str
    email: str


class MessageResponse(_Response):
    """An answer that is only a message."""

    message: str


class Profile(_Response):
    """``GET /v1/auth/me``: the user's profile and plan."""

    id: str
    email: str
    plan: PlanName
    subscription_status: Literal["trial", "active", "expired"]
    trial_expires_at: datetime
    subscription_expires_at: datetime | None
    payment_required: bool
    created_at: datetime


class ApiKeyInfo(_Response):
    """One API key as listed: id, name, prefix and dates, never the key."""

    id: str
    name: str
    key_prefix: str
    status: Literal["active", "revoked"]
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyList(_Response):
    """``GET /v1/auth/api-keys``."""

    api_keys: list[ApiKeyInfo]


class ApiKeyCreated(_Response):
    """A new API key, shown once."""

    api_key: str
    id: str
    name: str
    message: str


class Mail(_Response):
    """One message in the sandbox's outbox."""

    id: int
    to: str
    subject: str
    body: str
    sent_at: datetime


class Outbox(_Response):
    """The sandbox's outbox."""

    messages: list[Mail]


class ErrorResponse(_Response):
    """The venue's error body: ``{"detail": ...}``."""

    detail: str


class SubscribeRequest(BaseModel):
    """``POST /v1/billing/subscribe``: the plan to buy a month of."""

    model_config = ConfigDict(extra="forbid")
    plan: PlanName


class Features(_Response):
    """What a plan gives: balance, API keys, request rate."""

    balance: float
    api_keys: int
    rate_limit: int
    history_days: int


class Subscription(_Response):
    """``GET /v1/billing/subscription``: status, plan and days remaining."""

    status: Literal["trial", "active", "expired"]
    plan: PlanName
    current_period_start: datetime
    current_period_end: datetime
    days_remaining: int
    features: Features


class CheckoutSession(_Response):
    """A checkout to pay at, with the amount after any discount."""

    checkout_url: str
    session_id: str
    plan: PlanName
    amount: float
    original_amount: float
    discount: float
    currency: str


class CheckoutStatus(CheckoutSession):
    """A checkout session and where it stands: ``open`` until paid, or expired unpaid."""

    status: Literal["open", "paid", "expired"]
    expires_at: datetime
    paid_at: datetime | None


RESET_TOKEN_LINE = "Reset token: "


# ---------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------


class PaperExchangeError(Exception):
    """A PaperExchange answer that was not a success: the HTTP status and the venue's detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.retry_after: float | None = None  # seconds, from a 429's Retry-After


@dataclass(frozen=True)
class Session:
    """A logged-in user: the JWT is a Secret."""

    user_id: str
    email: str
    access_token: Secret


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: the only time the whole key is known."""

    id: str
    name: str
    api_key: Secret
    key_prefix: str
    message: str


@dataclass(frozen=True)
class ResetMail:
    """A mail from the sandbox outbox; the reset token is lifted out of the body as a Secret."""

    id: int
    to: str
    subject: str
    sent_at: datetime
    reset_token: Secret | None
    body: str  # with the token masked


def _parse_mail(mail: Mail) -> ResetMail:
    token = None
    body = mail.body
    match = re.search(rf"^{re.escape(RESET_TOKEN_LINE)}(\S+)$", body, flags=re.MULTILINE)
    if match:
        token = Secret(match.group(1), label="reset_token")
        body = body.replace(match.group(1), token.masked())
    return ResetMail(mail.id, mail.to, mail.subject, mail.sent_at, token, body)


def _base_url(target: Any) -> str:
    return resolve(target, {"mainnet": MAINNET_URL}, "PaperClient").url


class PaperClient(HttpClient):
    """PaperExchange over HTTP, one method per endpoint.

    ``PaperClient(sandbox)`` talks to the embedded sandbox; ``PaperClient(MAINNET_URL)`` to
    the real service. ``register`` and ``login`` keep the JWT for later calls; pass
    ``api_key=`` to authenticate as a bot would (``X-API-Key``).
    """

    def __init__(
        self,
        base_url: Any,
        *,
        access_token: str | Secret | None = None,
        api_key: str | Secret | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = _base_url(base_url)
        # a sandbox handle, when given one: its (possibly fast-forwarded) clock is the venue's now
        self.sandbox = base_url if hasattr(base_url, "now_ms") else None
        self.access_token = Secret(access_token, "access_token") if access_token else None
        self.api_key = Secret(api_key, "api_key") if api_key else None
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        auth = "jwt" if self.access_token else "api_key" if self.api_key else "anonymous"
        return f"PaperClient({self.base_url!r}, auth={auth})"

    # -- plumbing ------------------------------------------------------------------------

    def _headers(self, auth: Literal["any", "jwt", "api_key", "none"]) -> dict[str, str]:
        if auth == "none":
            return {}
        if auth in ("any", "jwt") and self.access_token:
            return {"Authorization": f"Bearer {self.access_token.reveal()}"}
        if auth in ("any", "api_key") and self.api_key:
            return {"X-API-Key": self.api_key.reveal()}
        wanted = {"jwt": "a login (access_token)", "api_key": "an api_key"}.get(auth, "a login or an api_key")
        raise PaperExchangeError(401, f"Not authenticated: this call needs {wanted}")

    def _call(
        self,
        method: str,
        path: str,
        *,
        auth: Literal["any", "jwt", "api_key", "none"] = "any",
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        response = self._http.request(method, path, json=json, params=params, headers=self._headers(auth))
        if response.is_success:
            return response.json() if response.content else None
        raise _error(response)

    def _login(self, data: Any) -> Session:
        auth = AuthResponse.model_validate(data)
        token = Secret(auth.access_token, "access_token")
        self.access_token = token
        return Session(auth.user_id, auth.email, token)

    # -- /v1/auth ------------------------------------------------------------------------

    def register(self, email: str, password: str | Secret, plan: PlanName = "basic") -> Session:
        """Open an account (3-day trial); the client is logged in afterwards."""
        body = {"email": email, "password": reveal(password), "plan": plan}
        return self._login(self._call("POST", "/v1/auth/register", auth="none", json=body))

    def login(self, email: str, password: str | Secret) -> Session:
        """Log in; the session's token is kept for the calls that need it."""
        body = {"email": email, "password": reveal(password)}
        return self._login(self._call("POST", "/v1/auth/login", auth="none", json=body))

    def forgot_password(self, email: str) -> str:
        """Ask for a password-reset mail; the answer is the same whether the account exists or not."""
        data = self._call("POST", "/v1/auth/forgot-password", auth="none", json={"email": email})
        return MessageResponse.model_validate(data).message

    def reset_password(self, token: str | Secret, new_password: str | Secret) -> str:
        """Set a new password with the mailed token."""
        body = {"token": reveal(token), "new_password": reveal(new_password)}
        data = self._call("POST", "/v1/auth/reset-password", auth="none", json=body)
        return MessageResponse.model_validate(data).message

    def me(self) -> Profile:
        """The logged-in user's profile."""
        return Profile.model_validate(self._call("GET", "/v1/auth/me"))

    def api_keys(self) -> list[ApiKeyInfo]:
        """The account's API keys (never the keys themselves)."""
        return ApiKeyList.model_validate(self._call("GET", "/v1/auth/api-keys")).api_keys

    def create_api_key(self, name: str) -> NewApiKey:
        """A new API key for bots; the key is shown only in this answer."""
        data = self._call("POST", "/v1/auth/api-keys", auth="jwt", json={"name": name})
        created = ApiKeyCreated.model_validate(data)
        return NewApiKey(
            id=created.id,
            name=created.name,
            api_key=Secret(created.api_key, "api_key"),
            key_prefix=api_key_prefix(created.api_key),
            message=created.message,
        )

    def revoke_api_key(self, key_id: str) -> str:
        """Revoke API key ``key_id``."""
        data = self._call("DELETE", f"/v1/auth/api-keys/{key_id}", auth="jwt")
        return MessageResponse.model_validate(data).message

    # -- /v1/billing ---------------------------------------------------------------------------

    def subscription(self) -> Subscription:
        """Status, plan, current period, days remaining and what the plan gives."""
        return Subscription.model_validate(self._call("GET", "/v1/billing/subscription"))

    def subscribe(self, plan: PlanName) -> CheckoutSession:
        """Open a checkout session for a month of ``plan``; paying it (``checkout_url``) activates it."""
        data = self._call("POST", "/v1/billing/subscribe", auth="jwt", json={"plan": plan})
        return CheckoutSession.model_validate(data)

    def checkout(self, session_id: str) -> CheckoutStatus:
        """A checkout session's status."""
        return CheckoutStatus.model_validate(self._call("GET", f"/v1/billing/checkout/{session_id}"))

    # -- /v1/exchanges/hyperliquid: paper trading -------------------------------------------

    HL = "/v1/exchanges/hyperliquid"

    def info(self, body: dict[str, Any]) -> Any:
        """A Hyperliquid info request on this account (``clearinghouseState``, ``userFills``, ...)."""
        return self._call("POST", f"{self.HL}/info", json=body)

    def info_bytes(self, body: dict[str, Any]) -> bytes:
        """An info request's raw JSON, for loaders that parse in bulk (errors raise as ``info``'s)."""
        response = self._http.post(f"{self.HL}/info", json=body, headers=self._headers("any"))
        if response.is_success:
            return response.content
        raise _error(response)

    def exchange(self, action: dict[str, Any]) -> Any:
        """A Hyperliquid action (order, cancel, cancelByCloid, updateLeverage); no signature needed."""
        data = self._call("POST", f"{self.HL}/exchange", json={"action": action})
        if isinstance(data, dict) and data.get("status") == "err":
            raise PaperExchangeError(200, str(data.get("response")))
        return data["response"]

    def asset(self, coin: str) -> int:
        """The asset index of ``coin``, as orders name it."""
        if not hasattr(self, "_assets"):
            meta = self.info({"type": "meta"})
            self._assets = {u["name"]: i for i, u in enumerate(meta["universe"])}
        try:
            return self._assets[coin]
        except KeyError:
            raise PaperExchangeError(400, f"Unknown coin {coin}") from None

    def order(
        self,
        coin: str,
        is_buy: bool,
        size: float | str,
        price: float | str | None = None,
        *,
        tif: Literal["Gtc", "Ioc", "Alo"] = "Gtc",
        reduce_only: bool = False,
        cloid: str | None = None,
    ) -> dict[str, Any]:
        """One order; without ``price`` it is a market order (PaperExchange's ``p: "0"`` with Ioc).
        Returns its status: ``{"filled": ...}``, ``{"resting": ...}`` or ``{"error": ...}``."""
        from toolkit.venues.hyperliquid import float_to_wire

        wire: dict[str, Any] = {
            "a": self.asset(coin),
            "b": is_buy,
            "p": "0" if price is None else float_to_wire(price),
            "s": float_to_wire(size),
            "r": reduce_only,
            "t": {"limit": {"tif": "Ioc" if price is None else tif}},
        }
        if cloid:
            wire["c"] = cloid
        response = self.exchange({"type": "order", "orders": [wire], "grouping": "na"})
        return response["data"]["statuses"][0]

    def cancel(self, coin: str, oid: int) -> Any:
        """Cancel order ``oid`` on ``coin``; the venue's status for it."""
        response = self.exchange({"type": "cancel", "cancels": [{"a": self.asset(coin), "o": oid}]})
        return response["data"]["statuses"][0]

    def update_leverage(self, coin: str, leverage: int, *, is_cross: bool = True) -> None:
        """Set ``coin``'s leverage, cross or isolated."""
        self.exchange(
            {"type": "updateLeverage", "asset": self.asset(coin), "isCross": is_cross, "leverage": leverage}
        )

    def overview(self) -> dict[str, Any]:
        """The account's figures, positions and trading statistics."""
        return self._call("GET", f"{self.HL}/account/overview")

    def reset(self) -> dict[str, Any]:
        """Start the paper account over at the plan's balance."""
        return self._call("POST", f"{self.HL}/account/reset")

    def funding(self, coin: str | None = None, limit: int = 100) -> dict[str, Any]:
        """Funding payments, newest first, at most ``limit`` (500), optionally one coin's."""
        params: dict[str, Any] = {"limit": limit} | ({"coin": coin} if coin else {})
        return self._call("GET", f"{self.HL}/account/funding", params=params)

    def funding_summary(self) -> dict[str, Any]:
        """Funding totals by coin."""
        return self._call("GET", f"{self.HL}/account/funding/summary")

    def liquidations(self) -> dict[str, Any]:
        """Every liquidation of the account, with the numbers the engine used."""
        return self._call("GET", f"{self.HL}/account/liquidations")

    # -- sandbox only ----------------------------------------------------------------------

    def outbox(self, email: str | None = None) -> list[ResetMail]:
        """Mail the sandbox would have sent (newest first). Sandbox only: no real venue has it."""
        params = {"email": email} if email else None
        data = self._call("GET", "/sandbox/outbox", auth="none", params=params)
        return [_parse_mail(m) for m in Outbox.model_validate(data).messages]


def _error(response: httpx.Response) -> PaperExchangeError:
    error = PaperExchangeError(response.status_code, _detail(response))
    error.retry_after = retry_after(response)
    return error


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return str(body)
