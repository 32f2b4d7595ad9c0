"""ApiError: a refusal with a status and a message, rendered in the envelope of the venue asked."""

from __future__ import annotations


class ApiError(Exception):
    """Raised by sandbox logic; the route layer renders it in its venue's envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        *,
        code: str | None = None,
        details: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.code = code  # venues whose envelope names the error (seed 002) use it
        self.details = details
