"""Hyperliquid's JSON for the clearinghouse's results and views (also PaperExchange's Hyperliquid
face): numbers as decimal strings, refusals in Hyperliquid's own words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.clearinghouse import AccountView, AssetContext
from toolkit.sandbox.engine.core import Cancelled, Filled, Order, Rejected, Resting
from toolkit.sandbox.engine.market import FundingRow
from toolkit.sandbox.engine.marketdata import Candle, Level
from toolkit.sandbox.engine.orders import Waiting
from toolkit.sandbox.engine.specs import MAKER_FEE, TAKER_FEE, Reason
from toolkit.sandbox.universe import COINS
from toolkit.venues.eip712 import ZERO_ADDRESS

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
    Reason.TRIGGER_PRICE: "Invalid TP/SL price.",
    Reason.TPSL_REDUCE_ONLY: "TP/SL orders grouped with an order or a position must be reduce only.",
    Reason.MODIFY: "Cannot modify canceled or filled order",
    Reason.SCHEDULE_TIME: "Scheduled cancel time too early, must be at least 5 seconds after current time.",
    Reason.SCHEDULE_COUNT: "Too many scheduled cancels today: at most {limit} a day, counted from 00:00 UTC.",
    Reason.ISOLATED_POSITION: "Cannot update isolated margin: there is no isolated {coin} position.",
    Reason.ISOLATED_MARGIN: "Insufficient margin for isolated margin update: at most {available:.2f} USDC.",
    Reason.BUILDER_FEE: "Builder fee has not been approved.",
    Reason.HALTED: "Trading is halted for {coin}: this replay has no history for it.",
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


def order_status(result: Filled | Resting | Rejected | Waiting) -> dict[str, Any] | str:
    match result:
        case Waiting(_, for_fill):
            return "waitingForFill" if for_fill else "waitingForTrigger"
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
            "midPx": num(c.mid_px if c.mid_px is not None else c.mark_px),
            "premium": rate(c.premium),
            "impactPxs": None if c.impact_pxs is None else [num(c.impact_pxs[0]), num(c.impact_pxs[1])],
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


def frontend_order(o: dict[str, Any], children: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """An order snapshot in Hyperliquid's frontend shape (frontendOpenOrders, historicalOrders)."""
    trigger = o["trigger_px"]
    condition = "N/A"
    if trigger is not None:
        rises = (o["tpsl"] == "tp") != o["is_buy"]
        condition = f"Price {'above' if rises else 'below'} {num(trigger)}"
    return {
        "coin": o["coin"],
        "side": "B" if o["is_buy"] else "A",
        "limitPx": num(o["px"]),
        "sz": num(o["sz"]),
        "oid": o["oid"],
        "timestamp": o["time"],
        "origSz": num(o["orig_sz"]),
        "triggerCondition": condition,
        "isTrigger": trigger is not None,
        "triggerPx": num(trigger) if trigger is not None else "0.0",
        "children": [frontend_order(c) for c in children],
        "isPositionTpsl": o["position_tpsl"],
        "reduceOnly": o["reduce_only"],
        "orderType": o["order_type"],
        "tif": None if trigger is not None else o["tif"],
        "cloid": o["cloid"],
    }


