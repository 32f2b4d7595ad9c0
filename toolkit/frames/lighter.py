"""Lighter as frames: hourly funding rates per market (``/api/v1/fundings``), and an account's
funding payments, fills, positions and liquidations.

The venue answers the latest ``count_back`` hours (at most 750) of a range, with times in seconds
and rates in percent signed by ``direction``; the loader asks 750 hours at a time and turns them
into the toolkit's units: millisecond UTC times and rates as fractions, positive when longs pay.
An account's private reads need its auth: a ``LighterKey`` (which signs a fresh token), an auth
token, or a read-only token (``ro:...``), the thing to give a dashboard. Money is positive into the
account everywhere (Lighter's own ``total_funding_paid_out`` counts paid as positive, and is negated).
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


def _signed_size(text: str | None) -> float:
    return float(text) if text not in (None, "") else 0.0


def trade_rows(account_index: int, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """``trades`` of one account as the FILLS frame: ``side`` is the account's, ``fee`` its cost in
    USDC (positive, as on Hyperliquid), ``start_position`` signed."""
    out = []
    for r in rows:
        buy = r["bid_account_id"] == account_index
        maker = r["is_maker_ask"] != buy  # the account made the trade if its side is the maker's
        usd = float(r["usd_amount"])
        fee_units = r.get("maker_fee" if maker else "taker_fee") or 0  # in 0.0001 %
        before = _signed_size(r.get("maker_position_size_before" if maker else "taker_position_size_before"))
        liquidation = r.get("type") == "liquidation"
        out.append(
            {"time": r["timestamp"], "coin": r.get("market_symbol") or str(r["market_id"]),
             "side": "buy" if buy else "sell", "px": float(r["price"]), "sz": float(r["size"]),
             "closed_pnl": float(r.get("bid_account_pnl" if buy else "ask_account_pnl") or 0),
             "fee": usd * fee_units / 1e6, "start_position": before, "crossed": not maker,
             "liquidation": liquidation, "mark_px": float(r["price"]) if liquidation else None,
             "oid": r["bid_id"] if buy else r["ask_id"], "tid": r["trade_id"], "hash": r.get("tx_hash")}
        )  # fmt: skip
    if not out:
        return schema.empty("fills")
    frame = pl.DataFrame(out, infer_schema_length=None)
    opening = (pl.col("start_position") == 0) | ((pl.col("start_position") > 0) == (pl.col("side") == "buy"))
    long_side = pl.when(pl.col("side") == "buy").then(pl.lit("Long")).otherwise(pl.lit("Short"))
    closed = pl.when(pl.col("start_position") > 0).then(pl.lit("Long")).otherwise(pl.lit("Short"))
    direction = pl.when(opening).then(pl.lit("Open ") + long_side).otherwise(pl.lit("Close ") + closed)
    return schema.conform(frame.with_columns(direction.alias("dir")), "fills")


def position_funding_rows(rows: list[dict[str, Any]], symbols: dict[int, str]) -> pl.DataFrame:
    """``positionFunding`` rows as the FUNDING frame: ``usdc`` is the money into the account."""
    if not rows:
        return schema.empty("funding")
    frame = pl.DataFrame(
        {
            "time": [int(r["timestamp"]) * 1000 for r in rows],
            "coin": [symbols.get(int(r["market_id"]), str(r["market_id"])) for r in rows],
            "usdc": [float(r["change"]) for r in rows],
            "szi": [float(r["position_size"]) * (1 if r["position_side"] == "long" else -1) for r in rows],
            "funding_rate": [float(r["rate"]) / 100 for r in rows],
            "n_samples": [1] * len(rows),
            "hash": [""] * len(rows),
        }
    )
    return schema.conform(frame, "funding")


def account_positions(account: dict[str, Any], now_ms: int) -> pl.DataFrame:
    """``account``'s positions as the POSITIONS frame (one row per open position)."""
    out = []
    for p in account.get("positions") or []:
        size = float(p["position"]) * int(p["sign"])
        if size == 0:
            continue
        value, fraction = float(p["position_value"]), float(p["initial_margin_fraction"]) / 100
        isolated = int(p.get("margin_mode", 0)) == 1
        margin = float(p["allocated_margin"]) + float(p["unrealized_pnl"]) if isolated else value * fraction
        liq = float(p.get("liquidation_price") or 0)
        received = -float(p.get("total_funding_paid_out") or 0)
        pnl = float(p["unrealized_pnl"])
        out.append(
            {"time": now_ms, "coin": p["symbol"], "szi": size, "entry_px": float(p["avg_entry_price"]),
             "mark_px": value / abs(size), "position_value": value, "unrealized_pnl": pnl,
             "return_on_equity": pnl / margin if margin else None, "liquidation_px": liq or None,
             "margin_used": margin, "leverage": 1 / fraction if fraction else None,
             "leverage_type": "isolated" if isolated else "cross", "cum_funding_all_time": received,
             "cum_funding_since_open": received}
        )  # fmt: skip
    if not out:
        return schema.empty("positions")
    return schema.conform(pl.DataFrame(out, infer_schema_length=None), "positions")


