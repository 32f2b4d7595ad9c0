"""Lighter's funding history as frames: hourly funding rates per market, from ``/api/v1/fundings``.

The venue answers the latest ``count_back`` hours (at most 750) of a range, with times in seconds
and rates in percent signed by ``direction``; the loader asks 750 hours at a time and turns them
into the toolkit's units: millisecond UTC times and rates as fractions, positive when longs pay.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from toolkit.frames import coins, schema
from toolkit.frames.budget import WeightBudget
from toolkit.frames.schema import Backend
from toolkit.frames.source import Source
from toolkit.frames.timing import TimeLike
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.client import LighterClient

PAGE_HOURS = 750  # the most hourly rows one fundings request returns
HOUR_MS = 3_600_000
REQUESTS_PER_MINUTE = 60  # a standard account's limit, unweighted (the stricter of the two tiers)


def funding_rows(coin: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """``fundings`` rows of one market as the FUNDING_RATES frame (Lighter reports no premium)."""
    frame = pl.DataFrame(
        {
            "time": [int(r["timestamp"]) * 1000 for r in rows],
            "coin": [coin] * len(rows),
            "funding_rate": [
                float(r["rate"]) / 100 * (1.0 if r.get("direction", "long") == "long" else -1.0) for r in rows
            ],
        },
        schema={"time": pl.Int64, "coin": pl.String, "funding_rate": pl.Float64},
    )
    return schema.conform(frame, "funding_rates")


class Lighter(Source):
    """``Lighter("mainnet")`` or ``Lighter(sandbox)``: Lighter's public funding history."""

    venue = "lighter"
    errors = (wire.LighterError,)
    retriable = frozenset({429, 500, 502, 503, 504})
    max_pause = 60.0

    def __init__(
        self,
        target: Any = "mainnet",
        *,
        cache: bool | str | Path | None = True,
        progress: bool = True,
        budget: WeightBudget | None = None,
        max_retries: int = 8,
        backoff: float = 0.5,
    ) -> None:
        network = target if isinstance(target, str) and target in wire.NETWORKS else None
        super().__init__(target, network, cache, progress)
        self.client = LighterClient(target)
        self._requests(budget, self.client.base_url, REQUESTS_PER_MINUTE, max_retries, backoff)
        self._markets: dict[str, int] | None = None

    def __repr__(self) -> str:
        return f"Lighter({self.client.base_url!r})"

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    def _call(self, call: Any) -> Any:
        return self.budgeted(call, most=1, weight_of=lambda _: 1, failed=1)

    def symbol(self, name: str) -> str:
        """Lighter's symbol for a coin as typed: ``eth``, ``ETH``, ``ETH-PERP`` or ``ETH/USDC:USDC``."""
        if self._markets is None:
            self._markets = {m["symbol"]: int(m["market_id"]) for m in self._call(self.client.order_books)}
        return coins.resolve(name, self._markets, "Lighter")

    def market_id(self, name: str) -> int:
        """Lighter's market id for a coin as typed (see ``symbol``)."""
        symbol = self.symbol(name)
        return self._markets[symbol]  # type: ignore[index]  # filled by symbol()

    def funding_rate(
        self,
        coins_: str | Iterable[str],
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
    ) -> Any:
        """Hourly funding rates of each coin in ``[start, end]`` (default: the last 30 days), as
        fractions per hour, positive when longs pay."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end, days=30)
        names = [coins_] if isinstance(coins_, str) else list(coins_)
        wanted = [(self.symbol(n), self.market_id(n), n) for n in names]  # every name checked first
        parts = []
        for symbol, market, name in wanted:

            def fetch(
                a: int, b: int, progress: Any, market: int = market, symbol: str = symbol
            ) -> pl.DataFrame:
                pages = []
                for first in range(a, b + 1, PAGE_HOURS * HOUR_MS):
                    last = min(first + PAGE_HOURS * HOUR_MS - 1, b)
                    call = lambda f=first, la=last: self.client.fundings(market, f // 1000, la // 1000)  # noqa: E731
                    pages.append(funding_rows(symbol, self._call(call)))
                    progress(last - first + 1)
                frame = pl.concat(pages) if pages else schema.empty("funding_rates")
                return frame.filter(pl.col("time").dt.epoch("ms").is_between(a, b)).unique(
                    "time", keep="last"
                )

            parts.append(self.history("funding_rates", symbol, lo, hi, fetch, f"fundings {symbol} ({name})"))
        return self.out(self.stack(parts, "funding_rates"), backend)