def frontend_orders(snapshots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Open orders, a normalTpsl parent listing its sleeping children (which are listed too)."""
    children: dict[int, list[dict[str, Any]]] = {}
    for o in snapshots:
        if o.get("group") is not None and o["group"] != o["oid"]:
            children.setdefault(o["group"], []).append(o)
    return [frontend_order(o, children.get(o["oid"], [])) for o in snapshots]


def order_update(row: dict[str, Any]) -> dict[str, Any]:
    """A stored status row: ``{"order": FO, "status": ..., "statusTimestamp": ...}``."""
    snapshot = json.loads(row["order"]) if isinstance(row["order"], str) else row["order"]
    return {"order": frontend_order(snapshot), "status": row["status"], "statusTimestamp": row["time"]}


def ws_order_update(row: dict[str, Any]) -> dict[str, Any]:
    """The websocket's orderUpdates entry: the basic order fields only."""
    o = json.loads(row["order"]) if isinstance(row["order"], str) else row["order"]
    order = {
        "coin": o["coin"], "side": "B" if o["is_buy"] else "A", "limitPx": num(o["px"]), "sz": num(o["sz"]),
        "oid": o["oid"], "timestamp": o["time"], "origSz": num(o["orig_sz"]),
    }  # fmt: skip
    if o["cloid"]:
        order["cloid"] = o["cloid"]
    if o["reduce_only"]:
        order["reduceOnly"] = True
    return {"order": order, "status": row["status"], "statusTimestamp": row["time"]}


def l2_book(coin: str, time: int, bids: list[Level], asks: list[Level]) -> dict[str, Any]:
    return {
        "coin": coin,
        "time": time,
        "levels": [[{"px": num(lv.px), "sz": num(lv.sz), "n": lv.n} for lv in side] for side in (bids, asks)],
    }


def candle(c: Candle, coin: str, interval: str) -> dict[str, Any]:
    return {
        "t": c.t, "T": c.T, "s": coin, "i": interval, "o": num(c.o), "c": num(c.c), "h": num(c.h),
        "l": num(c.low), "v": num(c.v), "n": c.n,
    }  # fmt: skip


def trade(f: dict[str, Any]) -> dict[str, Any]:
    """A public trade (recentTrades, the trades stream): the counterparty is the synthetic book."""
    user = f.get("user", ZERO_ADDRESS)
    users = [user, ZERO_ADDRESS] if f["is_buy"] else [ZERO_ADDRESS, user]
    return {
        "coin": f["coin"], "side": "B" if f["is_buy"] else "A", "px": num(f["px"]), "sz": num(f["sz"]),
        "time": f["time"], "hash": f"0x{f['id']:064x}", "tid": f["id"], "users": users,
    }  # fmt: skip


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
        | ({"builderFee": num(f["builder_fee"])} if f.get("builder_fee") else {})
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


SPOT_META = {  # a perps-only venue: USDC as the only token, no spot pairs
    "universe": [],
    "tokens": [
        {
            "name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": True, "evmContract": None,
            "fullName": None,
        }
    ],
}  # fmt: skip


def user_fees(daily: list[tuple[int, float, float]]) -> dict[str, Any]:
    """The fee schedule the engine charges (the base tier, with no discounts) and the daily volumes."""
    return {
        "dailyUserVlm": [
            {
                "date": datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%d"),
                "userCross": num(taker),
                "userAdd": num(maker),
                "exchange": num(taker + maker),
            }
            for day, taker, maker in daily
        ],
        "feeSchedule": {
            "cross": num(TAKER_FEE), "add": num(MAKER_FEE), "spotCross": "0.0007", "spotAdd": "0.0004",
            "tiers": {"vip": [], "mm": []}, "referralDiscount": "0.0", "stakingDiscountTiers": [],
        },
        "userCrossRate": num(TAKER_FEE), "userAddRate": num(MAKER_FEE),
        "userSpotCrossRate": "0.0007", "userSpotAddRate": "0.0004",
        "activeReferralDiscount": "0.0", "trial": None, "feeTrialReward": "0.0",
        "nextTrialAvailableTimestamp": None, "stakingLink": None,
        "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
    }  # fmt: skip


PORTFOLIO_WINDOWS = (  # name, span (0: all time), bucket
    ("day", 86_400_000, 900_000),
    ("week", 7 * 86_400_000, 3_600_000),
    ("month", 30 * 86_400_000, 6 * 3_600_000),
    ("allTime", 0, 86_400_000),
)


def portfolio(view: AccountView, history: Any, who: str) -> list[list[Any]]:
    """Account value and PnL (value less net deposits) per window, from the stored cash flows, ending
    at the account's value now; every window twice, as Hyperliquid lists perps on their own too."""
    out: list[list[Any]] = []
    for name, span, bucket in PORTFOLIO_WINDOWS:
        start = max(0, view.time - span) if span else 0
        value_points, pnl_points, volume = [], [], 0.0
        cash = deposits = 0.0
        for t, flow, deposit, vlm in history(who, bucket, start):
            cash += flow
            deposits += deposit
            if t >= start:
                volume += vlm
            point = max(t, start)
            value_points.append([point, num(cash)])
            pnl_points.append([point, num(cash - deposits)])
        net = view.deposits - view.withdrawn
        if view.exists:
            value_points.append([view.time, num(view.value)])
            pnl_points.append([view.time, num(view.value - net)])
        entry = {"accountValueHistory": value_points, "pnlHistory": pnl_points, "vlm": num(volume)}
        out.append([name, entry])
    return out + [["perp" + name[0].upper() + name[1:], entry] for name, entry in out]


def user_rate_limit(volume: float, used: int, budget: int) -> dict[str, Any]:
    return {
        "cumVlm": num(volume),
        "nRequestsUsed": used,
        "nRequestsCap": budget + int(volume),
        "nRequestsSurplus": 0,
    }


def active_asset_data(user: str, coin: str, view: AccountView, leverage: tuple[int, bool], mark: float,
                      sz_decimals: int) -> dict[str, Any]:  # fmt: skip
    """What one more order on ``coin`` could be: free margin times leverage, per side (a side that
    reduces the position may also close it)."""
    lev, isolated = leverage
    free = max(view.value - view.margin_used, 0.0) * lev
    position = next((p.szi for p in view.positions if p.coin == coin), 0.0)
    sides = []
    for is_buy in (True, False):
        closing = abs(position) if (position < 0) == is_buy and position else 0.0
        notional = free + closing * mark
        size = notional / mark if mark else 0.0
        sides.append((notional, float(f"{size:.{sz_decimals}f}") if size >= 10**-sz_decimals else 0.0))
    return {
        "user": user.lower(),
        "coin": coin,
        "leverage": {"type": "isolated" if isolated else "cross", "value": lev},
        "maxTradeSzs": [num(s) for _, s in sides],
        "availableToTrade": [num(n) for n, _ in sides],
        "markPx": num(mark),
    }


def predicted_fundings(contexts: list[AssetContext], next_time: int) -> list[list[Any]]:
    """The rate each coin pays at the next hour, as Hyperliquid lists it among venues (only its own here)."""
    return [
        [
            c.coin,
            [
                [
                    "HlPerp",
                    {"fundingRate": rate(c.funding), "nextFundingTime": next_time, "fundingIntervalHours": 1},
                ]
            ],
        ]
        for c in contexts
    ]


def referral(volume: float) -> dict[str, Any]:
    """No referrer and no referral rewards: the sandbox has no referral programme."""
    return {
        "referredBy": None, "cumVlm": num(volume), "unclaimedRewards": "0.0", "claimedRewards": "0.0",
        "builderRewards": "0.0", "referrerState": {"stage": "needToTrade", "data": {"required": "10000.0"}},
        "rewardHistory": [],
    }  # fmt: skip
