"""Aster's JSON (Binance-futures shapes) for the clearinghouse's results and views, and Aster's
codes for the engine's refusal reasons."""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.clearinghouse import AccountView, Position
from toolkit.sandbox.engine.core import Filled, Rejected, Resting
from toolkit.sandbox.engine.specs import CONTRACTS, Reason

# engine refusal -> Aster code (Binance-futures numbering) and Aster's words
CODES: dict[Reason, tuple[int, str]] = {
    Reason.PRICE: (-1111, "Precision is over the maximum defined for this asset."),
    Reason.SIZE: (-1111, "Precision is over the maximum defined for this asset."),
    Reason.MIN_VALUE: (
        -4164,
        "Order's notional must be no smaller than {minimum:.0f} (unless you choose reduce only).",
    ),
    Reason.MAX_VALUE: (-4005, "Quantity greater than max quantity: order value above {maximum:,.0f}."),
    Reason.MARGIN: (-2019, "Margin is insufficient."),
    Reason.LEVERAGE: (-2027, "Exceeded the maximum allowable position at current leverage."),
    Reason.REDUCE_ONLY: (-2022, "ReduceOnly Order is rejected."),
    Reason.POST_ONLY: (
        -5022,
        "Due to the order could not be executed as maker, the Post Only order will be rejected.",
    ),
    Reason.UNKNOWN_COIN: (-1121, "Invalid symbol."),
    Reason.HALTED: (-4140, "Invalid symbol status: {coin} is not trading in this replay."),
    Reason.TIME_IN_FORCE: (-1115, "Invalid timeInForce."),
    Reason.TOO_MANY_ORDERS: (-4045, "Reach max open order limit ({limit})."),
    Reason.LEVERAGE_VALUE: (-4028, "Leverage {maximum} is not valid"),
    Reason.LEVERAGE_MODE: (-4048, "Margin type cannot be changed if there exists position."),
    Reason.NO_ORDER: (-2011, "Unknown order sent."),
    Reason.WITHDRAW: (-2019, "Margin is insufficient."),
    Reason.TOP_UP: (-1000, "Balance too high for reset"),
}


def num(x: float, decimals: int = 8) -> str:
    return f"{float(x) + 0.0:.{decimals}f}"


def compact(x: float) -> str:
    """Up to 8 decimals, trailing zeros dropped (order quantities and prices)."""
    text = f"{float(x):.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def refusal(rejected: Rejected) -> tuple[int, str]:
    code, words = CODES.get(rejected.reason, (-1000, rejected.reason.value))
    return code, words.format(**rejected.context)


def order(
    result: Filled | Resting | Rejected, *, symbol: str, side: str, kind: str, price: str | None,
    quantity: str,
    client_id: str | None, tif: str, reduce_only: bool, now: int,
) -> dict[str, Any]:  # fmt: skip
    """An order's answer; an IOC that cannot fill expires, as on Aster (the caller refuses the rest)."""
    match result:
        case Filled(oid, sz, px):
            status, executed, avg = "FILLED", sz, px
        case Resting(oid, _):
            status, executed, avg = "NEW", 0.0, 0.0
        case _:
            oid, status, executed, avg = 0, "EXPIRED", 0.0, 0.0
    return {
        "orderId": oid,
        "symbol": symbol,
        "status": status,
        "clientOrderId": client_id or "",
        "price": price if kind == "LIMIT" and price else "0",
        "avgPrice": compact(avg),
        "origQty": quantity,
        "executedQty": compact(executed),
        "cumQuote": compact(executed * avg),
        "timeInForce": tif,
        "type": kind,
        "reduceOnly": reduce_only,
        "side": side,
        "positionSide": "BOTH",
        "updateTime": now,
    }


def _available(view: AccountView) -> float:
    """Cross wallet balance plus cross unrealized PnL, less the margin the positions hold."""
    cross_margin = sum(p.margin_used for p in view.positions if not p.isolated)
    return max(view.cash - view.isolated_margin + view.cross_unrealized_pnl - cross_margin, 0.0)


