"""PaperExchange as the sandbox plays it: its plans, prices and lifetimes, how it makes and stores
API keys and one-time tokens, and the words of its answers and mails. The venue's wire (requests,
responses, the key format, the reset mail's token line) stays in ``toolkit.venues.paperx``, which the
client shares; this is the policy only the server needs."""

from __future__ import annotations

import hashlib
import secrets as _secrets
import string
from dataclasses import dataclass
from datetime import datetime

from toolkit.venues.paperx import API_KEY_BODY_LENGTH, API_KEY_PREFIX, RESET_TOKEN_LINE


@dataclass(frozen=True)
class Plan:
    """What a plan gives: starting balance, active API keys, requests a minute, history kept."""

    name: str
    balance: float
    api_keys: int
    rate_limit: int
    history_days: int


PLANS: dict[str, Plan] = {
    "basic": Plan("basic", balance=10_000.0, api_keys=3, rate_limit=100, history_days=30),
    "pro": Plan("pro", balance=100_000.0, api_keys=10, rate_limit=500, history_days=90),
}

TRIAL_DAYS = 3
SUBSCRIPTION_DAYS = 30  # one paid period
# Monthly prices in USD. PaperExchange does not publish its prices; these are the sandbox's, chosen so
# that a first Pro month reproduces the documented checkout example (50.00 less 20.00 = 30.00).
PRICES: dict[str, float] = {"basic": 20.0, "pro": 50.0}
FIRST_MONTH_DISCOUNT = 0.40  # for an account that has never paid
CHECKOUT_LIFETIME_MINUTES = 30
RATE_LIMIT_WINDOW_SECONDS = 60  # a plan's rate_limit is requests per API key per minute
JWT_LIFETIME_HOURS = 24
RESET_TOKEN_LIFETIME_HOURS = 1

_API_KEY_ALPHABET = string.ascii_letters + string.digits


def new_api_key() -> str:
    """A fresh key: ``pe_`` followed by 32 random letters and digits (190 bits)."""
    body = "".join(_secrets.choice(_API_KEY_ALPHABET) for _ in range(API_KEY_BODY_LENGTH))
    return API_KEY_PREFIX + body


def api_key_hash(key: str) -> str:
    """What the venue stores instead of the key. Keys carry 190 random bits, so a plain
    SHA-256 is enough and keeps per-request lookup cheap (unlike a password hash)."""
    return hashlib.sha256(key.encode()).hexdigest()


def token_hash(token: str) -> str:
    """How single-use tokens (password reset) are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


FORGOT_PASSWORD_MESSAGE = "If an account exists with this email, a password reset link has been sent."
RESET_PASSWORD_MESSAGE = "Password has been reset successfully. You can now log in with your new password."
API_KEY_CREATED_MESSAGE = "Save this key - it won't be shown again"
API_KEY_REVOKED_MESSAGE = "API key revoked successfully"
RESET_MAIL_SUBJECT = "Reset your PaperExchange password"


def reset_mail_body(token: str, expires_at: datetime) -> str:
    """The text of the reset mail. The token sits on its own line, never inside a URL."""
    return (
        "Someone asked to reset the password of your PaperExchange account.\n"
        "If it was you, send this token with POST /v1/auth/reset-password:\n\n"
        f"{RESET_TOKEN_LINE}{token}\n\n"
        f"It can be used once, until {expires_at:%Y-%m-%d %H:%M:%S} UTC.\n"
        "If it was not you, ignore this message.\n"
    )
