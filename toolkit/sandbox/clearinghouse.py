"""The clearinghouse: the one owner of paper state for every paper venue (Hyperliquid, Aster,
PaperExchange).

Every change (an order, a cancel, a leverage change, a deposit, a withdrawal, a top-up, the hours
of funding, fills and liquidations a moved clock brings) is one method that runs inside one database
transaction: it commits the accounts, fills, payments and ledger rows it touched, or nothing, and
memory falls back to the last commit. Engine cash is the only balance; venues keep identity (keys,
agents, nonces) and render the clearinghouse's plain numbers in their own words.

All of it runs on one worker thread that owns the state, never on the event loop. Work that
arrives together shares one transaction (a group commit; each caller is answered only after it),
and long work (a clock moved a year, a restart's catch-up) runs in slices of bounded time with the
waiting requests served between them, at the time the engine has reached.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine as Database

from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.engine import marketdata
from toolkit.sandbox.engine.core import Cancelled, Engine, Filled, Order, Rejected, Resting
from toolkit.sandbox.engine.market import HOUR_MS, Market
from toolkit.sandbox.engine.orders import Waiting
from toolkit.sandbox.engine.specs import AccountRules, OrderRejected, Reason
from toolkit.sandbox.market import SyntheticMarket
from toolkit.sandbox.paper_store import PaperStore, Pending
from toolkit.sandbox.universe import COINS
from toolkit.venues.refusal import VenueRefusal

log = logging.getLogger("toolkit.sandbox")
T = TypeVar("T")

HISTORY_DAYS = 90  # market history available before the sandbox started
SLICE_SECONDS = 0.05  # the longest stretch of work between two chances for waiting requests
COMMIT_ROWS = 8_000  # a catch-up commits once this many event rows wait (storing them takes ~0.1 s)...
COMMIT_HOURS = 24  # ...or once a simulated day has been processed, and whenever it catches up
GROUP_JOBS = 256  # at most this many requests share one transaction
IDLE_WAKE_SECONDS = 60.0  # an idle worker still wakes this often (and at every hour boundary)
MAX_BALANCE = store.MAX_BALANCE_MICRO / 1e6

# Refusals: raised before a job changes anything, so the rest of its group stands
EXPECTED = (VenueRefusal, OrderRejected, store.BalanceCap)


def owner(venue: str, user: str) -> str:
    """The clearinghouse's name for an account: the venue and the address (or user id)."""
    return f"{venue}:{user.lower()}"


@dataclass(frozen=True)
class OrderRequest:
    """One order in the engine's terms: ``px`` None is a market order (IOC through the mark)."""

    coin: str
    is_buy: bool
    sz: str
    px: str | None
    tif: str = "Gtc"
    reduce_only: bool = False
    cloid: str | None = None
    trigger: tuple[str, bool, str] | None = None  # (trigger price, is_market, "tp" or "sl")

    def arguments(self) -> dict[str, Any]:
        """``Engine.place``'s keyword arguments (the coin first)."""
        return {"coin": self.coin, "is_buy": self.is_buy, "px": self.px, "sz": self.sz, "tif": self.tif,
                "reduce_only": self.reduce_only, "cloid": self.cloid, "trigger": self.trigger}  # fmt: skip


@dataclass(frozen=True)
class Position:
    coin: str
    szi: float
    entry_px: float
    mark_px: float
    position_value: float
    unrealized_pnl: float
    leverage: int
    isolated: bool
    margin_used: float
    liquidation_px: float | None
    cum_funding: float  # positive = received by the account (Hyperliquid's own view shows paid as positive)
    maintenance_margin: float
    max_leverage: int


@dataclass(frozen=True)
class AccountView:
    """One account at ``time``: every figure a venue's balance, account or position read shows."""

    time: int
    exists: bool
    cash: float  # deposits + realized - fees + funding - withdrawals
    deposits: float
    realized: float
    fees: float
    funding: float
    volume: float
    withdrawn: float
    value: float  # cash + unrealized PnL
    unrealized_pnl: float
    cross_unrealized_pnl: float
    isolated_margin: float  # the part of cash allocated to isolated positions
    margin_used: float
    cross_maintenance_margin: float
    positions: list[Position]
    open_orders: int
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def withdrawable(self) -> float:
        return max(self.value - self.margin_used, 0.0)

    @property
    def notional(self) -> float:
        return sum(p.position_value for p in self.positions)


@dataclass(frozen=True)
class AssetContext:
    coin: str
    funding: float
    premium: float
    open_interest: float
    oracle_px: float
    mark_px: float
    prev_day_px: float
    mid_px: float | None = None
    impact_pxs: tuple[float, float] | None = None  # (bid, ask): taking the impact notional from the book


