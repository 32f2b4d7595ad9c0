"""Backtest a bot on real history: ``toolkit.backtest(strategy, market, start, end)``.

The strategy trades through an ordinary client of the venue (the toolkit's own Hyperliquid client,
the official SDK's ``Exchange``, or any client made from a URL and a key), pointed at a private
replay sandbox whose clock this loop moves step by step. Nothing in the strategy knows it is a
backtest, so the same code trades on testnet or mainnet when its client's URL says so.

The run comes back as DataFrames built from the venue's own answers (fills, funding payments,
liquidations) and the ledger-based equity curve of ``frames.analytics``, with its summary
(drawdown, Sharpe, PnL attributed to trading, funding and fees).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from toolkit.times import TimeLike, iso_ms, to_ms

HOUR_MS = 3_600_000
UNITS_MS = {"m": 60_000, "h": HOUR_MS, "d": 24 * HOUR_MS}


@dataclass(frozen=True)
class Step:
    """What the strategy sees at each step: the client to trade with, the account it trades for,
    and the time (``now_ms``; ``time`` as a datetime). ``index`` counts the steps from 0."""

    client: Any
    address: str
    now_ms: int
    index: int
    url: str

    @property
    def time(self) -> datetime:
        """``now_ms`` as a UTC datetime."""
        return datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)


@dataclass
class BacktestResult:
    """One run: ``fills``, ``funding`` (payments, positive into the account), ``liquidations``,
    ``equity`` (the hourly curve: equity, pnl, trading_pnl, funding, fees, drawdown) and
    ``summary`` (one row: PnL and its attribution, max drawdown, Sharpe), in the backend asked for."""

    fills: Any
    funding: Any
    liquidations: Any
    equity: Any
    summary: Any
    address: str
    start_ms: int
    end_ms: int
    steps: int
    origin: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"BacktestResult({self.steps} steps, {iso_ms(self.start_ms)} to {iso_ms(self.end_ms)}; "
            f"{len(self.fills)} fills, {len(self.funding)} funding payments, "
            f"{len(self.liquidations)} liquidations)"
        )


def parse_step(step: str | int) -> int:
    """``"1h"``, ``"30m"``, ``"1d"`` (or ms) as milliseconds; at least a minute."""
    if isinstance(step, int) and not isinstance(step, bool):
        ms = step
    else:
        match = re.fullmatch(r"\s*(\d{1,6})\s*([mhd])\s*", str(step))
        if match is None:
            raise ValueError(f"step must look like '1h', '30m' or '1d', not {str(step)[:20]!r}")
        ms = int(match[1]) * UNITS_MS[match[2]]
    if ms < UNITS_MS["m"]:
        raise ValueError("step must be at least a minute")
    return ms


def _sdk_exchange(url: str, wallet: Any) -> Any:
    """The official SDK's ``Exchange`` for ``wallet`` at ``url`` (skips its websocket)."""
    from eth_account import Account
    from hyperliquid.exchange import Exchange

    return Exchange(Account.from_key(wallet.private_key.reveal()), url)


def _client(kind: str | Callable[[str, Any], Any], sb: Any, wallet: Any) -> Any:
    if callable(kind):
        return kind(sb.url, wallet)
    if kind == "toolkit":
        from toolkit.venues.hyperliquid import HyperliquidClient

        return HyperliquidClient(sb, wallet=wallet, transport=sb._transport())
    if kind == "sdk":
        return _sdk_exchange(sb.url, wallet)
    raise ValueError("client must be 'toolkit', 'sdk', or a function (url, wallet) -> client")


def _call(strategy: Any) -> Callable[[Step], Any]:
    if hasattr(strategy, "on_hour"):
        return strategy.on_hour
    if callable(strategy):
        return strategy
    raise TypeError("strategy must be a function of one Step, or an object with an on_hour(step) method")


def backtest(
    strategy: Any,
    market: Any,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    step: str | int = "1h",
    capital: float = 100_000.0,
    client: str | Callable[[str, Any], Any] = "toolkit",
    backend: str = "pandas",
    progress: bool = True,
) -> BacktestResult:
    """Run ``strategy`` over ``market`` from ``start`` to ``end`` (default: all of it), one call a
    ``step``, and return the run.

    ``strategy`` is a function of one ``Step`` (or an object with ``on_hour(step)``); it trades
    with ``step.client``: the toolkit's ``HyperliquidClient`` (``client="toolkit"``), the official
    SDK's ``Exchange`` (``client="sdk"``), or whatever ``client(url, wallet)`` returns. ``market``
    is a ``frames.MarketHistory`` or the folder one was saved to. The account starts with
    ``capital`` USDC. The sandbox is private to the run (a temporary home, gone afterwards), so
    two runs of the same strategy on the same replay agree fill for fill.
    """
    from toolkit import frames, sandbox
    from toolkit.frames import analytics, schema
    from toolkit.sandbox.replay import history_of
    from toolkit.venues.eip712 import Wallet

    schema.check_backend(backend)
    act = _call(strategy)
    history = history_of(market)
    every = parse_step(step)
    lo = history.start_ms if start is None else to_ms(start, "start")
    hi = history.end_ms if end is None else to_ms(end, "end")
    if not history.start_ms <= lo < hi <= history.end_ms:
        raise ValueError(
            f"start and end must lie within the replay, {iso_ms(history.start_ms)} to "
            f"{iso_ms(history.end_ms)}, start before end"
        )
    if not 0 < capital < 1e12:
        raise ValueError("capital must be a positive number of USDC below 1e12")
    home = Path(tempfile.mkdtemp(prefix="toolkit-backtest-"))
    sb = sandbox.start(home=home, market=history, log_level="warning", reuse=False, driven=True)
    trader = src = None
    try:
        if lo > history.start_ms:
            sb._advance_in_process(lo)
        wallet = Wallet.generate()
        sb.deposit("hyperliquid", wallet.address, capital)
        trader = _client(client, sb, wallet)
        moments = range(lo, hi, every)
        bar = _bar(len(moments), progress)
        for i, now in enumerate(moments):
            sb._advance_in_process(now)
            act(Step(trader, wallet.address, now, i, sb.url))
            bar.update(1)
        bar.close()
        sb._advance_in_process(hi)
        src = frames.Hyperliquid(sb, progress=False, cache=False, transport=sb._transport())
        fills = src.fills(wallet.address, lo, hi, backend="polars")
        funding = src.user_funding(wallet.address, lo, hi, backend="polars")
        liquidations = src.liquidations(wallet.address, lo, hi, backend="polars")
        curve = src.account_history(wallet.address, lo, hi, backend="polars")
        summary = analytics.performance(curve)
    finally:
        close = getattr(trader, "close", None)
        if callable(close):  # the client was made for this run
            close()
        if src is not None:
            src.close()
        sb.stop()
        shutil.rmtree(home, ignore_errors=True)
    out = [schema.output(f, backend) for f in (fills, funding, liquidations, curve, summary)]
    return BacktestResult(*out, wallet.address, lo, hi, len(moments), history.origin)


def _bar(total: int, progress: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", desc="backtest", disable=not progress, delay=1.0)