def liquidation_rows(rows: list[dict[str, Any]], symbols: dict[int, str]) -> pl.DataFrame:
    """``liquidations`` as the LIQUIDATIONS frame: the side of the position closed, at the mark."""
    out = []
    for r in rows:
        (before,) = r["info"]["positions"][:1] or [{}]
        price, size = float(r["trade"]["price"]), float(r["trade"]["size"])
        value = float(r["info"]["risk_info_before"]["cross_risk_parameters"]["total_account_value"])
        entry = float(before.get("avg_entry_price") or 0)
        long = int(before.get("sign", 1)) > 0
        out.append(
            {"time": r["executed_at"], "coin": symbols.get(int(r["market_id"]), str(r["market_id"])),
             "side": "long" if long else "short", "size": size, "price": price, "notional": size * price,
             "mark_px": price, "entry_px": entry or None,
             "closed_pnl": (price - entry) * size * (1 if long else -1) if entry else None, "fee": 0.0,
             "account_value": value, "method": "market", "hash": str(r["id"])}
        )  # fmt: skip
    if not out:
        return schema.empty("liquidations")
    return schema.conform(pl.DataFrame(out, infer_schema_length=None), "liquidations")


class Lighter(Source):
    """``Lighter("mainnet")`` or ``Lighter(sandbox)``: Lighter's funding history, and with ``auth``
    (a key, an auth token or a read-only token) an account's payments, fills and liquidations."""

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
        auth: Any = None,
    ) -> None:
        network = target if isinstance(target, str) and target in wire.NETWORKS else None
        self.auth = auth  # a LighterKey, Secret or token text: kept as given, never shown
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

    def _symbols(self) -> dict[int, str]:
        if self._markets is None:
            self.symbol(next(iter(["ETH"])))  # loads the market list (ETH is always listed)
        return {i: s for s, i in (self._markets or {}).items()}

    def _auth(self, auth: Any) -> Any:
        auth = auth if auth is not None else self.auth
        if auth is None:
            raise ValueError("an account's funding, fills and liquidations need auth= (a key or a token)")
        return auth

    def _paged(self, fetch: Any, key: str, time_ms: Any, lo: int, hi: int) -> list[dict[str, Any]]:
        """The rows of ``[lo, hi)`` from pages that come newest first: ``fetch(cursor)`` answers a
        page whose ``key`` holds the rows and ``next_cursor`` the next older page; paging stops at
        the last page or at one that reaches back past ``lo``."""
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self._call(lambda c=cursor: fetch(c))
            items = page[key]
            rows.extend(r for r in items if lo <= time_ms(r) < hi)
            cursor = page.get("next_cursor")
            if not cursor or not items or time_ms(items[-1]) < lo:
                return rows

    def funding(
        self,
        account_index: int,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        auth: Any = None,
        backend: Backend = "pandas",
    ) -> Any:
        """The account's hourly funding payments in ``[start, end]`` (default: the last 30 days),
        oldest first; ``usdc`` > 0 was received."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end)
        auth = self._auth(auth)

        def page(cursor: str | None) -> dict[str, Any]:
            return self.client.position_funding_page(
                account_index, auth, start_s=lo // 1000, end_s=(hi - 1) // 1000, cursor=cursor
            )

        rows = self._paged(page, "position_fundings", lambda r: int(r["timestamp"]) * 1000, lo, hi)
        frame = position_funding_rows(rows, self._symbols()).sort("time", "coin")
        return self.out(frame, backend)

    def fills(
        self,
        account_index: int,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        auth: Any = None,
        backend: Backend = "pandas",
    ) -> Any:
        """The account's fills in ``[start, end]`` (default: the last 30 days), oldest first."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end)
        auth = self._auth(auth)

        def page(cursor: str | None) -> dict[str, Any]:
            return self.client.trades_page(account_index, auth, cursor=cursor)

        rows = self._paged(page, "trades", lambda r: int(r["timestamp"]), lo, hi)
        return self.out(trade_rows(account_index, rows).sort("time", "tid"), backend)

    def positions(self, account_index: int, *, backend: Backend = "pandas") -> Any:
        """Open positions now (``account``, public on Lighter)."""
        schema.check_backend(backend)
        account = self._call(lambda: self.client.account(account_index))
        return self.out(account_positions(account, self.now_ms()), backend)

    def liquidations(
        self,
        account_index: int,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        auth: Any = None,
        backend: Backend = "pandas",
    ) -> Any:
        """One row per position of the account closed by liquidation, oldest first."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end)
        auth = self._auth(auth)

        def page(cursor: str | None) -> dict[str, Any]:
            return self.client.liquidations_page(account_index, auth, cursor=cursor)

        rows = self._paged(page, "liquidations", lambda r: int(r["executed_at"]), lo, hi)
        return self.out(liquidation_rows(rows, self._symbols()).sort("time"), backend)

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
