"""ApiError: a refusal with a status and a message, rendered in the envelope of the venue asked."""

from __future__ import annotations


class ApiError(Exception):
    """Raised by sandbox logic; the route layer renders it in its venue's envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
