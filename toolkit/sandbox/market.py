"""Market data for the paper engine: oracle, mark, premium and funding rate per coin, by hour.

Two sources behind one interface:

* ``SyntheticMarket``: seeded and deterministic. Log prices move with normal hourly returns plus
  rare jumps; the premium index mean-reverts (8-hour scale) and the funding rate follows
  Hyperliquid's formula from it; mark = oracle × (1 + premium).
* ``ReplayMarket``: Hyperliquid ``fundingHistory`` rows and ``candleSnapshot`` candles from JSON.

Prices between hours are interpolated linearly; funding is per whole hour.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from toolkit.sandbox.engine.market import HOUR_MS, Market
from toolkit.venues import funding

CHUNK_HOURS = 1024


@dataclass(frozen=True)
class CoinModel:
    name: str
    start_price: float
    hourly_vol: float


DEFAULT_MODELS = (
    CoinModel("BTC", 95_000.0, 0.006),
    CoinModel("ETH", 3_300.0, 0.008),
    CoinModel("SOL", 180.0, 0.011),
    CoinModel("AVAX", 35.0, 0.012),
    CoinModel("LINK", 20.0, 0.012),
    CoinModel("ARB", 0.8, 0.013),
    CoinModel("DOGE", 0.35, 0.013),
)


class SyntheticMarket(Market):
    def __init__(
        self, seed: int = 0, start_ms: int = 0, models: tuple[CoinModel, ...] = DEFAULT_MODELS
    ) -> None:
        self.seed = seed
        self.start_ms = start_ms - start_ms % HOUR_MS
        self.models = {m.name: m for m in models}
        self.coins = tuple(self.models)
        self._cache: dict[str, dict[str, NDArray[np.float64]]] = {}
        self._lock = threading.Lock()

    def _series(self, coin: str, upto_hour: int) -> dict[str, NDArray[np.float64]]:
        if upto_hour < 0:
            raise ValueError("no market data before the market's start")
        have = self._cache.get(coin)
        if have is not None and len(have["oracle"]) > upto_hour + 1:
            return have
        with self._lock:
            have = self._cache.get(coin)
            while have is None or len(have["oracle"]) <= upto_hour + 1:
                have = self._extend(coin, have)
                self._cache[coin] = have
            return have

    def _extend(
        self, coin: str, have: dict[str, NDArray[np.float64]] | None
    ) -> dict[str, NDArray[np.float64]]:
        model = self.models[coin]
        chunk = 0 if have is None else len(have["oracle"]) // CHUNK_HOURS
        rng = np.random.default_rng([self.seed, self.coins.index(coin), chunk])
        n = CHUNK_HOURS
        returns = rng.normal(0.0, model.hourly_vol, n)
        jumps = rng.random(n) < 1 / 500
        returns += jumps * rng.normal(0.0, 4 * model.hourly_vol, n)
        p0 = np.log(model.start_price) if have is None else np.log(have["oracle"][-1])
        log_px = (
            p0 + np.cumsum(np.concatenate([[0.0], returns[:-1]])) if have is None else p0 + np.cumsum(returns)
        )
        # premium index, 8-hour scale: Ornstein-Uhlenbeck around a slightly positive mean
        theta, mean, sigma = 0.15, 0.00012, 0.00025
        shocks = rng.normal(0.0, sigma, n)
        premium = np.empty(n)
        prev = 0.0001 if have is None else have["premium"][-1]
        for i in range(n):
            prev = prev + theta * (mean - prev) + shocks[i]
            premium[i] = prev
        oracle = np.exp(log_px)
        new = {
            "oracle": oracle,
            "premium": premium,
            "mark": oracle * (1 + premium),
            "rate": np.asarray(funding.hourly_rate(premium)),
        }
        if have is None:
            return new
        return {k: np.concatenate([have[k], new[k]]) for k in have}


class ReplayMarket(Market):
    """Real history: ``fundingHistory`` rows for rate and premium, candles for the oracle price."""

    def __init__(self, funding_rows: list[dict[str, Any]], candles: dict[str, list[dict[str, Any]]]) -> None:
        coins = sorted({r["coin"] for r in funding_rows} & set(candles))
        if not coins:
            raise ValueError("replay needs funding rows and candles for at least one coin")
        self.coins = tuple(coins)
        first = min(int(r["time"]) for r in funding_rows if r["coin"] in coins)
        self.start_ms = first - first % HOUR_MS
        self._data: dict[str, dict[str, NDArray[np.float64]]] = {}
        for coin in coins:
            rows = sorted((r for r in funding_rows if r["coin"] == coin), key=lambda r: int(r["time"]))
            hours = np.array([(int(r["time"]) - self.start_ms) // HOUR_MS for r in rows])
            n = int(hours.max()) + 2
            rate, premium = np.zeros(n), np.zeros(n)
            rate[hours] = [float(r["fundingRate"]) for r in rows]
            premium[hours] = [float(r["premium"]) for r in rows]
            bars = sorted(candles[coin], key=lambda c: int(c["t"]))
            times = np.array(
                [int(c["T"]) if "T" in c else int(c["t"]) + HOUR_MS for c in bars], dtype=np.float64
            )
            closes = np.array([float(c["c"]) for c in bars])
            grid = self.start_ms + np.arange(n) * HOUR_MS
            oracle = np.interp(grid, times, closes)
            self._data[coin] = {
                "oracle": oracle,
                "premium": premium,
                "mark": oracle * (1 + premium),
                "rate": rate,
            }

    @classmethod
    def from_files(cls, funding_paths: list[str | Path], candle_paths: dict[str, str | Path]) -> ReplayMarket:
        rows: list[dict[str, Any]] = []
        for path in funding_paths:
            rows += json.loads(Path(path).read_text())
        candles = {coin: json.loads(Path(p).read_text()) for coin, p in candle_paths.items()}
        return cls(rows, candles)

    def _series(self, coin: str, upto_hour: int) -> dict[str, NDArray[np.float64]]:
        data = self._data[coin]
        if not 0 <= upto_hour < len(data["oracle"]):
            raise ValueError(f"replay data for {coin} covers hours 0..{len(data['oracle']) - 1}")
        return data
