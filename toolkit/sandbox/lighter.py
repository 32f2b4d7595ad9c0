"""Lighter in the sandbox: accounts, API key slots and nonces, signed transactions, tokens,
maker-only keys and account tiers.

What the API refuses (bad signature, wrong nonce, expired, maker-only breach) leaves the nonce
unconsumed, as Lighter's does; a valid transaction that then does nothing (a cancel of an order
that is not open) is accepted and consumes it, as a sequencer-level failure would.

Transaction expiry and auth-token deadlines use the wall clock, which is what the signer writes;
the cooldowns (tier, maker-only) use the simulated clock, so fast-forwarding passes them.

Money and trading live on the clearinghouse (``lighter_trading``): a transaction's nonce, its row
and its effect on the account commit in one clearinghouse transaction, or none of them does.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toolkit.sandbox import store
from toolkit.sandbox.clearinghouse import Clearinghouse
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.engine.specs import AccountRules
from toolkit.sandbox.lighter_trading import VENUE, LighterTrading, account_row, owner_of, rules_for_tier
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.wire import LighterError

FIRST_ACCOUNT_INDEX = 100


def _wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Slot:
    public_key: str  # 80 hex digits, zeros when empty
    next_nonce: int
    transaction_time: int

    @property
    def registered(self) -> bool:
        return self.public_key != wire.ZERO_PUBLIC_KEY


EMPTY_SLOT = Slot(wire.ZERO_PUBLIC_KEY, 0, 0)


@dataclass(frozen=True)
class Caller:
    """Who an ``Authorization`` header speaks for."""

    account_index: int
    api_key_index: int | None  # None for a read-only token
    read_only: bool
    all_accounts: bool = False


class LighterSandbox:
    def __init__(
        self, engine: Engine, clock: Clock, ch: Clearinghouse, chain_id: int = wire.SANDBOX_CHAIN_ID
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.ch = ch
        self.chain_id = chain_id
        self.trading = LighterTrading(ch)
        self._lock = threading.Lock()
        # Write-through cache of key slots, read by every transaction (this process owns the db);
        # written on the clearinghouse's worker, and dropped when its transaction rolls back.
        self._slots: dict[tuple[int, int], Slot] = {}
        ch.on_rollback.append(self.forget)
        ch.set_rules(VENUE, self._rules)

    def forget(self) -> None:
        """Drop the cached slots: a rolled-back transaction may have written some."""
        self._slots.clear()

    def _rules(self, who: str) -> AccountRules:
        """A Lighter account's price rule and fees (by its tier)."""
        acc = store.lt_accounts
        query = sa.select(acc.c.tier).where(acc.c.account_index == int(who.partition(":")[2]))
        running = self.ch.open_transaction()  # a tier changed earlier in it is not committed yet
        if running is not None:
            return rules_for_tier(running.execute(query).scalar() or "standard")
        with self.engine.connect() as conn:
            return rules_for_tier(conn.execute(query).scalar() or "standard")

    # -- accounts --------------------------------------------------------------------------

    def deposit(self, l1_address: str, usdc: float) -> dict[str, Any]:
        """Credit USDC to the master account of ``l1_address``, creating it on the first deposit."""
        return self.ch.call(self._deposit, l1_address.lower(), usdc)

    def _deposit(self, ch: Clearinghouse, address: str, usdc: float) -> dict[str, Any]:
        acc = store.lt_accounts
        conn = ch.connection()
        index = conn.execute(
            sa.select(acc.c.account_index)
            .where(acc.c.l1_address == address, acc.c.account_type == 0)
            .order_by(acc.c.account_index)
        ).scalar()
        new = index is None
        if new:
            top = conn.execute(sa.select(sa.func.max(acc.c.account_index))).scalar()
            index = max(FIRST_ACCOUNT_INDEX, (top or 0) + 1)

        def identity(conn: Connection) -> None:
            if new:
                conn.execute(
                    acc.insert().values(
                        account_index=index, l1_address=address, account_type=0, collateral_micro=0,
                        tier="standard", trading_mode=0, maker_only="[]", created_at=self.clock.now_ms(),
                    )
                )  # fmt: skip

        ledger = ch.deposit(owner_of(index), usdc, identity)
        return {"account_index": index, "l1_address": address, "collateral": f"{ledger['cash']:.6f}"}

    def accounts_by_l1_address(self, l1_address: str) -> dict[str, Any]:
        accounts = self.trading.accounts(self._rows_of(l1_address), detailed=False)
        return {"code": wire.OK, "l1_address": l1_address, "sub_accounts": accounts}

    def _rows_of(self, l1_address: str) -> list[Any]:
        acc = store.lt_accounts
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(acc).where(acc.c.l1_address == l1_address.lower()).order_by(acc.c.account_index)
            ).all()
        if not rows:
            raise LighterError(wire.ACCOUNT_NOT_FOUND)
        return list(rows)

    def account(self, by: str, value: str) -> dict[str, Any]:
        """``AccountApi.account``: by ``index`` or by ``l1_address`` (every account of it)."""
        if by == "index":
            if not (value.isascii() and value.isdigit() and int(value) <= wire.MAX_ACCOUNT_INDEX):
                raise LighterError(wire.INVALID_PARAM, "value must be an account index")
            with self.engine.connect() as conn:
                rows = [account_row(conn, int(value))]
        else:
            if not (
                len(value) == 42
                and value.startswith("0x")
                and all(c in "0123456789abcdefABCDEF" for c in value[2:])
            ):
                raise LighterError(wire.INVALID_PARAM, "value must be an L1 address (0x and 40 hex digits)")
            rows = self._rows_of(value)
        accounts = self.trading.accounts(rows, detailed=True)
        return {"code": wire.OK, "total": len(accounts), "accounts": accounts, "next_cursor": ""}

    # -- key slots --------------------------------------------------------------------------

    def _slot(self, conn: Connection, account_index: int, api_key_index: int) -> Slot:
        key = (account_index, api_key_index)
        slot = self._slots.get(key)
        if slot is None:
            k = store.lt_api_keys
            query = sa.select(k).where(k.c.account_index == account_index, k.c.api_key_index == api_key_index)
            row = conn.execute(query).first()
            slot = EMPTY_SLOT if row is None else Slot(row.public_key, row.next_nonce, row.transaction_time)
            self._slots[key] = slot
        return slot

    def _write_slot(self, conn: Connection, account_index: int, api_key_index: int, slot: Slot) -> None:
        k = store.lt_api_keys
        values = {
            "public_key": slot.public_key,
            "next_nonce": slot.next_nonce,
            "transaction_time": slot.transaction_time,
        }
        done = conn.execute(
            k.update()
            .where(k.c.account_index == account_index, k.c.api_key_index == api_key_index)
            .values(values)
        )
        if done.rowcount == 0:
            conn.execute(
                k.insert().values(account_index=account_index, api_key_index=api_key_index, **values)
            )

    def next_nonce(self, account_index: int, api_key_index: int) -> dict[str, Any]:
        if not 0 <= api_key_index <= wire.MAX_API_KEY_INDEX:
            raise LighterError(
                wire.INVALID_API_KEY_INDEX, f"api_key_index must be 0-254, got {api_key_index}"
            )
        with self.engine.connect() as conn:
            account_row(conn, account_index)
            slot = self._slot(conn, account_index, api_key_index)
        return {"code": wire.OK, "nonce": slot.next_nonce}

    def api_keys(self, account_index: int, api_key_index: int | None) -> dict[str, Any]:
        """Registered slots (all of them for 255 or none), or the one slot asked for, even if empty."""
        k = store.lt_api_keys
        with self.engine.connect() as conn:
            account_row(conn, account_index)
            if api_key_index is not None and api_key_index != wire.NIL_API_KEY_INDEX:
                if not 0 <= api_key_index <= wire.MAX_API_KEY_INDEX:
                    raise LighterError(
                        wire.INVALID_API_KEY_INDEX, f"api_key_index must be 0-255, got {api_key_index}"
                    )
                slots = [(api_key_index, self._slot(conn, account_index, api_key_index))]
            else:
                rows = conn.execute(
                    sa.select(k)
                    .where(k.c.account_index == account_index, k.c.public_key != wire.ZERO_PUBLIC_KEY)
                    .order_by(k.c.api_key_index)
                ).all()
                slots = [
                    (r.api_key_index, Slot(r.public_key, r.next_nonce, r.transaction_time)) for r in rows
                ]
        keys = [
            {
                "account_index": account_index,
                "api_key_index": index,
                "nonce": slot.next_nonce,
                "public_key": slot.public_key,
                "transaction_time": slot.transaction_time,
            }
            for index, slot in slots
        ]
        return {"code": wire.OK, "api_keys": keys}

    # -- sendTx -----------------------------------------------------------------------------

    def send_tx(self, tx_type: int, tx_info: str) -> dict[str, Any]:
        """Verify and apply one transaction; refusals raise ``LighterError`` and change nothing."""
        return self._send(wire.parse_tx(tx_type, tx_info))

    def _send(self, tx: wire.Transaction) -> dict[str, Any]:
        msg_hash = wire.tx_hash(tx.tx, self.chain_id)
        if tx.tx.expired_at <= _wall_ms():
            raise LighterError(wire.TX_EXPIRED, "transaction expired: ExpiredAt is in the past")
        with self.engine.connect() as conn:
            account = account_row(conn, tx.account_index)
            slot = self._slot(conn, tx.account_index, tx.api_key_index)
        signer_key = self._check_signers(tx, account, slot, msg_hash)  # off the worker: it is the slow part
        self.ch.call(self._commit, tx, signer_key, msg_hash)
        return {
            "code": wire.OK,
            "message": "",
            "tx_hash": msg_hash.hex(),
            "predicted_execution_time_ms": _wall_ms() + 200,
            "volume_quota_remaining": 0,
        }

    def send_tx_batch(self, tx_types: list[int], tx_infos: list[str]) -> dict[str, Any]:
        """Verify and apply each transaction of a batch in order, as ``send_tx`` would one by one.

        The batch's own rules (at most 50, as many types as infos, one account and API key,
        nonces strictly increasing) refuse it whole, before anything is applied. After that each
        transaction stands alone: a refused one keeps its nonce unconsumed and is reported in its
        place (an empty ``tx_hash`` and its error in ``errors``), and the others still apply."""
        if not tx_types or len(tx_types) > wire.MAX_BATCH_TXS:
            raise LighterError(wire.BATCH_TOO_LARGE, f"a batch holds 1 to {wire.MAX_BATCH_TXS} transactions")
        if len(tx_types) != len(tx_infos):
            raise LighterError(wire.BATCH_LENGTHS_DIFFER, "tx_types and tx_infos must have the same length")
        parsed = [wire.parse_tx(t, info) for t, info in zip(tx_types, tx_infos, strict=True)]
        if len({(tx.account_index, tx.api_key_index) for tx in parsed}) > 1:
            raise LighterError(wire.BATCH_MIXED_SENDERS, "a batch must come from one account and API key")
        if any(b.nonce <= a.nonce for a, b in pairwise(parsed)):
            raise LighterError(wire.BATCH_NONCE_NOT_INCREASING, "batch transaction nonce is not increasing")
        hashes: list[str] = []
        errors: list[dict[str, Any] | None] = []
        for tx in parsed:
            try:
                hashes.append(self._send(tx)["tx_hash"])
                errors.append(None)
            except LighterError as exc:
                hashes.append("")
                errors.append(exc.body())
        refused = [i for i, e in enumerate(errors) if e is not None]
        message = (
            ""
            if not refused
            else "; ".join(
                f"transaction {i + 1} of {len(errors)} refused: {errors[i]['message']} ({errors[i]['code']})"  # type: ignore[index]
                for i in refused
            )
        )
        return {
            "code": wire.OK,
            "message": message,
            "tx_hash": hashes,
            "errors": errors,  # not in the SDK's model: it lands in additional_properties
            "predicted_execution_time_ms": _wall_ms() + 200,
            "volume_quota_remaining": 0,
        }

    def _commit(self, ch: Clearinghouse, tx: wire.Transaction, signer_key: str, msg_hash: bytes) -> None:
        """On the clearinghouse's worker: check what may have changed since the signature was
        verified, apply the transaction, and use its nonce, all in the worker's transaction. Every
        refusal is raised before anything is written."""
        conn = ch.connection()
        slot = self._slot(conn, tx.account_index, tx.api_key_index)
        if signer_key != self._expected_signer(tx, slot):  # the slot changed while we verified
            raise LighterError(wire.INVALID_SIGNATURE, "the key at this slot changed; sign again")
        wire.check_nonce(tx.nonce, slot.next_nonce, tx.skip_nonce)
        account = account_row(conn, tx.account_index)  # maker-only may just have changed
        if tx.tx_type != wire.TX_CHANGE_PUB_KEY and tx.api_key_index in json.loads(account.maker_only):
            self._check_maker_only(conn, tx)
        now = self.clock.now_ms()
        self.trading.check(conn, tx)
        self.trading.apply(conn, tx, now)  # raises only before it changes anything
        if tx.tx_type == wire.TX_CHANGE_PUB_KEY:
            new = Slot(tx.tx.pub_key.hex(), tx.nonce + 1, now)  # type: ignore[attr-defined]
        else:
            new = Slot(slot.public_key, tx.nonce + 1, slot.transaction_time)
        self._write_slot(conn, tx.account_index, tx.api_key_index, new)
        self._slots[(tx.account_index, tx.api_key_index)] = new  # a rollback clears the cache (forget)
        conn.execute(
            store.lt_txs.insert().values(
                tx_hash=msg_hash.hex(),
                tx_type=tx.tx_type,
                account_index=tx.account_index,
                api_key_index=tx.api_key_index,
                nonce=tx.nonce,
                accepted_at=now,
            )
        )

    def _expected_signer(self, tx: wire.Transaction, slot: Slot) -> str:
        """Whose L2 signature a tx needs: a ChangePubKey the new key's (the current key's when
        revoking with a zero key); everything else the key registered at the slot."""
        if tx.tx_type == wire.TX_CHANGE_PUB_KEY:
            new = tx.tx.pub_key.hex()  # type: ignore[attr-defined]
            return slot.public_key if new == wire.ZERO_PUBLIC_KEY else new
        return slot.public_key

    def _check_signers(self, tx: wire.Transaction, account: Any, slot: Slot, msg_hash: bytes) -> str:
        if tx.tx_type == wire.TX_CHANGE_PUB_KEY:
            wire.check_user_slot(tx.api_key_index)
            if not tx.l1_sig:
                raise LighterError(
                    wire.INVALID_L1_SIGNATURE, "ChangePubKey needs L1Sig, the account owner's signature"
                )
            message = wire.change_pub_key_message(
                tx.tx.pub_key,
                tx.nonce,
                tx.account_index,
                tx.api_key_index,  # type: ignore[attr-defined]
            )
            try:
                signer = wire.recover_l1_signer(message, tx.l1_sig)
            except ValueError:
                raise LighterError(wire.INVALID_L1_SIGNATURE, "L1Sig is not a 65-byte signature") from None
            if signer.lower() != account.l1_address:
                raise LighterError(
                    wire.INVALID_L1_SIGNATURE,
                    "invalid L1 signature: not signed by the account's L1 address "
                    "over this key, nonce and slot",
                )
        expected = self._expected_signer(tx, slot)
        if expected == wire.ZERO_PUBLIC_KEY:
            raise LighterError(
                wire.API_KEY_NOT_FOUND,
                f"api key not found: no key is registered at index {tx.api_key_index} "
                f"of account {tx.account_index}",
            )
        if not wire.verify_signature(bytes.fromhex(expected), msg_hash, tx.sig):
            raise LighterError(wire.INVALID_SIGNATURE)
        return expected

    def _check_maker_only(self, conn: Connection, tx: wire.Transaction) -> None:
        refusal = LighterError(
            wire.MAKER_ONLY_VIOLATION,
            f"api key {tx.api_key_index} is maker-only: it may send post-only orders, modify them, "
            "cancel and cancel all",
        )
        if tx.tx_type not in wire.MAKER_ONLY_TX_TYPES:
            raise refusal
        if tx.tx_type == wire.TX_CREATE_ORDER and tx.tx.order.time_in_force != wire.POST_ONLY:  # type: ignore[attr-defined]
            raise refusal
        if tx.tx_type == wire.TX_MODIFY_ORDER:
            ref = self.trading.open_ref(conn, tx.account_index, tx.tx.market_index, tx.tx.index)  # type: ignore[attr-defined]
            if ref is not None and ref.time_in_force != wire.POST_ONLY:
                raise refusal

    def accepted_nonces(self, account_index: int, api_key_index: int) -> list[int]:
        """Every nonce this slot had accepted, in order (what the nonce-manager tests compare)."""
        t = store.lt_txs
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(t.c.nonce)
                    .where(t.c.account_index == account_index, t.c.api_key_index == api_key_index)
                    .order_by(t.c.accepted_at, t.c.nonce)
                ).scalars()
            )

    # -- auth ------------------------------------------------------------------------------------

    def authenticate(self, header: str | None, account_index: int, *, write: bool) -> Caller:
        """An ``Authorization`` value for ``account_index``: a signed auth token, or for reads a
        read-only token. Every refusal is 20013 with the reason."""
        if not header:
            raise LighterError(
                wire.INVALID_AUTH, "invalid auth token: the Authorization header is missing", 401
            )
        if header.startswith("ro:"):
            return self._read_only(header, account_index, write)
        try:
            token = wire.parse_auth_token(header)
            wire.check_auth_deadline(token.deadline, _wall_ms() // 1000)
        except LighterError as exc:
            raise LighterError(exc.code, exc.message, 401) from None
        if token.account_index != account_index:
            raise LighterError(wire.INVALID_AUTH, "invalid auth token: it is for another account", 401)
        with self.engine.connect() as conn:
            account_row(conn, account_index)
            slot = self._slot(conn, token.account_index, token.api_key_index)
        if not slot.registered:
            raise LighterError(
                wire.INVALID_AUTH,
                f"invalid auth token: no key is registered at index {token.api_key_index}",
                401,
            )
        if not wire.verify_auth_token(token, bytes.fromhex(slot.public_key)):
            raise LighterError(
                wire.INVALID_AUTH,
                "invalid auth token: the signature does not match the key at that index",
                401,
            )
        return Caller(account_index, token.api_key_index, read_only=False)

    def _read_only(self, header: str, account_index: int, write: bool) -> Caller:
        parsed = wire.parse_ro_token(header)
        if parsed is None:
            raise LighterError(wire.INVALID_AUTH, "invalid auth token: malformed read-only token", 401)
        if write:
            raise LighterError(
                wire.INVALID_AUTH, "invalid auth token: a read-only token cannot change anything", 401
            )
        t = store.lt_tokens
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.api_token == header)).first()
            if row is None or row.revoked:
                raise LighterError(
                    wire.INVALID_AUTH, "invalid auth token: unknown or revoked read-only token", 401
                )
            if row.expiry <= _wall_ms() // 1000:
                raise LighterError(wire.INVALID_AUTH, "invalid auth token: expired", 401)
            if row.account_index != account_index:
                target = account_row(conn, account_index)
                owner = account_row(conn, row.account_index)
                if not (row.sub_account_access and target.l1_address == owner.l1_address):
                    raise LighterError(
                        wire.INVALID_AUTH, "invalid auth token: it is for another account", 401
                    )
        return Caller(row.account_index, None, read_only=True, all_accounts=row.sub_account_access)

    # -- read-only tokens --------------------------------------------------------------------------

    def create_token(
        self, account_index: int, name: str, expiry: int, sub_account_access: bool, scopes: str
    ) -> dict[str, Any]:
        if not name or len(name) > 100:
            raise LighterError(wire.TOKEN_REFUSED, "token name must be 1-100 characters")
        wire.check_ro_expiry(expiry, _wall_ms() // 1000)
        scopes = wire.check_ro_scopes(scopes)
        token = wire.format_ro_token(account_index, sub_account_access, expiry, secrets.token_hex(16))
        t = store.lt_tokens
        with self._lock, self.engine.begin() as conn:
            account_row(conn, account_index)
            token_id = conn.execute(
                t.insert().values(
                    account_index=account_index,
                    name=name,
                    api_token=token,
                    expiry=expiry,
                    sub_account_access=sub_account_access,
                    scopes=scopes,
                    revoked=False,
                    created_at=self.clock.now_ms(),
                )
            ).inserted_primary_key[0]
        return {"code": wire.OK} | self._token_json(
            token_id, token, name, account_index, expiry, sub_account_access, False, scopes
        )

    @staticmethod
    def _token_json(
        token_id: int, token: str, name: str, account: int, expiry: int, sub: bool, revoked: bool, scopes: str
    ) -> dict[str, Any]:
        return {
            "token_id": token_id,
            "api_token": token,
            "name": name,
            "account_index": account,
            "expiry": expiry,
            "sub_account_access": sub,
            "revoked": revoked,
            "scopes": scopes,
        }

    def tokens(self, account_index: int) -> dict[str, Any]:
        t = store.lt_tokens
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t).where(t.c.account_index == account_index).order_by(t.c.token_id)
            ).all()
        listed = [
            self._token_json(
                r.token_id,
                r.api_token,
                r.name,
                r.account_index,
                r.expiry,
                r.sub_account_access,
                r.revoked,
                r.scopes,
            )
            for r in rows
        ]
        return {"code": wire.OK, "api_tokens": listed}

    def revoke_token(self, account_index: int, token_id: int) -> dict[str, Any]:
        t = store.lt_tokens
        with self._lock, self.engine.begin() as conn:
            done = conn.execute(
                t.update()
                .where(t.c.token_id == token_id, t.c.account_index == account_index)
                .values(revoked=True)
            )
            if done.rowcount == 0:
                raise LighterError(wire.TOKEN_REFUSED, f"no token {token_id} on account {account_index}")
        return {"code": wire.OK, "token_id": token_id, "revoked": True}

    # -- maker-only keys ------------------------------------------------------------------------------

    def set_maker_only(self, account_index: int, raw_indexes: str) -> dict[str, Any]:
        try:
            indexes = json.loads(raw_indexes)
        except ValueError:
            indexes = None
        if not isinstance(indexes, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in indexes
        ):
            raise LighterError(
                wire.INVALID_PARAM, 'api_key_indexes must be a JSON list of integers, e.g. "[4,5]"'
            )
        if len(set(indexes)) != len(indexes):
            raise LighterError(wire.MAKER_ONLY_REFUSED, "api_key_indexes lists a key twice")
        if len(indexes) > wire.MAX_MAKER_ONLY_KEYS:
            raise LighterError(
                wire.MAKER_ONLY_REFUSED,
                f"at most {wire.MAX_MAKER_ONLY_KEYS} maker-only keys per account index",
            )
        for index in indexes:
            if index in wire.RESERVED_API_KEY_INDEXES:
                raise LighterError(
                    wire.MAKER_ONLY_REFUSED, f"api key {index} is reserved for Lighter's front-ends (0-3)"
                )
            if not wire.is_user_slot(index):
                raise LighterError(wire.MAKER_ONLY_REFUSED, f"api key index must be 4-254, got {index}")
        acc = store.lt_accounts
        with self._lock, self.engine.begin() as conn:
            account = account_row(conn, account_index)
            if account.tier != "premium":
                raise LighterError(wire.MAKER_ONLY_REFUSED, "maker-only keys need a premium account")
            now = self.clock.now_ms()
            last = account.maker_only_changed_at
            if last is not None and now - last < wire.MAKER_ONLY_COOLDOWN_SECONDS * 1000:
                wait = (last + wire.MAKER_ONLY_COOLDOWN_SECONDS * 1000 - now) // 60_000 + 1
                raise LighterError(
                    wire.MAKER_ONLY_REFUSED,
                    f"maker-only keys change at most once an hour; try again in {wait} min",
                )
            conn.execute(
                acc.update()
                .where(acc.c.account_index == account_index)
                .values(maker_only=json.dumps(sorted(indexes)), maker_only_changed_at=now)
            )
        return {"code": wire.OK, "message": ""}

    def get_maker_only(self, account_index: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            account = account_row(conn, account_index)
        return {"code": wire.OK, "api_key_indexes": json.loads(account.maker_only)}

    # -- tiers -------------------------------------------------------------------------------------------

    def change_tier(self, account_index: int, new_tier: str) -> dict[str, Any]:
        if new_tier not in wire.TIERS:
            raise LighterError(wire.INVALID_PARAM, f"new_tier must be standard or premium, got {new_tier!r}")
        self.ch.call(self._change_tier, account_index, new_tier)
        return {"code": wire.OK, "message": ""}

    def _change_tier(self, ch: Clearinghouse, account_index: int, new_tier: str) -> None:
        """On the worker: the positions and orders it checks cannot change before the tier does."""
        conn = ch.connection()
        account = account_row(conn, account_index)
        if account.tier == new_tier:
            raise LighterError(wire.TIER_CHANGE_REFUSED, f"account is already {new_tier}")
        now = self.clock.now_ms()
        last = account.tier_changed_at
        if last is not None and now - last < wire.TIER_COOLDOWN_SECONDS * 1000:
            hours = (last + wire.TIER_COOLDOWN_SECONDS * 1000 - now) / 3_600_000
            raise LighterError(
                wire.TIER_CHANGE_REFUSED,
                f"the tier changes at most once every 24 hours; try again in {hours:.1f} h",
            )
        who = owner_of(account_index)
        if ch._view(who).positions:
            raise LighterError(wire.TIER_CHANGE_REFUSED, "close every open position before changing the tier")
        if ch._open_orders(who):
            raise LighterError(
                wire.TIER_CHANGE_REFUSED, "cancel every pending order before changing the tier"
            )
        acc = store.lt_accounts
        conn.execute(
            acc.update()
            .where(acc.c.account_index == account_index)
            .values(tier=new_tier, tier_changed_at=now)
        )
        ch.change_rules(who, rules_for_tier(new_tier))

    def account_limits(self, account_index: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            account = account_row(conn, account_index)
        premium = account.tier == "premium"
        return {
            "code": wire.OK,
            "max_llp_percentage": 25,
            "user_tier": account.tier,
            "can_create_public_pool": True,
            "max_llp_amount": "0",
            "current_maker_fee_tick": 40 if premium else 0,  # 0.0040 % maker, 0.0280 % taker at 0 LIT
            "current_taker_fee_tick": 280 if premium else 0,
            "effective_lit_stakes": "0",
            "leased_lit": "0",
            "user_tier_name": account.tier.capitalize(),
            "user_tier_last_update": account.tier_changed_at,
            "bo_user_tier_name": "",
            "bo_fee_rate": 1,
            "account_trading_mode": wire.TRADING_MODES[account.trading_mode],
        }
