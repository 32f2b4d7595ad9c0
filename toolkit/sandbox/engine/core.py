"""The paper perps engine: accounts, orders, fills, hourly funding, liquidations, statistics.

Time only moves through ``advance_to``: every hour boundary on the way is processed in order
(resting fills at the mark, then the hour's funding, then liquidation checks), so a week of funding
is a loop over 168 vectorised ticks. Funding for an hour is paid exactly once: ``funded_hour`` only
grows. Events (fills, funding batches, liquidations) go to ``events`` and to listeners, which is
how the sandbox persists them; the engine itself knows no storage.

Cash identity kept at all times, per account:
``cash = deposits − withdrawn + realized − fees + funding``.
Isolated margin is an allocation inside cash, not a separate pot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.typing import NDArray

from toolkit.sandbox.engine import margin
from toolkit.sandbox.engine import orders as status
from toolkit.sandbox.engine.market import HOUR_MS, Market
from toolkit.sandbox.engine.orders import Order, OrderUpdate, Waiting
from toolkit.sandbox.engine.positions import PositionTable
from toolkit.sandbox.engine.specs import (
    CONTRACTS,
    HYPERLIQUID_RULES,
    MAX_ACCOUNT_LEVERAGE,
    AccountRules,
    Contract,
    OrderRejected,
    Reason,
    fee,
)
from toolkit.venues import funding as funding_math

OPEN_ORDERS_BASE = 1000  # Hyperliquid: 1,000 open orders per address...
OPEN_ORDERS_PER_VOLUME = 5_000_000.0  # ...one more per $5M traded...
OPEN_ORDERS_MAX = 5000  # ...and never more than 5,000


def open_order_limit(volume: float) -> int:
    return min(OPEN_ORDERS_MAX, OPEN_ORDERS_BASE + int(volume // OPEN_ORDERS_PER_VOLUME))


MARKET_SLIPPAGE = 0.05  # a market order is an IOC limit this far through the mark
SCHEDULE_LEAD_MS = 5_000  # a scheduled cancel must be at least this far ahead...
SCHEDULED_CANCELS_PER_DAY = 10  # ...and may fire at most this often per UTC day
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Fill:
    time: int
    account: int
    coin: str
    is_buy: bool
    px: float
    sz: float
    fee: float
    closed_pnl: float
    start_position: float
    maker: bool
    oid: int
    cloid: str | None = None
    liquidation: bool = False
    builder_fee: float = 0.0  # part of ``fee``: what the order's builder charged


@dataclass(frozen=True)
class Filled:
    """An order that filled in full at once (at the mark)."""

    oid: int
    sz: float
    px: float


@dataclass(frozen=True)
class Resting:
    oid: int
    cloid: str | None


@dataclass(frozen=True)
class Rejected:
    """A refusal: the reason, and the plain values a venue needs to word it."""

    reason: Reason
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: OrderRejected) -> Rejected:
        return cls(exc.reason, dict(exc.context))


@dataclass(frozen=True)
class Cancelled:
    oid: int


@dataclass(frozen=True)
class FundingBatch:
    """One hour's payments, as columns: a row per open position."""

    time: int
    hour: int
    account: NDArray[np.int64]
    coin: NDArray[np.int64]
    szi: NDArray[np.float64]
    oracle_px: NDArray[np.float64]
    rate: NDArray[np.float64]
    usdc: NDArray[np.float64]


@dataclass(frozen=True)
class Liquidation:
    time: int
    account: int
    coin: str
    position_size: float
    entry_price: float
    liquidation_price: float | None
    mark_price: float
    account_value_before: float
    maintenance_margin: float
    realized_loss: float
    leverage_type: str


@dataclass
class AccountBook:
    """What the columns do not hold: leverage settings and running trade statistics."""

    leverage: dict[int, tuple[int, bool]] = field(default_factory=dict)  # coin -> (leverage, isolated)
    trades: int = 0
    wins: int = 0
    losses: int = 0
    best: float = 0.0
    worst: float = 0.0
    scheduled_cancel: int | None = None  # when every open order is cancelled (the dead-man switch)
    cancel_day: int = 0  # the UTC day of the scheduled cancels counted in cancel_count
    cancel_count: int = 0

    def record_trade(self, pnl: float) -> None:
        first = self.trades == 0
        self.trades += 1
        self.wins += pnl > 0
        self.losses += pnl < 0
        self.best = pnl if first else max(self.best, pnl)
        self.worst = pnl if first else min(self.worst, pnl)


