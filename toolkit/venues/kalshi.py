"""Kalshi's Trade API v2: key checks, request signing, a client.

Every request carries ``KALSHI-ACCESS-KEY`` (the key id), ``KALSHI-ACCESS-TIMESTAMP`` (ms) and
``KALSHI-ACCESS-SIGNATURE``: base64 RSA-PSS-SHA256 (MGF1-SHA256, salt = digest length) over
``timestamp + METHOD + path``, the path from ``/trade-api/v2`` on, without the query string and
without the body (reference/venues.md §B.3). The client signs with ``sign_request`` and the
sandbox verifies with ``verify_signature``; both live here so the format is written once.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from toolkit.secrets import Secret, reveal
from toolkit.venues._http import HttpClient
from toolkit.venues.target import resolve

API_PREFIX = "/trade-api/v2"
HOSTS = {
    "production": "https://api.elections.kalshi.com/trade-api/v2",
    "demo": "https://demo-api.kalshi.co/trade-api/v2",
}
MIN_KEY_BITS = 2048
TIMESTAMP_WINDOW_MS = 30_000

Scope = Literal[
    "read",
    "write",
    "read::block_trade_accept",
    "read::portfolio_balance",
    "write::trade",
    "write::transfer",
    "write::block_trade_accept",
]
SCOPES: tuple[str, ...] = Scope.__args__  # type: ignore[attr-defined]
DEFAULT_SCOPES = ("read", "write")

# API usage levels and their token-bucket budgets per second (read, write); every request costs
# 10 tokens (reference/venues.md §B.4). Market makers get the top budget: the docs give no figure.
USAGE_LEVELS: dict[str, tuple[int, int]] = {
    "basic": (200, 100),
    "advanced": (300, 300),
    "expert": (600, 600),
    "premier": (1_000, 1_000),
    "paragon": (2_000, 2_000),
    "prime": (4_000, 4_000),
    "prestige": (10_000, 8_000),
    "market_maker": (10_000, 8_000),
}
REQUEST_COST = 10
# createApiKey (your own public key) is for Premier and the levels above it, and market makers.
CREATE_KEY_LEVELS = frozenset({"premier", "paragon", "prime", "prestige", "market_maker"})

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


# ---------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """An RSA public key of at least 2048 bits from PEM, or ValueError saying what is wrong."""
    text = pem.strip()
    if "PRIVATE KEY-----" in text:
        raise ValueError("this is a private key: send only the public half (BEGIN PUBLIC KEY)")
    if not text.startswith("-----BEGIN ") or "-----END " not in text:
        raise ValueError("must be a PEM-encoded RSA public key (-----BEGIN PUBLIC KEY-----)")
    try:
        key = serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError):
        raise ValueError("not a readable PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        kind = type(key).__name__.removesuffix("PublicKey").lstrip("_") or "non-RSA"
        raise ValueError(f"must be an RSA key, not {kind}")
    if key.key_size < MIN_KEY_BITS:
        raise ValueError(f"RSA key must be at least {MIN_KEY_BITS} bits, got {key.key_size}")
    return key


def load_private_key(pem: str | bytes | Secret, password: str | Secret | None = None) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM (optionally passphrase-encrypted)."""
    raw = reveal(pem)
    raw = raw.encode() if isinstance(raw, str) else raw
    pw = reveal(password) if password is not None else None
    try:
        key = serialization.load_pem_private_key(raw, password=pw.encode() if pw else None)
    except (ValueError, TypeError):
        raise ValueError("not a readable PEM private key (or the passphrase is wrong)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key must be RSA")
    return key


def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    """The public half as PEM, what the venue registers."""
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(private_key: rsa.RSAPrivateKey) -> Secret:
    """The private half as unencrypted PEM, wrapped in a Secret."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return Secret(pem, "private_key")


@dataclass(frozen=True)
class KeyPair:
    """An RSA key pair made on this machine: the private half never leaves it unencrypted."""

    private_key: Secret
    public_key: str

    @classmethod
    def generate(cls, bits: int = MIN_KEY_BITS) -> KeyPair:
        """A new RSA key pair (at least 2048 bits)."""
        if bits < MIN_KEY_BITS:
            raise ValueError(f"RSA keys must be at least {MIN_KEY_BITS} bits")
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls(private_pem(key), public_pem(key))


def save_private_key(path: str | os.PathLike[str], private_key: Secret, passphrase: str | Secret) -> Path:
    """Write the key as passphrase-encrypted PKCS#8 PEM, mode 0600, atomically."""
    if not reveal(passphrase):
        raise ValueError("a passphrase is required: private keys are never written in the clear")
    key = load_private_key(private_key)
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(reveal(passphrase).encode()),
    )
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return target


