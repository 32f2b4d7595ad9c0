"""What every venue client shares: one httpx.Client, closed explicitly or by ``with``."""

from __future__ import annotations

from typing import Self

import httpx


class HttpClient:
    """Owns ``self._http``; subclasses set it in ``__init__``."""

    _http: httpx.Client

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a 429 (or 503) asks to wait, from ``Retry-After`` given in seconds; else None."""
    value = (response.headers.get("retry-after") or "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None  # absent, or an HTTP date: the caller's own backoff applies
    return seconds if seconds > 0 else None
