"""Aster's history as frames: funding-rate history (public) and the account's funding fees
(``income`` with ``incomeType=FUNDING_FEE``), paged 1,000 rows at a time.

Aster counts request weight per IP per minute (``fundingRate`` weighs 1, ``income`` 30) and
answers 429 when it is spent (418 once it bans); both are waited out with exponential backoff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import polars as pl

from toolkit.frames import coins, parse, schema
from toolkit.frames.budget import WeightBudget
from toolkit.frames.paging import page_by_time
from toolkit.frames.schema import Backend
from toolkit.frames.source import Source
from toolkit.frames.timing import TimeLike
from toolkit.venues import aster as av

PAGE_ROWS = 1000  # the most either endpoint returns per request
WEIGHT_PER_MINUTE = 2400  # REQUEST_WEIGHT per minute, as Binance-style futures APIs publish it
WEIGHTS = {"fundingRate": 1, "income": 30}


class Aster(Source):
    """``Aster("mainnet")`` for public rates; pass a signed ``AsterClient`` (V1 key and secret, or a
    V3 agent) for the account's funding fees: ``Aster(sandbox, client=aster_client)``."""

    venue = "aster"
    quote = "USDT"
    errors = (av.AsterError,)
    retriable = frozenset({418, 429, 500, 502, 503, 504})
    max_pause = 120.0

    def __init__(
        self,
        target: Any = "mainnet",
        *,
        client: av.AsterClient | None = None,
        cache: bool | str | Path | None = True,
        progress: bool = True,
        budget: WeightBudget | None = None,
        max_retries: int = 8,
        backoff: float = 0.5,
    ) -> None:
        network = target if isinstance(target, str) and target in av.NETWORKS else None
        super().__init__(target, network, cache, progress)
        self.client = client or av.AsterClient(target)
        self._requests(budget, self.client.base_url, WEIGHT_PER_MINUTE, max_retries, backoff)

    def __repr__(self) -> str:
        return f"Aster({self.client.base_url!r}, client={self.client!r})"

    def symbol(self, name: str) -> str:
        """Aster's symbol for a coin as typed: ``btc``, ``BTC``, ``BTC-PERP``, ``BTC/USDT:USDT`` and
        ``BTCUSDT`` are all ``BTCUSDT``."""
        if getattr(self, "_symbols", None) is None:
            call = self.client.funding_info
            self._symbols = {
                r["symbol"].removesuffix(self.quote): r["symbol"] for r in self._call("fundingRate", call)
            }
        return self._symbols[coins.resolve(name, self._symbols, "Aster")]

    def _call(self, endpoint: str, call: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        weight = WEIGHTS[endpoint]
        return self.budgeted(call, most=weight, weight_of=lambda _: weight, failed=weight)

    def funding_rate(
        self,
        symbols: str | Iterable[str],
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:
        """Funding rates per symbol (``BTCUSDT`` ...), from ``/fapi/v1/fundingRate``."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end, days=90)
        symbols = [self.symbol(s) for s in ([symbols] if isinstance(symbols, str) else list(symbols))]
        parts = []
        for symbol in symbols:

            def page(a: int, b: int, symbol: str = symbol) -> pl.DataFrame:
                call = lambda: self.client.funding_rate(symbol, startTime=a, endTime=b, limit=PAGE_ROWS)  # noqa: E731
                return parse.aster_funding_rates(self._call("fundingRate", call))

            def fetch(a: int, b: int, progress: Any, page: Any = page) -> pl.DataFrame:
                return page_by_time(page, a, b, PAGE_ROWS, progress)

            parts.append(self.history("funding_rates", symbol, lo, hi, fetch, f"fundingRate {symbol}"))
        frame = self.stack(parts, "funding_rates")
        return self.out(schema.ccxt_funding_rate_history(frame, self.quote) if ccxt else frame, backend)

    def _scope(self) -> str:
        """Whose income this is, for the cache: the V3 user, else a fingerprint of the V1 key."""
        if self.client.user:
            return self.client.user.lower()
        if self.client.api_key is None:
            raise av.AsterError(av.REJECTED_MBX_KEY, "funding fees need a signed client (V1 key or V3 agent)")
        return "key-" + hashlib.sha256(self.client.api_key.reveal().encode()).hexdigest()[:16]

    def funding_fees(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        symbol: str | None = None,
        backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:
        """The account's funding payments (``income``, FUNDING_FEE): usdc > 0 was received."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end, days=30)
        symbol = self.symbol(symbol) if symbol else None
        extra = {"symbol": symbol} if symbol else {}

        def page(a: int, b: int) -> pl.DataFrame:
            def call() -> list[dict[str, Any]]:
                return self.client.income(
                    incomeType="FUNDING_FEE", startTime=a, endTime=b, limit=PAGE_ROWS, **extra
                )

            return parse.aster_funding_fees(self._call("income", call))

        def fetch(a: int, b: int, progress: Any) -> pl.DataFrame:
            return page_by_time(page, a, b, PAGE_ROWS, progress)

        scope = self._scope() + (f"-{symbol}" if symbol else "")
        frame = self.history("funding", scope, lo, hi, fetch, "income FUNDING_FEE")
        return self.out(schema.ccxt_funding_history(frame, self.quote) if ccxt else frame, backend)
