"""A PaperExchange account's history as frames: the Hyperliquid-compatible history through its
``/info`` (paged and paced like Hyperliquid's), and its own account views (liquidations with entry
and liquidation prices, overview and trading statistics)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl

from toolkit.frames import schema
from toolkit.frames.budget import WeightBudget
from toolkit.frames.hyperliquid import Hyperliquid
from toolkit.frames.schema import Backend
from toolkit.frames.source import UNLIMITED
from toolkit.frames.timing import TimeLike, to_ms
from toolkit.venues.paperx import PaperClient, PaperExchangeError


class PaperExchange(Hyperliquid):
    """``PaperExchange(paper_client)``: the account the client's API key (or session) belongs to."""

    venue = "paperexchange"
    errors = (PaperExchangeError,)

    def __init__(
        self,
        client: PaperClient,
        *,
        cache: bool | str | Path | None = None,
        progress: bool = True,
        budget: WeightBudget | None = None,
        max_retries: int = 8,
        backoff: float = 0.5,
    ) -> None:
        self.paper = client
        Hyperliquid.__init__(
            self, client.base_url, cache=cache, progress=progress, max_retries=max_retries, backoff=backoff,
            # PaperExchange limits requests per API key, not weight; its 429s (with Retry-After) are
            # waited out, so no budget is needed unless one is given
            budget=budget or UNLIMITED,
        )  # fmt: skip
        self.network = "paperexchange@" + client.base_url.split("//")[-1]
        self._sandbox_now = client.sandbox.now_ms if client.sandbox is not None else None
        # the paper /info ignores "user"; with a cache, a stand-in derived from the account names it
        account = str(client.me().id) if self.cache_root else ""
        self._account_id = "0x" + hashlib.sha256(account.encode()).hexdigest()[:40]

    def __repr__(self) -> str:
        return f"PaperExchange({self.paper.base_url!r})"

    def _send(self, body: dict[str, Any]) -> bytes:
        return self.paper.info_bytes(body)

    def user_funding(self, start: TimeLike | None = None, end: TimeLike | None = None, **kw: Any) -> Any:  # type: ignore[override]
        """The account's funding payments (``userFunding``), usdc > 0 received."""
        return super().user_funding(self._account_id, start, end, **kw)

    def ledger(self, start: TimeLike | None = None, end: TimeLike | None = None, **kw: Any) -> Any:  # type: ignore[override]
        """The account's deposits, withdrawals and transfers (``userNonFundingLedgerUpdates``)."""
        return super().ledger(self._account_id, start, end, **kw)

    def fills(self, start: TimeLike | None = None, end: TimeLike | None = None, **kw: Any) -> Any:  # type: ignore[override]
        """The account's fills (``userFillsByTime``), oldest first."""
        return super().fills(self._account_id, start, end, **kw)

    def liquidations(  # type: ignore[override]
        self, start: TimeLike | None = None, end: TimeLike | None = None, *, backend: Backend = "pandas",
        ccxt: bool = False,
    ) -> Any:  # fmt: skip
        """Every liquidation of the account (``/account/liquidations``), with entry, liquidation
        and mark prices and the loss it realised."""
        schema.check_backend(backend)
        rows = self.paper.liquidations()["liquidations"]
        df = pl.DataFrame(
            [
                {"time": r["timestamp"], "coin": r["coin"],
                 "side": "long" if r["position_size"] > 0 else "short",
                 "size": abs(r["position_size"]), "price": r["liquidation_price"] or r["mark_price"],
                 "mark_px": r["mark_price"], "entry_px": r["entry_price"], "closed_pnl": r["realized_loss"],
                 "account_value": r["account_value_before"]}
                for r in rows
            ],
            schema={"time": pl.String, "coin": pl.String, "side": pl.String, "size": pl.Float64,
                    "price": pl.Float64, "mark_px": pl.Float64, "entry_px": pl.Float64,
                    "closed_pnl": pl.Float64, "account_value": pl.Float64},
        )  # fmt: skip
        df = df.with_columns(
            pl.col("time").str.to_datetime(time_zone="UTC").dt.cast_time_unit("ms"),
            (pl.col("size") * pl.col("price")).alias("notional"),
        )
        lo = to_ms(start) if start is not None else None
        hi = to_ms(end) if end is not None else None
        epoch = pl.col("time").dt.epoch("ms")
        df = df.filter(
            (epoch >= lo) if lo is not None else pl.lit(True),
            (epoch <= hi) if hi is not None else pl.lit(True),
        )
        frame = schema.conform(df, "liquidations").sort("time")
        return self.out(schema.ccxt_liquidations(frame, self.quote) if ccxt else frame, backend)

    def account_history(  # type: ignore[override]
        self, start: TimeLike | None = None, end: TimeLike | None = None, *, every: str = "1h",
        backend: Backend = "pandas",
    ) -> Any:  # fmt: skip
        """The account's equity and PnL every ``every`` from its first event in the window, rebuilt
        from its history (``analytics.account_history``)."""
        schema.check_backend(backend)
        return self._account_history(self._account_id, start, end, every, backend)

    def positions(self, *, backend: Backend = "pandas") -> Any:  # type: ignore[override]
        """Open positions now."""
        schema.check_backend(backend)
        return super().positions(self._account_id, backend=backend)

    def open_orders(self, *, backend: Backend = "pandas") -> Any:  # type: ignore[override]
        """Resting orders now."""
        return super().open_orders(self._account_id, backend=backend)

    def account(self, *, backend: Backend = "pandas") -> Any:  # type: ignore[override]
        """The overview and trading statistics as one row: account value, PnL, margin, trades,
        win rate, volume, fees, best and worst trade."""
        schema.check_backend(backend)
        o = self.paper.overview()
        row = {k: v for k, v in o.items() if k != "positions" and k != "stats"} | o["stats"]
        row["time"] = self.now_ms()
        df = pl.DataFrame([row]).with_columns(pl.col("time").cast(schema.UTC_MS))
        floats = [c for c, t in df.schema.items() if t.is_float()]
        df = df.with_columns(pl.col(floats).cast(pl.Float64), pl.col(pl.Int32, pl.Int64).cast(pl.Int64))
        return self.out(df.select("time", *[c for c in df.columns if c != "time"]), backend)
