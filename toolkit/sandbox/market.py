"""Market data for the paper engine: oracle, mark, premium and funding rate per coin, by hour.

Two sources behind one interface:

* ``SyntheticMarket``: seeded and deterministic. Log prices move with normal hourly returns plus
  rare jumps; the premium index mean-reverts (8-hour scale) and the funding rate follows
  Hyperliquid's formula from it; mark = oracle × (1 + premium).
* ``ReplayMarket``: Hyperliquid ``fundingHistory`` rows and ``candleSnapshot`` candles: from JSON
  (a price path for tests), or a checked ``frames`` ``MarketHistory`` (the replay sandbox), where
  each hour pays its recorded rate on the close of its recorded candle, ``fundingHistory`` and
  ``candleSnapshot`` answer the recorded rows, and the listed coins the history lacks are halted.

Prices between hours are interpolated linearly; funding is per whole hour.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from toolkit.sandbox.engine.market import HOUR_MS, FundingRow, Market
from toolkit.sandbox.engine.marketdata import INTERVALS_MS, MAX_CANDLES, Candle, candle_starts
from toolkit.venues import funding

if TYPE_CHECKING:
    from toolkit.frames.replay import MarketHistory

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


DEFAULT_PRICES = {m.name: m.start_price for m in DEFAULT_MODELS}


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

    replayed: frozenset[str] = frozenset()  # the coins with history; the others listed are halted
    end_ms: int | None = None
    history: MarketHistory | None = None

    def __init__(self, funding_rows: list[dict[str, Any]], candles: dict[str, list[dict[str, Any]]]) -> None:
        self._times: dict[str, NDArray[np.int64]] = {}
        self._bars: dict[str, dict[str, NDArray[Any]]] = {}
        coins = sorted({r["coin"] for r in funding_rows} & set(candles))
        if not coins:
            raise ValueError("replay needs funding rows and candles for at least one coin")
        self.coins = tuple(coins)
        self.replayed = frozenset(coins)
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

    @classmethod
    def from_history(cls, history: MarketHistory, listed: tuple[str, ...]) -> ReplayMarket:
        """The market of a checked history, over the sandbox's ``listed`` coins (in asset order):
        hour h pays the rate recorded at its closing boundary on the close of its candle; a listed
        coin without history stands still at a flat price and is halted (no orders)."""
        import polars as pl

        unknown = sorted(set(history.coins) - set(listed))
        if unknown:
            raise ValueError(
                f"the sandbox lists {', '.join(listed)}: no contract to replay {', '.join(unknown)} on"
            )
        self = cls.__new__(cls)
        self.history, self.coins, self.replayed = history, tuple(listed), frozenset(history.coins)
        self.start_ms, self.end_ms = history.start_ms, history.end_ms
        self._data, self._times, self._bars = {}, {}, {}
        n = history.hours
        for coin in listed:
            if coin in self.replayed:
                rows = history.funding.filter(pl.col("coin") == coin).sort("time")
                bars = history.candles.filter(pl.col("coin") == coin).sort("time")
                rate, premium = rows["funding_rate"].to_numpy(), rows["premium"].to_numpy()
                oracle = np.concatenate([bars["open"].to_numpy()[:1], bars["close"].to_numpy()])
                self._times[coin] = rows["time"].cast(pl.Int64).to_numpy()
                self._bars[coin] = {
                    k: bars[k].cast(pl.Int64).to_numpy() if k in ("time", "trades") else bars[k].to_numpy()
                    for k in ("time", "open", "high", "low", "close", "volume", "trades")
                }
            else:  # halted: a flat price where the synthetic market would start it, no funding
                rate, premium = np.zeros(n), np.zeros(n)
                oracle = np.full(n + 1, DEFAULT_PRICES.get(coin, 1.0))
            # hour n has no rate of its own (the replay ends as it starts): the last one stands in
            rate, premium = np.append(rate, rate[-1]), np.append(premium, premium[-1])
            self._data[coin] = {"oracle": oracle, "premium": premium, "mark": oracle * (1 + premium),
                                "rate": rate}  # fmt: skip
        return self

    def halted(self, coin: str) -> bool:
        return coin not in self.replayed

    def funding_history(self, coin: str, start_ms: int, end_ms: int) -> list[FundingRow]:
        """As recorded: each hour's row stamped with the venue's own time (a few ms after the
        hour, and shown from the hour on); none for a halted coin."""
        if self.halted(coin):
            return []
        times = self._times.get(coin)
        if times is None:
            return super().funding_history(coin, start_ms, end_ms)
        rows = super().funding_history(coin, start_ms - HOUR_MS, end_ms)  # recorded times run late
        out = [r._replace(time=int(times[(r.time - self.start_ms) // HOUR_MS - 1])) for r in rows]
        return [r for r in out if r.time >= start_ms]

    def recorded_candles(self, coin: str, interval: str, start: int, end: int, now: int) -> list | None:
        """The recorded hourly candles overlapping ``[start, end]`` (whole-hour intervals built from
        them), none later than ``now``; the candle still open at ``now`` holds the recorded hours
        over by then and closes at the price of ``now``. None where nothing is recorded (a price
        path, sub-hour intervals): the synthetic candles stand in."""
        if self.halted(coin):
            return []
        bars = self._bars.get(coin)
        size = INTERVALS_MS[interval]
        if bars is None or size % HOUR_MS:
            return None
        end = min(end, now)
        if end < max(start, self.start_ms):
            return []
        opens = candle_starts(interval, max(start, self.start_ms), end)[-MAX_CANDLES:]
        times = bars["time"]
        closed = int(np.searchsorted(times, now - HOUR_MS, side="right"))  # bars whose hour is over
        month = 32 * 24 * HOUR_MS
        out = []
        for t in opens:
            close = t + size if size else candle_starts(interval, t + month, t + month)[0]
            lo, stop = (int(np.searchsorted(times, x)) for x in (t, close))
            whole = max(0, min(stop, closed) - lo)  # the recorded hours inside that are over by now
            o = float(bars["open"][lo]) if stop > lo else self.oracle(coin, t)
            c = float(bars["close"][lo + whole - 1]) if whole else o
            if close > now:  # still open: the price of now closes it
                c = self.oracle(coin, now)
            inside = slice(lo, lo + whole)
            h = max(o, c, float(bars["high"][inside].max()) if whole else o)
            low = min(o, c, float(bars["low"][inside].min()) if whole else o)
            v, n = float(bars["volume"][inside].sum()), int(bars["trades"][inside].sum())
            out.append(Candle(t, close - 1, o, c, h, low, v, n))
        return out

    def _series(self, coin: str, upto_hour: int) -> dict[str, NDArray[np.float64]]:
        data = self._data[coin]
        if not 0 <= upto_hour <= len(data["oracle"]):  # one past the end: the clock's last moment
            raise ValueError(f"replay data for {coin} covers hours 0..{len(data['oracle']) - 1}")
        return data
