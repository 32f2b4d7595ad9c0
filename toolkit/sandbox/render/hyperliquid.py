"""Hyperliquid's JSON for the clearinghouse's results and views (also PaperExchange's Hyperliquid
face): numbers as decimal strings, refusals in Hyperliquid's own words."""

from __future__ import annotations

import json
from typing import Any

from toolkit.sandbox.clearinghouse import AccountView, AssetContext
from toolkit.sandbox.engine.core import Cancelled, Filled, Order, Rejected, Resting
from toolkit.sandbox.engine.market import FundingRow
from toolkit.sandbox.engine.specs import Reason
from toolkit.sandbox.universe import COINS

ZERO_HASH = "0x" + "0" * 64

# Hyperliquid's texts where it documents them (reference/hyperliquid.md §6)
TEXTS = {
    Reason.PRICE: "Price must be divisible by tick size.",
    Reason.SIZE: "Order has invalid size.",
    Reason.MIN_VALUE: "Order must have minimum value of $10.",
    Reason.MAX_VALUE: "Order value exceeds the maximum of ${maximum:,.0f} for {coin}.",
    Reason.MARGIN: "Insufficient margin to place order.",
    Reason.LEVERAGE: "Position would exceed max leverage",
    Reason.REDUCE_ONLY: "Reduce only order would increase position.",
    Reason.POST_ONLY: "Post only order would have immediately matched",
    Reason.NO_MATCH: "Order could not immediately match against any resting orders. asset={asset}",
    Reason.UNKNOWN_COIN: "Unknown coin {coin}",
    Reason.TIME_IN_FORCE: "Unknown time in force {tif!r}",
    Reason.TOO_MANY_ORDERS: "Too many open orders: this address may have {limit} resting at once",
    Reason.LEVERAGE_VALUE: "Invalid leverage value: {coin} allows 1 to {maximum}",
    Reason.LEVERAGE_MODE: "Cannot switch leverage type with an open position",
    Reason.NO_ORDER: "Order was never placed, already canceled, or filled.",
    Reason.WITHDRAW: "Insufficient balance for withdrawal: {withdrawable:.2f} withdrawable",
    Reason.TOP_UP: "Balance too high for reset",
}


def num(x: float) -> str:
    """A number as Hyperliquid writes it: at most 8 decimals, no trailing zeros."""
    text = f"{float(x):.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def rate(x: float) -> str:
    """Funding rates and premiums: 10 decimals (8 would round small rates away)."""
    text = f"{float(x):.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def text(reason: Reason, context: dict[str, Any] | None = None) -> str:
    return TEXTS[reason].format(**(context or {}))


def refusal(rejected: Rejected) -> str:
    return text(rejected.reason, rejected.context)


def order_status(result: Filled | Resting | Rejected) -> dict[str, Any]:
    match result:
        case Filled(oid, sz, px):
            return {"filled": {"totalSz": num(sz), "avgPx": num(px), "oid": oid}}
        case Resting(oid, cloid):
            return {"resting": {"oid": oid} | ({"cloid": cloid} if cloid else {})}
        case Rejected():
            return {"error": refusal(result)}
    raise TypeError(f"not an order result: {result!r}")


def cancel_status(result: Cancelled | Rejected) -> str | dict[str, str]:
    return "success" if isinstance(result, Cancelled) else {"error": refusal(result)}


def all_mids(marks: dict[str, float]) -> dict[str, str]:
    return {coin: num(px) for coin, px in marks.items()}


def asset_contexts(contexts: list[AssetContext]) -> list[dict[str, Any]]:
    return [
        {
            "funding": rate(c.funding),
            "openInterest": num(c.open_interest),
            "oraclePx": num(c.oracle_px),
            "markPx": num(c.mark_px),
            "midPx": num(c.mark_px),
            "premium": rate(c.premium),
            "impactPxs": None,
            "dayNtlVlm": "0.0",
            "prevDayPx": num(c.prev_day_px),
            "dayBaseVlm": "0.0",
        }
        for c in contexts
    ]


