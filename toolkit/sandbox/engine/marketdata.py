"""Market data the engine can honestly produce from its own price path: a synthetic order book
around the mark, the impact prices read from it, and candles.

The book is seeded by (coin, minute), so it is the same for everyone asking at the same time; depth
thins with distance and the users' own resting orders sit in it at their prices. Candles are made
from the same marks that drive fills and funding: an hourly candle opens at the mark of its hour and
closes at the mark of the next one (prices move linearly between whole hours, so the high and low of
a candle are among its whole-hour marks and its ends).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np

from toolkit.sandbox.engine.market import HOUR_MS, Market

LEVELS = 20  # per side, as Hyperliquid serves
MINUTE_MS = 60_000
INTERVALS_MS = {
    "1m": MINUTE_MS, "3m": 3 * MINUTE_MS, "5m": 5 * MINUTE_MS, "15m": 15 * MINUTE_MS, "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS, "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS,
    "1d": 24 * HOUR_MS, "3d": 72 * HOUR_MS, "1w": 168 * HOUR_MS, "1M": 0,  # calendar months
}  # fmt: skip
MAX_CANDLES = 5000  # only the latest 5,000 candles of an interval exist
IMPACT_NOTIONAL = {"BTC": 20_000.0, "ETH": 20_000.0}  # USDC; every other coin: 6,000
DEFAULT_IMPACT_NOTIONAL = 6_000.0


class Level(NamedTuple):
    px: float
    sz: float
    n: int


def tick_size(px: float, sz_decimals: int) -> float:
    """The smallest price step at ``px``: 5 significant figures, at most ``6 - szDecimals`` decimals."""
    return max(10.0 ** (math.floor(math.log10(px)) - 4), 10.0 ** -(6 - sz_decimals))


def _round(px: float, tick: float) -> float:
    decimals = max(0, -math.floor(math.log10(tick) + 1e-9))
    return round(round(px / tick) * tick, decimals)


def synthetic_book(
    coin: str, coin_index: int, mark: float, time_ms: int, sz_decimals: int, seed: int = 0,
    resting: list[tuple[bool, float, float]] = (),  # type: ignore[assignment]
) -> tuple[list[Level], list[Level]]:  # fmt: skip
    """(bids best first, asks best first) around ``mark``: best bid < mark < best ask, with the
    users' ``resting`` orders (is_buy, px, sz) merged in at their prices."""
    tick = tick_size(mark, sz_decimals)
    step = max(tick, _round(mark * 0.0001, tick))  # levels a basis point apart
    bid = math.floor(mark * (1 - 0.00005) / tick) * tick
    ask = math.ceil(mark * (1 + 0.00005) / tick) * tick
    if bid >= mark:
        bid -= tick
    if ask <= mark:
        ask += tick
    rng = np.random.default_rng([seed, coin_index, time_ms // MINUTE_MS])
    base = IMPACT_NOTIONAL.get(coin, DEFAULT_IMPACT_NOTIONAL) * 1.5
    lot = 10.0**-sz_decimals
    sides: list[dict[float, list[float]]] = []
    for best, sign in ((bid, -1), (ask, 1)):
        levels: dict[float, list[float]] = {}
        notional = base * (1 + 0.35 * np.arange(LEVELS)) * rng.lognormal(0.0, 0.4, LEVELS)
        counts = 1 + rng.poisson(2 + np.arange(LEVELS) / 3)
        for i in range(LEVELS):
            px = _round(best + sign * i * step, tick)
            if px <= 0:
                break
            sz = max(lot, round(notional[i] / px / lot) * lot)
            levels[px] = [round(sz, sz_decimals), int(counts[i])]
        sides.append(levels)
    for is_buy, px, sz in resting:
        level = sides[0 if is_buy else 1].setdefault(px, [0.0, 0])
        level[0] = round(level[0] + sz, sz_decimals)
        level[1] += 1
    bids = sorted((Level(p, s, n) for p, (s, n) in sides[0].items()), key=lambda lv: -lv.px)[:LEVELS]
    asks = sorted((Level(p, s, n) for p, (s, n) in sides[1].items()), key=lambda lv: lv.px)[:LEVELS]
    return bids, asks


def aggregate(levels: list[Level], is_bid: bool, n_sig_figs: int | None, mantissa: int | None) -> list[Level]:
    """Levels merged to ``n_sig_figs`` significant figures (bids down, asks up), as ``l2Book``'s
    ``nSigFigs`` asks; ``mantissa`` (with 5 figures) steps by 1, 2 or 5 of the last figure."""
    if n_sig_figs is None:
        return levels
    merged: dict[float, list[float]] = {}
    for lv in levels:
        unit = 10.0 ** (math.floor(math.log10(lv.px)) - n_sig_figs + 1) * (mantissa or 1)
        bucket = (math.floor if is_bid else math.ceil)(lv.px / unit - 1e-9 * (-1 if is_bid else 1)) * unit
        bucket = float(f"{bucket:.{n_sig_figs + 1}g}")
        m = merged.setdefault(bucket, [0.0, 0])
        m[0] += lv.sz
        m[1] += lv.n
    out = [Level(p, s, int(n)) for p, (s, n) in merged.items()]
    return sorted(out, key=lambda lv: -lv.px if is_bid else lv.px)[:LEVELS]


def impact_price(levels: list[Level], notional: float) -> float | None:
    """The average price of taking ``notional`` USDC from ``levels`` (best first), or None when the
    book is too thin."""
    got, cost = 0.0, 0.0
    for lv in levels:
        take = min(lv.sz, (notional - cost) / lv.px)
        got += take
        cost += take * lv.px
        if cost >= notional - 1e-9:
            return cost / got
    return None


def impact_notional(coin: str) -> float:
    return IMPACT_NOTIONAL.get(coin, DEFAULT_IMPACT_NOTIONAL)


# -- candles ----------------------------------------------------------------------------------------


class Candle(NamedTuple):
    t: int  # open time
    T: int  # close time: the next candle's open time - 1 ms
    o: float
    c: float
    h: float
    low: float
    v: float
    n: int


def _month_starts(start: int, end: int) -> list[int]:
    d = datetime.fromtimestamp(start / 1000, tz=UTC)
    y, m = d.year, d.month
    out = []
    while True:
        t = int(datetime(y, m, 1, tzinfo=UTC).timestamp() * 1000)
        if t > end:
            return out
        out.append(t)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def candle_starts(interval: str, start: int, end: int) -> list[int]:
    """Open times of the candles of ``interval`` that overlap ``[start, end]``."""
    size = INTERVALS_MS[interval]
    if size == 0:
        return _month_starts(start, end)
    return list(range(start - start % size, end + 1, size))


def candles(market: Market, coin: str, interval: str, start: int, end: int, now: int) -> list[Candle]:
    """The candles of ``interval`` overlapping ``[start, end]``, up to ``now`` (the last one still
    open closes at the mark of ``now``), from the market's start, and at most the latest 5,000.
    A replay answers with its recorded candles where it has them."""
    recorded = market.recorded_candles(coin, interval, start, end, now)
    if recorded is not None:
        return recorded
    end = min(end, now)
    if end < max(start, market.start_ms):
        return []
    size = INTERVALS_MS[interval]
    opens = candle_starts(interval, max(start, market.start_ms), end)[-MAX_CANDLES:]
    if size == 0:
        closes = [*opens[1:], _month_starts(opens[-1], opens[-1] + 32 * 24 * HOUR_MS)[1]]
    else:
        closes = [t + size for t in opens]
    series = market._series(coin, market.hour(min(closes[-1], now)) + 2)["mark"]
    out = []
    for t, close in zip(opens, closes, strict=True):
        o_time, c_time = max(t, market.start_ms), min(close, now)
        o, c = market.mark(coin, o_time), market.mark(coin, c_time)
        h0, h1 = -(-(o_time - market.start_ms) // HOUR_MS), (c_time - market.start_ms) // HOUR_MS
        inside = series[h0 : h1 + 1] if h1 >= h0 else series[:0]
        hi = max(o, c, float(inside.max()) if len(inside) else o)
        lo = min(o, c, float(inside.min()) if len(inside) else o)
        hours = max(c_time - o_time, 0) / HOUR_MS
        move = abs(c - o) / o if o else 0.0
        notional = impact_notional(coin) * 40 * hours * (1 + 50 * move)  # synthetic: more on big moves
        out.append(Candle(t, close - 1, o, c, hi, lo, notional / ((o + c) / 2), max(1, int(hours * 120))))
    return out
