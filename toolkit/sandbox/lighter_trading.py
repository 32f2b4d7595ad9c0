"""Lighter's trading transactions on the clearinghouse, and the reads of what they did.

A Lighter account is the clearinghouse account ``lighter:{account_index}``: its orders match, fill,
pay funding and get liquidated by the same engine as Hyperliquid's, Aster's and PaperExchange's,
with Lighter's fixed-point prices and its fees by account tier. Each Lighter order keeps its
venue fields (order index, client order index, type, expiry) in ``lt_trade_orders`` beside the
engine order that carries it.

What the venue's API refuses (an unknown market, a size below the market's minimum, a price off its
tick) raises ``LighterError`` before anything changes, so the nonce stays unused. What its
sequencer refuses (not enough margin, a post-only order that would cross, a reduce-only order that
would not reduce) is accepted: the nonce is used and the order ends at once with Lighter's
``canceled-…`` status, as on the venue.

Everything here runs on the clearinghouse's worker, inside the transaction of the job that sends
the transaction (``LighterSandbox._send``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from toolkit.sandbox import store
from toolkit.sandbox.clearinghouse import Clearinghouse, OrderRequest, owner
from toolkit.sandbox.engine import orders as status
from toolkit.sandbox.engine.core import Rejected
from toolkit.sandbox.engine.specs import AccountRules, Contract, OrderRejected, Reason, Tier
from toolkit.venues.lighter import markets, wire
from toolkit.venues.lighter.markets import LighterMarket
from toolkit.venues.lighter.wire import LighterError

VENUE = "lighter"
STREAM_ROWS = 50  # trades and funding payments in an account_all snapshot
FIRST_ORDER_INDEX = 1 << 48  # order indexes start above every client order index
# Lighter's contracts: one margin tier per market, the most leverage from its minimum initial margin
# fraction and its own maintenance margin fraction (ETH: 50x, 1.2 %), where Hyperliquid's tiers
# would give 25x and 2 %.
CONTRACTS = {
    m.symbol: Contract(
        m.symbol,
        m.size_decimals,
        (
            Tier(
                0.0,
                int(markets.MARGIN_SCALE // m.min_initial_margin_fraction),
                m.maintenance_margin_fraction / markets.MARGIN_SCALE,
            ),
        ),
    )
    for m in markets.MARKETS
}
# Fees by tier (reference/lighter.md §6): standard pays none; premium with no LIT staked pays
# 0.0040 % as maker and 0.0280 % as taker.
STANDARD = AccountRules(significant_figures=False, maker_fee=0.0, taker_fee=0.0, contracts=CONTRACTS)
PREMIUM = AccountRules(significant_figures=False, maker_fee=0.00004, taker_fee=0.00028, contracts=CONTRACTS)

TIME_IN_FORCE = {wire.IMMEDIATE_OR_CANCEL: "Ioc", wire.GOOD_TILL_TIME: "Gtc", wire.POST_ONLY: "Alo"}
TRIGGERS = {  # order type -> (fires as a market order, "tp" or "sl")
    wire.STOP_LOSS: (True, "sl"),
    wire.STOP_LOSS_LIMIT: (False, "sl"),
    wire.TAKE_PROFIT: (True, "tp"),
    wire.TAKE_PROFIT_LIMIT: (False, "tp"),
}
TYPE_NAMES = {
    wire.ORDER_LIMIT: "limit",
    wire.ORDER_MARKET: "market",
    wire.STOP_LOSS: "stop-loss",
    wire.STOP_LOSS_LIMIT: "stop-loss-limit",
    wire.TAKE_PROFIT: "take-profit",
    wire.TAKE_PROFIT_LIMIT: "take-profit-limit",
}
TIF_NAMES = {
    wire.IMMEDIATE_OR_CANCEL: "immediate-or-cancel",
    wire.GOOD_TILL_TIME: "good-till-time",
    wire.POST_ONLY: "post-only",
}
# What the sequencer does with an order the engine refuses: Lighter's final status
SEQUENCER_CANCELS = {
    Reason.MARGIN: "canceled-margin-not-allowed",
    Reason.LEVERAGE: "canceled-margin-not-allowed",
    Reason.REDUCE_ONLY: "canceled-reduce-only",
    Reason.TPSL_REDUCE_ONLY: "canceled-reduce-only",
    Reason.POST_ONLY: "canceled-post-only",
    Reason.NO_MATCH: "canceled-not-enough-liquidity",
}
# The engine's final statuses in Lighter's words
STATUSES = {
    status.OPEN: "open",
    status.FILLED: "filled",
    status.CANCELED: "canceled",
    status.TRIGGERED: "pending",
    status.MARGIN_CANCELED: "canceled-margin-not-allowed",
    status.REDUCE_ONLY_CANCELED: "canceled-reduce-only",
    status.SIBLING_FILLED_CANCELED: "canceled-oco",
    status.LIQUIDATED_CANCELED: "canceled-liquidation",
    status.SCHEDULED_CANCEL: "canceled",
}


def owner_of(account_index: int) -> str:
    """The clearinghouse's name for a Lighter account."""
    return owner(VENUE, str(account_index))