@dataclass(frozen=True)
class Progress:
    """How far the engine is behind the sandbox clock (what ``/sandbox/status`` shows)."""

    engine_ms: int
    clock_ms: int
    hours_behind: int
    caught_up: bool
    catch_up_from_ms: int | None  # where the current catch-up started, if one runs

    @property
    def fraction(self) -> float:
        if self.caught_up or self.catch_up_from_ms is None:
            return 1.0
        span = self.clock_ms - self.catch_up_from_ms
        return min(1.0, max(0.0, (self.engine_ms - self.catch_up_from_ms) / span)) if span > 0 else 1.0


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: Future


def reads(fn: Callable[..., T]) -> Callable[..., T]:
    """Mark a job that only reads the engine: it runs outside any transaction (when nothing waits
    to be stored), and after it the engine needs no settling again at the same moment."""
    fn.read_only = True  # type: ignore[attr-defined]
    return fn


class _JobFailed(Exception):
    def __init__(self, job: _Job, exc: BaseException) -> None:
        self.job, self.exc = job, exc


class Clearinghouse:
    def __init__(
        self, clock: Clock, db: Database, seed: int = 0, market: Market | None = None, driven: bool = False
    ) -> None:
        """``market``: the hours to trade (a replay); by default the seeded synthetic market.
        ``driven``: no worker thread; whoever submits a job runs it (and the catch-up before it)
        itself, one at a time: for a throwaway sandbox one loop drives (a backtest), where the
        hand-off to a worker would cost more than the work. The hours a driven clock moves are
        stored a simulated day at a time, and before any change or any read of the database, rather
        than at every step (reads of memory, such as an account's state, need no commit)."""
        self.clock = clock
        self.driven = driven
        self._turn = threading.RLock()  # driven: one caller at a time runs the engine
        self._turn_owner: int | None = None
        self._replay = market
        self.db = db
        self.store = PaperStore(db)
        self._seed = seed
        self.on_rollback: list[Callable[[], None]] = []  # venues' caches of rows a rollback undid
        self.before_commit: list[Callable[[Connection], None]] = []  # venues' rows written at commit
        self._jobs: deque[_Job] = deque()
        self._wake = threading.Condition()
        self._waiters: list[tuple[int, Future]] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._conn: Connection | None = None  # the running group's, while it runs
        self._dbconn: Connection | None = None
        self._catch_up_from: int | None = None
        self._settled_at: int | None = None  # the moment settled last, if no write came after it
        self._unstored: set[int] = set()
        self._committed: list[Pending] = []  # what the running transaction commits, for after_commit
        # Called on the worker with each commit's rows (and the owner of each account), after the commit:
        # how the websocket streams fills, funding, ledger updates and order statuses.
        self.after_commit: list[Callable[[list[Pending], dict[int, str]], None]] = []
        # Each venue's rules for its accounts (price rule, fees), by the venue part of the owner name
        self._rules: dict[str, Callable[[str], AccountRules]] = {}
        self._load()
        if driven:  # whoever opens a connection reads what the hours so far wrote
            sa.event.listen(db, "engine_connect", self._store_before_reading)

    # -- state ---------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Build the engine from the last commit, or afresh on a new database."""
        saved = self.store.load()
        now = self.clock.now_ms()
        if saved is not None:
            self._seed = saved.market_seed
        start = saved.market_start if saved is not None else now - HISTORY_DAYS * 24 * HOUR_MS
        self.market = self._replay or SyntheticMarket(seed=self._seed, start_ms=start)
        assert self.market.coins == COINS
        self.engine = Engine(self.market, start_ms=now if saved is None else saved.clock["now"])
        self.engine.keep_events = False
        self.engine.listeners.append(self._record)
        self.accounts: dict[str, int] = {}  # "venue:address" -> engine account
        if saved is not None:
            self.engine.load_state(saved.clock, saved.accounts)
            self.accounts = saved.owners
        self._owners = {account: owner for owner, account in self.accounts.items()}
        for name in self.accounts:
            self._apply_rules(name)
        self.pending = Pending(next_fill_id=self.store.next_fill_id())
        self._committed_hour = self.engine.funded_hour

    def _record(self, event: Any) -> None:
        self.pending.add(event, self.engine.coins)

    def _rollback_memory(self) -> None:
        self._settled_at = None
        self._load()
        for forget in self.on_rollback:
            forget()

    # -- the worker ----------------------------------------------------------------------------------

    def start(self) -> None:
        if self.driven:
            return
        with self._wake:
            if self._thread is None:
                self._stopping = False
                # in the starter's context: its records go to the log of the sandbox it serves
                context = contextvars.copy_context()
                self._thread = threading.Thread(
                    target=context.run, args=(self._run,), name="clearinghouse", daemon=True
                )
                self._thread.start()

    def close(self) -> None:
        """Finish the waiting work, then stop the worker."""
        if self.driven:
            with self._turn:
                if self._dbconn is not None:
                    self._dbconn.close()
            return
        with self._wake:
            thread, self._stopping = self._thread, True
            self._wake.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)
        self._thread = None

    def on_worker(self) -> bool:
        if self.driven:
            return self._turn_owner == threading.get_ident()
        return self._thread is not None and threading.current_thread() is self._thread

    def _drive(self, job: _Job | None, future: Future) -> None:
        """Driven: catch up with the clock, then run ``job``, in this thread; ``future`` gets a
        failure of the catch-up (the job's own outcome goes to the job's future)."""
        with self._turn:
            outer, self._turn_owner = self._turn_owner, threading.get_ident()
            try:
                while True:
                    self._catch_up_slice(flush=job is not None and not getattr(job.fn, "read_only", False))
                    if not self._behind():
                        break
                if job is not None:
                    self._run_group([job])
                elif not future.done():
                    future.set_result(self.engine.now)
            except BaseException as exc:
                log.exception("clearinghouse: unexpected failure")
                if not future.done():
                    future.set_exception(exc)
            finally:
                self._turn_owner = outer

    def _store_before_reading(self, _conn: Connection) -> None:
        """Driven: a connection opens (a history read, a venue's own rows): store the hours the
        clock has moved through first, so it sees them (the clearinghouse's own is left alone)."""
        if self.on_worker() or not self._uncommitted():
            return
        with self._turn:
            outer, self._turn_owner = self._turn_owner, threading.get_ident()
            try:
                if self._uncommitted():
                    with self._transaction() as conn:
                        self._store(conn)
            finally:
                self._turn_owner = outer

    def submit(self, fn: Callable[..., T], *args: Any) -> Future:
        """Queue ``fn(self, *args)`` for the worker; its future resolves after its commit."""
        future: Future = Future()
        if self.driven:
            self._drive(_Job(fn, args, future), future)
            return future
        if self._thread is None:
            self.start()
        with self._wake:
            self._jobs.append(_Job(fn, args, future))
            self._wake.notify()
        return future

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(self, *args)`` as one transaction and return its result (inline on the worker:
        a job may call other methods)."""
        if self.on_worker():
            return fn(self, *args)
        return self.submit(fn, *args).result()

    async def acall(self, fn: Callable[..., T], *args: Any) -> T:
        """``call`` for the event loop: it waits without blocking the loop."""
        future = self.submit(fn, *args)
        if future.done():  # driven: already run, no hop through the loop
            return future.result()
        return await asyncio.wrap_future(future)

    def wake(self) -> None:
        """The clock moved: start catching up now."""
        if self.driven:
            return
        with self._wake:
            self._wake.notify()

    def until(self, target_ms: int) -> Future:
        """A future that resolves once the engine has processed the clock up to ``target_ms``."""
        future: Future = Future()
        if self.driven:
            self._drive(None, future)
            return future
        with self._wake:
            if self.engine.now >= target_ms:
                future.set_result(self.engine.now)
            else:
                self._waiters.append((target_ms, future))
                self._wake.notify()
        if self._thread is None:
            self.start()
        return future

    def progress(self) -> Progress:
        engine_ms, clock_ms = self.engine.now, self.clock.now_ms()
        behind = max(0, (clock_ms - self._next_boundary()) // HOUR_MS + 1)
        return Progress(engine_ms, clock_ms, behind, behind == 0, self._catch_up_from)

    def _next_boundary(self) -> int:
        return self.market.start_ms + self.engine.funded_hour * HOUR_MS

    def _behind(self) -> bool:
        return self._next_boundary() <= self.clock.now_ms()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._jobs and not self._stopping and not self._waiters and not self._behind():
                    wait = (self._next_boundary() - self.clock.now_ms()) / 1000
                    self._wake.wait(timeout=min(max(wait, 0.001), IDLE_WAKE_SECONDS))
                if self._stopping and not self._jobs:
                    if self._dbconn is not None:
                        self._dbconn.close()
                    return
                group = [self._jobs.popleft() for _ in range(min(len(self._jobs), GROUP_JOBS))]
            try:
                if group or self.engine.now < self.clock.now_ms():
                    self._catch_up_slice(flush=bool(group))
                if group:
                    self._run_group(group)
            except BaseException as exc:  # never let the worker die: log, fail the waiters, go on
                log.exception("clearinghouse worker: unexpected failure")
                for job in group:
                    if not job.future.done():
                        job.future.set_exception(exc)
                self._fail_waiters(exc)
                time.sleep(0.2)
            self._release_waiters()

    # -- transactions ----------------------------------------------------------------------------------

    def connection(self) -> Connection:
        """The open transaction of the running group: venue rows written here commit with it."""
        if self._conn is None:
            raise RuntimeError("connection() is only open inside a clearinghouse job")
        return self._conn

    def open_transaction(self) -> Connection | None:
        """The running group's transaction, if this is the worker inside one (else None)."""
        conn = self._conn
        return conn if self.on_worker() and conn is not None and conn.in_transaction() else None

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One database transaction for a group or a slice; on any failure, memory goes back to the
        last commit."""
        if self._dbconn is None or self._dbconn.closed or self._dbconn.invalidated:
            self._dbconn = self.db.connect()  # the worker keeps one connection: no pool round trip per group
        conn = self._conn = self._dbconn
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self._committed.clear()
            self._rollback_memory()
            if conn.in_transaction():
                conn.rollback()
            raise
        finally:
            self._conn = None
        committed, self._committed = self._committed, []
        if committed:
            for listener in self.after_commit:
                try:
                    listener(committed, self._owners)
                except Exception:  # a listener's failure never undoes or stops the commit
                    log.exception("clearinghouse: an after-commit listener failed")

    def _store(self, conn: Connection) -> None:
        """Write the waiting events and the state after them, inside ``conn``'s transaction."""
        if not self._uncommitted():
            return
        engine = self.engine
        changed = {account: engine.account_state(account) for account in engine.take_dirty()}
        try:
            self.store.commit(
                conn, self.pending, self._seed, self.market.start_ms, engine.clock_state(), changed,
                self._owners, self.clock.now_ms(),
            )  # fmt: skip
        except Exception:
            self._unstored = {row["oid"] for row in self.pending.fills if not row["liquidation"]}
            raise
        committed, self.pending = self.pending, Pending(next_fill_id=self.pending.next_fill_id)
        self._committed.append(committed)
        self._committed_hour = engine.funded_hour

    def _run_group(self, group: list[_Job]) -> None:
        """Run the jobs in one transaction and answer them after its commit. A job that fails
        unexpectedly is answered with its error and the others run again without it; a commit
        that fails is retried one job at a time, so only the job that cannot be stored fails.
        A group of reads alone runs outside any transaction: it has nothing to store."""
        reads_only = all(getattr(job.fn, "read_only", False) for job in group)
        if reads_only and (self.driven or not self._uncommitted()):
            self._answer_reads(group)
            return
        outcomes: list[tuple[_Job, bool, Any]] = []
        try:
            with self._transaction() as conn:
                deadline = time.perf_counter() + SLICE_SECONDS
                for i, job in enumerate(group):
                    if i and time.perf_counter() > deadline:  # the rest waits for the next group
                        with self._wake:
                            self._jobs.extendleft(reversed(group[i:]))
                        break
                    try:
                        outcomes.append((job, True, job.fn(self, *job.args)))
                    except EXPECTED as exc:
                        outcomes.append((job, False, exc))
                    except Exception as exc:
                        raise _JobFailed(job, exc) from exc
                for write in self.before_commit:
                    write(conn)
                self._store(conn)
        except _JobFailed as failed:
            log.error("a clearinghouse job failed; its group runs again without it", exc_info=failed.exc)
            failed.job.future.set_exception(failed.exc)
            rest = [job for job in group if job is not failed.job]
            if rest:
                self._run_group(rest)
            return
        except Exception as exc:
            self._unstored = set()
            ran = [job for job, *_ in outcomes]
            if len(ran) > 1:
                for job in ran:
                    self._run_group([job])
                return
            for job in ran or group:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        if not reads_only:
            self._settled_at = None
        for job, ok, value in outcomes:
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _answer_reads(self, group: list[_Job]) -> None:
        for job in group:
            try:
                job.future.set_result(job.fn(self, *job.args))
            except Exception as exc:  # a read changes nothing: its failure is its own
                if not isinstance(exc, EXPECTED):
                    log.error("a clearinghouse read failed", exc_info=exc)
                job.future.set_exception(exc)

    # -- time ------------------------------------------------------------------------------------------

    def _catch_up_slice(self, flush: bool = False) -> None:
        """Process hours toward the clock for at most ``SLICE_SECONDS``; commit every simulated day,
        every ``COMMIT_ROWS`` rows, on catching up, and before requests run (``flush``: a request's
        transaction holds only its own rows). If a resting order's fill cannot be stored, that
        order alone is cancelled and the slice runs again: one bad order never stops the clock."""
        try:
            self._slice(flush)
        except Exception:
            suspects, self._unstored = self._unstored, set()
            if not suspects or not self._quarantine(suspects):
                raise
            log.exception("a resting order's fill could not be stored; cancelled %s", sorted(suspects))
            self._slice(flush)

    def _slice(self, flush: bool) -> None:
        engine, target = self.engine, self.clock.now_ms()
        if self._catch_up_from is None and self._behind():
            self._catch_up_from = engine.now
        deadline = time.perf_counter() + SLICE_SECONDS
        try:
            while (boundary := self._next_boundary()) <= target:
                engine.advance_to(boundary)
                self._settled_at = boundary
                if time.perf_counter() > deadline or len(self.pending) >= COMMIT_ROWS:
                    break
            else:
                if not (engine.now == target == self._settled_at):  # else: settled, nothing since
                    engine.advance_to(max(engine.now, target))
                    self._settled_at = engine.now if engine.now == target else None
        except BaseException:
            self._rollback_memory()
            raise
        caught_up = not self._behind()
        due = len(self.pending) >= COMMIT_ROWS or engine.funded_hour - self._committed_hour >= COMMIT_HOURS
        if (flush or due or (caught_up and not self.driven)) and self._uncommitted():
            with self._transaction() as conn:
                self._store(conn)
        if caught_up:
            self._catch_up_from = None

    def _uncommitted(self) -> bool:
        engine = self.engine
        return bool(
            len(self.pending)
            or engine.dirty
            or engine.all_dirty
            or engine.funded_hour != self._committed_hour
        )

    def _quarantine(self, oids: set[int]) -> bool:
        """Cancel the resting orders among ``oids`` (memory is back at the last commit); True if any."""
        orders = [self.engine.orders[oid] for oid in sorted(oids) if oid in self.engine.orders]
        if not orders:
            return False
        with self._transaction() as conn:
            for order in orders:
                self.engine.cancel(order.account, order.oid)
            self._store(conn)
        return True

    def _release_waiters(self) -> None:
        with self._wake:
            now, still = self.engine.now, []
            for target, future in self._waiters:
                if now >= target:
                    future.set_result(now)
                else:
                    still.append((target, future))
            self._waiters = still

    def _fail_waiters(self, exc: BaseException) -> None:
        with self._wake:
            waiters, self._waiters = self._waiters, []
        for _, future in waiters:
            future.set_exception(exc)

    # -- accounts and money --------------------------------------------------------------------------------

    def account(self, owner: str) -> int | None:
        """The engine account of ``owner`` ("venue:address"), if it has one."""
        return self.accounts.get(owner)

    def _open(self, owner: str) -> int:
        account = self.accounts.get(owner)
        if account is None:
            account = self.accounts[owner] = self.engine.open_account()
            self._owners[account] = owner
            self._apply_rules(owner)
        return account

    def set_rules(self, venue: str, rules: Callable[[str], AccountRules]) -> None:
        """``venue``'s rules for each of its accounts (by owner name): its price rule and fees.
        Applied to the accounts it has now, to each it opens, and after every reload."""
        self._rules[venue] = rules
        for name in list(self.accounts):
            self._apply_rules(name)

    def change_rules(self, owner: str, rules: AccountRules) -> None:
        """``owner``'s rules from now on (its fee tier changed in the running transaction, which the
        venue's rules function cannot read yet)."""
        account = self.accounts.get(owner)
        if account is not None:
            self.engine.set_rules(account, rules)

    def _apply_rules(self, owner: str) -> None:
        rules = self._rules.get(owner.partition(":")[0])
        account = self.accounts.get(owner)
        if rules is not None and account is not None:
            self.engine.set_rules(account, rules(owner))

    def deposit(
        self, owner: str, usdc: float, identity: Callable[[Connection], None] | None = None
    ) -> dict[str, float]:
        """Credit ``usdc`` to ``owner``'s account, opening it; ``identity`` writes the venue's own
        row for the owner in the same transaction, so both happen or neither. The account's
        ledger after it (cash, deposits, ...)."""
        return self.call(Clearinghouse._deposit_and_ledger, owner, usdc, identity)

    def _deposit_and_ledger(
        self, owner: str, usdc: float, identity: Callable[[Connection], None] | None
    ) -> dict[str, float]:
        return self.engine.ledger(self._deposit(owner, usdc, identity, "deposit"))

    def _deposit(
        self, owner: str, usdc: float, identity: Callable[[Connection], None] | None, kind: str
    ) -> int:
        if not (usdc > 0 and np.isfinite(usdc)):
            raise store.BalanceCap("a deposit must be a positive number")
        account = self.accounts.get(owner)
        cash = 0.0 if account is None else self.engine.ledger(account)["cash"]
        if cash + usdc > MAX_BALANCE:
            raise store.BalanceCap(f"a balance may hold at most {MAX_BALANCE:.0f}")
        if identity is not None:
            identity(self.connection())
        account = self._open(owner)
        self.engine.deposit(account, usdc)
        self.pending.ledger_row(account, self.engine.now, kind, usdc, {"type": kind, "usdc": usdc})
        return account

    def open_funded(self, owner: str, usdc: float) -> int:
        """``owner``'s account, opened with ``usdc`` if it has none (PaperExchange: the plan's balance)."""
        return self.call(Clearinghouse._open_funded, owner, usdc)

    def _open_funded(self, owner: str, usdc: float) -> int:
        account = self.accounts.get(owner)
        return account if account is not None else self._deposit(owner, usdc, None, "deposit")

    def withdraw(self, owner: str, usdc: float) -> float:
        """Take ``usdc`` out of ``owner``'s withdrawable balance; the new cash."""
        return self.call(Clearinghouse._withdraw, owner, usdc)

    def _withdraw(self, owner: str, usdc: float) -> float:
        account = self.accounts.get(owner)
        if not (usdc > 0 and np.isfinite(usdc)):
            raise OrderRejected(Reason.WITHDRAW, requested=usdc, withdrawable=0.0)
        view = self._view(owner)
        if account is None or usdc > view.withdrawable + 1e-9:
            raise OrderRejected(Reason.WITHDRAW, requested=usdc, withdrawable=view.withdrawable)
        self.engine.withdraw(account, usdc)
        self.pending.ledger_row(
            account, self.engine.now, "withdraw", -usdc, {"type": "withdraw", "usdc": usdc}
        )
        return self.engine.ledger(account)["cash"]

    def _send(
        self, source: str, destination: str, usdc: float, identity: Callable[[Connection], None]
    ) -> None:
        """Move ``usdc`` of ``source``'s withdrawable balance to ``destination`` (opening its account;
        ``identity`` writes the venue's row for it), in one transaction; both ledgers show the send."""
        if source == destination:
            raise OrderRejected(Reason.WITHDRAW, requested=usdc, withdrawable=0.0)
        account = self.accounts.get(source)
        available = self._view(source).withdrawable
        if account is None or not (usdc > 0 and np.isfinite(usdc)) or usdc > available + 1e-9:
            raise OrderRejected(Reason.WITHDRAW, requested=usdc, withdrawable=available)
        sender, receiver_address = source.partition(":")[2], destination.partition(":")[2]
        delta = {"type": "send", "user": sender, "destination": receiver_address, "usdc": usdc}
        self.engine.withdraw(account, usdc)
        self.pending.ledger_row(account, self.engine.now, "send", -usdc, delta)
        identity(self.connection())
        receiver = self._open(destination)
        self.engine.deposit(receiver, usdc)
        self.pending.ledger_row(receiver, self.engine.now, "send", usdc, delta)

    def top_up(self, owner: str, usdc: float, below: float) -> tuple[float, float]:
        """PaperExchange's reset: add ``usdc`` if the account's value is under ``below``; (before,
        after). Refused (``Reason.TOP_UP``) otherwise."""
        return self.call(Clearinghouse._top_up, owner, usdc, below)

    def _top_up(self, owner: str, usdc: float, below: float) -> tuple[float, float]:
        before = self._view(owner).value
        if before >= below:
            raise OrderRejected(Reason.TOP_UP, value=before, below=below)
        self._deposit(owner, usdc, None, "deposit")
        return before, self._view(owner).value

    # -- trading ---------------------------------------------------------------------------------------

    def place(
        self,
        owner: str,
        orders: list[OrderRequest],
        grouping: str = "na",
        builder: tuple[str, int] | None = None,
    ) -> list[Filled | Resting | Rejected | Waiting]:
        """Orders of one request. ``grouping`` is Hyperliquid's: "na" (each on its own), "normalTpsl"
        (a parent and its take-profit and stop-loss children) or "positionTpsl" (take-profit and
        stop-loss orders that follow the whole position); ``builder`` (address, tenths of a bp) is
        charged on every fill."""
        return self.call(Clearinghouse._place, owner, orders, grouping, builder)

    def _place(
        self,
        owner: str,
        orders: list[OrderRequest],
        grouping: str = "na",
        builder: tuple[str, int] | None = None,
    ) -> list[Filled | Resting | Rejected | Waiting]:
        account, engine = self._open(owner), self.engine
        requests = [o.arguments() | {"builder": builder} for o in orders]
        if grouping == "na" or not requests:
            return [engine.place(account, **r) for r in requests]
        if grouping == "positionTpsl":
            return engine.place_tpsl(account, None, [r | {"position_tpsl": True} for r in requests])
        if requests[0]["trigger"] is None:
            return engine.place_tpsl(account, requests[0], requests[1:])
        return engine.place_tpsl(account, None, requests)

    def modify(
        self,
        owner: str,
        modifies: list[tuple[int | str, OrderRequest]],
        builder: tuple[str, int] | None = None,
    ) -> list[Filled | Resting | Rejected | Waiting]:
        """Replace open orders (by oid or cloid): each old order is cancelled, the new one placed."""
        return self.call(Clearinghouse._modify, owner, modifies, builder)

    def _modify(
        self,
        owner: str,
        modifies: list[tuple[int | str, OrderRequest]],
        builder: tuple[str, int] | None = None,
    ) -> list[Filled | Resting | Rejected | Waiting]:
        account = self._open(owner)
        return [self.engine.modify(account, ref, **o.arguments(), builder=builder) for ref, o in modifies]

    def schedule_cancel(self, owner: str, at: int | None) -> None:
        self.call(Clearinghouse._schedule_cancel, owner, at)

    def _schedule_cancel(self, owner: str, at: int | None) -> None:
        self.engine.schedule_cancel(self._open(owner), at)

    def update_isolated_margin(self, owner: str, coin: str, usdc: float) -> None:
        self.call(Clearinghouse._update_isolated_margin, owner, coin, usdc)

    def _update_isolated_margin(self, owner: str, coin: str, usdc: float) -> None:
        if not np.isfinite(usdc) or usdc == 0:
            raise OrderRejected(Reason.ISOLATED_MARGIN, available=0.0)
        self.engine.update_isolated_margin(self._open(owner), coin, usdc)

    def cancel(self, owner: str, oids: list[int]) -> list[Cancelled | Rejected]:
        return self.call(Clearinghouse._cancel, owner, oids, False)

    def cancel_by_cloid(self, owner: str, cloids: list[str]) -> list[Cancelled | Rejected]:
        return self.call(Clearinghouse._cancel, owner, cloids, True)

    def _cancel(self, owner: str, refs: list[Any], by_cloid: bool) -> list[Cancelled | Rejected]:
        account = self._open(owner)
        cancel = self.engine.cancel_by_cloid if by_cloid else self.engine.cancel
        return [cancel(account, ref) for ref in refs]

    def update_leverage(self, owner: str, coin: str, leverage: int, is_cross: bool) -> None:
        self.call(Clearinghouse._update_leverage, owner, coin, leverage, is_cross)

    def _update_leverage(self, owner: str, coin: str, leverage: int, is_cross: bool) -> None:
        self.engine.update_leverage(self._open(owner), coin, leverage, is_cross=is_cross)

    # -- engine reads ------------------------------------------------------------------------------------

    def now(self) -> int:
        """The time the engine has reached (the clock's, unless a catch-up is running)."""
        return self.engine.now

    @reads
    def _marks(self) -> tuple[int, dict[str, float]]:
        return self.engine.now, dict(zip(COINS, self.engine.marks().tolist(), strict=True))

    def view(self, owner: str) -> AccountView:
        return self.call(Clearinghouse._view, owner)

    @reads
    def _view(self, owner: str) -> AccountView:
        engine, account, now = self.engine, self.accounts.get(owner), self.engine.now
        if account is None:
            return AccountView(now, False, *([0.0] * 13), [], 0, {})
        marks = engine.marks()
        raw = engine.positions_of(account, marks)
        ledger = engine.ledger(account)
        positions = [
            Position(max_leverage=engine.contract_of(account, COINS.index(p["coin"])).max_leverage, **p)
            for p in raw
        ]
        unrealized = sum(p.unrealized_pnl for p in positions)
        return AccountView(
            time=now,
            exists=True,
            cash=ledger["cash"],
            deposits=ledger["deposits"],
            realized=ledger["realized"],
            fees=ledger["fees"],
            funding=ledger["funding"],
            volume=ledger["volume"],
            withdrawn=ledger["withdrawn"],
            value=engine.account_value(account, marks),
            unrealized_pnl=unrealized,
            cross_unrealized_pnl=sum(p.unrealized_pnl for p in positions if not p.isolated),
            isolated_margin=sum(p.margin_used - p.unrealized_pnl for p in positions if p.isolated),
            margin_used=sum(p.margin_used for p in positions),
            cross_maintenance_margin=sum(p.maintenance_margin for p in positions if not p.isolated),
            positions=positions,
            open_orders=len(engine.open_orders(account)),
            stats=engine.stats(account, marks, unrealized),
        )

    @reads
    def _open_orders(self, owner: str) -> list[Order]:
        account = self.accounts.get(owner)
        return [] if account is None else list(self.engine.open_orders(account))

    @reads
    def _open_snapshots(self, owner: str) -> list[dict[str, Any]]:
        """The open orders as plain snapshots (what the frontend order shape renders from)."""
        return [o.snapshot(self.engine.coins) for o in self._open_orders(owner)]

    @reads
    def _asset_view(self, owner: str, coin: str) -> tuple[AccountView, tuple[int, bool], float]:
        """The account, its leverage setting on ``coin`` (as a new account would have it) and the mark."""
        c = self.engine.coin_index(coin)
        account = self.accounts.get(owner)
        leverage = self.engine.leverage_of(account, c) if account is not None else (
            min(20, self.engine.contracts[c].max_leverage), False)  # fmt: skip
        return self._view(owner), leverage, float(self.engine.marks()[c])

    def volume(self, owner: str) -> float:
        """The USDC ``owner`` has traded (0 without an account)."""
        account = self.accounts.get(owner)
        return 0.0 if account is None else self.engine.ledger(account)["volume"]

    @reads
    def _asset_contexts(self) -> list[AssetContext]:
        now, market, p = self.engine.now, self.market, self.engine.positions
        hour = market.hour(now)
        oi = (
            np.bincount(p.coin, weights=np.abs(p.szi), minlength=len(COINS)) / 2
            if len(p)
            else np.zeros(len(COINS))
        )
        out = []
        for i, coin in enumerate(COINS):
            _, bids, asks = self._book(coin)
            notional = marketdata.impact_notional(coin)
            bid, ask = marketdata.impact_price(bids, notional), marketdata.impact_price(asks, notional)
            out.append(
                AssetContext(
                    coin,
                    market.funding_rate(coin, hour),
                    market.premium(coin, hour),
                    float(oi[i]),
                    market.oracle(coin, now),
                    market.mark(coin, now),
                    market.oracle(coin, now - 24 * HOUR_MS),
                    (bids[0].px + asks[0].px) / 2 if bids and asks else None,
                    (bid, ask) if bid is not None and ask is not None else None,
                )
            )
        return out  # fmt: skip

    @reads
    def _book(self, coin: str) -> tuple[int, list[marketdata.Level], list[marketdata.Level]]:
        """The synthetic book of ``coin`` now, with the users' resting orders in it: (time, bids, asks)."""
        engine = self.engine
        c = engine.coin_index(coin)
        resting = [
            (o.is_buy, o.px, o.sz)
            for o in engine.orders.values()
            if o.coin == c and o.trigger_px is None and o.waiting_for is None
        ]
        mark = float(engine.marks()[c])
        bids, asks = marketdata.synthetic_book(
            coin, c, mark, engine.now, engine.contracts[c].sz_decimals, self._seed, resting
        )
        return engine.now, bids, asks

    def funding_history(self, coin: str, start: int, end: int | None, limit: int) -> list[Any]:
        """The market's funding, paid in ``[start, end]`` (up to the engine's time), oldest first."""
        if coin not in COINS:
            raise OrderRejected(Reason.UNKNOWN_COIN, coin=coin)
        now = self.engine.now
        end = now if end is None else min(end, now)
        start = max(start, self.market.start_ms)
        return self.market.funding_history(coin, start, min(end, start + limit * HOUR_MS))[:limit]

    # -- history (committed rows: read straight from the database, not through the worker) -------------

    def fills(self, owner: str, start: int | None, end: int | None, limit: int, oldest_first: bool = False):
        account = self.accounts.get(owner)
        return [] if account is None else self.store.fills(account, start, end, limit, oldest_first)

    def funding(self, owner: str, start: int = 0, end: int | None = None, coin: str | None = None,
                limit: int | None = None, newest_first: bool = False) -> list[dict[str, Any]]:  # fmt: skip
        account = self.accounts.get(owner)
        if account is None:
            return []
        return self.store.funding(account, start, end, coin, limit, newest_first)

    def funding_totals(self, owner: str, coin: str | None = None) -> dict[str, dict[str, float]]:
        account = self.accounts.get(owner)
        return {} if account is None else self.store.funding_totals(account, coin)

    def order_status(self, owner: str, ref: int | str) -> dict[str, Any] | None:
        """The latest status row of an order (by oid, or by cloid), or None."""
        account = self.accounts.get(owner)
        return None if account is None else self.store.order_status(account, ref)

    def historical_orders(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """The latest status of the ``limit`` most recently changed orders, newest first."""
        account = self.accounts.get(owner)
        return [] if account is None else self.store.historical_orders(account, limit)

    def recent_trades(self, coin: str, limit: int) -> list[dict[str, Any]]:
        """The latest fills on ``coin`` across every account, newest first."""
        return self.store.recent_trades(coin, limit)

    def daily_volume(self, owner: str, days: int) -> list[tuple[int, float, float]]:
        """(day, taker volume, maker volume) for the last ``days`` UTC days with fills, oldest first."""
        account = self.accounts.get(owner)
        return [] if account is None else self.store.daily_volume(account, days)

    def value_history(self, owner: str, bucket_ms: int, start: int) -> list[tuple[int, float, float, float]]:
        """(time, cash flow, deposits, volume) per ``bucket_ms`` from ``start``: what portfolio charts."""
        account = self.accounts.get(owner)
        return [] if account is None else self.store.value_history(account, bucket_ms, start)

    def ledger(self, owner: str, start: int, end: int | None, limit: int) -> list[dict[str, Any]]:
        account = self.accounts.get(owner)
        end = self.engine.now if end is None else end
        return [] if account is None else self.store.ledger(account, start, end, limit)

    def liquidations(self, owner: str) -> list[dict[str, Any]]:
        account = self.accounts.get(owner)
        return [] if account is None else self.store.liquidations(account)

    def income(self, owner: str, start: int | None, end: int | None, coin: str | None, kind: str | None,
               limit: int) -> list[dict[str, Any]]:  # fmt: skip
        """Aster's income rows: with no range, the last 7 days up to the engine's time."""
        account = self.accounts.get(owner)
        end = end if end is not None else self.engine.now
        start = start if start is not None else end - 7 * 24 * HOUR_MS
        return [] if account is None else self.store.income(account, start, end, coin, kind, limit)

    # -- upgrades ----------------------------------------------------------------------------------------

    def adopt_legacy_balances(self) -> None:
        """Older sandboxes kept Hyperliquid, Aster and Lighter balances in the venues' own tables:
        move any balance whose owner has no engine account into the clearinghouse, once, and clear it."""
        self.call(Clearinghouse._adopt)

    def _adopt(self) -> None:
        conn = self.connection()
        for table, key, column, venue in (
            (store.hl_accounts, "user", "deposited_micro_usdc", "hyperliquid"),
            (store.as_accounts, "address", "balance_micro_usdt", "aster"),
            (store.lt_accounts, "account_index", "collateral_micro", "lighter"),
        ):
            rows = conn.execute(sa.select(table.c[key], table.c[column]).where(table.c[column] > 0)).all()
            for address, micro in rows:
                if owner(venue, str(address)) not in self.accounts:
                    self._deposit(owner(venue, str(address)), micro / 1e6, None, "deposit")
            if rows:
                conn.execute(table.update().values({column: 0}))
