"""The paper venue: the engine behind Hyperliquid's /info and /exchange, moved by the sandbox clock.

Each Hyperliquid address that has deposited gets an engine account. Every request first brings the
engine up to the sandbox clock, so a clock moved forward by hand is processed hour by hour before
anything is read or traded. Every change ends in a commit of the engine state and its new events
(``paper_store``); a restarted sandbox carries on from the last one.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine as Database

from toolkit.sandbox.clock import Clock
from toolkit.sandbox.engine.core import Engine, _num
from toolkit.sandbox.engine.specs import OrderRejected, Reason
from toolkit.sandbox.market import HOUR_MS, SyntheticMarket
from toolkit.sandbox.paper_store import PaperStore, Pending
from toolkit.sandbox.universe import COINS
from toolkit.venues import hyperliquid_wire as wire

log = logging.getLogger("toolkit.sandbox")

HISTORY_DAYS = 90  # market history available before the sandbox started
PAGE = 500
COMMIT_HOURS = 24  # a long advance commits at least once a simulated day...
COMMIT_ROWS = 20_000  # ...and whenever this many event rows are waiting


def _s(x: float) -> str:
    return _num(float(x))


def _rate(x: float) -> str:
    """Funding rates and premiums: 10 decimals, as in fundingHistory (8 would round small rates)."""
    return f"{float(x):.10f}".rstrip("0").rstrip(".") or "0"


class PaperVenue:
    def __init__(self, clock: Clock, db: Database, seed: int = 0) -> None:
        self.clock = clock
        self.store = PaperStore(db)
        self.lock = threading.RLock()
        self._seed = seed
        self._unstored: set[int] = set()  # the oids whose fills were in the commit that just failed
        self._load()

    # -- state -----------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Build the engine from the last commit, or afresh on a new database."""
        saved = self.store.load()
        now = self.clock.now_ms()
        if saved is not None:
            self._seed = saved.market_seed
        start = saved.market_start if saved is not None else now - HISTORY_DAYS * 24 * HOUR_MS
        self.market = SyntheticMarket(seed=self._seed, start_ms=start)
        assert self.market.coins == COINS
        self.engine = Engine(self.market, start_ms=now if saved is None else saved.clock["now"])
        self.engine.keep_events = False
        self.engine.listeners.append(self._record)
        self.accounts: dict[str, int] = {}  # "venue:address" -> engine account
        if saved is not None:
            self.engine.load_state(saved.clock, saved.accounts)
            self.accounts = saved.owners
        self._owners = {account: owner for owner, account in self.accounts.items()}
        self.pending = Pending()
        self._committed_hour = self.engine.funded_hour

    def _record(self, event: Any) -> None:
        self.pending.add(event, self.engine.coins)

    @contextmanager
    def _all_or_nothing(self) -> Iterator[None]:
        """Whatever fails inside, memory falls back to the last commit: never ahead of the database."""
        try:
            yield
        except BaseException:
            self._load()
            raise

    def _commit(self) -> None:
        """Write the waiting events and the state after them (inside ``_all_or_nothing``)."""
        engine = self.engine
        changed = {account: engine.account_state(account) for account in engine.take_dirty()}
        clock = engine.clock_state()
        now = self.clock.now_ms()
        try:
            self.store.commit(
                self.pending, self._seed, self.market.start_ms, clock, changed, self._owners, now
            )
        except Exception:
            self._unstored = {row["oid"] for row in self.pending.fills if not row["liquidation"]}
            raise
        self.pending = Pending()
        self._committed_hour = engine.funded_hour

    def sync(self) -> None:
        """Bring the engine up to the sandbox clock, hour by hour, committing as it goes.

        If a stretch cannot be stored because of one order's fill, that order alone is cancelled
        and the stretch runs again: one bad order must never stop the clock for everyone."""
        with self.lock:
            try:
                self._sync()
            except Exception:
                suspects, self._unstored = self._unstored, set()
                if not suspects or not self._quarantine(suspects):
                    raise
                log.exception("a resting order's fill could not be stored; cancelled %s", sorted(suspects))
                self._sync()

    def _sync(self) -> None:
        self._unstored = set()
        target = self.clock.now_ms()
        engine = self.engine
        if target <= engine.now:
            return
        with self._all_or_nothing():
            while (boundary := self.market.start_ms + engine.funded_hour * HOUR_MS) <= target:
                engine.advance_to(boundary)
                hours = engine.funded_hour - self._committed_hour
                if hours >= COMMIT_HOURS or len(self.pending) >= COMMIT_ROWS:
                    self._commit()
            engine.advance_to(target)
            if len(self.pending) or engine.funded_hour != self._committed_hour:
                self._commit()

    def _quarantine(self, oids: set[int]) -> bool:
        """Cancel the resting orders among ``oids`` (the engine is back at the last commit); True if any."""
        orders = [self.engine.orders[oid] for oid in sorted(oids) if oid in self.engine.orders]
        if not orders:
            return False
        with self._all_or_nothing():
            for order in orders:
                self.engine.cancel(order.account, order.oid)
            self._commit()
        return True

    @contextmanager
    def _change(self) -> Iterator[None]:
        """Up to the clock, then the caller's change, then one commit; a failure keeps the last commit."""
        with self.lock:
            self.sync()
            with self._all_or_nothing():
                yield
                self._commit()

    def deposit(self, user: str, usdc: float, venue: str = "hyperliquid") -> int:
        with self._change():
            key = f"{venue}:{user.lower()}"
            account = self.accounts.get(key)
            if account is None:
                account = self._open(key)
            self.engine.deposit(account, usdc)
            delta = {"type": "deposit", "usdc": _s(usdc)}
            self.pending.ledger_row(account, self.engine.now, "deposit", usdc, delta)
        return account

    def open(self, user: str, venue: str) -> int:
        """The engine account of ``venue:user``, opened empty if it has none yet."""
        with self.lock:
            key = f"{venue}:{user.lower()}"
            if key not in self.accounts:
                with self._all_or_nothing():
                    self._open(key)
                    self._commit()
            return self.accounts[key]

    def _open(self, key: str) -> int:
        account = self.accounts[key] = self.engine.open_account()
        self._owners[account] = key
        return account

    def volume(self, user: str, venue: str = "hyperliquid") -> float:
        """The USDC ``venue:user`` has traded (0 without an account)."""
        account = self.account(user, venue)
        return 0.0 if account is None else self.engine.ledger(account)["volume"]

    def account(self, user: str, venue: str = "hyperliquid") -> int | None:
        return self.accounts.get(f"{venue}:{user.lower()}")

    # -- /exchange ---------------------------------------------------------------------------------------

    def order(self, user: str, action: wire.OrderAction, venue: str = "hyperliquid") -> dict[str, Any]:
        statuses = []
        with self._change():
            account = self.accounts[f"{venue}:{user}"]
            for order in action.orders:
                statuses.append(self._one_order(account, order))
        return {"type": "order", "data": {"statuses": statuses}}

    def _one_order(self, account: int, order: wire.OrderWire) -> dict[str, Any]:
        if order.a >= len(COINS):
            return {"error": f"Asset {order.a} does not exist"}
        if order.t.limit is None:
            return {"error": "Trigger orders are not supported by this sandbox yet"}
        tif, px = order.t.limit.tif, order.p
        if tif == "Ioc" and Decimal(px) == 0:  # PaperExchange's market order: p "0" with Ioc
            mark = float(self.engine.marks()[order.a])
            px = f"{mark * (1.05 if order.b else 0.95):.5g}"
            px = repr(round(float(px), max(0, 6 - self.engine.contracts[order.a].sz_decimals)))
        return self.engine.place_order(
            account, COINS[order.a], order.b, px, order.s, tif=tif, reduce_only=order.r, cloid=order.c
        )

    def cancel(
        self, user: str, cancels: list[tuple[int, Any]], by_cloid: bool, venue: str = "hyperliquid"
    ) -> dict[str, Any]:
        """Cancel ``(asset, oid)`` pairs, or ``(asset, cloid)`` pairs when ``by_cloid``."""
        statuses = []
        with self._change():
            account = self.accounts[f"{venue}:{user}"]
            for _asset, ref in cancels:
                if by_cloid:
                    statuses.append(self.engine.cancel_by_cloid(account, ref))
                else:
                    statuses.append(self.engine.cancel(account, ref))
        return {"type": "cancel", "data": {"statuses": statuses}}

    def update_leverage(
        self, user: str, action: wire.UpdateLeverageAction, venue: str = "hyperliquid"
    ) -> None:
        if action.asset >= len(COINS):
            raise OrderRejected(f"Asset {action.asset} does not exist", Reason.UNKNOWN_COIN)
        with self._change():
            self.engine.update_leverage(
                self.accounts[f"{venue}:{user}"],
                COINS[action.asset],
                action.leverage,
                is_cross=action.isCross,
            )

    # -- /info -----------------------------------------------------------------------------------------------

    def all_mids(self) -> dict[str, str]:
        with self.lock:
            self.sync()
            return {c: _s(m) for c, m in zip(COINS, self.engine.marks(), strict=True)}

    def asset_contexts(self) -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            now = self.engine.now
            hour = self.market.hour(now)
            p = self.engine.positions
            oi = (
                np.bincount(p.coin, weights=np.abs(p.szi), minlength=len(COINS)) / 2
                if len(p)
                else np.zeros(len(COINS))
            )
            ctxs = []
            for i, coin in enumerate(COINS):
                mark, oracle = self.market.mark(coin, now), self.market.oracle(coin, now)
                ctxs.append(
                    {
                        "funding": _rate(self.market.funding_rate(coin, hour)),
                        "openInterest": _s(oi[i]),
                        "oraclePx": _s(oracle),
                        "markPx": _s(mark),
                        "midPx": _s(mark),
                        "premium": _rate(self.market.premium(coin, hour)),
                        "impactPxs": None,
                        "dayNtlVlm": "0.0",
                        "prevDayPx": _s(self.market.oracle(coin, now - 24 * HOUR_MS)),
                        "dayBaseVlm": "0.0",
                    }
                )
            return ctxs

    def clearinghouse_state(self, user: str, venue: str = "hyperliquid") -> dict[str, Any]:
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            now = self.engine.now
            if account is None:
                empty = {
                    "accountValue": "0.0",
                    "totalMarginUsed": "0.0",
                    "totalNtlPos": "0.0",
                    "totalRawUsd": "0.0",
                }
                return {
                    "assetPositions": [],
                    "crossMaintenanceMarginUsed": "0.0",
                    "crossMarginSummary": empty,
                    "marginSummary": empty,
                    "time": now,
                    "withdrawable": "0.0",
                }
            marks = self.engine.marks()
            positions = self.engine.positions_of(account, marks)
            value = self.engine.account_value(account, marks)
            cash = self.engine.ledger(account)["cash"]
            ntl = sum(pos["position_value"] for pos in positions)
            used = sum(pos["margin_used"] for pos in positions)
            cross_mm = sum(pos["maintenance_margin"] for pos in positions if not pos["isolated"])
            summary = {
                "accountValue": _s(value),
                "totalMarginUsed": _s(used),
                "totalNtlPos": _s(ntl),
                "totalRawUsd": _s(cash - sum(pos["szi"] * pos["entry_px"] for pos in positions)),
            }
            asset_positions = []
            for pos in positions:
                lev = {"type": "isolated" if pos["isolated"] else "cross", "value": pos["leverage"]}
                if pos["isolated"]:
                    lev["rawUsd"] = _s(pos["margin_used"] - pos["szi"] * pos["mark_px"])
                asset_positions.append(
                    {
                        "type": "oneWay",
                        "position": {
                            "coin": pos["coin"],
                            "szi": _s(pos["szi"]),
                            "entryPx": _s(pos["entry_px"]),
                            "leverage": lev,
                            "liquidationPx": None
                            if pos["liquidation_px"] is None
                            else _s(pos["liquidation_px"]),
                            "marginUsed": _s(pos["margin_used"]),
                            "maxLeverage": self.engine.contracts[COINS.index(pos["coin"])].max_leverage,
                            "positionValue": _s(pos["position_value"]),
                            "returnOnEquity": _s(pos["unrealized_pnl"] / pos["margin_used"])
                            if pos["margin_used"]
                            else "0.0",
                            "unrealizedPnl": _s(pos["unrealized_pnl"]),
                            "cumFunding": {
                                "allTime": _s(-pos["cum_funding"]),
                                "sinceOpen": _s(-pos["cum_funding"]),
                                "sinceChange": _s(-pos["cum_funding"]),
                            },
                        },
                    }
                )
            return {
                "assetPositions": asset_positions,
                "crossMaintenanceMarginUsed": _s(cross_mm),
                "crossMarginSummary": summary,
                "marginSummary": summary,
                "time": now,
                "withdrawable": _s(max(value - used, 0.0)),
            }

    def open_orders(self, user: str, venue: str = "hyperliquid") -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            if account is None:
                return []
            return [
                {
                    "coin": COINS[o.coin],
                    "side": "B" if o.is_buy else "A",
                    "limitPx": _s(o.px),
                    "sz": _s(o.sz),
                    "oid": o.oid,
                    "timestamp": o.time,
                    "origSz": _s(o.orig_sz),
                }
                | ({"cloid": o.cloid} if o.cloid else {})
                for o in self.engine.open_orders(account)
            ]

    def user_fills(
        self, user: str, start: int | None = None, end: int | None = None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        """Newest first, at most 2,000, as Hyperliquid serves them."""
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            fills = self.store.fills(account, start, end, 2000) if account is not None else []
        return [self._fill_row(f) for f in fills]

    @staticmethod
    def _fill_row(f: dict[str, Any]) -> dict[str, Any]:
        opening = f["start_position"] == 0 or (f["start_position"] > 0) == f["is_buy"]
        direction = ("Open " if opening else "Close ") + ("Long" if (f["is_buy"] == opening) else "Short")
        return (
            {
                "coin": f["coin"],
                "px": _s(f["px"]),
                "sz": _s(f["sz"]),
                "side": "B" if f["is_buy"] else "A",
                "time": f["time"],
                "startPosition": _s(f["start_position"]),
                "dir": direction,
                "closedPnl": _s(f["closed_pnl"]),
                "hash": f"0x{f['id']:064x}",
                "oid": f["oid"],
                "crossed": not f["maker"],
                "fee": _s(f["fee"]),
                "tid": f["id"],
                "feeToken": "USDC",
            }
            | ({"cloid": f["cloid"]} if f["cloid"] else {})
            | ({"liquidation": {"markPx": _s(f["px"]), "method": "market"}} if f["liquidation"] else {})
        )

    def user_fills_by_time(
        self, user: str, start: int, end: int | None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        """Oldest first from ``start``, one page of 2,000: the history endpoints' paging rule (the
        last time returned is the next ``startTime``)."""
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            fills = (
                self.store.fills(account, start, end, 2000, oldest_first=True) if account is not None else []
            )
        return [self._fill_row(f) for f in fills]

    def user_funding(
        self, user: str, start: int, end: int | None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        """Oldest first from ``start``, one page of 500."""
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            rows = self.store.funding(account, start, end, limit=PAGE) if account is not None else []
        return [
            {
                "delta": {
                    "type": "funding",
                    "coin": r["coin"],
                    "usdc": _s(r["usdc"]),
                    "szi": _s(r["szi"]),
                    "fundingRate": _rate(r["rate"]),
                    "nSamples": None,
                },
                "hash": "0x" + "0" * 64,
                "time": r["time"],
            }
            for r in rows
        ]

    def ledger(
        self, user: str, start: int, end: int | None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            end = self.engine.now if end is None else end
            rows = self.store.ledger(account, start, end, PAGE) if account is not None else []
        return [{"time": r["time"], "hash": "0x" + "0" * 64, "delta": json.loads(r["delta"])} for r in rows]

    def income_rows(self, account: int | None, params: Any) -> list[dict[str, Any]]:
        """Aster's ``income`` (``params``: parsed ``IncomeParams``): newest last; with no range, the
        last 7 days; ``limit`` ≤ 1000."""
        with self.lock:
            self.sync()
            end = params.endTime if params.endTime is not None else self.engine.now
        if account is None:
            return []
        start = params.startTime if params.startTime is not None else end - 7 * 24 * HOUR_MS
        coin = params.symbol.removesuffix("USDT") if params.symbol else None
        return self.store.income(account, start, end, coin, params.incomeType, params.limit)

    # -- PaperExchange account views -------------------------------------------------------------------

    def funding_payments(self, account: int, coin: str | None, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` payments, newest first."""
        with self.lock:
            self.sync()
            return self.store.funding(account, coin=coin, limit=limit, newest_first=True)

    def funding_totals(self, account: int, coin: str | None = None) -> dict[str, dict[str, float]]:
        with self.lock:
            self.sync()
            return self.store.funding_totals(account, coin)

    def liquidation_events(self, account: int) -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            return self.store.liquidations(account)

    def funding_history(self, coin: str, start: int, end: int | None) -> list[dict[str, Any]]:
        if coin not in COINS:
            raise ValueError(f"Unknown coin {coin!r}")
        with self.lock:
            self.sync()
            end = self.engine.now if end is None else min(end, self.engine.now)
            start = max(start, self.market.start_ms)
            return self.market.funding_history(coin, start, min(end, start + PAGE * HOUR_MS))[:PAGE]
