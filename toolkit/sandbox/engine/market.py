"""What the engine needs from a market: hourly oracle, mark, premium and funding rate per coin.

``Market`` interpolates prices linearly between whole hours; funding is per whole hour. Where the
hours come from (a seeded simulation, replayed history) is the sandbox's business.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

HOUR_MS = 3_600_000


class FundingRow(NamedTuple):
    """One hour's funding as paid: ``time`` is the boundary that paid it (ms)."""

    coin: str
    time: int
    rate: float
    premium: float


class Market:
    """Hourly oracle, mark, premium and rate per coin; ``start_ms`` is hour 0."""

    coins: tuple[str, ...]
    start_ms: int

    def hour(self, ts_ms: int) -> int:
        return (ts_ms - self.start_ms) // HOUR_MS

    def _series(self, coin: str, upto_hour: int) -> dict[str, NDArray[np.float64]]:  # pragma: no cover
        raise NotImplementedError

    def _at(self, coin: str, name: str, ts_ms: int) -> float:
        pos = (ts_ms - self.start_ms) / HOUR_MS
        h = int(np.floor(pos))
        series = self._series(coin, h + 1)[name]
        h = max(0, min(h, len(series) - 2))
        frac = min(max(pos - h, 0.0), 1.0)
        return float(series[h] * (1 - frac) + series[h + 1] * frac)

    def halted(self, coin: str) -> bool:
        """Listed but not traded (a replay without history for it): orders in it are refused."""
        return False

    def recorded_candles(self, coin: str, interval: str, start: int, end: int, now: int) -> list | None:
        """Candles as the venue recorded them, where the market has them (a replay); else None."""
        return None

    def oracle(self, coin: str, ts_ms: int) -> float:
        return self._at(coin, "oracle", ts_ms)

    def mark(self, coin: str, ts_ms: int) -> float:
        return self._at(coin, "mark", ts_ms)

    def funding_rate(self, coin: str, hour: int) -> float:
        return float(self._series(coin, hour)["rate"][hour])

    def premium(self, coin: str, hour: int) -> float:
        return float(self._series(coin, hour)["premium"][hour])

    def hour_snapshot(self, hour: int) -> dict[str, NDArray[np.float64]]:
        """Per-coin arrays (in ``coins`` order) at a whole hour: oracle, mark, premium, rate."""
        rows = [self._series(c, hour) for c in self.coins]
        return {k: np.array([r[k][hour] for r in rows]) for k in ("oracle", "mark", "premium", "rate")}

    def funding_history(self, coin: str, start_ms: int, end_ms: int) -> list[FundingRow]:
        """The funding paid in ``[start_ms, end_ms]``, stamped when each was paid: hour h's rate
        (from that hour's premium) is applied at the end of hour h."""
        first = max(1, -(-(start_ms - self.start_ms) // HOUR_MS))  # payment boundaries in [start, end]
        last = (end_ms - self.start_ms) // HOUR_MS
        out = []
        for boundary in range(first, last + 1):
            h = boundary - 1
            out.append(
                FundingRow(
                    coin,
                    self.start_ms + boundary * HOUR_MS,
                    self.funding_rate(coin, h),
                    self.premium(coin, h),
                )
            )
        return out