def rules_for_tier(tier: str) -> AccountRules:
    return PREMIUM if tier == "premium" else STANDARD


def _market(market_index: int) -> LighterMarket:
    market = markets.BY_ID.get(market_index)
    if market is None:
        raise LighterError(wire.INVALID_MARKET_INDEX, "invalid market index")
    return market


def _size(m: LighterMarket, base_amount: int) -> Decimal:
    return Decimal(base_amount).scaleb(-m.size_decimals)


def account_row(conn: Connection, account_index: int) -> Any:
    """The ``lt_accounts`` row of a Lighter account, or 21100 account not found."""
    acc = store.lt_accounts
    row = conn.execute(sa.select(acc).where(acc.c.account_index == account_index)).first()
    if row is None:
        raise LighterError(wire.ACCOUNT_NOT_FOUND)
    return row


def _check_base_amount(m: LighterMarket, base_amount: int) -> None:
    """An order (or a modify) below the market's minimum size is refused by the API."""
    if _size(m, base_amount) < Decimal(m.min_base_amount):
        raise LighterError(
            wire.INVALID_BASE_AMOUNT,
            f"invalid base amount: below the market's minimum of {m.min_base_amount} {m.symbol}",
        )


def _price(m: LighterMarket, price: int) -> Decimal:
    return Decimal(price).scaleb(-m.price_decimals)


def _refusal(exc: Rejected | OrderRejected, m: LighterMarket) -> LighterError | None:
    """The API's refusal for an engine reason, or None when the sequencer cancels the order instead."""
    reason, context = exc.reason, exc.context
    if reason in (Reason.PRICE, Reason.TRIGGER_PRICE):
        return LighterError(
            wire.INVALID_PRICE,
            f"invalid price: {m.symbol} prices have {m.price_decimals} decimals",
        )
    if reason is Reason.SIZE:
        return LighterError(wire.INVALID_BASE_AMOUNT, "invalid base amount")
    if reason is Reason.MIN_VALUE:
        return LighterError(
            wire.INVALID_BASE_AMOUNT,
            "invalid base amount: the order is worth less than the market's minimum of "
            f"{m.min_quote_amount} USDC",
        )
    if reason is Reason.MAX_VALUE:
        return LighterError(
            wire.INVALID_BASE_AMOUNT,
            f"invalid base amount: the order is worth more than {context.get('maximum', 0):,.0f} USDC",
        )
    if reason is Reason.TOO_MANY_ORDERS:
        return LighterError(wire.TOO_MANY_ORDERS, "maximum active limit order count reached")
    if reason is Reason.HALTED:
        return LighterError(wire.INVALID_MARKET_INDEX, f"market {m.symbol} is not trading in this replay")
    return None