def clearinghouse_state(view: AccountView) -> dict[str, Any]:
    positions = view.positions
    summary = {
        "accountValue": num(view.value),
        "totalMarginUsed": num(view.margin_used),
        "totalNtlPos": num(view.notional),
        "totalRawUsd": num(view.cash - sum(p.szi * p.entry_px for p in positions)),
    }
    asset_positions = []
    for p in positions:
        leverage: dict[str, Any] = {"type": "isolated" if p.isolated else "cross", "value": p.leverage}
        if p.isolated:
            leverage["rawUsd"] = num(p.margin_used - p.szi * p.mark_px)
        paid = num(-p.cum_funding)  # the engine accrues funding paid as positive
        asset_positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": p.coin,
                    "szi": num(p.szi),
                    "entryPx": num(p.entry_px),
                    "leverage": leverage,
                    "liquidationPx": None if p.liquidation_px is None else num(p.liquidation_px),
                    "marginUsed": num(p.margin_used),
                    "maxLeverage": p.max_leverage,
                    "positionValue": num(p.position_value),
                    "returnOnEquity": num(p.unrealized_pnl / p.margin_used) if p.margin_used else "0.0",
                    "unrealizedPnl": num(p.unrealized_pnl),
                    "cumFunding": {"allTime": paid, "sinceOpen": paid, "sinceChange": paid},
                },
            }
        )
    return {
        "assetPositions": asset_positions,
        "crossMaintenanceMarginUsed": num(view.cross_maintenance_margin),
        "crossMarginSummary": summary,
        "marginSummary": summary,
        "time": view.time,
        "withdrawable": num(view.withdrawable),
    }


def open_orders(orders: list[Order]) -> list[dict[str, Any]]:
    return [
        {
            "coin": COINS[o.coin],
            "side": "B" if o.is_buy else "A",
            "limitPx": num(o.px),
            "sz": num(o.sz),
            "oid": o.oid,
            "timestamp": o.time,
            "origSz": num(o.orig_sz),
        }
        | ({"cloid": o.cloid} if o.cloid else {})
        for o in orders
    ]


def fill(f: dict[str, Any]) -> dict[str, Any]:
    opening = f["start_position"] == 0 or (f["start_position"] > 0) == f["is_buy"]
    direction = ("Open " if opening else "Close ") + ("Long" if (f["is_buy"] == opening) else "Short")
    return (
        {
            "coin": f["coin"],
            "px": num(f["px"]),
            "sz": num(f["sz"]),
            "side": "B" if f["is_buy"] else "A",
            "time": f["time"],
            "startPosition": num(f["start_position"]),
            "dir": direction,
            "closedPnl": num(f["closed_pnl"]),
            "hash": f"0x{f['id']:064x}",
            "oid": f["oid"],
            "crossed": not f["maker"],
            "fee": num(f["fee"]),
            "tid": f["id"],
            "feeToken": "USDC",
        }
        | ({"cloid": f["cloid"]} if f["cloid"] else {})
        | ({"liquidation": {"markPx": num(f["px"]), "method": "market"}} if f["liquidation"] else {})
    )


def user_funding(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "delta": {
                "type": "funding",
                "coin": r["coin"],
                "usdc": num(r["usdc"]),
                "szi": num(r["szi"]),
                "fundingRate": rate(r["rate"]),
                "nSamples": None,
            },
            "hash": ZERO_HASH,
            "time": r["time"],
        }
        for r in rows
    ]


def _delta(value: Any) -> Any:
    """A stored ledger delta in Hyperliquid's words: numbers as decimal strings."""
    if isinstance(value, dict):
        return {k: _delta(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_delta(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return num(value)
    return value


def ledger(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"time": r["time"], "hash": ZERO_HASH, "delta": _delta(json.loads(r["delta"]))} for r in rows]


def funding_history(rows: list[FundingRow]) -> list[dict[str, Any]]:
    return [
        {"coin": r.coin, "fundingRate": rate(r.rate), "premium": rate(r.premium), "time": r.time}
        for r in rows
    ]
