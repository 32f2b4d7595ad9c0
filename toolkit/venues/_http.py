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
