"""Hyperliquid in the sandbox: agent approvals, signer resolution for L1 actions, nonces.

The rules of reference/hyperliquid.md §1.4-§1.6: 1 unnamed and 3 named agents per account; the
same name (or a new unnamed agent) replaces the old one; a zero-address approval removes; expiry
at most 180 days ahead; nonces per signer, the 100 highest kept, each new one above the smallest
kept, never repeated, and within (T - 2 days, T + 1 day).

Nonce windows use the wall clock, which is what clients sign with; agent expiry uses the
simulated clock, so fast-forwarding the sandbox expires agents.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock
from toolkit.venues import hyperliquid as hl
from toolkit.venues import hyperliquid_wire as wire
from toolkit.venues.eip712 import ZERO_ADDRESS
from toolkit.venues.refusal import VenueRefusal

NAMED_AGENTS = 3
MAX_NAME_LENGTH = 16
NONCES_KEPT = 100
NONCE_PAST_MS = 2 * hl.MS_PER_DAY
NONCE_FUTURE_MS = hl.MS_PER_DAY


MAX_BUILDERS = 10  # builder fee approvals per user
MAX_BUILDER_FEE_PERCENT = Decimal("0.1")  # perps: a builder may charge at most 0.1%

ACTION_BUDGET = 10_000  # requests an address may send before it has traded (one more per USDC traded)
CANCEL_HEADROOM = 100_000  # cancels may go past the budget by this much (at most double it)


class ActionRefused(VenueRefusal):
    """Hyperliquid's ``{"status": "err", "response": message}``, with HTTP 200 as the venue sends it."""

    status = 200

    def __init__(self, message: str) -> None:
        super().__init__(message, 200)

    def body(self) -> dict[str, Any]:
        return {"status": "err", "response": self.message}


@dataclass(frozen=True)
class Signer:
    """Whom an L1 action acts for: the account, and the key that signed (itself or an agent)."""

    user: str
    signer: str
    agent_name: str | None = None