class Engine:
    ACCOUNT_FIELDS = ("cash", "deposits", "realized", "fees", "funding", "volume", "withdrawn")

    def __init__(self, market: Market, start_ms: int | None = None, capacity: int = 1024) -> None:
        self.market = market
        self.coins = tuple(market.coins)
        self.contracts = [CONTRACTS[c] for c in self.coins]
        self.now = market.start_ms if start_ms is None else start_ms
        self.funded_hour = self._hour_of(self.now)  # next boundary to process; boundary k pays hour k - 1
        self.positions = PositionTable(capacity)
        self.books: list[AccountBook] = []
        self._acc = {k: np.zeros(64) for k in self.ACCOUNT_FIELDS}
        self._marks_cache: tuple[int, NDArray[np.float64]] | None = None  # marks are a function of time
        self.orders: dict[int, Order] = {}  # resting orders by oid, in placement order
        self._triggers: dict[int, Order] = {}  # the trigger orders among them
        self.scheduled: dict[int, int] = {}  # account -> its scheduled cancel time
        self._orders_of: dict[int, dict[int, Order]] = {}  # account -> its resting orders
        self.next_oid = 1
        # Per-account venue rules (price rule, fees); absent = Hyperliquid's. Set by the owner of the
        # accounts (the clearinghouse) from who they are, so not part of the saved state.
        self.rules: dict[int, AccountRules] = {}  # set with set_rules
        self._own_contracts: set[int] = set()  # the accounts among them with contracts of their own
        self.events: list[Fill | FundingBatch | Liquidation | OrderUpdate] = []
        self.listeners: list[Callable[[Any], None]] = []
        self.keep_events = True
        self._held: list[Any] | None = None
        # Accounts changed since ``take_dirty``: what a store must write. A funding tick changes all.
        self.dirty: set[int] = set()
        self.all_dirty = False
        n = len(self.contracts)
        self._bound1 = np.array(
            [c.tiers[1].lower_bound if len(c.tiers) > 1 else np.inf for c in self.contracts]
        )
        self._mmr0 = np.array([c.tiers[0].mmr for c in self.contracts])
        self._mmr1 = np.array([c.tiers[-1].mmr for c in self.contracts])
        self._ded1 = np.array([c.deductions[-1] for c in self.contracts])
        assert all(len(c.tiers) <= 2 for c in self.contracts) and len(self._mmr0) == n

    # -- accounts -------------------------------------------------------------------------------

    def _hour_of(self, ts: int) -> int:
        return -(-(ts - self.market.start_ms) // HOUR_MS)  # the next boundary at or after ts

    @property
    def n_accounts(self) -> int:
        return len(self.books)

    def _col(self, name: str) -> NDArray[np.float64]:
        return self._acc[name][: self.n_accounts]

    def open_account(self, deposit: float = 0.0) -> int:
        account = len(self.books)
        if account == len(self._acc["cash"]):
            for k, col in self._acc.items():
                self._acc[k] = np.concatenate([col, np.zeros_like(col)])
        self.books.append(AccountBook())
        self.dirty.add(account)
        if deposit:
            self.deposit(account, deposit)
        return account

    def deposit(self, account: int, usdc: float) -> None:
        if usdc <= 0:
            raise ValueError("a deposit must be positive")
        self._acc["cash"][account] += usdc
        self._acc["deposits"][account] += usdc
        self.dirty.add(account)

    def withdraw(self, account: int, usdc: float) -> None:
        """Take cash out (the caller has checked it is withdrawable)."""
        if usdc <= 0:
            raise ValueError("a withdrawal must be positive")
        self._acc["cash"][account] -= usdc
        self._acc["withdrawn"][account] += usdc
        self.dirty.add(account)

    def coin_index(self, coin: str) -> int:
        try:
            return self.coins.index(coin)
        except ValueError:
            raise OrderRejected(Reason.UNKNOWN_COIN, coin=coin) from None

    def leverage_of(self, account: int, coin: int) -> tuple[int, bool]:
        return self.books[account].leverage.get(
            coin, (min(20, self.contract_of(account, coin).max_leverage), False)
        )

    def update_leverage(self, account: int, coin: str, leverage: int, *, is_cross: bool = True) -> None:
        c = self.coin_index(coin)
        top = self.contract_of(account, c).max_leverage
        if not isinstance(leverage, int) or not 1 <= leverage <= top:
            raise OrderRejected(Reason.LEVERAGE_VALUE, coin=coin, maximum=top)
        row = self.positions.row(account, c)
        if row is not None and bool(self.positions.get(row, "isolated")) == is_cross:
            raise OrderRejected(Reason.LEVERAGE_MODE, coin=coin)
        self.books[account].leverage[c] = (leverage, not is_cross)
        self.dirty.add(account)
        if row is not None:
            self.positions.set(row, "leverage", leverage)

    # -- prices and views -------------------------------------------------------------------------

    def marks(self, ts: int | None = None) -> NDArray[np.float64]:
        """Every coin's mark at ``ts`` (now by default); a copy the caller may change."""
        t = self.now if ts is None else ts
        cached = self._marks_cache
        if cached is None or cached[0] != t:
            cached = self._marks_cache = (t, np.array([self.market.mark(c, t) for c in self.coins]))
        return cached[1].copy()

    def _maintenance(self, notional: NDArray[np.float64], coin: NDArray[np.int64]) -> NDArray[np.float64]:
        high = notional >= self._bound1[coin]
        return np.where(high, notional * self._mmr1[coin] - self._ded1[coin], notional * self._mmr0[coin])

    def account_value(self, account: int, marks: NDArray[np.float64] | None = None) -> float:
        marks = self.marks() if marks is None else marks
        p = self.positions
        mine = p.rows_of(account)
        upnl = float(np.sum(p.szi[mine] * (marks[p.coin[mine]] - p.entry[mine])))
        return float(self._acc["cash"][account]) + upnl

    def positions_of(self, account: int, marks: NDArray[np.float64] | None = None) -> list[dict[str, Any]]:
        marks = self.marks() if marks is None else marks
        p, out = self.positions, []
        value = self.account_value(account, marks)
        cross: float | None = None  # the account's cross maintenance, once
        for i in p.rows_of(account).tolist():
            c = int(p.coin[i])
            szi, entry, mark = float(p.szi[i]), float(p.entry[i]), float(marks[c])
            contract, notional = self.contract_of(account, c), abs(szi) * mark
            if p.isolated[i]:
                liq = margin.isolated_liquidation_price(
                    contract, szi, mark, float(p.iso_margin[i]) + szi * (mark - entry)
                )
                used = float(p.iso_margin[i]) + szi * (mark - entry)
            else:
                if cross is None:
                    cross = self._cross_maintenance(account, marks)
                others = cross - contract.maintenance_margin(notional)
                liq = margin.cross_liquidation_price(contract, szi, mark, value, others)
                used = notional / float(p.leverage[i])
            out.append({
                "coin": self.coins[c], "szi": szi, "entry_px": entry, "mark_px": mark,
                "position_value": notional, "unrealized_pnl": szi * (mark - entry),
                "leverage": int(p.leverage[i]), "isolated": bool(p.isolated[i]), "margin_used": used,
                "liquidation_px": liq, "cum_funding": float(p.cum_funding[i]),
                "maintenance_margin": contract.maintenance_margin(notional),
            })  # fmt: skip
        return out

    def _cross_maintenance(self, account: int, marks: NDArray[np.float64]) -> float:
        p = self.positions
        rows = p.rows_of(account)
        rows = rows[~p.isolated[rows]]
        notional = np.abs(p.szi[rows]) * marks[p.coin[rows]]
        if account in self._own_contracts:
            return sum(self.contract_of(account, int(c)).maintenance_margin(float(n))
                       for c, n in zip(p.coin[rows], notional, strict=True))  # fmt: skip
        return float(np.sum(self._maintenance(notional, p.coin[rows])))

    def margin_used(self, account: int, marks: NDArray[np.float64] | None = None) -> float:
        return sum(pos["margin_used"] for pos in self.positions_of(account, marks))

    def stats(
        self, account: int, marks: NDArray[np.float64] | None = None, unrealized: float | None = None
    ) -> dict[str, Any]:
        """Trade statistics; ``unrealized`` when the caller has already summed its positions'."""
        book = self.books[account]
        if unrealized is None:
            unrealized = sum(pos["unrealized_pnl"] for pos in self.positions_of(account, marks))
        return {
            "total_trades": book.trades,
            "winning_trades": book.wins,
            "losing_trades": book.losses,
            "win_rate": round(100 * book.wins / book.trades, 1) if book.trades else 0.0,
            "total_volume": float(self._acc["volume"][account]),
            "total_fees_paid": float(self._acc["fees"][account]),
            "best_trade": book.best,
            "worst_trade": book.worst,
            "realized_pnl": float(self._acc["realized"][account]),
            "unrealized_pnl": unrealized,
        }

    def ledger(self, account: int) -> dict[str, float]:
        return {k: float(self._acc[k][account]) for k in self.ACCOUNT_FIELDS}

    # -- state -------------------------------------------------------------------------------------

    def take_dirty(self) -> list[int]:
        """The accounts changed since the last call (every account after a funding tick), and forget them."""
        dirty = list(range(self.n_accounts)) if self.all_dirty else sorted(self.dirty)
        self.dirty, self.all_dirty = set(), False
        return dirty

    def clock_state(self) -> dict[str, int]:
        return {"now": self.now, "funded_hour": self.funded_hour, "next_oid": self.next_oid}

    def account_state(self, account: int) -> dict[str, Any]:
        """One account, whole and JSON-able: balances, positions, resting orders, leverage, trade stats.

        Floats survive JSON exactly (shortest repr), so a restored engine carries on bit for bit."""
        p, book = self.positions, self.books[account]
        rows = p.rows_of(account).tolist()
        return {
            "acc": [float(self._acc[k][account]) for k in self.ACCOUNT_FIELDS],
            "positions": [[int(p.coin[i]), float(p.szi[i]), float(p.entry[i]), float(p.leverage[i]),
                           bool(p.isolated[i]), float(p.iso_margin[i]), float(p.cum_funding[i])]
                          for i in rows],
            "orders": [o.to_state() for o in self.open_orders(account)],
            "leverage": [[c, lev, iso] for c, (lev, iso) in book.leverage.items()],
            "trades": [book.trades, book.wins, book.losses, book.best, book.worst],
            "schedule": [book.scheduled_cancel, book.cancel_day, book.cancel_count],
        }  # fmt: skip

    def load_state(self, clock: dict[str, int], accounts: list[dict[str, Any]]) -> None:
        """Replace this engine's state with ``clock_state`` and every ``account_state`` (in account order)."""
        n = len(accounts)
        cap = max(64, 1 << n.bit_length())
        self._acc = {k: np.zeros(cap) for k in self.ACCOUNT_FIELDS}
        self.books, self.orders, self._orders_of, self._triggers, self.scheduled = [], {}, {}, {}, {}
        self.positions = PositionTable(
            max(1024, 1 << sum(len(a["positions"]) for a in accounts).bit_length())
        )
        orders = []
        for account, state in enumerate(accounts):
            for k, v in zip(self.ACCOUNT_FIELDS, state["acc"], strict=False):  # older states: no "withdrawn"
                self._acc[k][account] = v
            trades, wins, losses, best, worst = state["trades"]
            leverage = {int(c): (int(lev), bool(iso)) for c, lev, iso in state["leverage"]}
            book = AccountBook(leverage, int(trades), int(wins), int(losses), best, worst)
            book.scheduled_cancel, book.cancel_day, book.cancel_count = state.get("schedule", (None, 0, 0))
            if book.scheduled_cancel is not None:
                self.scheduled[account] = book.scheduled_cancel
            self.books.append(book)
            for c, szi, entry, lev, iso, iso_margin, cum in state["positions"]:
                self.positions.add(account, c, szi=szi, entry=entry, leverage=lev, isolated=iso,
                                   iso_margin=iso_margin, cum_funding=cum)  # fmt: skip
            orders.extend(Order.from_state(account, o) for o in state["orders"])
        for order in sorted(orders, key=lambda o: o.oid):  # placement order: resting fills go oldest first
            self._rest(order)
        self.now, self.funded_hour, self.next_oid = clock["now"], clock["funded_hour"], clock["next_oid"]
        self.dirty, self.all_dirty = set(), False

    # -- events ------------------------------------------------------------------------------------

    def _emit(self, event: Any) -> None:
        if self._held is not None:  # a modify holds the new order's events until the old one is cancelled
            self._held.append(event)
            return
        if self.keep_events:
            self.events.append(event)
        for listener in self.listeners:
            listener(event)

    # -- fills -------------------------------------------------------------------------------------

    def _fill(self, account: int, c: int, is_buy: bool, px: float, sz: float, *, maker: bool, oid: int,
              cloid: str | None = None, liquidation: bool = False, builder_fee: int = 0) -> Fill:  # fmt: skip
        p = self.positions
        signed = sz if is_buy else -sz
        row = p.row(account, c)
        old = p.get(row, "szi") if row is not None else 0.0
        entry = p.get(row, "entry") if row is not None else 0.0
        builder_cost = 0.0 if liquidation else px * sz * builder_fee / 100_000  # tenths of a basis point
        cost = 0.0 if liquidation else fee(px * sz, maker=maker, rules=self._rules(account)) + builder_cost
        closed_sz = min(abs(signed), abs(old)) if old and (old > 0) != (signed > 0) else 0.0
        closed_pnl = (1 if old > 0 else -1) * (px - entry) * closed_sz if closed_sz else 0.0
        new = old + signed
        if abs(new) < 1e-12:
            new = 0.0
        lev, isolated = self.leverage_of(account, c)
        if row is None:
            row = p.add(account, c, szi=new, entry=px, leverage=lev, isolated=isolated)
            if isolated:
                p.set(row, "iso_margin", abs(new) * px / lev)
        elif new == 0.0:
            p.remove(row)
        else:
            p.set(row, "szi", new)
            if (new > 0) == (old > 0):
                if abs(new) > abs(old):  # adding: size-weighted entry, more isolated margin
                    p.set(row, "entry", (abs(old) * entry + abs(signed) * px) / abs(new))
                    if p.get(row, "isolated"):
                        p.set(row, "iso_margin", p.get(row, "iso_margin") + abs(signed) * px / lev)
                elif p.get(row, "isolated"):  # reducing: release margin in proportion
                    p.set(row, "iso_margin", p.get(row, "iso_margin") * abs(new) / abs(old))
            else:  # flipped: the remainder opens at the fill price
                p.set(row, "entry", px)
                if p.get(row, "isolated"):
                    p.set(row, "iso_margin", abs(new) * px / lev)
        acc = self._acc
        acc["cash"][account] += closed_pnl - cost
        acc["realized"][account] += closed_pnl
        acc["fees"][account] += cost
        acc["volume"][account] += px * sz
        if closed_sz:
            self.books[account].record_trade(closed_pnl - cost * closed_sz / sz)
        self.dirty.add(account)
        event = Fill(
            self.now,
            account,
            self.coins[c],
            is_buy,
            px,
            sz,
            cost,
            closed_pnl,
            old,
            maker,
            oid,
            cloid,
            liquidation,
            builder_cost,
        )
        self._emit(event)
        return event

    def _check_margin(
        self, account: int, c: int, signed: float, px: float, marks: NDArray[np.float64]
    ) -> None:
        """After the trade, the account must carry its initial margin and stay within 50x."""
        p = self.positions
        row = p.row(account, c)
        old = p.get(row, "szi") if row is not None else 0.0
        if abs(old + signed) <= abs(old) and (old + signed == 0 or (old + signed > 0) == (old > 0)):
            return  # a reduction never needs margin
        after = marks.copy()
        after[c] = px
        value = self.account_value(account, after) - fee(
            abs(signed) * px, maker=False, rules=self._rules(account)
        )
        mine = p.rows_of(account)
        notional = np.abs(p.szi[mine]) * after[p.coin[mine]]
        others = float(np.sum(notional[p.coin[mine] != c]))
        lev, _ = self.leverage_of(account, c)
        new_notional = abs(old + signed) * px
        total = others + new_notional
        if value <= 0 or total / value > MAX_ACCOUNT_LEVERAGE:
            raise OrderRejected(Reason.LEVERAGE, maximum=MAX_ACCOUNT_LEVERAGE)
        required = (
            float(np.sum(notional[p.coin[mine] != c] / p.leverage[mine][p.coin[mine] != c]))
            + new_notional / lev
        )
        if required > value:
            raise OrderRejected(Reason.MARGIN, required=required, available=value)

    # -- orders ------------------------------------------------------------------------------------

    def _rules(self, account: int) -> AccountRules:
        return self.rules.get(account, HYPERLIQUID_RULES)

    def set_rules(self, account: int, rules: AccountRules) -> None:
        """``account``'s venue rules from now on (its price rule, fees and contracts)."""
        self.rules[account] = rules
        if rules.contracts:
            self._own_contracts.add(account)
        else:
            self._own_contracts.discard(account)

    def contract_of(self, account: int, c: int) -> Contract:
        """The contract ``account`` trades coin ``c`` on: its venue's, or Hyperliquid's."""
        rules = self.rules.get(account)
        if rules is not None and rules.contracts:
            return rules.contracts.get(self.coins[c], self.contracts[c])
        return self.contracts[c]

    def market_price(self, c: int, is_buy: bool, slippage: float = MARKET_SLIPPAGE) -> str:
        """A market order's limit: the mark moved ``slippage`` against the taker, at a price the
        contract accepts (5 significant figures, ``6 - szDecimals`` decimals)."""
        mark = float(self.marks()[c])
        px = float(f"{mark * (1 + slippage if is_buy else 1 - slippage):.5g}")
        return repr(round(px, max(0, 6 - self.contracts[c].sz_decimals)))

    def place(
        self,
        account: int,
        coin: str,
        is_buy: bool,
        px: float | str | None,
        sz: float | str,
        *,
        tif: str = "Gtc",
        reduce_only: bool = False,
        cloid: str | None = None,
        trigger: tuple[float | str, bool, str] | None = None,
        position_tpsl: bool = False,
        builder: tuple[str, int] | None = None,
        waiting_for: int | None = None,
        group: int | None = None,
    ) -> Filled | Resting | Rejected | Waiting:
        """One order: filled at the mark at once, resting, or rejected with its reason. A ``px`` of
        None is a market order: IOC at ``market_price``. A ``trigger`` (price, is_market, "tp" or
        "sl") rests until the mark reaches its price; ``waiting_for`` (a parent's oid) keeps it
        asleep until that parent fills (Hyperliquid's ``normalTpsl``)."""
        kind = "Market" if px is None else "Limit"
        try:
            c = self.coin_index(coin)
            if self.market.halted(coin):
                raise OrderRejected(Reason.HALTED, coin=coin)
            contract = self.contract_of(account, c)
            if px is None:
                px, tif = self.market_price(c, is_buy), "Ioc"
            if tif not in ("Gtc", "Ioc", "Alo"):
                raise OrderRejected(Reason.TIME_IN_FORCE, tif=tif)
            price = contract.check_price(px, significant=self._rules(account).significant_figures)
            if trigger is not None:
                return self._place_trigger(account, c, is_buy, price, sz, reduce_only, cloid, trigger,
                                           position_tpsl, builder, waiting_for, group)  # fmt: skip
            size = contract.check_size(sz)
            marks = self.marks()
            mark = float(marks[c])
            row = self.positions.row(account, c)
            position = self.positions.get(row, "szi") if row is not None else 0.0
            if reduce_only:
                if position == 0 or (position > 0) == is_buy:
                    raise OrderRejected(Reason.REDUCE_ONLY)
                size = min(size, Decimal(str(abs(position))))
            contract.check_value(price, size, market=tif == "Ioc")
            marketable = float(price) >= mark if is_buy else float(price) <= mark
            if tif == "Alo" and marketable:
                raise OrderRejected(Reason.POST_ONLY)
            if tif == "Ioc" and not marketable:
                raise OrderRejected(Reason.NO_MATCH, asset=c)
            if not marketable:
                self._check_order_count(account)
            signed = float(size) if is_buy else -float(size)
            self._check_margin(account, c, signed, mark if marketable else float(price), marks)
        except OrderRejected as exc:
            return Rejected.of(exc)
        oid = self.next_oid
        self.next_oid += 1
        b_addr, b_fee = builder if builder is not None else (None, 0)
        order = Order(oid, account, c, is_buy, float(price), float(size), float(size),
                      "FrontendMarket" if kind == "Market" else tif, reduce_only, cloid, self.now,
                      group=group, builder=b_addr, builder_fee=b_fee, kind=kind)  # fmt: skip
        if marketable:
            fill = self._fill(account, c, is_buy, mark, float(size), maker=False, oid=oid, cloid=cloid,
                              builder_fee=b_fee)  # fmt: skip
            order.sz = 0.0
            self._status(order, status.FILLED)
            return Filled(oid, fill.sz, fill.px)
        self._rest(order)
        self._status(order, status.OPEN)
        return Resting(oid, cloid)

    def _place_trigger(
        self, account: int, c: int, is_buy: bool, price: Decimal, sz: float | str, reduce_only: bool,
        cloid: str | None, trigger: tuple[float | str, bool, str], position_tpsl: bool,
        builder: tuple[str, int] | None, waiting_for: int | None, group: int | None,
    ) -> Resting | Waiting:  # fmt: skip
        contract = self.contract_of(account, c)
        trigger_px, is_market, tpsl = trigger
        try:
            trigger_price = contract.check_price(
                trigger_px, significant=self._rules(account).significant_figures
            )
        except OrderRejected:
            raise OrderRejected(Reason.TRIGGER_PRICE) from None
        if position_tpsl and Decimal(str(sz)) == 0:
            size = Decimal(0)  # the whole position, whatever it is when the order fires
        else:
            size = contract.check_size(sz)
            contract.check_value(trigger_price, size, market=False)
        self._check_order_count(account)
        oid = self.next_oid
        self.next_oid += 1
        b_addr, b_fee = builder if builder is not None else (None, 0)
        order = Order(oid, account, c, is_buy, float(price), float(size), float(size), "Gtc", reduce_only,
                      cloid, self.now, float(trigger_price), is_market, tpsl, waiting_for, group,
                      position_tpsl, b_addr, b_fee)  # fmt: skip
        self._rest(order)
        self._status(order, status.OPEN)
        if group is not None:
            return Waiting(oid, for_fill=waiting_for is not None)
        return Resting(oid, cloid)

    def _check_order_count(self, account: int) -> None:
        limit = open_order_limit(float(self._acc["volume"][account]))
        if len(self._orders_of.get(account, {})) >= limit:
            raise OrderRejected(Reason.TOO_MANY_ORDERS, limit=limit)

    def place_tpsl(
        self, account: int, parent: dict[str, Any] | None, children: list[dict[str, Any]]
    ) -> list[Filled | Resting | Rejected | Waiting]:
        """Hyperliquid's ``normalTpsl``: a parent order and its take-profit and stop-loss children
        (keyword arguments of ``place``). The children sleep until the parent fills; a parent that
        is refused places no children. Without a parent the children follow the position."""
        for child in children:
            if not child.get("reduce_only"):
                return [Rejected(Reason.TPSL_REDUCE_ONLY)] * (len(children) + (parent is not None))
        if parent is None:
            return [self.place(account, **child) for child in children]
        first = self.place(account, **parent)
        if isinstance(first, Rejected):
            return [first] + [first] * len(children)
        waiting = isinstance(first, Resting)
        rest = [
            self.place(account, **child, waiting_for=first.oid if waiting else None, group=first.oid)
            for child in children
        ]
        if waiting:  # the parent's order remembers its group, so its fill wakes the children
            self.orders[first.oid].group = first.oid
        return [first, *rest]

    def modify(self, account: int, ref: int | str, **new: Any) -> Filled | Resting | Rejected | Waiting:
        """Replace an open order (by oid or cloid) with ``new`` (``place``'s keyword arguments): the
        old one is cancelled and the new one gets a new oid. If the new order is refused, the old one
        stays as it was."""
        order = self._find(account, ref)
        if order is None:
            return Rejected(Reason.MODIFY, {"ref": ref})
        self._unrest(order)
        self._held = []
        try:
            placed = self.place(account, **new)
        finally:
            held, self._held = self._held, None
        if isinstance(placed, Rejected):
            self._rest(order)
            return placed
        self._status(order, status.CANCELED)  # the old order ends before the new one begins
        for event in held:
            self._emit(event)
        return placed

    def _find(self, account: int, ref: int | str) -> Order | None:
        if isinstance(ref, str):
            return next((o for o in self._orders_of.get(account, {}).values() if o.cloid == ref), None)
        order = self.orders.get(ref)
        return order if order is not None and order.account == account else None

    def cancel(self, account: int, oid: int, why: str = status.CANCELED) -> Cancelled | Rejected:
        order = self.orders.get(oid)
        if order is None or order.account != account:
            return Rejected(Reason.NO_ORDER, {"oid": oid})
        self._unrest(order, why)
        for child in [o for o in self._orders_of.get(account, {}).values() if o.waiting_for == oid]:
            self._unrest(child, why)  # a parent's children never wake once it is gone
        return Cancelled(oid)

    def cancel_by_cloid(self, account: int, cloid: str) -> Cancelled | Rejected:
        order = self._find(account, cloid)
        if order is None:
            return Rejected(Reason.NO_ORDER, {"cloid": cloid})
        return self.cancel(account, order.oid)

    def open_orders(self, account: int) -> list[Order]:
        return list(self._orders_of.get(account, {}).values())

    def _rest(self, order: Order) -> None:
        self.dirty.add(order.account)
        self.orders[order.oid] = order
        self._orders_of.setdefault(order.account, {})[order.oid] = order
        if order.trigger_px is not None:
            self._triggers[order.oid] = order

    def _unrest(self, order: Order, why: str | None = None) -> None:
        """Take the order off the book; ``why`` (a status) is recorded if given."""
        self.dirty.add(order.account)
        del self.orders[order.oid]
        del self._orders_of[order.account][order.oid]
        self._triggers.pop(order.oid, None)
        if why is not None:
            self._status(order, why)

    def _status(self, order: Order, why: str) -> None:
        self._emit(OrderUpdate(self.now, order.account, why, order.snapshot(self.coins)))

    # -- the dead-man switch and isolated margin ------------------------------------------------------

    def schedule_cancel(self, account: int, at: int | None) -> None:
        """Cancel every open order of ``account`` at ``at`` (None clears it). Hyperliquid's rules:
        at least 5 seconds ahead, and at most 10 firings per UTC day."""
        book = self.books[account]
        if at is not None:
            if at < self.now + SCHEDULE_LEAD_MS:
                raise OrderRejected(Reason.SCHEDULE_TIME, now=self.now)
            if book.cancel_day == self.now // DAY_MS and book.cancel_count >= SCHEDULED_CANCELS_PER_DAY:
                raise OrderRejected(Reason.SCHEDULE_COUNT, limit=SCHEDULED_CANCELS_PER_DAY)
        book.scheduled_cancel = at
        if at is None:
            self.scheduled.pop(account, None)
        else:
            self.scheduled[account] = at
        self.dirty.add(account)

    def _next_scheduled(self) -> int | None:
        return min(self.scheduled.values()) if self.scheduled else None

    def _fire_scheduled(self) -> None:
        for account in sorted(a for a, at in self.scheduled.items() if at <= self.now):
            del self.scheduled[account]
            book = self.books[account]
            if book.scheduled_cancel is not None:
                book.scheduled_cancel = None
                day = self.now // DAY_MS
                book.cancel_count = book.cancel_count + 1 if book.cancel_day == day else 1
                book.cancel_day = day
                self.dirty.add(account)
                for order in self.open_orders(account):
                    if order.oid in self.orders:  # a cancelled parent takes its children with it
                        self.cancel(account, order.oid, status.SCHEDULED_CANCEL)

    def update_isolated_margin(self, account: int, coin: str, usdc: float) -> None:
        """Add (``usdc`` > 0) or remove margin of an isolated position: what is added must be free
        in the account, and what stays must cover the position's initial margin."""
        c = self.coin_index(coin)
        p = self.positions
        row = p.row(account, c)
        if row is None or not p.get(row, "isolated"):
            raise OrderRejected(Reason.ISOLATED_POSITION, coin=coin)
        marks = self.marks()
        mark = float(marks[c])
        szi, entry, allocated = p.get(row, "szi"), p.get(row, "entry"), p.get(row, "iso_margin")
        if usdc > 0:
            free = self.account_value(account, marks) - self.margin_used(account, marks)
            if usdc > free + 1e-9:
                raise OrderRejected(Reason.ISOLATED_MARGIN, available=max(free, 0.0))
        else:
            spare = allocated + szi * (mark - entry) - abs(szi) * mark / float(p.get(row, "leverage"))
            if -usdc > spare + 1e-9:
                raise OrderRejected(Reason.ISOLATED_MARGIN, available=max(spare, 0.0))
        p.set(row, "iso_margin", allocated + usdc)
        self.dirty.add(account)

    # -- time ---------------------------------------------------------------------------------------

    def advance_to(self, ts: int) -> None:
        """Process every hour boundary up to ``ts`` in order, then settle ``ts`` itself. A scheduled
        cancel fires at its own time, between boundaries."""
        if ts < self.now:
            raise ValueError("the engine only moves forward")
        settled = None  # a boundary settled (and checked for liquidations after its funding) just now
        while True:
            boundary = self.market.start_ms + self.funded_hour * HOUR_MS
            scheduled = self._next_scheduled()
            if scheduled is not None and scheduled <= min(boundary, ts) and scheduled >= self.now:
                self._settle(scheduled)
                continue
            if boundary > ts:
                break
            self.now = boundary
            marks = self._settle(boundary, liquidate=False)
            if self.funded_hour >= 1:
                self._funding_tick(self.funded_hour - 1, boundary)
            self.funded_hour += 1
            self._liquidation_check(marks)
            settled = boundary
        if settled != ts:  # else ts is that boundary: nothing left to settle at it
            self._settle(ts)

    def _settle(self, ts: int, liquidate: bool = True) -> NDArray[np.float64]:
        """At ``ts``: the scheduled cancels due, the triggers the mark reached, the resting orders it
        crossed, then (unless the caller does it after funding) the liquidations."""
        self.now = ts
        marks = self.marks()
        scheduled = self._next_scheduled()
        if scheduled is not None and scheduled <= ts:
            self._fire_scheduled()
        self._fire_triggers(marks)
        self._fill_resting(marks)
        if liquidate:
            self._liquidation_check(marks)
        return marks

    def _fire_triggers(self, marks: NDArray[np.float64]) -> None:
        """Fire every awake trigger order the mark has reached, oldest first: a market one fills at
        the mark (within 10% of its trigger), a limit one becomes a plain limit order; its
        take-profit or stop-loss sibling is cancelled."""
        if not self._triggers:
            return
        for order in sorted(self._triggers.values(), key=lambda o: o.oid):
            if order.oid not in self.orders or order.trigger_px is None or order.waiting_for is not None:
                continue
            row = self.positions.row(order.account, order.coin)
            position = self.positions.get(row, "szi") if row is not None else 0.0
            if order.position_tpsl and position == 0:
                self._unrest(order, status.CANCELED)  # the position it followed is gone
                continue
            if not order.fires_at(float(marks[order.coin])):
                continue
            self._unrest(order, status.TRIGGERED)
            if order.group is not None:
                for sibling in [o for o in self.open_orders(order.account) if o.group == order.group]:
                    if sibling.trigger_px is not None:
                        self._unrest(sibling, status.SIBLING_FILLED_CANCELED)
            self._execute_triggered(order, marks, position)

    def _execute_triggered(self, order: Order, marks: NDArray[np.float64], position: float) -> None:
        mark = float(marks[order.coin])
        size = order.sz
        if order.position_tpsl:  # it follows the position: all of it, whatever it has become
            size = abs(position)
        if order.reduce_only:
            if position == 0 or (position > 0) == order.is_buy:
                self._status(order, status.REDUCE_ONLY_CANCELED)
                return
            size = min(size, abs(position))
        order.trigger_px, order.time = None, self.now
        order.sz = order.orig_sz = size
        if order.is_market:  # the mark has just reached the trigger: well inside the 10% slippage
            order.kind, order.tif = "Market", "FrontendMarket"
            marketable = True
        else:
            marketable = order.px >= mark if order.is_buy else order.px <= mark
        try:
            self._check_margin(order.account, order.coin, size if order.is_buy else -size,
                               mark if marketable else order.px, marks)  # fmt: skip
        except OrderRejected:
            self._status(order, status.MARGIN_CANCELED)
            return
        if marketable:
            self._fill(order.account, order.coin, order.is_buy, mark, size, maker=False, oid=order.oid,
                       cloid=order.cloid, builder_fee=order.builder_fee)  # fmt: skip
            order.sz = 0.0
            self._status(order, status.FILLED)
        else:
            self._rest(order)
            self._status(order, status.OPEN)

    def _fill_resting(self, marks: NDArray[np.float64]) -> None:
        for order in sorted(self.orders.values(), key=lambda o: o.oid):
            if order.oid not in self.orders or order.trigger_px is not None or order.waiting_for is not None:
                continue
            mark = float(marks[order.coin])
            if (order.is_buy and mark <= order.px) or (not order.is_buy and mark >= order.px):
                self._unrest(order)
                size = order.sz
                if order.reduce_only:
                    row = self.positions.row(order.account, order.coin)
                    position = self.positions.get(row, "szi") if row is not None else 0.0
                    if position == 0 or (position > 0) == order.is_buy:
                        self.cancel_children(order, status.REDUCE_ONLY_CANCELED)
                        continue
                    size = min(size, abs(position))
                try:
                    self._check_margin(
                        order.account, order.coin, size if order.is_buy else -size, order.px, marks
                    )
                except OrderRejected:
                    self.cancel_children(order, status.MARGIN_CANCELED)  # margin gone since placement
                    continue
                self._fill(order.account, order.coin, order.is_buy, order.px, size, maker=True, oid=order.oid,
                           cloid=order.cloid, builder_fee=order.builder_fee)  # fmt: skip
                order.sz = 0.0
                self._status(order, status.FILLED)
                for child in self.open_orders(order.account):
                    if child.waiting_for == order.oid:  # the parent filled: its children wake
                        child.waiting_for = None
                        self.dirty.add(order.account)

    def cancel_children(self, order: Order, why: str) -> None:
        """``order`` (already off the book) ends with ``why``, and its sleeping children with it."""
        self._status(order, why)
        for child in [o for o in self.open_orders(order.account) if o.waiting_for == order.oid]:
            self._unrest(child, why)

    def _funding_tick(self, hour: int, ts: int) -> FundingBatch | None:
        """Pay the hour's funding on every open position, once."""
        p = self.positions
        if not len(p):
            return None
        snapshot = self.market.hour_snapshot(hour)
        oracle = np.array([self.market.oracle(c, ts) for c in self.coins])
        coin = p.coin.copy()
        usdc = funding_math.payments(p.szi, oracle[coin], snapshot["rate"][coin])
        n = self.n_accounts
        per_account = np.bincount(p.account, weights=usdc, minlength=n)
        self._acc["cash"][:n] += per_account
        self._acc["funding"][:n] += per_account
        p.cum_funding[:] += usdc
        self.all_dirty = True
        iso = p.isolated
        p.iso_margin[iso] += usdc[iso]
        batch = FundingBatch(
            ts, hour, p.account.copy(), coin, p.szi.copy(), oracle[coin], snapshot["rate"][coin], usdc
        )
        self._emit(batch)
        return batch

    def _liquidation_check(self, marks: NDArray[np.float64]) -> list[Liquidation]:
        p = self.positions
        if not len(p):
            return []
        n = self.n_accounts
        notional = np.abs(p.szi) * marks[p.coin]
        upnl = p.szi * (marks[p.coin] - p.entry)
        mm = self._maintenance(notional, p.coin)
        if self._own_contracts:  # accounts on a venue's own contracts (Lighter's): their maintenance rates
            for i in np.flatnonzero(np.isin(p.account, list(self._own_contracts))).tolist():
                mm[i] = self.contract_of(int(p.account[i]), int(p.coin[i])).maintenance_margin(
                    float(notional[i])
                )
        cross = ~p.isolated
        cross_mm = np.bincount(p.account[cross], weights=mm[cross], minlength=n)
        cross_upnl = np.bincount(p.account[cross], weights=upnl[cross], minlength=n)
        allocated = np.bincount(p.account[~cross], weights=p.iso_margin[~cross], minlength=n)
        cross_value = self._col("cash") - allocated + cross_upnl
        doomed_accounts = np.flatnonzero((cross_mm > 0) & (cross_value < cross_mm))
        doomed_rows = np.flatnonzero(~cross & (p.iso_margin + upnl < mm))
        # Read every target before closing any: closing swap-removes rows and shifts indices.
        cross_targets = []
        for account in doomed_accounts.tolist():
            rows = p.rows_of(account)
            rows = rows[cross[rows]]
            targets = [(int(p.coin[i]), float(p.szi[i]), float(p.entry[i])) for i in rows]
            cross_targets.append((account, targets, float(cross_value[account]), float(cross_mm[account])))
        iso_targets = [
            (
                int(p.account[i]),
                int(p.coin[i]),
                float(p.szi[i]),
                float(p.entry[i]),
                float(p.iso_margin[i] + upnl[i]),
                float(mm[i]),
            )
            for i in doomed_rows.tolist()
        ]
        events: list[Liquidation] = []
        for account, targets, value, maint in cross_targets:
            for c, szi, entry in targets:
                events.append(self._liquidate(account, c, szi, entry, float(marks[c]), value, maint, "Cross"))
            for order in self.open_orders(account):
                self._unrest(order, status.LIQUIDATED_CANCELED)
        for account, c, szi, entry, equity, maint in iso_targets:
            events.append(self._liquidate(account, c, szi, entry, float(marks[c]), equity, maint, "Isolated"))
        return events

    def _liquidate(self, account: int, c: int, szi: float, entry: float, mark: float, value: float,
                   maintenance: float, kind: str) -> Liquidation:  # fmt: skip
        contract = self.contract_of(account, c)
        if kind == "Cross":
            liq_px = margin.cross_liquidation_price(
                contract, szi, mark, value, maintenance - contract.maintenance_margin(abs(szi) * mark)
            )
        else:
            liq_px = margin.isolated_liquidation_price(contract, szi, mark, value)
        oid = self.next_oid
        self.next_oid += 1
        fill = self._fill(account, c, szi < 0, mark, abs(szi), maker=False, oid=oid, liquidation=True)
        event = Liquidation(self.now, account, self.coins[c], szi, entry, liq_px, mark, value, maintenance,
                            fill.closed_pnl, kind)  # fmt: skip
        self._emit(event)
        return event
