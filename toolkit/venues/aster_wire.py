"""Aster's request parameters as typed models (query or form text, as the venue reads them).

The client builds its parameters to these shapes and the sandbox parses every request with them
before it reads any state: ASCII digits only, times in milliseconds in a sane range, quantities and
prices as plain decimals, Binance-style client order ids, enums by their exact names.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_DIGITS = re.compile(r"[0-9]{1,19}")


def _ascii_int(low: int, high: int) -> Any:
    def check(value: Any) -> int:
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise ValueError("must be an integer in ASCII digits")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return BeforeValidator(check)


TimeMs = Annotated[int, _ascii_int(0, MAX_TIME_MS)]
Limit = Annotated[int, _ascii_int(1, 1000)]
DecimalText = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}(\.[0-9]{1,20})?$")]
Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,20}$")]
ClientOrderId = Annotated[str, StringConstraints(pattern=r"^[.A-Z:/a-z0-9_-]{1,36}$")]
TrueFalse = Literal["true", "false", "TRUE", "FALSE", "True", "False"]


class _Params(BaseModel):
    """Signing fields (timestamp, signature, user, ...) pass through: authentication reads them."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OrderParams(_Params):
    symbol: Symbol
    side: Literal["BUY", "SELL"]
    type: Literal["LIMIT", "MARKET"]
    quantity: DecimalText
    price: DecimalText | None = None
    timeInForce: Literal["GTC", "IOC", "FOK", "GTX"] | None = None
    reduceOnly: TrueFalse = "false"
    newClientOrderId: ClientOrderId | None = None
    positionSide: Literal["BOTH"] = "BOTH"


class IncomeParams(_Params):
    symbol: Symbol | None = None
    incomeType: Literal["TRANSFER", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR"] | None = (
        None
    )
    startTime: TimeMs | None = None
    endTime: TimeMs | None = None
    limit: Limit = 100


class FundingRateParams(_Params):
    symbol: Symbol | None = None
    startTime: TimeMs | None = None
    endTime: TimeMs | None = None
    limit: Limit = 100


# parameters whose refusal has a code of its own (Binance-futures numbering); the rest are -1102
OWN_CODES = {"timeInForce": (-1115, "Invalid timeInForce."), "type": (-1116, "Invalid orderType.")}


class ParamError(ValueError):
    """A parameter the venue cannot read; the message names it and never echoes its value."""

    def __init__(self, name: str, problem: str) -> None:
        self.code, message = OWN_CODES.get(name, (-1102, f"Parameter '{name}' {problem}."))
        super().__init__(message)
        self.name = name


def parse(model: type[BaseModel], params: dict[str, str]) -> Any:
    """``params`` (empty values dropped, as the venue treats them) as ``model``, or ParamError."""
    given = {k: v for k, v in params.items() if v != ""}
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        if err["type"] == "missing" and name not in OWN_CODES:
            raise ParamError(name, "was not sent, was empty/null, or malformed") from None
        problem = str(err["msg"]).removeprefix("Value error, ")
        problem = "has the wrong format" if err["type"] == "string_pattern_mismatch" else problem
        raise ParamError(name, f"was malformed: {problem[:120]}") from None
