"""VenueRefusal: a request a venue refuses, which knows how that venue words a refusal.

The base lives here, not in the sandbox, because some refusals belong to a wire format that the
client shares (Lighter's ``{code, message}``). The sandbox turns every one into a response with
one exception handler (``toolkit.sandbox.errors``); no route converts refusals itself.
"""

from __future__ import annotations

from typing import Any


class VenueRefusal(Exception):
    """A refusal: an HTTP status, a body in the venue's envelope, and any extra headers."""

    status: int = 400
    media_type: str = "application/json"

    def __init__(
        self, message: str, status: int | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})

    def body(self) -> Any:
        """The response body: a JSON-able value, or ``str`` for a plain-text answer."""
        return {"detail": self.message}
