"""Log hygiene: credentials that arrive in query strings (as Lighter's do on HyperDEX order
calls) are masked before any log line is written."""

from __future__ import annotations

import logging
import re

SENSITIVE_PARAMS = (
    "apiKeyPrivateKey", "apiPrivateKey", "privateKey", "private_key", "apiSecret", "secret",
    "token", "auth", "signature", "password", "apikey", "api_key",
)  # fmt: skip
_PATTERN = re.compile(r"(?i)([?&](?:" + "|".join(re.escape(p) for p in SENSITIVE_PARAMS) + r")=)[^&\s\"']*")


def redact(text: str) -> str:
    """Mask the value of every sensitive query parameter in ``text``."""
    return _PATTERN.sub(r"\1[redacted]", text)


class RedactQueryCredentials(logging.Filter):
    """Rewrites a record's message and arguments with ``redact``; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install(loggers: tuple[str, ...] = ("uvicorn.access", "uvicorn.error", "toolkit.sandbox")) -> None:
    for name in loggers:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactQueryCredentials) for f in logger.filters):
            logger.addFilter(RedactQueryCredentials())