def balance(view: AccountView, alias: str) -> list[dict[str, Any]]:
    available = _available(view)
    return [
        {
            "accountAlias": alias,
            "asset": "USDT",
            "balance": num(view.cash),
            "crossWalletBalance": num(view.cash - view.isolated_margin),
            "crossUnPnl": num(view.cross_unrealized_pnl),
            "availableBalance": num(available),
            "maxWithdrawAmount": num(min(available, view.withdrawable)),
            "marginAvailable": True,
            "updateTime": view.time,
        }
    ]


def _initial_margin(p: Position) -> float:
    return p.position_value / p.leverage


def account(view: AccountView) -> dict[str, Any]:
    available = _available(view)
    initial = sum(_initial_margin(p) for p in view.positions)
    maintenance = sum(p.maintenance_margin for p in view.positions)
    margin_balance = view.cash + view.unrealized_pnl
    totals = {
        "totalInitialMargin": num(initial),
        "totalMaintMargin": num(maintenance),
        "totalWalletBalance": num(view.cash),
        "totalUnrealizedProfit": num(view.unrealized_pnl),
        "totalMarginBalance": num(margin_balance),
        "totalPositionInitialMargin": num(initial),
        "totalOpenOrderInitialMargin": num(0),
        "totalCrossWalletBalance": num(view.cash - view.isolated_margin),
        "totalCrossUnPnl": num(view.cross_unrealized_pnl),
        "availableBalance": num(available),
        "maxWithdrawAmount": num(min(available, view.withdrawable)),
    }
    asset = {
        "asset": "USDT",
        "walletBalance": num(view.cash),
        "unrealizedProfit": num(view.unrealized_pnl),
        "marginBalance": num(margin_balance),
        "maintMargin": num(maintenance),
        "initialMargin": num(initial),
        "positionInitialMargin": num(initial),
        "openOrderInitialMargin": num(0),
        "crossWalletBalance": num(view.cash - view.isolated_margin),
        "crossUnPnl": num(view.cross_unrealized_pnl),
        "availableBalance": num(available),
        "maxWithdrawAmount": num(min(available, view.withdrawable)),
        "marginAvailable": True,
        "updateTime": view.time,
    }
    positions = [
        {
            "symbol": f"{p.coin}USDT",
            "initialMargin": num(_initial_margin(p)),
            "maintMargin": num(p.maintenance_margin),
            "unrealizedProfit": num(p.unrealized_pnl),
            "positionInitialMargin": num(_initial_margin(p)),
            "openOrderInitialMargin": "0",
            "leverage": str(p.leverage),
            "isolated": p.isolated,
            "entryPrice": num(p.entry_px, 5),
            "maxNotional": num(0),
            "bidNotional": "0",
            "askNotional": "0",
            "positionSide": "BOTH",
            "positionAmt": num(p.szi, CONTRACTS[p.coin].sz_decimals),
            "updateTime": view.time,
        }
        for p in view.positions
    ]
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "updateTime": 0,
            "multiAssetsMargin": False} | totals | {"assets": [asset], "positions": positions}  # fmt: skip


def position_risk(view: AccountView, symbol: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            "symbol": f"{p.coin}USDT",
            "positionAmt": num(p.szi, CONTRACTS[p.coin].sz_decimals),
            "entryPrice": num(p.entry_px, 5),
            "markPrice": num(p.mark_px, 8),
            "unRealizedProfit": num(p.unrealized_pnl),
            "liquidationPrice": num(p.liquidation_px or 0, 8),
            "leverage": str(p.leverage),
            "maxNotionalValue": num(CONTRACTS[p.coin].max_market_order_value(), 0),
            "marginType": "isolated" if p.isolated else "cross",
            "isolatedMargin": num(p.margin_used if p.isolated else 0),
            "isAutoAddMargin": "false",
            "positionSide": "BOTH",
            "notional": num(p.szi * p.mark_px),
            "isolatedWallet": num(p.margin_used - p.unrealized_pnl if p.isolated else 0),
            "updateTime": view.time,
        }
        for p in view.positions
        if symbol is None or f"{p.coin}USDT" == symbol
    ]
