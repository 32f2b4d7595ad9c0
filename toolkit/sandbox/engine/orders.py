"""Orders as the engine keeps them: limit, market and trigger (take-profit, stop-loss) orders, the
grouping that ties take-profit and stop-loss children to a parent, and the status an order moves
through. Status names are Hyperliquid's (reference/hyperliquid-dropin.md §2), which every venue's
face maps from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Statuses an order may end in (or pass through: "open", "triggered")
OPEN = "open"
FILLED = "filled"
CANCELED = "canceled"
TRIGGERED = "triggered"
MARGIN_CANCELED = "marginCanceled"
REDUCE_ONLY_CANCELED = "reduceOnlyCanceled"
SIBLING_FILLED_CANCELED = "siblingFilledCanceled"
LIQUIDATED_CANCELED = "liquidatedCanceled"
SCHEDULED_CANCEL = "scheduledCancel"


@dataclass
class Order:
    """A live order. A trigger order (``trigger_px`` set) waits for the mark; a take-profit or
    stop-loss child of a ``normalTpsl`` parent also waits for its parent to fill (``waiting_for``)."""

    oid: int
    account: int
    coin: int
    is_buy: bool
    px: float
    sz: float
    orig_sz: float
    tif: str  # "Gtc", "Alo", "Ioc"; a fired market order is "FrontendMarket"
    reduce_only: bool
    cloid: str | None
    time: int
    trigger_px: float | None = None
    is_market: bool = False  # a trigger that fires as a market order
    tpsl: str | None = None  # "tp" or "sl"
    waiting_for: int | None = None  # the parent's oid, until it fills
    group: int | None = None  # normalTpsl: the parent's oid, shared by the parent and its children
    position_tpsl: bool = False  # sized to the whole position when it fires
    builder: str | None = None
    builder_fee: int = 0  # tenths of a basis point
    kind: str = "Limit"  # "Limit" or "Market" (a non-trigger order)

    @property
    def is_trigger(self) -> bool:
        return self.trigger_px is not None

    @property
    def order_type(self) -> str:
        """Hyperliquid's ``orderType``: Limit, Market, Take Profit Market, Stop Limit, ..."""
        if self.trigger_px is None:
            return self.kind
        return ("Take Profit" if self.tpsl == "tp" else "Stop") + (" Market" if self.is_market else " Limit")

    @property
    def fires_above(self) -> bool:
        """A sell take-profit or a buy stop fires when the mark rises to the trigger; the others fall."""
        return (self.tpsl == "tp") != self.is_buy

    def fires_at(self, mark: float) -> bool:
        assert self.trigger_px is not None
        return mark >= self.trigger_px if self.fires_above else mark <= self.trigger_px

    def snapshot(self, coins: tuple[str, ...], status_time: int | None = None) -> dict[str, Any]:
        """The order as plain values, for its status history (what every venue renders from)."""
        return {
            "coin": coins[self.coin], "is_buy": self.is_buy, "px": self.px, "sz": self.sz,
            "orig_sz": self.orig_sz, "oid": self.oid, "time": self.time, "cloid": self.cloid,
            "reduce_only": self.reduce_only, "tif": self.tif, "trigger_px": self.trigger_px,
            "is_market": self.is_market, "tpsl": self.tpsl, "position_tpsl": self.position_tpsl,
            "order_type": self.order_type, "group": self.group, "waiting": self.waiting_for is not None,
            "builder": self.builder, "builder_fee": self.builder_fee,
        }  # fmt: skip

    def to_state(self) -> list[Any]:
        return [self.oid, self.coin, self.is_buy, self.px, self.sz, self.orig_sz, self.tif, self.reduce_only,
                self.cloid, self.time, self.trigger_px, self.is_market, self.tpsl, self.waiting_for,
                self.group, self.position_tpsl, self.builder, self.builder_fee, self.kind]  # fmt: skip

    @classmethod
    def from_state(cls, account: int, row: list[Any]) -> Order:
        """From ``to_state``'s list (an older state's shorter list takes the defaults)."""
        return cls(row[0], account, *row[1:])


@dataclass(frozen=True)
class OrderUpdate:
    """An order's status changed (what ``orderStatus``, ``historicalOrders`` and the order-update
    stream are made of)."""

    time: int
    account: int
    status: str
    order: dict[str, Any]


@dataclass(frozen=True)
class Waiting:
    """A take-profit or stop-loss child, placed: waiting for its parent's fill or for its trigger."""

    oid: int
    for_fill: bool