def read_private_key(path: str | os.PathLike[str], passphrase: str | Secret) -> Secret:
    """Read a key written by ``save_private_key``."""
    key = load_private_key(Path(path).read_bytes(), passphrase)
    return private_pem(key)


def normalize_scopes(scopes: list[str] | None) -> list[str]:
    """Scopes as stored: the default when omitted; known names only; ``write`` only with ``read``."""
    if scopes is None:
        return list(DEFAULT_SCOPES)
    if not scopes:
        raise ValueError("scopes must not be empty (omit it for read and write)")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; known scopes: {', '.join(SCOPES)}")
    if "write" in scopes and "read" not in scopes:
        raise ValueError("scope 'write' requires 'read'")
    return [s for s in SCOPES if s in scopes]


# ---------------------------------------------------------------------------------------
# Signing
# ---------------------------------------------------------------------------------------


def signing_path(path_or_url: str) -> str:
    """The path that is signed: the URL path from /trade-api/v2 on, query string dropped."""
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url.split("?", 1)[0]
    return path


def message_to_sign(timestamp_ms: int | str, method: str, path: str) -> bytes:
    """What a request signs: timestamp, method and path without the query."""
    return f"{timestamp_ms}{method.upper()}{signing_path(path)}".encode()


def sign_request(
    private_key: rsa.RSAPrivateKey, method: str, path: str, timestamp_ms: int | None = None
) -> tuple[str, str]:
    """(timestamp, base64 signature) for one request."""
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    signature = private_key.sign(message_to_sign(ts, method, path), _PSS, hashes.SHA256())
    return ts, base64.b64encode(signature).decode()


def signed_headers(
    key_id: str, private_key: rsa.RSAPrivateKey, method: str, path: str, timestamp_ms: int | None = None
) -> dict[str, str]:
    """The three KALSHI-ACCESS headers for a request, signed with RSA-PSS."""
    ts, signature = sign_request(private_key, method, path, timestamp_ms)
    return {
        "KALSHI-ACCESS-KEY": key_id,
        "KALSHI-ACCESS-TIMESTAMP": ts,
        "KALSHI-ACCESS-SIGNATURE": signature,
    }


def signature_bytes(signature_b64: str) -> bytes | None:
    """The signature's bytes, or None if ``signature_b64`` is not base64.

    Replays are judged by these bytes: base64 has several spellings of one byte string (a changed
    padding bit in the last character), and each spelling must not count as a new signature."""
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError):
        return None
    return raw or None


def is_canonical(signature_b64: str, raw: bytes) -> bool:
    """Whether ``signature_b64`` is the one standard spelling of ``raw``."""
    return base64.b64encode(raw).decode("ascii") == signature_b64


def verify_signature(
    public_key: rsa.RSAPublicKey, signature: bytes | str, timestamp: str, method: str, path: str
) -> bool:
    """Whether ``signature`` signs this request with ``public_key``."""
    raw = signature_bytes(signature) if isinstance(signature, str) else signature
    if raw is None:
        return False
    try:
        public_key.verify(raw, message_to_sign(timestamp, method, path), _PSS, hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------------------
# Wire models
# ---------------------------------------------------------------------------------------


class _KeyOptions(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = Field(default=None, max_length=len(SCOPES) * 2)
    subaccount: int | None = Field(default=None, ge=0, le=63)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return value.strip()

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str] | None) -> list[str] | None:
        return normalize_scopes(value) if value is not None else None


class CreateApiKeyRequest(_KeyOptions):
    """``POST /api_keys``: register a public key made by the member."""

    public_key: str = Field(max_length=16_384)

    @field_validator("public_key")
    @classmethod
    def _public_key(cls, value: str) -> str:
        load_public_key(value)
        return value.strip() + "\n"


class GenerateApiKeyRequest(_KeyOptions):
    """``POST /api_keys/generate``: have the venue make the pair."""

    pass


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateApiKeyResponse(_Response):
    """The id of a registered key."""

    api_key_id: str


class GenerateApiKeyResponse(_Response):
    """The id and the private key the venue generated (shown once)."""

    api_key_id: str
    private_key: str


class ApiKey(_Response):
    """One of the member's keys: id, name and scopes."""

    api_key_id: str
    name: str
    scopes: list[str]
    subaccount: int | None = None


class GetApiKeysResponse(_Response):
    """``GET /api_keys``: the member's keys."""

    api_keys: list[ApiKey]
    api_key_region_expiration_ts: int | None = None


class GetBalanceResponse(_Response):
    """``GET /portfolio/balance``: balance and portfolio value, in cents."""

    balance: int
    portfolio_value: int
    updated_ts: int


class ErrorResponse(_Response):
    """The venue's error body: code, message, details."""

    code: str
    message: str
    details: str = ""


# ---------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------


