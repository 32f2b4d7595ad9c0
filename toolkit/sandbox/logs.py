"""Log hygiene: query strings are logged by parameter name only, unless the parameter is known to
be harmless (an allow-list: a deny-list always misses a name, or its percent-encoded spelling).
Credentials arrive in query strings on some venues (Lighter's on HyperDEX order calls)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

# parameters whose values help a reader of the log and can never be credentials
HARMLESS_PARAMS = frozenset(
    {
        "symbol", "side", "type", "limit", "startTime", "endTime", "timeInForce", "quantity", "price",
        "incomeType", "recvWindow", "timestamp", "coin", "account_index", "api_key_index", "l1_address",
        "by", "value", "subaccount", "market_id", "resolution", "count_back", "cursor", "sort", "email",
        "status", "filter", "index", "reduceOnly", "positionSide", "user", "account", "accountIndex",
        "apiKeyIndex",
    }
)  # fmt: skip
_QUERY = re.compile(r"\?[^\s\"']+")
_PAIR = re.compile(r"([^&=]*)(=?)([^&]*)")


def _pair(match: re.Match[str]) -> str:
    name, eq, _value = match.groups()
    if not (name or eq):
        return match.group(0)
    if unquote(name) in HARMLESS_PARAMS:
        return match.group(0)
    return f"{name}{eq}[redacted]" if eq else name


def _query(match: re.Match[str]) -> str:
    return "?" + _PAIR.sub(_pair, match.group(0)[1:])


def redact(text: str) -> str:
    """Every query parameter's value in ``text`` masked, unless the parameter is known harmless."""
    return _QUERY.sub(_query, text) if "?" in text else text


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