def _fmt(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class HyperliquidSandbox:
    def __init__(self, engine: Engine, clock: Clock, chain: hl.Chain = "Testnet") -> None:
        self.engine = engine
        self.clock = clock
        self.chain = chain
        self.is_mainnet = chain == "Mainnet"
        self._lock = threading.Lock()
        # Write-through caches, read on the hot path of every signed action (this process owns the
        # database): each signer's kept nonces, and the addresses known to be accounts.
        self._kept: dict[str, list[int]] = {}
        self._users: set[str] = set()
        self._agents: dict[str, Any] = {}  # address -> its hl_agents row, or None
        self._deferred: list[dict[str, Any]] = []  # nonces used in the clearinghouse's open transaction
        # Hyperliquid's address budget: requests used per account (in memory; a restart forgives them)
        self.action_budget = ACTION_BUDGET
        self._actions_used: dict[str, int] = {}
        a, n = store.hl_agents, store.hl_nonces
        self._agent_by_address = sa.select(a).where(a.c.address == sa.bindparam("address"))
        self._kept_of = sa.select(n.c.nonce).where(n.c.signer == sa.bindparam("signer")).order_by(n.c.nonce)
        self._add_nonce = n.insert()
        self._prune = n.delete().where(
            n.c.signer == sa.bindparam("signer"), n.c.nonce < sa.bindparam("below")
        )

    # -- nonces ------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, signer: str, conn: Connection | None = None) -> Iterator[Connection]:
        """A transaction that may use ``signer``'s nonce: ``conn``'s (the clearinghouse's, which
        calls ``forget`` if it rolls back), else one of its own; on failure the cache is reloaded."""
        try:
            if conn is not None:
                with self._lock:
                    yield conn
            else:
                with self._lock, self.engine.begin() as own:
                    yield own
        except BaseException:
            self._kept.pop(signer, None)
            raise

    def forget(self) -> None:
        """Drop the caches of rows a rolled-back transaction may have written (or never wrote)."""
        with self._lock:
            self._kept.clear()
            self._users.clear()
            self._agents.clear()
            self._deferred.clear()

    def flush(self, conn: Connection) -> None:
        """Write the nonces used in the clearinghouse's running transaction (one insert for all)."""
        with self._lock:
            rows, self._deferred = self._deferred, []
        if rows:
            conn.execute(self._add_nonce, rows)

    def _agent(self, conn: Connection, address: str) -> Any:
        """The agent row of ``address`` (None if it never was one): cached for agents and accounts
        (every approval clears the cache), never for strangers, so the cache stays bounded."""
        if address in self._agents:
            return self._agents[address]
        row = conn.execute(self._agent_by_address, {"address": address}).first()
        if row is not None or address in self._users:  # agents and accounts only: strangers are unbounded
            self._agents[address] = row
        return row

    def _use_nonce(self, conn: Connection, signer: str, nonce: int, deferred: bool = False) -> None:
        now = int(time.time() * 1000)
        if not now - NONCE_PAST_MS < nonce < now + NONCE_FUTURE_MS:
            raise ActionRefused(
                f"Invalid nonce: {nonce} is outside the allowed window (T - 2 days, T + 1 day) around {now}"
            )
        kept = self._kept.get(signer)
        if kept is None:
            stored = conn.execute(self._kept_of, {"signer": signer}).scalars().all()
            kept = self._kept[signer] = list(stored[-NONCES_KEPT:])
        if nonce in kept:
            raise ActionRefused(f"Invalid nonce: duplicate nonce {nonce}")
        if len(kept) >= NONCES_KEPT and nonce <= kept[0]:
            raise ActionRefused(f"Invalid nonce: {nonce} is too low; it must exceed {kept[0]}")
        if deferred:  # the clearinghouse writes it with the rest of its transaction (``flush``)
            self._deferred.append({"signer": signer, "nonce": nonce})
        else:
            conn.execute(self._add_nonce, {"signer": signer, "nonce": nonce})
        bisect.insort(kept, nonce)
        if len(kept) > NONCES_KEPT:
            del kept[0]
            if nonce % NONCES_KEPT == 0:  # now and then, drop the rows that no longer count
                conn.execute(self._prune, {"signer": signer, "below": kept[0]})

    # -- accounts ----------------------------------------------------------------------------

    def register(self, conn: Connection, user: str) -> None:
        """The account's identity row, written in ``conn``'s transaction (its first deposit's): on
        Hyperliquid an address exists once it has deposited. Money lives in the clearinghouse."""
        acc = store.hl_accounts
        if conn.execute(sa.select(acc.c.user).where(acc.c.user == user)).first() is None:
            conn.execute(
                acc.insert().values(user=user, deposited_micro_usdc=0, created_at=self.clock.now_ms())
            )

    def _exists(self, conn: Connection, user: str) -> bool:
        if user in self._users:  # accounts are never closed
            return True
        acc = store.hl_accounts
        found = conn.execute(sa.select(acc.c.user).where(acc.c.user == user)).first() is not None
        if found:
            self._users.add(user)
        return found

    # -- agents ------------------------------------------------------------------------------

    def _active(self, conn: Connection, user: str, now: int) -> list[Any]:
        a = store.hl_agents
        return conn.execute(
            sa.select(a).where(
                a.c.user == user,
                a.c.removed_at.is_(None),
                sa.or_(a.c.valid_until.is_(None), a.c.valid_until > now),
            )
        ).all()

    def approve_agent(
        self, req: wire.ExchangeRequest, action: dict[str, Any], conn: Connection | None = None
    ) -> None:
        """Verify and apply a signed ``approveAgent`` (parsed, and ``action`` as sent) in ``conn``'s
        transaction if given; raise ``ActionRefused`` with the reason."""
        parsed = req.action
        assert isinstance(parsed, wire.ApproveAgentAction)
        self._check_signed(parsed.hyperliquidChain, parsed.nonce, req.nonce, "nonce")
        user = self._recover_user(req, action)
        agent = parsed.agentAddress.lower()
        name, valid_until = hl.parse_agent_name(parsed.agentName)
        if len(name) > MAX_NAME_LENGTH:
            raise ActionRefused(f"Agent name must be at most {MAX_NAME_LENGTH} characters")
        now = self.clock.now_ms()
        if valid_until is not None:
            if valid_until <= now:
                raise ActionRefused(f"valid_until {valid_until} is in the past (now {now})")
            if valid_until > now + hl.MAX_AGENT_DAYS * hl.MS_PER_DAY:
                raise ActionRefused("valid_until may be at most 180 days in the future")
        a = store.hl_agents
        with self._transaction(user, conn) as conn:
            self._agents.clear()  # an approval may change any cached agent row
            self._own_key(conn, user, now, "cannot approve agents")
            self._use_nonce(conn, user, req.nonce)
            active = self._active(conn, user, now)
            same = [r for r in active if r.name == name]
            if agent == ZERO_ADDRESS:
                if not same:
                    label = f"named {name!r}" if name else "unnamed"
                    raise ActionRefused(f"There is no {label} agent to remove")
                conn.execute(a.update().where(a.c.id == same[0].id).values(removed_at=now, removal="removed"))
                return
            if agent == user:
                raise ActionRefused("An account cannot approve itself as its agent")
            if conn.execute(sa.select(a.c.id).where(a.c.address == agent)).first():
                raise ActionRefused(
                    f"Agent address {agent} was already used; generate a fresh key for every agent"
                )
            if self._exists(conn, agent):
                raise ActionRefused(f"{agent} is a user account and cannot be an agent")
            if name and not same and sum(1 for r in active if r.name) >= NAMED_AGENTS:
                raise ActionRefused(
                    f"Too many API wallets: an account may have {NAMED_AGENTS} named agents and 1 unnamed; "
                    "approve under an existing name to replace one, or remove one first"
                )
            if same:
                conn.execute(
                    a.update().where(a.c.id == same[0].id).values(removed_at=now, removal="replaced")
                )
            conn.execute(
                a.insert().values(
                    user=user, address=agent, name=name, valid_until=valid_until, approved_at=now
                )
            )

    # -- builder fees ------------------------------------------------------------------------------

    def approve_builder_fee(
        self, req: wire.ExchangeRequest, action: dict[str, Any], conn: Connection
    ) -> None:
        """Verify and apply a signed ``approveBuilderFee`` (the account's own key, never an agent):
        the most ``builder`` may charge on this account's orders."""
        parsed = req.action
        assert isinstance(parsed, wire.ApproveBuilderFeeAction)
        self._check_signed(parsed.hyperliquidChain, parsed.nonce, req.nonce, "nonce")
        rate = Decimal(parsed.maxFeeRate.removesuffix("%"))
        if rate > MAX_BUILDER_FEE_PERCENT:
            raise ActionRefused(f"Max fee rate {parsed.maxFeeRate} is above the perps maximum of 0.1%")
        tenths = rate * 1000  # 0.001% is one tenth of a basis point
        if tenths != tenths.to_integral_value():
            raise ActionRefused("Max fee rate must be a whole number of tenths of a basis point (0.001%)")
        user = self._recover_user(req, action)
        builder = parsed.builder.lower()
        now = self.clock.now_ms()
        b = store.hl_builder_fees
        with self._transaction(user, conn) as conn:
            self._own_key(conn, user, now, "cannot approve builder fees")
            self._use_nonce(conn, user, req.nonce)
            approved = conn.execute(sa.select(b.c.builder).where(b.c.user == user)).scalars().all()
            if builder not in approved and len(approved) >= MAX_BUILDERS:
                raise ActionRefused(f"Too many builder fee approvals: at most {MAX_BUILDERS} builders")
            conn.execute(b.delete().where(b.c.user == user, b.c.builder == builder))
            if tenths > 0:  # "0%" revokes
                conn.execute(
                    b.insert().values(user=user, builder=builder, max_fee=int(tenths), approved_at=now)
                )

    def transfer_signer(self, req: wire.ExchangeRequest, action: dict[str, Any], conn: Connection) -> str:
        """The account that signed a ``withdraw3`` or ``usdSend`` (its own key: an agent may not move
        money), its nonce used in ``conn``'s transaction."""
        parsed = req.action
        assert isinstance(parsed, wire.Withdraw3Action | wire.UsdSendAction)
        self._check_signed(parsed.hyperliquidChain, parsed.time, req.nonce, "time")
        user = self._recover_user(req, action)
        with self._transaction(user, conn) as conn:
            self._own_key(conn, user, self.clock.now_ms(), "cannot move funds")
            self._use_nonce(conn, user, req.nonce)
        return user

    def max_builder_fee(self, conn: Connection | None, user: str, builder: str) -> int:
        """The most ``builder`` may charge ``user``, in tenths of a basis point (0: not approved)."""
        b = store.hl_builder_fees
        q = sa.select(b.c.max_fee).where(b.c.user == user.lower(), b.c.builder == builder.lower())
        if conn is not None:
            return int(conn.execute(q).scalar() or 0)
        with self.engine.connect() as own:
            return int(own.execute(q).scalar() or 0)

    def _own_key(self, conn: Connection, user: str, now: int, cannot: str) -> None:
        """Refuse a user-signed action unless its signer is an account (an agent ``cannot`` do it;
        anyone else, which is also what a tampered signature looks like, does not exist)."""
        role = self._role(conn, user, now).get("role")
        if role == "agent":
            raise ActionRefused(f"API Wallet {user} {cannot}; sign with the account's own key")
        if role != "user":
            raise ActionRefused(f"User or API Wallet {user} does not exist.")

    def _check_signed(self, chain: str, stamp: int, nonce: int, field: str) -> None:
        """A user-signed action's network, and its ``field`` (nonce or time) equal to the request's nonce."""
        self._check_chain(chain)
        if stamp != nonce:
            raise ActionRefused(f"The action's {field} must equal the request's nonce")

    @staticmethod
    def _recover_user(req: wire.ExchangeRequest, action: dict[str, Any]) -> str:
        """The lowercase address that signed a user-signed action (EIP-712), or the refusal."""
        try:
            return hl.recover_user_signer(action, req.signature.model_dump()).lower()
        except ValueError as exc:
            raise ActionRefused(f"Invalid signature: {exc}") from None

    def _check_chain(self, chain: str) -> None:
        if chain != self.chain:
            raise ActionRefused(
                f"Invalid hyperliquidChain {chain!r}: this sandbox is Hyperliquid "
                f"{self.chain}; create your client for testnet (the official SDK: constants.TESTNET_API_URL)"
            )

    def requests_used(self, user: str) -> int:
        with self._lock:
            return self._actions_used.get(user.lower(), 0)

    # -- L1 actions ----------------------------------------------------------------------------

    def recover_signer(
        self, req: wire.ExchangeRequest, action: dict[str, Any], signature: Any
    ) -> str | ActionRefused:
        """The lowercase address that signed an L1 action, or the refusal: pure computation (no
        state), so it may run before the request reaches the clearinghouse."""
        try:
            return hl.recover_l1_signer(
                action, signature, None, req.nonce, req.expiresAfter, self.is_mainnet, checksum=False
            )
        except (ValueError, OverflowError) as exc:
            return ActionRefused(f"Invalid signature: {exc}")

    def authenticate_l1(
        self,
        req: wire.ExchangeRequest,
        action: dict[str, Any],
        signature: Any,
        conn: Connection | None = None,
        signer: str | ActionRefused | None = None,
    ) -> Signer:
        """Recover an L1 action's signer (over ``action`` as sent; or take ``recover_signer``'s
        answer), resolve it to its account, and use the nonce (in ``conn``'s transaction if given)."""
        if req.vaultAddress:
            raise ActionRefused("Vaults and sub-accounts are not supported by this sandbox")
        nonce, expires_after = req.nonce, req.expiresAfter
        signer = self.recover_signer(req, action, signature) if signer is None else signer
        if isinstance(signer, ActionRefused):
            raise signer
        now = self.clock.now_ms()
        if expires_after is not None and expires_after < int(time.time() * 1000):
            raise ActionRefused(f"Action expired at {expires_after}")
        external = conn is not None
        with self._transaction(signer, conn) as conn:
            record = self._agent(conn, signer)
            if record is not None:
                if record.removed_at is not None:
                    raise ActionRefused(f"User or API Wallet {signer} does not exist.")
                if record.valid_until is not None and record.valid_until <= now:
                    raise ActionRefused(
                        f"API Wallet {signer} expired at {_fmt(record.valid_until)}; approve a new agent"
                    )
                who = Signer(record.user, signer, record.name)
            elif self._exists(conn, signer):  # never an agent: is it an account?
                who = Signer(signer, signer)
            else:
                raise ActionRefused(self._stranger(conn, signer, action, signature, nonce, expires_after))
            self._use_nonce(conn, signer, nonce, deferred=external)
        return who

    def _stranger(
        self,
        conn: Connection,
        signer: str,
        action: Any,
        signature: Any,
        nonce: int,
        expires_after: int | None,
    ) -> str:
        """Why an unknown signer is refused: the venue's words, unless the action was signed for
        the other network by someone this sandbox knows, which deserves a plainer answer."""
        other = hl.recover_l1_signer(
            action, signature, None, nonce, expires_after, not self.is_mainnet
        ).lower()
        record = conn.execute(self._agent_by_address, {"address": other}).first()
        if record is not None or self._exists(conn, other):
            mine, theirs = ("Mainnet", "Testnet") if self.is_mainnet else ("Testnet", "Mainnet")
            return (
                f"This sandbox is Hyperliquid {mine}, but the action was signed for {theirs} "
                f"(by {other}). Create the client for {mine.lower()}: with the official SDK, "
                f"Exchange(wallet, base_url) with the sandbox's URL signs for {mine.lower()}."
            )
        return f"User or API Wallet {signer} does not exist."

    def charge_actions(self, user: str, count: int, volume: float, cancels: bool) -> None:
        """Spend ``count`` of ``user``'s request budget: ``action_budget`` plus one per USDC traded;
        cancels may go further (by ``CANCEL_HEADROOM``, at most double), so a spent account can
        still pull its orders."""
        with self._lock:
            used = self._actions_used.get(user, 0) + count
            allowed = self.action_budget + int(volume)
            if cancels:
                allowed = min(allowed + CANCEL_HEADROOM, 2 * allowed)
            if used > allowed:
                raise ActionRefused(
                    f"Too many cumulative requests sent ({used}) for cumulative volume traded "
                    f"${volume:,.2f}. Place taker orders to free up 1 request per USDC traded."
                )
            self._actions_used[user] = used

    # -- info ------------------------------------------------------------------------------------

    def extra_agents(self, user: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = self._active(conn, user.lower(), self.clock.now_ms())
        return [
            {"name": r.name, "address": r.address, "validUntil": r.valid_until}
            for r in sorted(rows, key=lambda r: r.approved_at)
            if r.name
        ]

    def _role(self, conn: Connection, address: str, now: int) -> dict[str, Any]:
        a = store.hl_agents
        agent = conn.execute(
            sa.select(a.c.user).where(
                a.c.address == address,
                a.c.removed_at.is_(None),
                sa.or_(a.c.valid_until.is_(None), a.c.valid_until > now),
            )
        ).first()
        if agent is not None:
            return {"role": "agent", "data": {"user": agent.user}}
        if self._exists(conn, address):
            return {"role": "user"}
        return {"role": "missing"}

    def user_role(self, address: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._role(conn, address.lower(), self.clock.now_ms())