class LighterTrading:
    """Lighter's order, leverage and margin transactions on ``ch``, and the reads of their results."""

    def __init__(self, ch: Clearinghouse) -> None:
        self.ch = ch

    # -- transactions (on the worker, inside the sending job's transaction) ------------------------

    def check(self, conn: Connection, tx: wire.Transaction) -> None:
        """What the API refuses before anything is applied (so the nonce stays unused)."""
        body: Any = tx.tx
        if tx.tx_type == wire.TX_CREATE_ORDER:
            self._check_order(conn, tx.account_index, body.order)
        elif tx.tx_type == wire.TX_MODIFY_ORDER:
            _check_base_amount(_market(body.market_index), body.base_amount)
        elif tx.tx_type in (
            wire.TX_CANCEL_ORDER,
            wire.TX_UPDATE_LEVERAGE,
            wire.TX_UPDATE_MARGIN,
        ):
            _market(body.market_index)

    def _check_order(self, conn: Connection, account_index: int, order: Any) -> LighterMarket:
        m = _market(order.market_index)
        if order.type == wire.TWAP:
            raise LighterError(wire.INVALID_TX, "TWAP orders are not supported by the sandbox")
        if order.type not in TYPE_NAMES:
            raise LighterError(wire.INVALID_TX, f"order type {order.type} is not supported by the sandbox")
        if order.time_in_force not in TIME_IN_FORCE:
            raise LighterError(wire.INVALID_TX, f"time in force {order.time_in_force} is not valid")
        _check_base_amount(m, order.base_amount)
        if order.price <= 0:
            raise LighterError(wire.INVALID_PRICE, "invalid price: it must be positive")
        if order.client_order_index and self.open_ref(conn, account_index, None, order.client_order_index):
            raise LighterError(wire.CLIENT_ORDER_INDEX_EXISTS, "client order index already exists")
        return m

    def apply(self, conn: Connection, tx: wire.Transaction, now: int) -> None:
        body: Any = tx.tx
        who = owner_of(tx.account_index)
        if tx.tx_type == wire.TX_CREATE_ORDER:
            self._create(conn, tx, body.order, who, now)
        elif tx.tx_type == wire.TX_CANCEL_ORDER:
            ref = self.open_ref(conn, tx.account_index, body.market_index, body.index)
            if ref is not None:
                self.ch.cancel(who, [ref.oid])
        elif tx.tx_type == wire.TX_CANCEL_ALL_ORDERS:
            self._cancel_all(tx, body, who)
        elif tx.tx_type == wire.TX_MODIFY_ORDER:
            self._modify(conn, tx, body, who, now)
        elif tx.tx_type == wire.TX_UPDATE_LEVERAGE:
            self._update_leverage(body, who)
        elif tx.tx_type == wire.TX_UPDATE_MARGIN:
            self._update_margin(body, who)

    def _request(self, m: LighterMarket, order: Any) -> OrderRequest:
        trigger = None
        if order.type in TRIGGERS:
            is_market, kind = TRIGGERS[order.type]
            trigger = (str(_price(m, order.trigger_price)), is_market, kind)
        tif = "Ioc" if order.type == wire.ORDER_MARKET else TIME_IN_FORCE[order.time_in_force]
        return OrderRequest(
            coin=m.symbol,
            is_buy=not order.is_ask,
            sz=str(_size(m, order.base_amount)),
            px=str(_price(m, order.price)),
            tif=tif,
            reduce_only=bool(order.reduce_only),
            cloid=str(order.client_order_index) if order.client_order_index else None,
            trigger=trigger,
        )

    def _create(self, conn: Connection, tx: wire.Transaction, order: Any, who: str, now: int) -> None:
        m = _market(order.market_index)
        (placed,) = self.ch.place(who, [self._request(m, order)])
        refused = None
        if isinstance(placed, Rejected):
            refusal = _refusal(placed, m)
            if refusal is not None:
                raise refusal
            refused = SEQUENCER_CANCELS.get(placed.reason, "canceled")
        t = store.lt_trade_orders
        top = conn.execute(sa.select(sa.func.max(t.c.order_index))).scalar()
        conn.execute(
            t.insert().values(
                order_index=max(FIRST_ORDER_INDEX, (top or 0) + 1),
                account_index=tx.account_index,
                market_index=m.market_id,
                client_order_index=order.client_order_index,
                oid=None if refused else placed.oid,
                api_key_index=tx.api_key_index,
                nonce=tx.nonce,
                order_type=order.type,
                time_in_force=order.time_in_force,
                is_ask=bool(order.is_ask),
                reduce_only=bool(order.reduce_only),
                base_amount=order.base_amount,
                price=order.price,
                trigger_price=order.trigger_price,
                order_expiry=order.order_expiry,
                refused=refused,
                created_at=now,
                updated_at=now,
            )
        )

    def open_ref(self, conn: Connection, account_index: int, market_index: int | None, index: int) -> Any:
        """The open order an index names (its order index or client order index), or None."""
        t = store.lt_trade_orders
        query = sa.select(t).where(
            t.c.account_index == account_index,
            t.c.oid.is_not(None),
            sa.or_(t.c.order_index == index, t.c.client_order_index == index),
        )
        if market_index is not None:
            query = query.where(t.c.market_index == market_index)
        open_oids = {o.oid for o in self.ch._open_orders(owner_of(account_index))}
        return next((r for r in conn.execute(query).all() if r.oid in open_oids), None)

    def _cancel_all(self, tx: wire.Transaction, body: Any, who: str) -> None:
        if body.time_in_force == 1:  # scheduled: every order goes at ``Time``
            self._schedule(who, body.time)
            return
        if body.time_in_force == 2:  # abort a scheduled cancel
            self._schedule(who, None)
            return
        market = body.attributes.cancel_all_market_index
        coin = markets.BY_ID[market].symbol if market in markets.BY_ID else None
        oids = [
            o.oid for o in self.ch._open_orders(who) if coin is None or self.ch.engine.coins[o.coin] == coin
        ]
        if oids:
            self.ch.cancel(who, oids)

    def _schedule(self, who: str, at: int | None) -> None:
        try:
            self.ch.schedule_cancel(who, at)
        except OrderRejected as exc:
            raise LighterError(
                wire.INVALID_TX, f"the scheduled cancel-all time is not valid ({exc.reason})"
            ) from None

    def _modify(self, conn: Connection, tx: wire.Transaction, body: Any, who: str, now: int) -> None:
        ref = self.open_ref(conn, tx.account_index, body.market_index, body.index)
        if ref is None:
            return  # accepted, and nothing to change: as a cancel of an order that is not open
        m = _market(ref.market_index)
        old = next(o for o in self.ch._open_orders(who) if o.oid == ref.oid)
        order = SimpleNamespace(
            market_index=ref.market_index,
            is_ask=ref.is_ask,
            base_amount=body.base_amount,
            price=body.price,
            type=ref.order_type,
            time_in_force=ref.time_in_force,
            reduce_only=ref.reduce_only,
            trigger_price=body.trigger_price,
            client_order_index=ref.client_order_index,
        )
        request = self._request(m, order)
        if old.trigger_px is None:
            request = replace(request, trigger=None)
        (placed,) = self.ch.modify(who, [(ref.oid, request)])
        if isinstance(placed, Rejected):
            refusal = _refusal(placed, m)
            if refusal is not None:
                raise refusal
            return  # the sequencer keeps the order as it was
        t = store.lt_trade_orders
        conn.execute(
            t.update()
            .where(t.c.order_index == ref.order_index)
            .values(oid=placed.oid, price=body.price, trigger_price=body.trigger_price, updated_at=now)
        )

    def _update_leverage(self, body: Any, who: str) -> None:
        m = _market(body.market_index)
        fraction = body.initial_margin_fraction
        if fraction < m.min_initial_margin_fraction:
            raise LighterError(
                wire.INVALID_MARGIN_FRACTION,
                f"invalid initial margin fraction: {m.symbol} allows at least "
                f"{m.min_initial_margin_fraction} ({m.max_leverage:g}x)",
            )
        leverage = max(1, markets.MARGIN_SCALE // fraction)
        try:
            self.ch.update_leverage(who, m.symbol, leverage, body.margin_mode == wire.CROSS_MARGIN)
        except OrderRejected as exc:
            if exc.reason is Reason.LEVERAGE_MODE:
                raise LighterError(
                    wire.INVALID_MARGIN_MODE, "invalid margin mode: close the position before switching it"
                ) from None
            top = exc.context.get("maximum", m.max_leverage)
            raise LighterError(
                wire.INVALID_MARGIN_FRACTION,
                f"invalid initial margin fraction: at most {top}x on {m.symbol} in the sandbox",
            ) from None

    def _update_margin(self, body: Any, who: str) -> None:
        m = _market(body.market_index)
        if body.usdc_amount <= 0:
            raise LighterError(wire.INVALID_TX, "USDCAmount must be positive")
        usdc = body.usdc_amount / 1e6 * (1 if body.direction == wire.ADD_MARGIN else -1)
        try:
            self.ch.update_isolated_margin(who, m.symbol, usdc)
        except OrderRejected as exc:
            if exc.reason is Reason.ISOLATED_POSITION:
                raise LighterError(wire.NO_POSITION, f"no isolated position found on {m.symbol}") from None
            raise LighterError(
                wire.BELOW_INITIAL_MARGIN,
                "the margin change would take the account or the position below its initial margin",
            ) from None

    # -- reads --------------------------------------------------------------------------------------

    def accounts(self, rows: list[Any], detailed: bool) -> list[dict[str, Any]]:
        """``rows`` of ``lt_accounts`` with their money, positions and orders as one moment shows them."""
        views = self.ch.call(_views, [owner_of(r.account_index) for r in rows])
        t, f = store.lt_trade_orders, store.pp_fills
        out = []
        with self.ch.db.connect() as conn:
            for row, (view, open_by_coin) in zip(rows, views, strict=True):
                who = owner_of(row.account_index)
                engine_account = self.ch.account(who)
                total = conn.execute(
                    sa.select(sa.func.count()).where(t.c.account_index == row.account_index)
                ).scalar_one()
                realized: dict[str, float] = {}
                funding: dict[str, dict[str, float]] = {}
                if engine_account is not None and detailed:
                    realized = dict(
                        conn.execute(
                            sa.select(f.c.coin, sa.func.sum(f.c.closed_pnl))
                            .where(f.c.account == engine_account)
                            .group_by(f.c.coin)
                        ).all()
                    )
                    funding = self.ch.funding_totals(who)
                out.append(account_json(row, view, open_by_coin, realized, funding, total, detailed))
        return out

    def active_orders(self, account_index: int, market_id: int) -> list[dict[str, Any]]:
        """The account's open orders (on ``market_id``, or every market for 255), oldest first."""
        who = owner_of(account_index)
        live = {s["oid"]: s for s in self.ch.call(Clearinghouse._open_snapshots, who)}  # read on the worker
        rows = self._refs(account_index, market_id, list(live))
        with self.ch.db.connect() as conn:
            quotes = self._filled_quotes(conn, self.ch.account(who), [r.oid for r in rows])
        return [self._order(r, live[r.oid], "open", quotes.get(r.oid, 0.0)) for r in rows]

    def inactive_orders(
        self,
        account_index: int,
        market_id: int,
        limit: int,
        is_ask: bool | None = None,
        before_index: int | None = None,
    ) -> list[dict[str, Any]]:
        """The account's orders that are no longer open, newest first (one side, or both for None);
        ``before_index`` pages on below a previous page's last order index."""
        who = owner_of(account_index)
        live = {s["oid"] for s in self.ch.call(Clearinghouse._open_snapshots, who)}  # read on the worker
        t = store.lt_trade_orders
        query = sa.select(t).where(t.c.account_index == account_index).order_by(t.c.order_index.desc())
        if market_id != markets.ALL_MARKETS:
            query = query.where(t.c.market_index == market_id)
        if is_ask is not None:
            query = query.where(t.c.is_ask == is_ask)
        if before_index is not None:
            query = query.where(t.c.order_index < before_index)
        picked: list[Any] = []
        account = self.ch.account(who)
        with self.ch.db.connect() as conn:
            for r in conn.execute(query).yield_per(256):
                if r.oid not in live:
                    picked.append(r)
                    if len(picked) >= limit:
                        break
            quotes = self._filled_quotes(conn, account, [r.oid for r in picked if r.refused is None])
        out: list[dict[str, Any]] = []
        for r in picked:
            if r.refused is not None:
                out.append(self._order(r, None, r.refused))
                continue
            row = self.ch.store.order_status(account, r.oid) if account is not None else None
            snap = json.loads(row["order"]) if row is not None else None
            state = STATUSES.get(row["status"], "canceled") if row else "canceled"
            out.append(self._order(r, snap, state, quotes.get(r.oid, 0.0)))
        return out

    @staticmethod
    def _filled_quotes(conn: Connection, account: int | None, oids: list[int]) -> dict[int, float]:
        """What each order's fills cost in USDC (they fill at the mark, not at the order's limit)."""
        if account is None or not oids:
            return {}
        f = store.pp_fills
        query = (
            sa.select(f.c.oid, sa.func.sum(f.c.px * f.c.sz))
            .where(f.c.account == account, f.c.oid.in_(oids))
            .group_by(f.c.oid)
        )
        return {oid: float(cost or 0.0) for oid, cost in conn.execute(query)}

    def trades(
        self, market_id: int, account_index: int | None, limit: int, before_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The latest fills of Lighter accounts (one, or all), newest first, as Lighter's trades;
        ``before_id`` pages on below a previous answer's last trade id."""
        if account_index is not None:
            engine_account = self.ch.account(owner_of(account_index))
            accounts = {} if engine_account is None else {engine_account: account_index}
        else:
            prefix = VENUE + ":"
            accounts = {
                a: int(o[len(prefix) :]) for o, a in self.ch.accounts.copy().items() if o.startswith(prefix)
            }
        if not accounts:
            return []
        f, t = store.pp_fills, store.lt_trade_orders
        query = sa.select(f).where(f.c.account.in_(list(accounts))).order_by(f.c.id.desc()).limit(limit)
        if market_id != markets.ALL_MARKETS:
            query = query.where(f.c.coin == _market(market_id).symbol)
        if before_id is not None:
            query = query.where(f.c.id < before_id)
        with self.ch.db.connect() as conn:
            fills = [dict(r._mapping) for r in conn.execute(query)]
            oids = {r["oid"] for r in fills}
            refs = {r.oid: r for r in conn.execute(sa.select(t).where(t.c.oid.in_(oids)))} if oids else {}
        return [trade_json(r, accounts[r["account"]], refs.get(r["oid"])) for r in fills]

    def position_funding(
        self,
        account_index: int,
        limit: int,
        market_ids: set[int] | None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        before: tuple[int, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The account's hourly funding payments in ``[start_ms, end_ms]``, newest first, each market
        of an hour in turn; ``before`` (a time and coin) pages on from a previous answer's last row.
        ``change`` is the money into the account (positive when received); ``rate`` in percent, as
        ``fundings``; times in seconds."""
        account = self.ch.account(owner_of(account_index))
        if account is None:
            return []
        f = store.pp_funding
        query = (
            sa.select(f).where(f.c.account == account).order_by(f.c.time.desc(), f.c.coin.desc()).limit(limit)
        )
        if market_ids is not None:
            query = query.where(f.c.coin.in_([markets.BY_ID[i].symbol for i in market_ids]))
        if start_ms is not None:
            query = query.where(f.c.time >= start_ms)
        if end_ms is not None:
            query = query.where(f.c.time <= end_ms)
        if before is not None:
            query = query.where(
                sa.or_(f.c.time < before[0], sa.and_(f.c.time == before[0], f.c.coin < before[1]))
            )
        with self.ch.db.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            m = markets.BY_SYMBOL[row.coin]
            out.append(
                {
                    "timestamp": row.time // 1000,
                    "market_id": m.market_id,
                    "funding_id": row.hour,
                    "change": _usdc(row.usdc),
                    "discount": "0.000000",
                    "rate": f"{row.rate * 100:.6f}",
                    "position_size": m.size(abs(row.szi)),
                    "position_side": "long" if row.szi > 0 else "short",
                }
            )
        return out

    def liquidations(
        self, account_index: int, limit: int, market_id: int, before_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The account's liquidations, newest first, as Lighter's ``Liquidation``: the closing trade
        at the mark (the other side is the synthetic book, account 0), the position before, and the
        account's margin before and after."""
        account = self.ch.account(owner_of(account_index))
        if account is None:
            return []
        q = store.pp_liquidations
        query = sa.select(q).where(q.c.account == account).order_by(q.c.id.desc()).limit(limit)
        if market_id != markets.ALL_MARKETS:
            query = query.where(q.c.coin == _market(market_id).symbol)
        if before_id is not None:
            query = query.where(q.c.id < before_id)
        with self.ch.db.connect() as conn:
            rows = conn.execute(query).all()
        return [_liquidation_json(r, account_index) for r in rows]

    def account_all(
        self, account_index: int, after: tuple[int, int]
    ) -> tuple[dict[str, Any], tuple[int, int]]:
        """The ``account_all`` stream's body for the account: every open position (and a zero one for a
        market whose position a new trade closed), the trades and funding payments after ``after``
        (the last trade id and funding time sent; ``(0, 0)`` for the subscription's snapshot, which
        carries the latest ``STREAM_ROWS`` of each), and trade counts and volumes. Returns the body and
        the new ``after``."""
        last_trade, last_funding = after
        rows = self._account_rows(account_index)
        (account,) = self.accounts(rows, detailed=True)
        trades = [
            t
            for t in self.trades(markets.ALL_MARKETS, account_index, STREAM_ROWS)
            if t["trade_id"] > last_trade
        ]
        funding = [
            f
            for f in self.position_funding(account_index, STREAM_ROWS, None)
            if f["timestamp"] > last_funding
        ]
        positions = {str(p["market_id"]): p for p in account["positions"]}
        by_market: dict[str, list[dict[str, Any]]] = {}
        for trade in reversed(trades):  # oldest first
            by_market.setdefault(str(trade["market_id"]), []).append(trade)
            if str(trade["market_id"]) not in positions:
                positions[str(trade["market_id"])] = _flat(markets.BY_ID[trade["market_id"]])
        histories: dict[str, list[dict[str, Any]]] = {}
        for row in reversed(funding):
            histories.setdefault(str(row["market_id"]), []).append(row)
        body = {
            "account": account_index,
            "assets": {},
            "positions": positions,
            "trades": by_market,
            "funding_histories": histories,
            "shares": [],
        } | self._trade_stats(account_index)
        newest = (
            max([last_trade, *(t["trade_id"] for t in trades)]),
            max([last_funding, *(f["timestamp"] for f in funding)]),
        )
        return body, newest

    def _account_rows(self, account_index: int) -> list[Any]:
        with self.ch.db.connect() as conn:
            return [account_row(conn, account_index)]

    def _trade_stats(self, account_index: int) -> dict[str, Any]:
        """Trade counts and USDC volumes: the last day, week and month (by the sandbox's clock), and ever."""
        account = self.ch.account(owner_of(account_index))
        now, f = self.ch.now(), store.pp_fills
        out: dict[str, Any] = {}
        with self.ch.db.connect() as conn:
            for name, days in (("daily", 1), ("weekly", 7), ("monthly", 30), ("total", None)):
                query = sa.select(sa.func.count(), sa.func.sum(f.c.px * f.c.sz)).where(f.c.account == account)
                if days is not None:
                    query = query.where(f.c.time > now - days * 86_400_000)
                count, volume = conn.execute(query).one() if account is not None else (0, 0.0)
                out[f"{name}_trades_count"] = int(count or 0)
                out[f"{name}_volume"] = float(volume or 0.0)
        return out

    def _refs(self, account_index: int, market_id: int, oids: list[int]) -> list[Any]:
        if not oids:
            return []
        t = store.lt_trade_orders
        query = sa.select(t).where(t.c.account_index == account_index, t.c.oid.in_(oids))
        if market_id != markets.ALL_MARKETS:
            query = query.where(t.c.market_index == market_id)
        with self.ch.db.connect() as conn:
            return list(conn.execute(query.order_by(t.c.order_index)).all())

    @staticmethod
    def _order(r: Any, snap: dict[str, Any] | None, state: str, filled_quote: float = 0.0) -> dict[str, Any]:
        m = markets.BY_ID[r.market_index]
        initial = float(_size(m, r.base_amount))
        if snap is not None:
            initial = snap.get("orig_sz", initial)
            remaining = snap["sz"] if state in ("open", "pending") else 0.0
            filled = initial - snap["sz"] if state != "filled" else initial
            price = float(snap["px"])
        else:
            remaining, filled, price = 0.0, 0.0, float(_price(m, r.price))
        return {
            "order_index": r.order_index,
            "client_order_index": r.client_order_index,
            "order_id": str(r.order_index),
            "client_order_id": str(r.client_order_index),
            "market_index": r.market_index,
            "owner_account_index": r.account_index,
            "initial_base_amount": m.size(initial),
            "price": m.price(price),
            "nonce": r.nonce,
            "remaining_base_amount": m.size(remaining),
            "is_ask": r.is_ask,
            "base_size": round(remaining * 10**m.size_decimals),
            "base_price": round(price * 10**m.price_decimals),
            "filled_base_amount": m.size(filled),
            "filled_quote_amount": _usdc(filled_quote),
            "side": "ask" if r.is_ask else "bid",
            "type": TYPE_NAMES.get(r.order_type, "limit"),
            "time_in_force": TIF_NAMES.get(r.time_in_force, "Unknown"),
            "reduce_only": r.reduce_only,
            "trigger_price": m.price(float(_price(m, r.trigger_price))),
            "order_expiry": r.order_expiry,
            "status": state,
            "trigger_status": "mark-price" if r.order_type in TRIGGERS and state == "open" else "na",
            "trigger_time": 0,
            "parent_order_index": 0,
            "parent_order_id": "0",
            "to_trigger_order_id_0": "0",
            "to_trigger_order_id_1": "0",
            "to_cancel_order_id_0": "0",
            "block_height": r.nonce,
            "timestamp": r.created_at,  # ms, as a trade's timestamp
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "transaction_time": r.created_at * 1000,
            "integrator_fee_collector_index": "0",
            "integrator_maker_fee": "0",
            "integrator_taker_fee": "0",
            "order_flags": 0,
            "order_version": 0,
            "market_symbol": m.symbol,
            "market_kind": "perps",
        }


def _views(ch: Clearinghouse, owners: list[str]) -> list[tuple[Any, dict[str, int]]]:
    """On the worker: each owner's account view and its open orders per coin, at one moment."""
    out = []
    for who in owners:
        by_coin: dict[str, int] = {}
        for order in ch._open_orders(who):
            coin = ch.engine.coins[order.coin]
            by_coin[coin] = by_coin.get(coin, 0) + 1
        out.append((ch._view(who), by_coin))
    return out


def _risk(market_id: int, value: float, maintenance: float) -> dict[str, Any]:
    money = _usdc(value)
    return {
        "market_id": market_id, "collateral": money, "total_account_value": money,
        "initial_margin_req": _usdc(maintenance * 2), "maintenance_margin_req": _usdc(maintenance),
        "close_out_margin_req": _usdc(maintenance), "total_account_liquidation_threshold": _usdc(maintenance),
        "usdc_collateral_with_funding": money, "usdc_portfolio_value": money, "total_portfolio_value": money,
    }  # fmt: skip


def _liquidation_json(r: Any, account_index: int) -> dict[str, Any]:
    """One ``pp_liquidations`` row as Lighter's ``Liquidation`` (a long is closed by a sell)."""
    m = markets.BY_SYMBOL[r.coin]
    long = r.position_size > 0
    size = abs(r.position_size)
    before = _flat(m) | {
        "initial_margin_fraction": "0.00", "sign": 1 if long else -1, "position": m.size(size),
        "avg_entry_price": m.price(r.entry_price), "position_value": _usdc(size * r.mark_price),
        "unrealized_pnl": _usdc((r.mark_price - r.entry_price) * r.position_size),
        "liquidation_price": m.price(r.liquidation_price or 0.0),
        "margin_mode": 1 if r.leverage_type.lower() == "isolated" else 0,
    }  # fmt: skip
    after_value = r.account_value_before  # closed at the mark, with no fee: only the margin changes
    return {
        "id": r.id,
        "market_id": m.market_id,
        "type": "full",
        "trade": {
            "price": m.price(r.mark_price),
            "size": m.size(size),
            "taker_fee": "0",
            "maker_fee": "0",
            "transaction_time": r.time * 1000,
            "bid_account_id": 0 if long else account_index,
            "ask_account_id": account_index if long else 0,
        },
        "info": {
            "positions": [before],
            "risk_info_before": {
                "cross_risk_parameters": _risk(255, r.account_value_before, r.maintenance_margin),
                "isolated_risk_parameters": [],
            },
            "risk_info_after": {
                "cross_risk_parameters": _risk(255, after_value, 0.0),
                "isolated_risk_parameters": [],
            },
            "mark_prices": {str(m.market_id): r.mark_price},
            "assets": [],
            "asset_index_prices": {},
        },
        "executed_at": r.time,
    }


def _flat(m: LighterMarket) -> dict[str, Any]:
    """A position that was closed, as the stream shows it: size zero."""
    zero, money = m.price(0.0), _usdc(0.0)
    return {
        "market_id": m.market_id, "symbol": m.symbol, "initial_margin_fraction": "0.00",
        "open_order_count": 0, "pending_order_count": 0, "position_tied_order_count": 0, "sign": 0,
        "position": m.size(0.0), "avg_entry_price": zero, "position_value": money, "unrealized_pnl": money,
        "realized_pnl": money, "liquidation_price": zero, "total_funding_paid_out": money, "margin_mode": 0,
        "allocated_margin": money, "total_discount": money, "margin_set_flag": 0,
    }  # fmt: skip


def _usdc(value: float) -> str:
    """USDC with six decimals; never ``-0.000000``."""
    text = markets.fixed(value, markets.QUOTE_DECIMALS)
    return text.removeprefix("-") if Decimal(text) == 0 else text


def account_json(
    row: Any,
    view: Any,
    open_by_coin: dict[str, int],
    realized: dict[str, float],
    funding: dict[str, dict[str, float]],
    total_orders: int,
    detailed: bool,
) -> dict[str, Any]:
    """One account as ``accountsByL1Address`` (``detailed`` False) or ``account`` shows it; the money
    is the clearinghouse's. ``total_funding_paid_out`` is the venue's field: positive when paid."""
    isolated = [p for p in view.positions if p.isolated]
    cross_margin = sum(p.margin_used for p in view.positions if not p.isolated)
    out: dict[str, Any] = {
        "code": 0,
        "account_type": row.account_type,
        "account_trading_mode": row.trading_mode,
        "index": row.account_index,
        "l1_address": row.l1_address,
        "cancel_all_time": 0,
        "total_order_count": total_orders,
        "total_isolated_order_count": 0,
        "pending_order_count": view.open_orders,
        "available_balance": _usdc(view.withdrawable),
        "status": 1,
        "collateral": _usdc(view.cash),
        "transaction_time": row.created_at * 1000,
    }
    if not detailed:
        return out
    positions = []
    for p in view.positions:
        m = markets.BY_SYMBOL[p.coin]
        positions.append(
            {
                "market_id": m.market_id,
                "symbol": m.symbol,
                "initial_margin_fraction": f"{100 / p.leverage:.2f}",
                "open_order_count": open_by_coin.get(p.coin, 0),
                "pending_order_count": 0,
                "position_tied_order_count": 0,
                "sign": 1 if p.szi > 0 else -1,
                "position": m.size(abs(p.szi)),
                "avg_entry_price": m.price(p.entry_px),
                "position_value": _usdc(p.position_value),
                "unrealized_pnl": _usdc(p.unrealized_pnl),
                "realized_pnl": _usdc(realized.get(p.coin, 0.0)),
                "liquidation_price": m.price(p.liquidation_px or 0.0),
                "total_funding_paid_out": _usdc(-funding.get(p.coin, {}).get("net", 0.0)),
                "margin_mode": 1 if p.isolated else 0,
                "allocated_margin": _usdc(p.margin_used - p.unrealized_pnl if p.isolated else 0.0),
                "total_discount": "0.000000",
                "margin_set_flag": 0,
            }
        )
    return out | {
        "account_index": row.account_index,
        "name": "",
        "description": "",
        "can_invite": True,
        "referral_points_percentage": "0",
        "positions": positions,
        "assets": [],
        "total_asset_value": _usdc(view.value),
        "cross_asset_value": _usdc(view.value - sum(p.margin_used for p in isolated)),
        "pool_info": {
            "status": 0,
            "operator_fee": "0",
            "min_operator_share_rate": "0",
            "total_shares": 0,
            "operator_shares": 0,
            "annual_percentage_yield": 0,
            "daily_returns": [],
            "share_prices": [],
            "sharpe_ratio": 0,
            "strategies": [],
        },
        "shares": [],
        "created_at": row.created_at,
        "can_rfq": False,
        "cross_initial_margin_requirement": _usdc(cross_margin),
        "cross_maintenance_margin_requirement": _usdc(view.cross_maintenance_margin),
        "can_rfq_market_ids": [],
        "metadata": {"color": ""},
        "agent_enabled": False,
    }


def trade_json(fill: dict[str, Any], account_index: int, order: Any) -> dict[str, Any]:
    """One of the account's fills as Lighter's ``Trade``: the other side is the synthetic book
    (account 0, order 0). ``timestamp`` in ms, ``transaction_time`` in µs, as the venue's."""
    m = markets.BY_SYMBOL[fill["coin"]]
    mine = order.order_index if order is not None else 0
    client = order.client_order_index if order is not None else 0
    buy, maker = fill["is_buy"], fill["maker"]
    before = fill["start_position"]
    after = before + (fill["sz"] if buy else -fill["sz"])
    size_before = m.size(before)  # signed: negative for a short
    fee = round(fill["fee"] / (fill["px"] * fill["sz"]) * 1e6) if fill["px"] * fill["sz"] else 0  # 1e-4 %
    out = {
        "trade_id": fill["id"],
        "trade_id_str": str(fill["id"]),
        "tx_hash": f"{fill['id']:080x}",
        "type": "liquidation" if fill["liquidation"] else "trade",
        "market_id": m.market_id,
        "size": m.size(fill["sz"]),
        "price": m.price(fill["px"]),
        "usd_amount": _usdc(fill["px"] * fill["sz"]),
        "ask_id": 0 if buy else mine,
        "bid_id": mine if buy else 0,
        "ask_id_str": str(0 if buy else mine),
        "bid_id_str": str(mine if buy else 0),
        "ask_account_id": 0 if buy else account_index,
        "bid_account_id": account_index if buy else 0,
        "ask_client_id": 0 if buy else client,
        "bid_client_id": client if buy else 0,
        "ask_client_id_str": str(0 if buy else client),
        "bid_client_id_str": str(client if buy else 0),
        "is_maker_ask": (not buy) == maker,
        "block_height": fill["id"],
        "timestamp": fill["time"],
        "taker_position_size_before": "0" if maker else size_before,
        "taker_entry_quote_before": "0",
        "taker_initial_margin_fraction_before": 0,
        "taker_position_sign_changed": (not maker) and before * after < 0,
        "maker_position_size_before": size_before if maker else "0",
        "maker_entry_quote_before": "0",
        "maker_initial_margin_fraction_before": 0,
        "maker_position_sign_changed": maker and before * after < 0,
        "transaction_time": fill["time"] * 1000,
        "bid_account_pnl": _usdc(fill["closed_pnl"] if buy else 0.0),
        "ask_account_pnl": _usdc(0.0 if buy else fill["closed_pnl"]),
        "integrator_maker_fee": 0,
        "integrator_maker_fee_collector_index": 0,
        "integrator_taker_fee": 0,
        "integrator_taker_fee_collector_index": 0,
        "taker_allocated_margin_usdc_before": 0,
        "taker_allocated_margin_usdc_after": 0,
        "maker_allocated_margin_usdc_before": 0,
        "maker_allocated_margin_usdc_after": 0,
        "bid_order_version": 0,
        "ask_order_version": 0,
        "market_symbol": m.symbol,
        "market_kind": "perps",
    }
    if fee:  # zero fees are omitted, as the venue's
        out["maker_fee" if maker else "taker_fee"] = fee
    return out
