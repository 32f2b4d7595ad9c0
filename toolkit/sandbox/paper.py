"""The paper venue: the engine behind Hyperliquid's /info and /exchange, moved by the sandbox clock.

Each Hyperliquid address that has deposited gets an engine account. Every request first brings the
engine up to the sandbox clock, so a clock moved forward by hand is processed hour by hour before
anything is read or traded. Fills, funding and liquidations are kept per account for the /info
history requests (in memory for now: a restarted sandbox starts its paper accounts afresh).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from toolkit.sandbox.clock import Clock
from toolkit.sandbox.engine.core import Engine, Fill, FundingBatch, Liquidation, _num
from toolkit.sandbox.market import HOUR_MS, SyntheticMarket
from toolkit.sandbox.universe import COINS

HISTORY_DAYS = 90  # market history available before the sandbox started
PAGE = 500


def _s(x: float) -> str:
    return _num(float(x))


def _rate(x: float) -> str:
    """Funding rates and premiums: 10 decimals, as in fundingHistory (8 would round small rates)."""
    return f"{float(x):.10f}".rstrip("0").rstrip(".") or "0"


class PaperVenue:
    def __init__(self, clock: Clock, seed: int = 0) -> None:
        self.clock = clock
        now = clock.now_ms()
        self.market = SyntheticMarket(seed=seed, start_ms=now - HISTORY_DAYS * 24 * HOUR_MS)
        assert self.market.coins == COINS
        self.engine = Engine(self.market, start_ms=now)
        self.engine.keep_events = False
        self.engine.listeners.append(self._record)
        self.accounts: dict[str, int] = {}  # "venue:address" -> engine account
        self.income: dict[int, list[dict[str, Any]]] = {}  # Aster-style income rows per account
        self.fills: dict[int, list[Fill]] = {}
        self.funding: dict[int, list[dict[str, Any]]] = {}
        self.ledger_updates: dict[int, list[dict[str, Any]]] = {}
        self.liquidations: dict[int, list[Liquidation]] = {}
        self.lock = threading.RLock()

    # -- bookkeeping ---------------------------------------------------------------------------------

    def _income(
        self, account: int, kind: str, amount: float, time: int, coin: str = "", trade: int | None = None
    ) -> None:
        rows = self.income.setdefault(account, [])
        rows.append(
            {
                "symbol": f"{coin}USDT" if coin else "",
                "incomeType": kind,
                "income": f"{amount:.8f}",
                "asset": "USDT",
                "info": kind,
                "time": time,
                "tranId": str(len(rows) + 1 + account * 10_000_000),
                "tradeId": str(trade) if trade is not None else "",
            }
        )

    def _record(self, event: Any) -> None:
        if isinstance(event, Fill):
            self.fills.setdefault(event.account, []).append(event)
            if event.fee:
                self._income(event.account, "COMMISSION", -event.fee, event.time, event.coin, event.oid)
            if event.closed_pnl:
                self._income(
                    event.account, "REALIZED_PNL", event.closed_pnl, event.time, event.coin, event.oid
                )
        elif isinstance(event, FundingBatch):
            for account, c, szi, rate, usdc, oracle in zip(
                event.account.tolist(),
                event.coin.tolist(),
                event.szi.tolist(),
                event.rate.tolist(),
                event.usdc.tolist(),
                event.oracle_px.tolist(),
                strict=True,
            ):
                self.funding.setdefault(account, []).append(
                    {
                        "time": event.time,
                        "coin": COINS[c],
                        "usdc": usdc,
                        "szi": szi,
                        "fundingRate": rate,
                        "oracle": oracle,
                    }
                )
                self._income(account, "FUNDING_FEE", usdc, event.time, COINS[c])
        elif isinstance(event, Liquidation):
            self.liquidations.setdefault(event.account, []).append(event)
            self.ledger_updates.setdefault(event.account, []).append(
                {
                    "time": event.time,
                    "delta": {
                        "type": "liquidation",
                        "liquidatedNtlPos": _s(abs(event.position_size) * event.mark_price),
                        "accountValue": _s(event.account_value_before),
                        "leverageType": event.leverage_type,
                        "liquidatedPositions": [{"coin": event.coin, "szi": _s(event.position_size)}],
                    },
                }
            )

    def sync(self) -> None:
        """Bring the engine up to the sandbox clock, hour by hour."""
        with self.lock:
            now = self.clock.now_ms()
            if now > self.engine.now:
                self.engine.advance_to(now)

    def deposit(self, user: str, usdc: float, venue: str = "hyperliquid") -> int:
        with self.lock:
            self.sync()
            key = f"{venue}:{user.lower()}"
            account = self.accounts.get(key)
            if account is None:
                account = self.accounts[key] = self.engine.open_account()
            self.engine.deposit(account, usdc)
            now = self.clock.now_ms()
            self.ledger_updates.setdefault(account, []).append(
                {"time": now, "delta": {"type": "deposit", "usdc": _s(usdc)}}
            )
            self._income(account, "TRANSFER", usdc, now)
            return account

    def open(self, user: str, venue: str) -> int:
        """The engine account of ``venue:user``, opened empty if it has none yet."""
        with self.lock:
            key = f"{venue}:{user.lower()}"
            if key not in self.accounts:
                self.accounts[key] = self.engine.open_account()
            return self.accounts[key]

    def account(self, user: str, venue: str = "hyperliquid") -> int | None:
        return self.accounts.get(f"{venue}:{user.lower()}")

    # -- /exchange ---------------------------------------------------------------------------------------

    def order(self, user: str, action: dict[str, Any], venue: str = "hyperliquid") -> dict[str, Any]:
        statuses = []
        with self.lock:
            self.sync()
            account = self.accounts[f"{venue}:{user}"]
            for wire in action.get("orders") or []:
                statuses.append(self._one_order(account, wire))
        return {"type": "order", "data": {"statuses": statuses}}

    def _one_order(self, account: int, wire: Any) -> dict[str, Any]:
        try:
            asset, is_buy, px, sz = int(wire["a"]), bool(wire["b"]), str(wire["p"]), str(wire["s"])
            kind = wire.get("t") or {"limit": {"tif": "Gtc"}}
        except (KeyError, TypeError, ValueError):
            return {"error": "Invalid order parameters"}
        if not 0 <= asset < len(COINS):
            return {"error": f"Asset {asset} does not exist"}
        if "trigger" in kind:
            return {"error": "Trigger orders are not supported by this sandbox yet"}
        tif = (kind.get("limit") or {}).get("tif", "Gtc")
        if px in ("0", "0.0") and tif == "Ioc":  # PaperExchange's market order: p "0" with Ioc
            mark = float(self.engine.marks()[asset])
            px = f"{mark * (1.05 if is_buy else 0.95):.5g}"
            px = repr(round(float(px), max(0, 6 - self.engine.contracts[asset].sz_decimals)))
        return self.engine.place_order(
            account,
            COINS[asset],
            is_buy,
            px,
            sz,
            tif=tif,
            reduce_only=bool(wire.get("r")),
            cloid=wire.get("c"),
        )

    def cancel(
        self, user: str, action: dict[str, Any], by_cloid: bool, venue: str = "hyperliquid"
    ) -> dict[str, Any]:
        statuses = []
        with self.lock:
            self.sync()
            account = self.accounts[f"{venue}:{user}"]
            for item in action.get("cancels") or []:
                try:
                    if by_cloid:
                        statuses.append(self.engine.cancel_by_cloid(account, str(item["cloid"])))
                    else:
                        statuses.append(self.engine.cancel(account, int(item["o"])))
                except (KeyError, TypeError, ValueError):
                    statuses.append({"error": "Invalid cancel parameters"})
        return {"type": "cancel", "data": {"statuses": statuses}}

    def update_leverage(self, user: str, action: dict[str, Any], venue: str = "hyperliquid") -> None:
        with self.lock:
            self.sync()
            asset = int(action["asset"])
            if not 0 <= asset < len(COINS):
                raise ValueError(f"Asset {asset} does not exist")
            self.engine.update_leverage(
                self.accounts[f"{venue}:{user}"],
                COINS[asset],
                int(action["leverage"]),
                is_cross=bool(action.get("isCross", True)),
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
        with self.lock:
            self.sync()
            account = self.account(user, venue)
            rows = []
            for f in reversed(self.fills.get(account, []) if account is not None else []):
                if (start is not None and f.time < start) or (end is not None and f.time > end):
                    continue
                opening = f.start_position == 0 or (f.start_position > 0) == f.is_buy
                direction = ("Open " if opening else "Close ") + (
                    "Long" if (f.is_buy == opening) else "Short"
                )
                rows.append(
                    {
                        "coin": f.coin,
                        "px": _s(f.px),
                        "sz": _s(f.sz),
                        "side": "B" if f.is_buy else "A",
                        "time": f.time,
                        "startPosition": _s(f.start_position),
                        "dir": direction,
                        "closedPnl": _s(f.closed_pnl),
                        "hash": f"0x{f.oid:064x}",
                        "oid": f.oid,
                        "crossed": not f.maker,
                        "fee": _s(f.fee),
                        "tid": f.oid,
                        "feeToken": "USDC",
                    }
                    | ({"liquidation": {"markPx": _s(f.px), "method": "market"}} if f.liquidation else {})
                )
            return rows[:2000]

    def _window(
        self, history: dict[int, list[dict[str, Any]]], user: str, venue: str, start: int, end: int | None
    ) -> list[dict[str, Any]]:
        """An account's rows of ``history`` with ``start <= time <= end`` (end defaults to now)."""
        account = self.account(user, venue)
        end = self.engine.now if end is None else end
        return (
            [r for r in history.get(account, []) if start <= r["time"] <= end] if account is not None else []
        )

    def user_funding(
        self, user: str, start: int, end: int | None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            rows = self._window(self.funding, user, venue, start, end)
            return [
                {
                    "delta": {
                        "type": "funding",
                        "coin": r["coin"],
                        "usdc": _s(r["usdc"]),
                        "szi": _s(r["szi"]),
                        "fundingRate": _rate(r["fundingRate"]),
                        "nSamples": None,
                    },
                    "hash": "0x" + "0" * 64,
                    "time": r["time"],
                }
                for r in rows[:PAGE]
            ]

    def ledger(
        self, user: str, start: int, end: int | None, venue: str = "hyperliquid"
    ) -> list[dict[str, Any]]:
        with self.lock:
            self.sync()
            rows = self._window(self.ledger_updates, user, venue, start, end)
            return [r | {"hash": "0x" + "0" * 64} for r in rows[:PAGE]]

    def income_rows(self, account: int | None, params: dict[str, str]) -> list[dict[str, Any]]:
        """Aster's ``income``: newest last; with no range, the last 7 days; ``limit`` ≤ 1000."""
        with self.lock:
            self.sync()
            rows = self.income.get(account, []) if account is not None else []
            end = int(params.get("endTime") or self.engine.now)
            start = int(params.get("startTime") or end - 7 * 24 * HOUR_MS)
            limit = min(int(params.get("limit") or 100), 1000)
            symbol, kind = params.get("symbol"), params.get("incomeType")
            picked = [
                r
                for r in rows
                if start <= r["time"] <= end
                and (not symbol or r["symbol"] == symbol)
                and (not kind or r["incomeType"] == kind)
            ]
            return picked[:limit]

    def funding_history(self, coin: str, start: int, end: int | None) -> list[dict[str, Any]]:
        if coin not in COINS:
            raise ValueError(f"Unknown coin {coin!r}")
        with self.lock:
            self.sync()
            end = self.engine.now if end is None else min(end, self.engine.now)
            return self.market.funding_history(coin, max(start, self.market.start_ms), end)[:PAGE]