class KalshiError(Exception):
    """A refusal: the HTTP status and the venue's ``code``, ``message`` and ``details``."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}" + (f" ({details})" if details else ""))
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class GeneratedApiKey:
    """A key pair the venue made: the private half arrives once, here, as a Secret."""

    api_key_id: str
    private_key: Secret


@dataclass
class KalshiClient(HttpClient):
    """Kalshi's API over httpx. Signs every request when it holds a key; otherwise uses a
    session token (``Authorization: Bearer``), as the venue's website does.

    ``KalshiClient(sandbox)`` for the sandbox, ``KalshiClient("demo")`` or
    ``KalshiClient("production")`` for the venue's hosts, or any base URL ending in /trade-api/v2.
    """

    target: Any
    api_key_id: str | None = None
    private_key: Secret | None = None
    session_token: Secret | None = None
    transport: httpx.BaseTransport | None = None
    timeout: float = 30.0
    base_url: str = field(init=False)
    _key: rsa.RSAPrivateKey | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = _base_url(self.target)
        if self.private_key is not None:
            self.private_key = Secret(self.private_key, "private_key")
            self._key = load_private_key(self.private_key)
        if self.session_token is not None:
            self.session_token = Secret(self.session_token, "session_token")
        self._http = httpx.Client(transport=self.transport, timeout=self.timeout)

    def __repr__(self) -> str:
        auth = "signed" if self._key else "session" if self.session_token else "anonymous"
        return f"KalshiClient({self.base_url!r}, api_key_id={self.api_key_id!r}, auth={auth})"

    def use_key(self, api_key_id: str, private_key: Secret | str) -> None:
        """Sign from now on with this key."""
        self.api_key_id = api_key_id
        self.private_key = Secret(private_key, "private_key")
        self._key = load_private_key(self.private_key)

    def _auth_headers(self, method: str, url: str) -> dict[str, str]:
        if self._key is not None and self.api_key_id:
            return signed_headers(self.api_key_id, self._key, method, urlsplit(url).path)
        if self.session_token is not None:
            return {"Authorization": f"Bearer {self.session_token.reveal()}"}
        raise KalshiError(401, "authentication_error", "no API key or session token to authenticate with")

    def _call(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Any:
        url = f"{self.base_url}{path}"
        headers = self._auth_headers(method, url)
        response = self._http.request(method, url, json=json, params=params, headers=headers)
        if response.is_success:
            return response.json() if response.content else None
        raise _error(response)

    def create_api_key(
        self,
        name: str,
        public_key: str,
        scopes: list[str] | None = None,
        subaccount: int | None = None,
    ) -> str:
        """Register your own RSA public key; returns the new key id (Premier or Market Maker only)."""
        body = _options(name, scopes, subaccount) | {"public_key": public_key}
        return CreateApiKeyResponse.model_validate(self._call("POST", "/api_keys", json=body)).api_key_id

    def generate_api_key(
        self, name: str, scopes: list[str] | None = None, subaccount: int | None = None
    ) -> GeneratedApiKey:
        """Let the venue make the pair; the private key is returned this once, as a Secret."""
        data = self._call("POST", "/api_keys/generate", json=_options(name, scopes, subaccount))
        out = GenerateApiKeyResponse.model_validate(data)
        return GeneratedApiKey(out.api_key_id, Secret(out.private_key, "private_key"))

    def get_api_keys(self) -> list[ApiKey]:
        """The member's API keys."""
        return GetApiKeysResponse.model_validate(self._call("GET", "/api_keys")).api_keys

    def delete_api_key(self, api_key_id: str) -> None:
        """Delete key ``api_key_id``."""
        self._call("DELETE", f"/api_keys/{api_key_id}")

    def get_balance(self, subaccount: int | None = None) -> GetBalanceResponse:
        """The balance, signed by this client's key."""
        params = {"subaccount": subaccount} if subaccount is not None else None
        return GetBalanceResponse.model_validate(self._call("GET", "/portfolio/balance", params=params))


def _options(name: str, scopes: list[str] | None, subaccount: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if scopes is not None:
        body["scopes"] = list(scopes)
    if subaccount is not None:
        body["subaccount"] = subaccount
    return body


def _base_url(target: Any) -> str:
    return resolve(target, HOSTS, "KalshiClient", handle_path=API_PREFIX).url


def _error(response: httpx.Response) -> KalshiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body and isinstance(body["error"], dict):
        body = body["error"]  # the production envelope nests it
    if isinstance(body, dict) and "code" in body:
        return KalshiError(
            response.status_code,
            str(body["code"]),
            str(body.get("message", "")),
            str(body.get("details", "")),
        )
    if isinstance(body, dict) and response.status_code == 429:
        return KalshiError(429, "too_many_requests", str(body.get("error", "too many requests")))
    return KalshiError(response.status_code, "http_error", response.reason_phrase or "error")
