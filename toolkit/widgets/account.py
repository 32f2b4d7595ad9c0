"""The dashboard's logic, without widgets: one account's figures, positions, resting orders,
funding and liquidations as frames, an equity curve rebuilt from the account's history (sampled at
each refresh and fast-forward step while there is none yet), and the sandbox's clock moved forward
hour by hour."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from toolkit import frames
from toolkit.frames import schema

PRICE_COINS = 4  # the price chart shows at most this many coins
CANDLE_STEPS = (("5m", 1 / 12), ("15m", 0.25), ("1h", 1.0), ("4h", 4.0))  # interval, hours
SAMPLE_GAP_S = 60  # equity points closer than this (a refresh right after a step) are merged


@dataclass(frozen=True)
class Snapshot:
    """Everything the dashboard shows, as of ``time`` (polars frames)."""

    time: datetime
    overview: dict[str, Any]
    positions: pl.DataFrame
    open_orders: pl.DataFrame
    funding: pl.DataFrame
    liquidations: pl.DataFrame
    equity: pl.DataFrame
    fills: pl.DataFrame  # in the history window, oldest first
    prices: pl.DataFrame  # candles of the coins traded or held


class AccountWatch:
    """``AccountWatch(paper_client)`` for a PaperExchange account, or ``AccountWatch(target,
    user=address)`` for a Hyperliquid account (a sandbox handle, "testnet" or "mainnet").

    ``history`` bounds the funding and liquidation tables (the newest first at the top)."""

    def __init__(
        self, source: Any, *, user: str | None = None, history: timedelta = timedelta(days=30)
    ) -> None:
        from toolkit.venues.paperx import PaperClient

        self.history = history
        if isinstance(source, PaperClient):
            self.loader: frames.Hyperliquid = frames.PaperExchange(source, progress=False)
            self.user = None
            self.sandbox = source.sandbox
        else:
            if user is None:
                raise ValueError("a Hyperliquid account needs user=<its address>")
            self.loader = (
                source
                if isinstance(source, frames.Hyperliquid)
                else frames.Hyperliquid(source, progress=False)
            )
            self.user = user
            self.sandbox = source if hasattr(source, "advance") else None
        self._equity: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        return f"AccountWatch({self.loader!r}, user={self.user!r})"

    @property
    def is_paper(self) -> bool:
        """Whether the account is a PaperExchange one (it can fast-forward and has plans)."""
        return isinstance(self.loader, frames.PaperExchange)

    def _call(self, name: str, *args: Any, **kw: Any) -> Any:
        method = getattr(self.loader, name)
        return method(*args, **kw) if self.is_paper else method(self.user, *args, **kw)

    def now(self) -> datetime:
        """The venue's now: the sandbox clock, or the wall clock."""
        return datetime.fromtimestamp(self.loader.now_ms() / 1000, UTC)

    def overview(self) -> dict[str, Any]:
        """The account's figures as one dict."""
        row = self._call("account", backend="polars").to_dicts()
        return row[0] if row else {}

    def sample(self) -> dict[str, Any]:
        """Record the account value now (one point of the equity curve) and return the overview."""
        overview = self.overview()
        if overview.get("account_value") is not None:
            point = {
                "time": overview.get("time") or self.now(),
                "account_value": float(overview["account_value"]),
            }
            if (
                self._equity
                and abs((point["time"] - self._equity[-1]["time"]).total_seconds()) < SAMPLE_GAP_S
            ):
                self._equity[-1] = point  # a refresh right after a step: the newer value, not a new point
            else:
                self._equity.append(point)
        return overview

    def equity(self, start: datetime | None = None, end: datetime | None = None) -> pl.DataFrame:
        """Account value from the first event in the window (``history``), rebuilt hour by hour from
        the account's deposits, fills, fees, funding and the marks; the samples taken at refreshes
        and fast-forward steps when there is no history yet."""
        schema_ = {"time": schema.UTC_MS, "account_value": pl.Float64}
        end = end or self.now()
        try:
            rebuilt = self._call("account_history", start or end - self.history, end, backend="polars")
        except ValueError:  # no history yet: nothing deposited, traded or paid in the window
            rebuilt = None
        if rebuilt is not None and rebuilt.height:
            return rebuilt.select("time", pl.col("equity").alias("account_value"))
        return pl.DataFrame(self._equity, schema=schema_) if self._equity else pl.DataFrame(schema=schema_)

    def snapshot(self) -> Snapshot:
        """Everything the dashboard shows, read at one moment."""
        overview = self.sample()
        now = self.now()
        start = now - self.history
        funding = self._call("user_funding", start, now, backend="polars")
        liquidations = self._call("liquidations", start, now, backend="polars")
        positions = self._call("positions", backend="polars")
        orders = self._call("open_orders", backend="polars")
        fills = self._call("fills", start, now, backend="polars").sort("time")
        return Snapshot(
            time=now,
            overview=overview,
            positions=positions,
            open_orders=orders,
            funding=funding.sort("time", descending=True),
            liquidations=liquidations.sort("time", descending=True),
            equity=self.equity(start, now),
            fills=fills,
            prices=self.prices(
                fills, pl.concat([positions.select("coin"), orders.select("coin")]), start, now
            ),
        )

    def prices(
        self, fills: pl.DataFrame, positions: pl.DataFrame, start: datetime, end: datetime
    ) -> pl.DataFrame:
        """Candles of the coins held now and the most traded ones (at most ``PRICE_COINS``), over
        the window, at an interval that keeps each series to a few hundred points."""
        held = positions.get_column("coin").cast(pl.String).to_list()
        traded = fills.group_by(pl.col("coin").cast(pl.String)).len().sort("len", descending=True)
        coins = list(dict.fromkeys(held + traded.get_column("coin").to_list()))[:PRICE_COINS]
        hours = (end - start).total_seconds() / 3600
        interval = next((name for name, h in CANDLE_STEPS if hours / h <= 800), "1d")
        parts = [self.loader.candles(coin, interval, start, end, backend="polars") for coin in coins]
        return pl.concat(parts, how="vertical_relaxed") if parts else schema.empty("candles")

    def fast_forward(
        self, hours: float, *, step_hours: float = 1.0, on_step: Callable[[int, int], Any] | None = None
    ) -> int:
        """Move the sandbox's clock ``hours`` ahead in ``step_hours`` steps (funding is paid each
        hour, liquidations happen as prices move), sampling equity after each. Returns the steps."""
        if self.sandbox is None:
            raise ValueError("fast-forward moves the sandbox's clock: this account is not on the sandbox")
        if hours <= 0 or step_hours <= 0:
            raise ValueError("hours and step_hours must be positive")
        steps = max(1, round(hours / step_hours))
        for i in range(steps):
            self.sandbox.advance(hours=hours / steps)
            self.sample()
            if on_step is not None:
                on_step(i + 1, steps)
        return steps

    def close(self) -> None:
        """Close the loader's HTTP client."""
        self.loader.close()
