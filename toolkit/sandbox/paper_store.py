"""Persistence of the paper venue: the engine's state and its event rows, written together.

Every change the venue makes (an order, a deposit, a stretch of hours) ends in ``commit``: the
events since the last commit and the engine state after them go to the database in one
transaction. A process killed at any point restarts from the last commit, and the clock (stored
separately, before an advance is processed) brings it forward again through the same hours, so no
funding payment is applied twice or lost. The reads serve the venue's history requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as Database

from toolkit.sandbox import store
from toolkit.sandbox.engine.core import Fill, FundingBatch, Liquidation
from toolkit.sandbox.engine.orders import OrderUpdate
from toolkit.sandbox.universe import COINS


@dataclass
class Saved:
    market_seed: int
    market_start: int
    clock: dict[str, int]
    accounts: list[dict[str, Any]]  # account_state of each account, in account order
    owners: dict[str, int]  # "venue:address" -> account


@dataclass
class Pending:
    """Events since the last commit, in the shape of their tables."""

    fills: list[dict[str, Any]] = field(default_factory=list)
    funding: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    liquidations: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    next_fill_id: int = 1  # fills are numbered here, so a fill's id is known before it is stored

    def __len__(self) -> int:
        return (
            len(self.fills) + len(self.funding) + len(self.ledger) + len(self.liquidations) + len(self.orders)
        )

    def add(self, event: Any, coins: tuple[str, ...]) -> None:
        if isinstance(event, Fill):
            self.fills.append(
                {
                    "id": self.next_fill_id, "account": event.account, "time": event.time, "coin": event.coin,
                    "is_buy": event.is_buy, "px": event.px, "sz": event.sz, "fee": event.fee,
                    "closed_pnl": event.closed_pnl, "start_position": event.start_position,
                    "maker": event.maker, "oid": event.oid, "cloid": event.cloid,
                    "liquidation": event.liquidation, "builder_fee": event.builder_fee,
                }
            )  # fmt: skip
            self.next_fill_id += 1
        elif isinstance(event, OrderUpdate):
            self.orders.append(
                {
                    "account": event.account, "oid": event.order["oid"], "cloid": event.order["cloid"],
                    "time": event.time, "status": event.status,
                    "order": json.dumps(event.order, separators=(",", ":")),
                }
            )  # fmt: skip
        elif isinstance(event, FundingBatch):
            names = np.array(coins, dtype=object)[event.coin]
            self.funding.extend(
                {"account": a, "coin": c, "hour": event.hour, "time": event.time, "szi": s, "rate": r,
                 "oracle_px": o, "usdc": u}
                for a, c, s, r, o, u in zip(
                    event.account.tolist(), names.tolist(), event.szi.tolist(), event.rate.tolist(),
                    event.oracle_px.tolist(), event.usdc.tolist(), strict=True,
                )
            )  # fmt: skip
        elif isinstance(event, Liquidation):
            self.liquidations.append(
                {
                    "account": event.account, "time": event.time, "coin": event.coin,
                    "position_size": event.position_size, "entry_price": event.entry_price,
                    "liquidation_price": event.liquidation_price, "mark_price": event.mark_price,
                    "account_value_before": event.account_value_before,
                    "maintenance_margin": event.maintenance_margin, "realized_loss": event.realized_loss,
                    "leverage_type": event.leverage_type,
                }
            )  # fmt: skip
            delta = {  # plain numbers: each venue words the row when it serves it
                "type": "liquidation",
                "liquidatedNtlPos": abs(event.position_size) * event.mark_price,
                "accountValue": event.account_value_before,
                "leverageType": event.leverage_type,
                "liquidatedPositions": [{"coin": event.coin, "szi": event.position_size}],
            }
            self.ledger_row(event.account, event.time, "liquidation", event.realized_loss, delta)

    def ledger_row(self, account: int, time: int, kind: str, usdc: float, delta: dict[str, Any]) -> None:
        self.ledger.append(
            {"account": account, "time": time, "kind": kind, "usdc": usdc, "delta": json.dumps(delta)}
        )


class PaperStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.stored_accounts = 0  # accounts 0..n-1 have a row; later ones are inserted
        self._compiled: dict[tuple[Any, ...], Any] = {}
        a, st = store.pp_accounts, store.pp_state
        self._update_account = (
            a.update().where(a.c.account == sa.bindparam("b_account")).values(state=sa.bindparam("b_state"))
        )
        fields = ("market_seed", "market_start", "now", "funded_hour", "next_oid", "updated_at")
        self._update_state = (
            st.update().where(st.c.id == 1).values({f: sa.bindparam(f"b_{f}") for f in fields})
        )

    def _insert(self, conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Insert many rows of one shape: the statement compiled once for the database's dialect and
        handed to the driver as it is (a year of funding is millions of rows; SQLAlchemy's per-row
        parameter processing would cost more than the database itself)."""
        keys = tuple(rows[0])
        cache_key = (table.name, keys, conn.dialect.name)
        compiled = self._compiled.get(cache_key)
        if compiled is None:
            compiled = self._compiled[cache_key] = table.insert().compile(
                dialect=conn.dialect, column_keys=list(keys)
            )
        if compiled.positional:
            order = compiled.positiontup or ()
            conn.exec_driver_sql(str(compiled), [tuple(row[k] for k in order) for row in rows])
        else:
            conn.exec_driver_sql(str(compiled), rows)

    def next_fill_id(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(store.pp_fills.c.id))).scalar() or 0) + 1

    def load(self) -> Saved | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(store.pp_state).where(store.pp_state.c.id == 1)).first()
            if row is None:
                return None
            a = store.pp_accounts
            accounts = conn.execute(sa.select(a.c.owner, a.c.state).order_by(a.c.account)).all()
        self.stored_accounts = len(accounts)
        return Saved(
            row.market_seed,
            row.market_start,
            {"now": row.now, "funded_hour": row.funded_hour, "next_oid": row.next_oid},
            [json.loads(state) for _, state in accounts],
            {owner: i for i, (owner, _) in enumerate(accounts)},
        )

    def commit(
        self, conn: Connection, pending: Pending, seed: int, start: int, clock: dict[str, int],
        changed: dict[int, dict[str, Any]], owners: dict[int, str], now_ms: int,
    ) -> None:  # fmt: skip
        """The pending rows, the changed accounts and the clock, in ``conn``'s transaction (the
        caller commits it, with whatever else it wrote)."""
        updates = [
            {"b_account": account, "b_state": json.dumps(state, separators=(",", ":"))}
            for account, state in changed.items()
            if account < self.stored_accounts
        ]
        inserts = [
            {"account": account, "owner": owners[account], "state": json.dumps(state, separators=(",", ":"))}
            for account, state in sorted(changed.items())
            if account >= self.stored_accounts
        ]
        values = clock | {"market_seed": seed, "market_start": start, "updated_at": now_ms}
        for table, rows in (
            (store.pp_fills, pending.fills),
            (store.pp_funding, pending.funding),
            (store.pp_ledger, pending.ledger),
            (store.pp_liquidations, pending.liquidations),
            (store.pp_orders, pending.orders),
            (store.pp_accounts, inserts),
        ):
            if rows:
                self._insert(conn, table, rows)
        if updates:
            conn.execute(self._update_account, updates)
        if conn.execute(self._update_state, {f"b_{k}": v for k, v in values.items()}).rowcount == 0:
            conn.execute(store.pp_state.insert().values(id=1, **values))
        if inserts:
            self.stored_accounts = inserts[-1]["account"] + 1

    # -- reads -------------------------------------------------------------------------------------------

    def _rows(self, query: sa.Select) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    @staticmethod
    def _window(
        table: sa.Table, account: int, start: int | None, end: int | None, coin: str | None = None
    ) -> sa.Select:
        """One account's rows of ``table`` with ``start <= time <= end`` (either bound optional)."""
        q = sa.select(table).where(table.c.account == account)
        if start is not None:
            q = q.where(table.c.time >= start)
        if end is not None:
            q = q.where(table.c.time <= end)
        if coin is not None:
            q = q.where(table.c.coin == coin)
        return q

    def fills(
        self, account: int, start: int | None, end: int | None, limit: int, oldest_first: bool = False
    ) -> list[dict[str, Any]]:
        """Newest first, or oldest first."""
        t = store.pp_fills
        order = t.c.id if oldest_first else t.c.id.desc()
        return self._rows(self._window(t, account, start, end).order_by(order).limit(limit))

    def funding(
        self, account: int, start: int = 0, end: int | None = None, coin: str | None = None,
        limit: int | None = None, newest_first: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        t = store.pp_funding
        order = (t.c.time.desc(), t.c.coin.desc()) if newest_first else (t.c.time, t.c.coin)
        return self._rows(self._window(t, account, start, end, coin).order_by(*order).limit(limit))

    def funding_totals(self, account: int, coin: str | None = None) -> dict[str, dict[str, float]]:
        """Per coin: paid (negative payments), received, net and count."""
        t = store.pp_funding
        neg = sa.func.coalesce(sa.func.sum(sa.case((t.c.usdc < 0, t.c.usdc), else_=0.0)), 0.0)
        pos = sa.func.coalesce(sa.func.sum(sa.case((t.c.usdc > 0, t.c.usdc), else_=0.0)), 0.0)
        q = sa.select(t.c.coin, neg, pos, sa.func.count()).where(t.c.account == account)
        if coin is not None:
            q = q.where(t.c.coin == coin)
        with self.db.connect() as conn:
            rows = conn.execute(q.group_by(t.c.coin).order_by(t.c.coin)).all()
        return {c: {"paid": p, "received": r, "net": p + r, "count": n} for c, p, r, n in rows}

    def order_status(self, account: int, ref: int | str) -> dict[str, Any] | None:
        """The latest status row of an order, by oid or by cloid."""
        t = store.pp_orders
        if isinstance(ref, int) and not 0 <= ref < 2**63:
            return None  # a u64 no order ever had (and no database integer holds)
        match = t.c.cloid == ref.lower() if isinstance(ref, str) else t.c.oid == ref
        rows = self._rows(sa.select(t).where(t.c.account == account, match).order_by(t.c.id.desc()).limit(1))
        return rows[0] if rows else None

    def historical_orders(self, account: int, limit: int) -> list[dict[str, Any]]:
        """Each order's latest status, for the ``limit`` orders changed most recently, newest first."""
        t = store.pp_orders
        latest = sa.select(sa.func.max(t.c.id)).where(t.c.account == account).group_by(t.c.oid)
        return self._rows(sa.select(t).where(t.c.id.in_(latest)).order_by(t.c.id.desc()).limit(limit))

    def recent_trades(self, coin: str, limit: int) -> list[dict[str, Any]]:
        t = store.pp_fills
        return self._rows(sa.select(t).where(t.c.coin == coin).order_by(t.c.id.desc()).limit(limit))

    def daily_volume(self, account: int, days: int) -> list[tuple[int, float, float]]:
        t = store.pp_fills
        day = (t.c.time // 86_400_000).label("day")
        taker = sa.func.sum(sa.case((t.c.maker == sa.false(), t.c.px * t.c.sz), else_=0.0))
        maker = sa.func.sum(sa.case((t.c.maker == sa.true(), t.c.px * t.c.sz), else_=0.0))
        q = sa.select(day, taker, maker).where(t.c.account == account).group_by(day)
        with self.db.connect() as conn:
            rows = conn.execute(q.order_by(day.desc()).limit(days)).all()
        return [(int(d), float(a or 0), float(b or 0)) for d, a, b in reversed(rows)]

    def value_history(self, account: int, bucket: int, start: int) -> list[tuple[int, float, float, float]]:
        """Per bucket from ``start`` (oldest first): the cash that moved (PnL, fees, funding,
        deposits, withdrawals), the deposits net of withdrawals, and the volume traded; plus one
        row before ``start`` with the totals until then."""
        f, p, g = store.pp_fills, store.pp_funding, store.pp_ledger
        sums: dict[int, list[float]] = {}

        def add(table: sa.Table, cash: Any, deposit: Any, volume: Any, *where: Any) -> None:
            key = sa.case((table.c.time < start, -1), else_=table.c.time // bucket).label("k")
            q = sa.select(key, sa.func.sum(cash), sa.func.sum(deposit), sa.func.sum(volume))
            q = q.where(table.c.account == account, *where).group_by(key)
            with self.db.connect() as conn:
                for k, a, b, c in conn.execute(q):
                    row = sums.setdefault(int(k), [0.0, 0.0, 0.0])
                    row[0] += float(a or 0)
                    row[1] += float(b or 0)
                    row[2] += float(c or 0)

        add(f, f.c.closed_pnl - f.c.fee, sa.literal(0.0), f.c.px * f.c.sz)
        add(p, p.c.usdc, sa.literal(0.0), sa.literal(0.0))
        add(g, g.c.usdc, g.c.usdc, sa.literal(0.0), g.c.kind.in_(("deposit", "withdraw", "send")))
        return [(k * bucket if k >= 0 else start - 1, *v) for k, v in sorted(sums.items())]

    def ledger(self, account: int, start: int, end: int, limit: int) -> list[dict[str, Any]]:
        t = store.pp_ledger
        return self._rows(self._window(t, account, start, end).order_by(t.c.id).limit(limit))

    def liquidations(self, account: int) -> list[dict[str, Any]]:
        """Newest first."""
        t = store.pp_liquidations
        return self._rows(sa.select(t).where(t.c.account == account).order_by(t.c.id.desc()))

    def income(self, account: int, start: int, end: int, symbol_coin: str | None, kind: str | None,
               limit: int) -> list[dict[str, Any]]:  # fmt: skip
        """Aster's income rows (oldest first), derived from fills, funding payments and deposits."""
        out: list[dict[str, Any]] = []

        def row(kind_: str, amount: float, time: int, coin: str, tran: str, trade: int | None) -> None:
            out.append(
                {"symbol": f"{coin}USDT" if coin else "", "incomeType": kind_, "income": f"{amount:.8f}",
                 "asset": "USDT", "info": kind_, "time": time, "tranId": tran,
                 "tradeId": str(trade) if trade is not None else ""}
            )  # fmt: skip

        def want(k: str) -> bool:
            return kind in (None, k)

        # each source's oldest ``limit`` rows are enough: only the oldest ``limit`` of all are kept
        fills, funding, ledger = store.pp_fills, store.pp_funding, store.pp_ledger
        with self.db.connect() as conn:
            # only fills that make a row count toward the limit: a fee, or realized PnL, as asked
            makes_row = [c for k, c in (("COMMISSION", fills.c.fee != 0),
                                        ("REALIZED_PNL", fills.c.closed_pnl != 0)) if want(k)]  # fmt: skip
            if makes_row:
                q = self._window(fills, account, start, end, symbol_coin).where(sa.or_(*makes_row))
                for f in conn.execute(q.order_by(fills.c.id).limit(limit)):
                    if f.fee and want("COMMISSION"):
                        row("COMMISSION", -f.fee, f.time, f.coin, f"1{f.id:012d}", f.oid)
                    if f.closed_pnl and want("REALIZED_PNL"):
                        row("REALIZED_PNL", f.closed_pnl, f.time, f.coin, f"2{f.id:012d}", f.oid)
            if want("FUNDING_FEE"):
                q = self._window(funding, account, start, end, symbol_coin)
                for f in conn.execute(q.order_by(funding.c.time, funding.c.coin).limit(limit)):
                    tran = f"3{f.hour:07d}{COINS.index(f.coin):02d}{f.account:06d}"
                    row("FUNDING_FEE", f.usdc, f.time, f.coin, tran, None)
            if want("TRANSFER") and not symbol_coin:
                transfers = ledger.c.kind.in_(("deposit", "withdraw"))
                q = self._window(ledger, account, start, end).where(transfers)
                for d in conn.execute(q.order_by(ledger.c.id).limit(limit)):
                    row("TRANSFER", d.usdc, d.time, "", f"4{d.id:012d}", None)
        out.sort(key=lambda r: (r["time"], r["tranId"]))
        return out[:limit]
