"""Contract rules as Hyperliquid publishes them (reference/hyperliquid.md §5.2, §6).

Margin tiers, tick and lot rules, the $10 minimum, the maximum order value, and fees. A refusal is
a ``Reason`` with the numbers behind it; each venue words it (and codes it) in its own module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

MAX_DECIMALS_PERP = 6
MAX_SIGNIFICANT_FIGURES = 5
MIN_ORDER_VALUE = 10.0
TAKER_FEE = 0.00045
MAKER_FEE = 0.00015
MAX_ACCOUNT_LEVERAGE = 50.0  # PaperExchange: "Position would exceed max leverage" above 50x


class Reason(StrEnum):
    """Why the engine refused: what each venue maps to its own code, never the message's text."""

    PRICE = "price"
    SIZE = "size"
    MIN_VALUE = "min_value"
    MAX_VALUE = "max_value"
    MARGIN = "margin"
    LEVERAGE = "leverage"
    REDUCE_ONLY = "reduce_only"
    POST_ONLY = "post_only"
    NO_MATCH = "no_match"
    UNKNOWN_COIN = "unknown_coin"
    TIME_IN_FORCE = "time_in_force"
    TOO_MANY_ORDERS = "too_many_orders"
    LEVERAGE_VALUE = "leverage_value"
    LEVERAGE_MODE = "leverage_mode"  # cross <-> isolated with a position open
    NO_ORDER = "no_order"  # a cancel of an order that is not resting
    WITHDRAW = "withdraw"  # more than the withdrawable balance
    TOP_UP = "top_up"  # PaperExchange's reset, asked of an account that is not nearly empty
    TRIGGER_PRICE = "trigger_price"  # a take-profit or stop-loss whose trigger price is not valid
    TPSL_REDUCE_ONLY = "tpsl_reduce_only"  # a grouped take-profit or stop-loss that is not reduce-only
    MODIFY = "modify"  # a modify of an order that is not open
    SCHEDULE_TIME = "schedule_time"  # a scheduled cancel too soon
    SCHEDULE_COUNT = "schedule_count"  # more scheduled cancels in a day than allowed
    ISOLATED_POSITION = "isolated_position"  # isolated margin changed without an isolated position
    ISOLATED_MARGIN = "isolated_margin"  # more margin added than is free, or removed than is spare
    BUILDER_FEE = "builder_fee"  # a builder fee above what the user approved
    HALTED = "halted"  # a listed coin a replay has no history for


class OrderRejected(ValueError):
    """A refusal: its ``reason`` and the plain values a venue needs to word it (``context``)."""

    def __init__(self, reason: Reason, **context: object) -> None:
        super().__init__(reason.value + (f" {context}" if context else ""))
        self.reason = reason
        self.context = context


@dataclass(frozen=True)
class Tier:
    lower_bound: float  # notional (USD) from which this tier applies
    max_leverage: int
    maintenance: float | None = None  # the maintenance margin rate, where a venue sets it apart

    @property
    def mmr(self) -> float:
        """Hyperliquid's rule, half the initial margin at the most leverage, unless set."""
        return self.maintenance if self.maintenance is not None else 1 / (2 * self.max_leverage)


@dataclass(frozen=True)
class Contract:
    name: str
    sz_decimals: int
    tiers: tuple[Tier, ...]
    deductions: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        deductions = [0.0]
        for prev, tier in zip(self.tiers, self.tiers[1:], strict=False):
            deductions.append(deductions[-1] + tier.lower_bound * (tier.mmr - prev.mmr))
        object.__setattr__(self, "deductions", tuple(deductions))

    @property
    def max_leverage(self) -> int:
        return self.tiers[0].max_leverage

    def tier_index(self, notional: float) -> int:
        index = 0
        for i, tier in enumerate(self.tiers):
            if notional >= tier.lower_bound:
                index = i
        return index

    def maintenance_margin(self, notional: float) -> float:
        """``notional × mmr(tier) − deduction(tier)``: continuous across tier bounds."""
        i = self.tier_index(abs(notional))
        return abs(notional) * self.tiers[i].mmr - self.deductions[i]

    def max_market_order_value(self) -> float:
        lev = self.max_leverage
        return 30e6 if lev >= 25 else 5e6 if lev >= 20 else 2e6 if lev >= 10 else 500e3

    def check_price(self, price: float | str, *, significant: bool = True) -> Decimal:
        """At most ``6 − szDecimals`` decimals, and (Hyperliquid's rule, ``significant``) at most 5
        significant figures unless an integer. Lighter prices are fixed-point: decimals only."""
        try:
            px = Decimal(str(price))
        except InvalidOperation:
            raise OrderRejected(Reason.PRICE) from None
        if not px.is_finite() or px <= 0:
            raise OrderRejected(Reason.PRICE)
        if px == px.to_integral_value():
            return px
        normal = px.normalize()
        decimals = -normal.as_tuple().exponent
        figures = len(normal.as_tuple().digits)
        if (
            significant and figures > MAX_SIGNIFICANT_FIGURES
        ) or decimals > MAX_DECIMALS_PERP - self.sz_decimals:
            raise OrderRejected(Reason.PRICE)
        return px

    def check_size(self, size: float | str) -> Decimal:
        """Positive, and no more decimals than ``szDecimals``."""
        try:
            sz = Decimal(str(size))
        except InvalidOperation:
            raise OrderRejected(Reason.SIZE) from None
        if not sz.is_finite() or sz <= 0 or sz != sz.quantize(Decimal(1).scaleb(-self.sz_decimals)):
            raise OrderRejected(Reason.SIZE)
        return sz

    def check_value(self, price: Decimal, size: Decimal, *, market: bool) -> float:
        value = float(price * size)
        if value < MIN_ORDER_VALUE:
            raise OrderRejected(Reason.MIN_VALUE, minimum=MIN_ORDER_VALUE)
        cap = self.max_market_order_value() * (1 if market else 10)
        if value > cap:
            raise OrderRejected(Reason.MAX_VALUE, maximum=cap, coin=self.name)
        return value


def _tiers(*pairs: tuple[float, int]) -> tuple[Tier, ...]:
    return tuple(Tier(bound, lev) for bound, lev in pairs)


CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        Contract("BTC", 5, _tiers((0, 40), (150e6, 20))),
        Contract("ETH", 4, _tiers((0, 25), (100e6, 15))),
        Contract("SOL", 2, _tiers((0, 20), (70e6, 10))),
        Contract("AVAX", 2, _tiers((0, 10), (20e6, 5))),
        Contract("LINK", 1, _tiers((0, 10), (20e6, 5))),
        Contract("ARB", 1, _tiers((0, 10), (3e6, 5))),
        Contract("DOGE", 0, _tiers((0, 10), (20e6, 5))),
    )
}


@dataclass(frozen=True)
class AccountRules:
    """What differs per venue for one account: the price rule, the fee schedule, and the contracts
    (margin tiers, maintenance rates, the most leverage) where the venue's differ from Hyperliquid's."""

    significant_figures: bool = True  # Hyperliquid's 5-figure price rule (Lighter's prices are fixed-point)
    maker_fee: float = MAKER_FEE
    taker_fee: float = TAKER_FEE
    contracts: Mapping[str, Contract] = field(default_factory=dict)  # by coin; the rest are Hyperliquid's


HYPERLIQUID_RULES = AccountRules()


def fee(notional: float, *, maker: bool, rules: AccountRules = HYPERLIQUID_RULES) -> float:
    return abs(notional) * (rules.maker_fee if maker else rules.taker_fee)
