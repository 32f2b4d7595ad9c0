"""Hyperliquid's history as frames: funding rates, funding payments, ledger, fills, liquidations,
positions and account figures, from the venue (mainnet / testnet) or a sandbox.

Every time-ranged request is paged 500 rows at a time (2,000 for fills) inside the IP budget of
1,200 weight per minute, and a 429 is retried with exponential backoff (or the Retry-After the
venue names), all behind one synchronous call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import orjson
import polars as pl

from toolkit.frames import analytics, coins, parse, schema
from toolkit.frames.budget import WeightBudget
from toolkit.frames.paging import page_by_time
from toolkit.frames.replay import HOUR_MS, MarketHistory
from toolkit.frames.schema import Backend
from toolkit.frames.source import Source
from toolkit.frames.timing import TimeLike
from toolkit.times import iso_ms
from toolkit.venues import hyperliquid as hl

CANDLE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d", "3d", "1w", "1M")
CANDLES_PER_REQUEST = 5000


class Hyperliquid(Source):
    """``Hyperliquid("mainnet")``, ``Hyperliquid("testnet")``, or ``Hyperliquid(sandbox)``.

    ``cache``: True (the default: mainnet and testnet history in ``~/.cache/toolkit/frames``), a
    directory, or False. ``budget``: a WeightBudget to share or tune; by default the process-wide
    one for the host at 1,200 weight per minute (none against a sandbox handle).
    """

    venue = "hyperliquid"
    quote = "USDC"

    def __init__(
        self,
        target: Any = "mainnet",
        *,
        cache: bool | str | Path | None = True,
        progress: bool = True,
        budget: WeightBudget | None = None,
        max_retries: int = 8,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        network = target if isinstance(target, str) and target in hl.NETWORKS else None
        super().__init__(target, network, cache, progress)
        self.client = hl.HyperliquidClient(target, transport=transport)
        self._requests(budget, self.client.base_url, hl.WEIGHT_PER_MINUTE, max_retries, backoff)

    def __repr__(self) -> str:
        cache = str(self.cache_root) if self.cache_root else None
        return f"Hyperliquid({self.client.base_url!r}, cache={cache!r})"

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()

    errors: tuple[type[Exception], ...] = (hl.HyperliquidError,)
    retriable = frozenset({429, 500, 502, 503, 504})

    def _send(self, body: dict[str, Any]) -> bytes:
        return self.client.info_bytes(body)

    def coin(self, name: str) -> str:
        """The venue's name for a coin as typed: ``btc``, ``BTC-PERP``, ``BTC/USDC:USDC`` are ``BTC``."""
        if getattr(self, "_coins", None) is None:
            meta = self.request({"type": "meta"}, orjson.loads, lambda _: 0)
            self._coins = [u["name"] for u in meta["universe"]]
        return coins.resolve(name, self._coins, "Hyperliquid")

    # -- one request, inside the budget ------------------------------------------------------------

    def request(
        self, body: dict[str, Any], parse_rows: Callable[[bytes], Any], rows: Callable[[Any], int]
    ) -> Any:
        """POST /info with ``body``; ``parse_rows`` turns the bytes into a result whose item count
        ``rows`` gives (the per-item weight). Waits for room in the budget; retries 429s and 5xx."""
        kind = body["type"]
        return self.budgeted(
            lambda: parse_rows(self._send(body)),
            most=hl.info_weight(kind, hl.page_rows(kind)),
            weight_of=lambda result: hl.info_weight(kind, rows(result)),
            failed=hl.info_weight(kind),
        )

    def _pages(self, body: dict[str, Any], parse_page: Callable[[bytes], pl.DataFrame]) -> Any:
        def fetch(start: int, end: int, progress: Callable[[int], None] | None) -> pl.DataFrame:
            def page(a: int, b: int) -> pl.DataFrame:
                return self.request(body | {"startTime": a, "endTime": b}, parse_page, len)

            return page_by_time(page, start, end, hl.page_rows(body["type"]), progress)

        return fetch

    # -- history -----------------------------------------------------------------------------------

    def funding_history(
        self,
        coins: str | Iterable[str],
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:
        """Funding rates per coin (hourly; ``premium`` on the 8-hour scale), ``fundingHistory``."""
        schema.check_backend(backend)
        lo, hi = self._range(start, end)
        coins = [self.coin(c) for c in ([coins] if isinstance(coins, str) else list(coins))]
        parts = [
            self.history(
                "funding_rates", coin, lo, hi,
                self._pages({"type": "fundingHistory", "coin": coin}, parse.funding_history),
                f"fundingHistory {coin}",
            )
            for coin in coins
        ]  # fmt: skip
        for coin, part in zip(coins, parts, strict=True):
            self.check_begins(part, lo, f"{coin}'s funding history")
        frame = self.stack(parts, "funding_rates")
        return self.out(schema.ccxt_funding_rate_history(frame, self.quote) if ccxt else frame, backend)

    def user_funding(
        self,
        user: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        coins: Iterable[str] | None = None,
        backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:
        """The account's funding payments (``userFunding``): usdc > 0 was received."""
        schema.check_backend(backend)
        user = hl.user_address(user)
        lo, hi = self._range(start, end)
        body = {"type": "userFunding", "user": user}
        frame = self.history("funding", user, lo, hi, self._pages(body, parse.user_funding), "userFunding")
        if coins is not None:
            frame = frame.filter(pl.col("coin").cast(pl.String).is_in([self.coin(c) for c in coins]))
        return self.out(schema.ccxt_funding_history(frame, self.quote) if ccxt else frame, backend)

    def ledger(
        self,
        user: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
    ) -> Any:
        """Deposits, withdrawals, transfers and liquidations (``userNonFundingLedgerUpdates``);
        ``usdc`` is positive into the account (a withdrawal or a send to another address is negative)."""
        schema.check_backend(backend)
        user = hl.user_address(user)
        lo, hi = self._range(start, end, days=365)
        body = {"type": "userNonFundingLedgerUpdates", "user": user}
        fetch = self._pages(body, lambda raw: parse.ledger(orjson.loads(raw), user))
        return self.out(self.history("ledger", user, lo, hi, fetch, "ledger"), backend)

    def fills(
        self,
        user: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
    ) -> Any:
        """The account's fills (``userFillsByTime``; the venue keeps the latest 10,000)."""
        schema.check_backend(backend)
        return self.out(self._fills(hl.user_address(user), start, end), backend)

    def _fills(self, user: str, start: TimeLike | None, end: TimeLike | None) -> pl.DataFrame:
        lo, hi = self._range(start, end)
        body = {"type": "userFillsByTime", "user": user}
        fetch = self._pages(body, lambda raw: parse.fills(orjson.loads(raw), user))
        return self.history("fills", user, lo, hi, fetch, "userFillsByTime")

    def liquidations(
        self,
        user: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:
        """One row per position of the account closed by liquidation, from its liquidation fills."""
        schema.check_backend(backend)
        user = hl.user_address(user)
        fills = self._fills(user, start, end).filter(pl.col("liquidation"))
        side = pl.when(pl.col("start_position") > 0).then(pl.lit("long")).otherwise(pl.lit("short"))
        frame = schema.conform(
            fills.select(
                "time", "coin", side.alias("side"), pl.col("sz").alias("size"), pl.col("px").alias("price"),
                (pl.col("sz") * pl.col("px")).alias("notional"), "mark_px", "closed_pnl", "fee", "hash",
            ),
            "liquidations",
        )  # fmt: skip
        return self.out(schema.ccxt_liquidations(frame, self.quote) if ccxt else frame, backend)

    def candles(
        self,
        coin: str,
        interval: str = "1h",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        backend: Backend = "pandas",
    ) -> Any:
        """OHLCV candles of ``coin`` (``candleSnapshot``), oldest first; the venue keeps only the
        latest 5,000 of each interval. Intervals: 1m 3m 5m 15m 30m 1h 2h 4h 8h 12h 1d 3d 1w 1M."""
        schema.check_backend(backend)
        coin = self.coin(coin)
        if interval not in CANDLE_INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(CANDLE_INTERVALS)}")
        lo, hi = self._range(start, end, days=7)

        def page(a: int, b: int) -> pl.DataFrame:
            body = {
                "type": "candleSnapshot",
                "req": {"coin": coin, "interval": interval, "startTime": a, "endTime": b},
            }
            return self.request(body, lambda raw: parse.candles(orjson.loads(raw)), len)

        frame = page_by_time(page, lo, hi - 1, CANDLES_PER_REQUEST)
        return self.out(frame.unique("time", keep="last").sort("time"), backend)

    def market_history(
        self,
        coins: str | Iterable[str],
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        carry_forward: bool = False,
    ) -> MarketHistory:
        """Hourly funding (rate and premium) and 1h candles of ``coins`` over ``[start, end)`` (30
        days by default, in whole hours), checked hour by hour: what a replay sandbox
        (``toolkit.sandbox.start(market=...)``) and ``toolkit.backtest`` run on; ``.save(folder)``
        writes it to share. A missing hour is an error naming it unless ``carry_forward``. The
        venue keeps only the latest 5,000 candles of an interval (about 208 days of 1h)."""
        names = [self.coin(c) for c in ([coins] if isinstance(coins, str) else list(coins))]
        lo, hi = self._range(start, end)
        lo, hi = lo - lo % HOUR_MS, (hi - 1) - (hi - 1) % HOUR_MS
        if hi <= lo:
            raise ValueError("a market history needs at least one whole hour between start and end")
        # the row paying the last hour is stamped a few ms after its boundary
        funding = self.funding_history(names, lo, hi + HOUR_MS - 1, backend="polars")
        candles = [self.candles(c, "1h", lo, hi - 1, backend="polars") for c in names]
        where = "the sandbox" if self._sandbox_now else self.network
        origin = f"Hyperliquid {where} ({self.host}): fundingHistory and 1h candleSnapshot"
        origin += f", read {iso_ms(self.now_ms())}"
        return MarketHistory.build(
            funding,
            pl.concat(candles, how="vertical_relaxed"),
            origin=origin,
            carry_forward=carry_forward,
            start=lo,
            end=hi,
        )

    def order_book(
        self,
        coin: str,
        *,
        n_sig_figs: int | None = None,
        mantissa: int | None = None,
        backend: Backend = "pandas",
    ) -> Any:
        """The order book of ``coin`` now (``l2Book``): up to 20 levels a side, best first, with
        running totals; ``n_sig_figs`` (2 to 5) merges levels to that many significant figures."""
        schema.check_backend(backend)
        body: dict[str, Any] = {"type": "l2Book", "coin": self.coin(coin)}
        if n_sig_figs is not None:
            body["nSigFigs"] = n_sig_figs
        if mantissa is not None:
            body["mantissa"] = mantissa
        return self.out(parse.order_book(self.request(body, orjson.loads, lambda _: 0)), backend)

    def account_history(
        self,
        user: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        every: str = "1h",
        backend: Backend = "pandas",
    ) -> Any:
        """The account's equity and PnL every ``every`` (``1h`` by default) from its first event in
        the window (90 days by default), rebuilt from its deposits, fills, fees and funding with its
        positions marked at each hour's close: ``analytics.account_history``, with drawdown;
        ``analytics.performance`` sums it up."""
        schema.check_backend(backend)
        user = hl.user_address(user)
        return self._account_history(user, start, end, every, backend)

    def _account_history(
        self, user: str, start: TimeLike | None, end: TimeLike | None, every: str, backend: Backend
    ) -> Any:
        lo, hi = self._range(start, end, days=90)
        fills = self._fills(user, lo, hi - 1)
        funding = Hyperliquid.user_funding(
            self, user, lo, hi - 1, backend="polars"
        )  # PaperExchange's take no user
        ledger = Hyperliquid.ledger(self, user, lo, hi - 1, backend="polars")
        traded = fills.get_column("coin").cast(pl.String).unique().sort().to_list()
        candles = [self.candles(coin, every, lo, hi - 1, backend="polars") for coin in traded]
        marks = pl.concat(candles, how="vertical_relaxed") if candles else schema.empty("candles")
        return self.out(analytics.account_history(fills, funding, ledger, marks, every, end=hi - 1), backend)

    # -- snapshots ---------------------------------------------------------------------------------

    def _clearinghouse(self, user: str) -> dict[str, Any]:
        return self.request(
            {"type": "clearinghouseState", "user": hl.user_address(user)}, orjson.loads, lambda _: 0
        )

    def positions(self, user: str, *, backend: Backend = "pandas") -> Any:
        """Open positions now (``clearinghouseState``)."""
        schema.check_backend(backend)
        return self.out(parse.clearinghouse_positions(self._clearinghouse(user)), backend)

    def open_orders(self, user: str, *, backend: Backend = "pandas") -> Any:
        """Resting orders now (``openOrders``), oldest first."""
        schema.check_backend(backend)
        body = {"type": "openOrders", "user": hl.user_address(user)}
        return self.out(parse.open_orders(self.request(body, orjson.loads, lambda _: 0)), backend)

    def account(self, user: str, *, backend: Backend = "pandas") -> Any:
        """Account value, margin used, notional and withdrawable now, as one row."""
        schema.check_backend(backend)
        return self.out(parse.clearinghouse_account(self._clearinghouse(user)), backend)
