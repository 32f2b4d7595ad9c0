"""PaperExchange accounts in the sandbox: users, passwords, login tokens, API keys, password resets.

Plain logic over the store and the clock; the HTTP layer (routes/paperx.py) only translates.
Every refusal is an ``ApiError`` whose message is safe to show: none carries a secret.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine

from toolkit.sandbox import paperx_policy as policy
from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock, iso
from toolkit.sandbox.config import made_once
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.mail import Mailer
from toolkit.venues import paperx as px

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "toolkit-sandbox/paperx"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def load_jwt_secret(home: Path) -> bytes:
    """The HS256 key of this sandbox home: made once (mode 0600), then read on every start."""
    return bytes.fromhex(made_once(home / "jwt_secret", lambda: secrets.token_bytes(32).hex()))


@dataclass(frozen=True)
class User:
    id: str
    email: str
    plan: str
    created_at: int
    trial_expires_at: int
    subscription_expires_at: int | None
    password_changed_at: int
    via_api_key: str | None = None  # the key's id when the request authenticated with X-API-Key

    @classmethod
    def from_row(cls, row: Any, via_api_key: str | None = None) -> User:
        m = row._mapping
        return cls(
            m["id"],
            m["email"],
            m["plan"],
            m["created_at"],
            m["trial_expires_at"],
            m["subscription_expires_at"],
            m["password_changed_at"],
            via_api_key,
        )

    def subscription_status(self, now_ms: int) -> str:
        if self.subscription_expires_at is not None and self.subscription_expires_at > now_ms:
            return "active"
        if self.subscription_expires_at is None and self.trial_expires_at > now_ms:
            return "trial"
        return "expired"


def normalize_email(email: str) -> str:
    """The one form an email is stored and looked up in: NFKC, then case-folded, so ``e`` + a
    combining accent and ``é``, or ``Straße`` and ``STRASSE``, are one address."""
    return unicodedata.normalize("NFKC", email.strip()).casefold()


REVOKED_KEPT = 50  # revoked API keys kept per user...
REVOKED_KEPT_MS = 30 * DAY_MS  # ...and for at most this long after revocation
MAX_CONCURRENT_HASHES = 2  # argon2id takes 64 MiB a hash: logins beyond this wait their turn...
# ...this long at most, then get 503 with Retry-After: long enough for a class of 100 registering at
# the same moment on a busy 2-core server (a hash takes 0.1-0.5 s there), so a burst queues, not fails
HASH_QUEUE_SECONDS = 120.0


class PasswordHashing:
    """Password hashes (register, login, reset), at most ``MAX_CONCURRENT_HASHES`` at once, so a
    crowd of logins costs time, not memory; a request that waits too long gets 503."""

    def __init__(self, limit: int = MAX_CONCURRENT_HASHES, wait: float = HASH_QUEUE_SECONDS) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._wait = wait

    @contextmanager
    def _slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._wait):
            raise ApiError(503, "Too many logins at once: try again shortly", {"Retry-After": "2"})
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return _hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        with self._slot():
            try:
                return _hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False


class Accounts:
    """The PaperExchange account service of one sandbox."""

    def __init__(self, engine: Engine, clock: Clock, jwt_secret: bytes, mailer: Mailer) -> None:
        self.engine = engine
        self.clock = clock
        self._jwt_secret = jwt_secret
        self.mailer = mailer
        self._key_lock = threading.Lock()
        self.hashing = PasswordHashing()

    @functools.cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the email is unknown, so both failures cost the same time (made on
        the first such login: a sandbox starts without paying for a hash it may never need)."""
        return _hasher.hash(secrets.token_urlsafe(16))

    # -- users -------------------------------------------------------------------------

    def register(self, email: str, password: str, plan: str = "basic") -> tuple[User, str]:
        try:
            email = normalize_email(
                validate_email(normalize_email(email), check_deliverability=False).normalized
            )
        except EmailNotValidError as exc:
            raise ApiError(400, f"Invalid email address: {exc}") from None
        now = self.clock.now_ms()
        row = {
            "id": str(uuid.uuid4()),
            "email": email,
            "password_hash": self.hashing.hash(password),
            "plan": plan,
            "created_at": now,
            "trial_expires_at": now + policy.TRIAL_DAYS * DAY_MS,
            "subscription_expires_at": None,
            "password_changed_at": now,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(store.users.insert().values(**row))
        except sa.exc.IntegrityError:
            raise ApiError(400, "Email already registered") from None
        user = User(**{k: v for k, v in row.items() if k != "password_hash"})
        return user, self.issue_jwt(user)

    def login(self, email: str, password: str) -> tuple[User, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(store.users).where(store.users.c.email == normalize_email(email))
            ).first()
        stored = row._mapping["password_hash"] if row else self._dummy_hash
        ok = self.hashing.verify(stored, password)
        if not ok or row is None:
            raise ApiError(401, "Invalid email or password")
        user = User.from_row(row)
        if _hasher.check_needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(
                    store.users.update()
                    .where(store.users.c.id == user.id)
                    .values(password_hash=self.hashing.hash(password))
                )
        return user, self.issue_jwt(user)

    def user(self, user_id: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(store.users).where(store.users.c.id == user_id)).first()
        return User.from_row(row) if row else None

    def profile(self, user: User) -> dict[str, Any]:
        now = self.clock.now_ms()
        status = user.subscription_status(now)
        return {
            "id": user.id,
            "email": user.email,
            "plan": user.plan,
            "subscription_status": status,
            "trial_expires_at": iso(user.trial_expires_at),
            "subscription_expires_at": iso(user.subscription_expires_at),
            "payment_required": status == "expired",
            "created_at": iso(user.created_at),
        }

    # -- login tokens --------------------------------------------------------------------

    def issue_jwt(self, user: User) -> str:
        now = self.clock.now_ms()
        claims = {
            "sub": user.id,
            "iss": JWT_ISSUER,
            "iat": now // 1000,
            "exp": (now + policy.JWT_LIFETIME_HOURS * HOUR_MS) // 1000,
            "pwv": user.password_changed_at,  # a password reset ends every older login
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._jwt_secret, algorithm=JWT_ALGORITHM)

    def user_from_jwt(self, token: str) -> User:
        invalid = ApiError(401, "Invalid or expired token", {"WWW-Authenticate": "Bearer"})
        try:
            # Time claims are checked below against the sandbox clock, which may run ahead of the wall.
            claims = jwt.decode(
                token,
                self._jwt_secret,
                algorithms=[JWT_ALGORITHM],
                issuer=JWT_ISSUER,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "exp", "iat", "pwv"],
                },
            )
        except jwt.PyJWTError:
            raise invalid from None
        if not isinstance(claims.get("exp"), int) or claims["exp"] * 1000 <= self.clock.now_ms():
            raise invalid
        user = self.user(str(claims["sub"]))
        if user is None or claims.get("pwv") != user.password_changed_at:
            raise invalid
        return user

    # -- password reset ------------------------------------------------------------------

    def forgot_password(self, email: str) -> None:
        """Mail a single-use reset token if the account exists; the caller answers the same either way."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(store.users.c.id, store.users.c.email).where(
                    store.users.c.email == normalize_email(email)
                )
            ).first()
        if row is None:
            return
        now = self.clock.now_ms()
        token = secrets.token_urlsafe(32)
        expires = now + policy.RESET_TOKEN_LIFETIME_HOURS * HOUR_MS
        with self.engine.begin() as conn:
            conn.execute(
                store.reset_tokens.insert().values(
                    token_hash=policy.token_hash(token), user_id=row.id, created_at=now, expires_at=expires
                )
            )
        self.mailer.send(
            row.email, policy.RESET_MAIL_SUBJECT, policy.reset_mail_body(token, iso(expires)), now
        )

    def reset_password(self, token: str, new_password: str) -> None:
        now = self.clock.now_ms()
        t = store.reset_tokens
        new_hash = self.hashing.hash(new_password)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(t.c.user_id).where(
                    t.c.token_hash == policy.token_hash(token), t.c.used_at.is_(None), t.c.expires_at > now
                )
            ).first()
            claimed = (
                row
                and conn.execute(
                    t.update()
                    .where(t.c.token_hash == policy.token_hash(token), t.c.used_at.is_(None))
                    .values(used_at=now)
                ).rowcount
                == 1
            )
            if not claimed:
                raise ApiError(400, "Invalid or expired reset token")
            conn.execute(
                store.users.update()
                .where(store.users.c.id == row.user_id)
                .values(password_hash=new_hash, password_changed_at=now)
            )
            # Any other outstanding token for this account dies with this reset.
            conn.execute(
                t.update().where(t.c.user_id == row.user_id, t.c.used_at.is_(None)).values(used_at=now)
            )

    # -- API keys ------------------------------------------------------------------------

    def list_api_keys(self, user: User) -> list[dict[str, Any]]:
        k = store.api_keys
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(k).where(k.c.user_id == user.id).order_by(k.c.created_at, k.c.id)
            ).all()
        return [
            {
                "id": r.id,
                "name": r.name,
                "key_prefix": r.key_prefix,
                "status": r.status,
                "created_at": iso(r.created_at),
                "last_used_at": iso(r.last_used_at),
            }
            for r in rows
        ]

    def create_api_key(self, user: User, name: str) -> tuple[str, str]:
        """A new active key for ``user``; returns (id, key). Only the key's hash is kept."""
        plan = policy.PLANS[user.plan]
        k = store.api_keys
        key = policy.new_api_key()
        key_id = str(uuid.uuid4())
        with self._key_lock, self.engine.begin() as conn:
            # Lock the user row where the database can (PostgreSQL) so two sandboxes sharing it
            # cannot both pass the cap check.
            conn.execute(sa.select(store.users.c.id).where(store.users.c.id == user.id).with_for_update())
            active = conn.execute(
                sa.select(sa.func.count()).where(k.c.user_id == user.id, k.c.status == "active")
            ).scalar_one()
            if active >= plan.api_keys:
                raise ApiError(
                    403,
                    f"API key limit reached: the {plan.name} plan allows {plan.api_keys} active keys;"
                    " revoke one first",
                )
            conn.execute(
                k.insert().values(
                    id=key_id,
                    user_id=user.id,
                    name=name,
                    key_hash=policy.api_key_hash(key),
                    key_prefix=px.api_key_prefix(key),
                    status="active",
                    created_at=self.clock.now_ms(),
                )
            )
        return key_id, key

    def revoke_api_key(self, user: User, key_id: str) -> None:
        k = store.api_keys
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(k.c.status).where(k.c.id == key_id, k.c.user_id == user.id)).first()
            if row is None:
                raise ApiError(404, "API key not found")
            if row.status == "revoked":
                raise ApiError(400, "API key already revoked")
            now = self.clock.now_ms()
            conn.execute(k.update().where(k.c.id == key_id).values(status="revoked", revoked_at=now))
            # revoked keys are kept a while (listed, refused by name), then forgotten: they cannot pile up
            revoked = (k.c.user_id == user.id) & (k.c.status == "revoked")
            conn.execute(k.delete().where(revoked, k.c.revoked_at < now - REVOKED_KEPT_MS))
            keep = (
                sa.select(k.c.id).where(revoked).order_by(k.c.revoked_at.desc(), k.c.id).limit(REVOKED_KEPT)
            )
            conn.execute(k.delete().where(revoked, k.c.id.not_in(keep)))

    def user_from_api_key(self, key: str) -> User:
        """The owner of an active key; records the use. Revoked keys are refused at once."""
        if not px.API_KEY_PATTERN.match(key):
            raise ApiError(401, "Invalid or revoked API key")
        digest = policy.api_key_hash(key)
        k, u = store.api_keys, store.users
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(u, k.c.id.label("key_id"), k.c.key_hash)
                .join(k, k.c.user_id == u.c.id)
                .where(k.c.key_hash == digest, k.c.status == "active")
            ).first()
            if row is None or not hmac.compare_digest(row.key_hash, digest):
                raise ApiError(401, "Invalid or revoked API key")
            conn.execute(k.update().where(k.c.id == row.key_id).values(last_used_at=self.clock.now_ms()))
        return User.from_row(row, via_api_key=row.key_id)
