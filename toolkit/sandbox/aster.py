"""Aster in the sandbox: the web3 key flow, V1 HMAC checks, V3 agents and V3 nonces.

Every refusal is an ``AsterRefusal`` carrying Aster's code. Timestamps and nonces are checked
against the wall clock (what clients sign with); agent expiry against the simulated clock.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.vault import Vault
from toolkit.venues import aster as av
from toolkit.venues.refusal import VenueRefusal

LOGIN_NONCE_TTL_MS = 5 * 60_000
BAD_PARAMETER = -1102
BAD_RECV_WINDOW = -1131


class AsterRefusal(VenueRefusal):
    """Aster's ``{"code": -1022, "msg": ...}``."""

    def __init__(self, code: int, msg: str | None = None, status: int = 400) -> None:
        super().__init__(msg or av.MESSAGES.get(code, "error"), status)
        self.code, self.msg = code, self.message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "msg": self.msg}


class BapiRefusal(VenueRefusal):
    """A failed web3 (bapi) step: ``{"code": ..., "success": false}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message, status)
        self.code = code

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "messageDetail": None,
            "data": None,
            "success": False,
        }


@dataclass(frozen=True)
class V3Caller:
    user: str
    signer: str
    params: dict[str, str]
    can_perp_trade: bool = False
    can_spot_trade: bool = False
    can_withdraw: bool = False

    def require_perp_trade(self) -> None:
        """An agent approved without ``canPerpTrade`` may read, never place perpetual orders."""
        if not self.can_perp_trade:
            raise AsterRefusal(
                av.REJECTED_MBX_KEY,
                f"Invalid API-key, IP, or permissions for action: agent {self.signer} was approved "
                "with canPerpTrade=false.",
                401,
            )


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _require(params: dict[str, Any], names: Any) -> None:
    for name in names:
        if params.get(name) in (None, ""):
            raise AsterRefusal(
                BAD_PARAMETER, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            )


def _address(value: Any, name: str) -> str:
    text = str(value or "")
    if len(text) != 42 or not text.startswith("0x"):
        raise AsterRefusal(BAD_PARAMETER, f"Parameter '{name}' must be a 0x address.")
    try:
        int(text[2:], 16)
    except ValueError:
        raise AsterRefusal(BAD_PARAMETER, f"Parameter '{name}' must be a 0x address.") from None
    return text.lower()


class AsterSandbox:
    def __init__(self, engine: Engine, clock: Clock, vault: Vault, chain: av.AsterChain = "Mainnet") -> None:
        self.engine = engine
        self.clock = clock
        self.vault = vault
        self.chain = chain
        self._lock = threading.Lock()

    # -- accounts --------------------------------------------------------------------------------

    def register(self, conn: Connection, address: str) -> None:
        """The account's identity row (money lives in the clearinghouse), written in ``conn``'s
        transaction: a deposit's, so both happen or neither."""
        acc = store.as_accounts
        if conn.execute(sa.select(acc.c.address).where(acc.c.address == address)).first() is None:
            conn.execute(
                acc.insert().values(address=address, balance_micro_usdt=0, created_at=self.clock.now_ms())
            )

    # -- web3 (bapi): API key + secret --------------------------------------------------------------

    def get_nonce(self, source_addr: Any, kind: Any) -> str:
        address = str(source_addr or "").lower()
        if len(address) != 42 or not address.startswith("0x"):
            raise BapiRefusal("100001003", "sourceAddr must be a 0x address")
        if kind not in ("CREATE_API_KEY", "LOGIN"):
            raise BapiRefusal("100001003", "type must be CREATE_API_KEY or LOGIN")
        nonce = str(secrets.randbelow(900_000) + 100_000)
        t = store.as_login_nonces
        with self._lock, self.engine.begin() as conn:
            conn.execute(t.delete().where(t.c.address == address, t.c.type == kind))
            conn.execute(t.insert().values(address=address, type=kind, nonce=nonce, issued_at=_wall_ms()))
        return nonce

    def _consume_login(self, conn: Connection, address: str, kind: str, signature: Any) -> None:
        t = store.as_login_nonces
        row = conn.execute(sa.select(t).where(t.c.address == address, t.c.type == kind)).first()
        if row is None or _wall_ms() - row.issued_at > LOGIN_NONCE_TTL_MS:
            raise BapiRefusal("100001005", "Nonce expired or not requested; call get-nonce first")
        try:
            signer = av.recover_login(row.nonce, str(signature)).lower()
        except ValueError:
            signer = None
        conn.execute(t.delete().where(t.c.address == address, t.c.type == kind))  # a nonce is used once
        if signer != address:
            raise BapiRefusal("100001004", "Signature verification failed")

    def create_api_key(self, body: dict[str, Any]) -> dict[str, Any]:
        address = str(body.get("sourceAddr") or "").lower()
        desc = str(body.get("desc") or "").strip()
        if body.get("type") != "CREATE_API_KEY":
            raise BapiRefusal("100001003", "type must be CREATE_API_KEY")
        if not desc or len(desc) > 100:
            raise BapiRefusal("100001003", "desc is required (at most 100 characters)")
        k = store.as_api_keys
        with self._lock, self.engine.begin() as conn:
            self._consume_login(conn, address, "CREATE_API_KEY", body.get("signature"))
            if conn.execute(sa.select(k.c.api_key).where(k.c.address == address, k.c.desc == desc)).first():
                raise BapiRefusal("100001006", f"An API key named {desc!r} already exists for this account")
            self.register(conn, address)
            api_key, api_secret = secrets.token_hex(32), secrets.token_hex(32)
            key_id = (conn.execute(sa.select(sa.func.max(k.c.key_id))).scalar() or 1000) + 1
            conn.execute(
                k.insert().values(
                    api_key=api_key,
                    key_id=key_id,
                    address=address,
                    desc=desc,
                    sealed_secret=self.vault.seal(api_secret, f"aster-api-secret:{api_key}"),
                    ip=body.get("ip") or None,
                    created_at=self.clock.now_ms(),
                )
            )
        return {"apiKey": api_key, "apiSecret": api_secret, "keyId": key_id, "apiName": desc}

    # -- V1 ------------------------------------------------------------------------------------------

    def authenticate_v1(self, api_key: str | None, query: str, body: str) -> str:
        """Check key, timestamp window and HMAC; return the account address."""
        if not api_key:
            raise AsterRefusal(av.REJECTED_MBX_KEY, "API-key required: send the X-MBX-APIKEY header.", 401)
        if len(api_key) != 64 or not all(c in "0123456789abcdefABCDEF" for c in api_key):
            raise AsterRefusal(av.BAD_API_KEY_FMT, status=401)
        k = store.as_api_keys
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(k).where(k.c.api_key == api_key)).first()
        if row is None:
            raise AsterRefusal(av.REJECTED_MBX_KEY, status=401)
        q_signed, q_sig = av.strip_signature(query)
        b_signed, b_sig = av.strip_signature(body)
        signature = q_sig or b_sig
        params = dict(parse_qsl(body)) | dict(parse_qsl(query))  # the query wins, as on Aster
        if not signature or "timestamp" not in params:
            missing = "signature" if not signature else "timestamp"
            raise AsterRefusal(
                BAD_PARAMETER, f"Mandatory parameter '{missing}' was not sent, was empty/null, or malformed."
            )
        try:
            timestamp = int(params["timestamp"])
            recv_window = int(params.get("recvWindow", av.DEFAULT_RECV_WINDOW))
        except ValueError:
            raise AsterRefusal(
                BAD_PARAMETER, "Parameters 'timestamp' and 'recvWindow' must be integers."
            ) from None
        if not 0 < recv_window <= av.MAX_RECV_WINDOW:
            raise AsterRefusal(BAD_RECV_WINDOW, "recvWindow must be less than 60000.")
        now = _wall_ms()
        if not (timestamp < now + 1000 and now - timestamp <= recv_window):
            raise AsterRefusal(av.INVALID_TIMESTAMP)
        secret = self.vault.open(row.sealed_secret, f"aster-api-secret:{api_key}")
        total = (q_signed if q_sig else query) + (b_signed if b_sig else body)
        if not secrets.compare_digest(av.hmac_signature(secret, total), signature.lower()):
            raise AsterRefusal(av.INVALID_SIGNATURE)
        return row.address

    # -- V3 nonces --------------------------------------------------------------------------------------

    def _use_nonce(self, conn: Connection, user: str, raw: Any) -> None:
        if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{1,19}", raw):
            raise AsterRefusal(BAD_PARAMETER, "Parameter 'nonce' must be microseconds since the epoch.")
        nonce = int(raw)
        now_us = time.time_ns() // 1000
        if abs(now_us - nonce) > av.NONCE_WINDOW_US:
            raise AsterRefusal(
                av.INVALID_TIMESTAMP, f"Nonce {nonce} is more than 10 s from server time {now_us}."
            )
        n = store.as_nonces
        kept = conn.execute(sa.select(n.c.nonce).where(n.c.user == user).order_by(n.c.nonce)).scalars().all()
        if nonce in kept:
            raise AsterRefusal(av.NONCE_EXPIRED, f"Duplicate nonce {nonce}.")
        if len(kept) >= av.NONCES_KEPT and nonce <= kept[0]:
            raise AsterRefusal(av.NONCE_EXPIRED)
        conn.execute(n.insert().values(user=user, nonce=nonce))
        if len(kept) >= av.NONCES_KEPT:
            conn.execute(n.delete().where(n.c.user == user, n.c.nonce <= kept[len(kept) - av.NONCES_KEPT]))

    # -- V3 agent-signed requests -------------------------------------------------------------------------

    def authenticate_v3(self, query: str, body: str) -> V3Caller:
        signed, signature = av.strip_signature(query)
        if signature is None:
            signed, signature = av.strip_signature(body)
        if signature is None:
            raise AsterRefusal(
                BAD_PARAMETER, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        params = dict(parse_qsl(signed, keep_blank_values=True))
        for name in ("user", "signer", "nonce"):
            if not params.get(name):
                raise AsterRefusal(
                    BAD_PARAMETER, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
                )
        user, signer = _address(params["user"], "user"), _address(params["signer"], "signer")
        try:
            recovered = av.recover_message(signed, signature, av.V3_CHAIN_ID[self.chain]).lower()
        except ValueError:
            recovered = None
        if recovered != signer:
            raise AsterRefusal(av.INVALID_SIGNATURE)
        a = store.as_agents
        with self._lock, self.engine.begin() as conn:
            agent = conn.execute(sa.select(a).where(a.c.address == signer, a.c.user == user)).first()
            if agent is None or agent.deleted_at is not None:
                raise AsterRefusal(av.REJECTED_MBX_KEY, f"Signer {signer} is not an agent of {user}.", 401)
            if agent.expired <= self.clock.now_ms():
                raise AsterRefusal(av.REJECTED_MBX_KEY, f"Agent {signer} expired; approve a new one.", 401)
            self._use_nonce(conn, user, params["nonce"])
        return V3Caller(
            user,
            signer,
            params,
            bool(agent.can_perp_trade),
            bool(agent.can_spot_trade),
            bool(agent.can_withdraw),
        )

    # -- V3 main-wallet actions ---------------------------------------------------------------------------

    def _main_action(self, primary: str, params: dict[str, str]) -> str:
        for name, _ in av.MAIN_ACTIONS[primary]:
            if name not in params:
                raise AsterRefusal(
                    BAD_PARAMETER, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
                )
        if params.get("signatureChainId") != str(av.MAIN_CHAIN_ID):
            raise AsterRefusal(av.INVALID_SIGNATURE, f"signatureChainId must be {av.MAIN_CHAIN_ID}.")
        if params["asterChain"] != self.chain:
            raise AsterRefusal(av.INVALID_SIGNATURE, f"asterChain must be {self.chain} here.")
        user = _address(params["user"], "user")
        try:
            recovered = av.recover_main_action(primary, params, params.get("signature", "")).lower()
        except (ValueError, KeyError):
            recovered = None
        if recovered != user:
            raise AsterRefusal(av.INVALID_SIGNATURE)
        return user

    def _approve(self, conn: Connection, user: str, params: dict[str, str]) -> None:
        agent = _address(params["agentAddress"], "agentAddress")
        a = store.as_agents
        try:
            expired = int(params["expired"])
        except ValueError:
            raise AsterRefusal(
                BAD_PARAMETER, "Parameter 'expired' must be milliseconds since the epoch."
            ) from None
        if expired <= self.clock.now_ms():
            raise AsterRefusal(BAD_PARAMETER, "Parameter 'expired' is in the past.")
        can_withdraw = params.get("canWithdraw", "false").lower() == "true"
        if can_withdraw and not params.get("ipWhitelist"):
            raise AsterRefusal(BAD_PARAMETER, "An agent that can withdraw needs an ipWhitelist.")
        if agent == user or conn.execute(sa.select(a.c.address).where(a.c.address == agent)).first():
            raise AsterRefusal(
                BAD_PARAMETER, f"Agent address {agent} is already in use; generate a fresh key."
            )
        name = params.get("agentName", "").strip()
        if not name or len(name) > 64:
            raise AsterRefusal(BAD_PARAMETER, "Parameter 'agentName' is required (at most 64 characters).")
        conn.execute(
            a.insert().values(
                address=agent,
                user=user,
                name=name,
                expired=expired,
                can_spot_trade=params.get("canSpotTrade", "false").lower() == "true",
                can_perp_trade=params.get("canPerpTrade", "false").lower() == "true",
                can_withdraw=can_withdraw,
                ip_whitelist=params.get("ipWhitelist", ""),
                created_at=self.clock.now_ms(),
            )
        )

    def approve_agent(self, params: dict[str, str]) -> None:
        user = self._main_action("ApproveAgent", params)
        with self._lock, self.engine.begin() as conn:
            if (
                conn.execute(
                    sa.select(store.as_accounts.c.address).where(store.as_accounts.c.address == user)
                ).first()
                is None
            ):
                raise AsterRefusal(
                    av.REJECTED_MBX_KEY, f"Account {user} does not exist; register it first.", 401
                )
            self._use_nonce(conn, user, params["nonce"])
            self._approve(conn, user, params)

    def register_and_approve_agent(self, params: dict[str, str]) -> None:
        for name in (
            "user",
            "nonce",
            "agentName",
            "agentAddress",
            "expired",
            "signatureChainId",
            "signature",
        ):
            if not params.get(name):
                raise AsterRefusal(
                    BAD_PARAMETER, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
                )
        if params["signatureChainId"] != str(av.MAIN_CHAIN_ID):
            raise AsterRefusal(BAD_PARAMETER, "Only EVM addresses (signatureChainId 56) are supported here.")
        user = _address(params["user"], "user")
        try:
            recovered = av.recover_message(
                av.register_message(params), params["signature"], av.MAIN_CHAIN_ID
            ).lower()
        except ValueError:
            recovered = None
        if recovered != user:
            raise AsterRefusal(av.INVALID_SIGNATURE)
        with self._lock, self.engine.begin() as conn:
            self._use_nonce(conn, user, params["nonce"])
            self.register(conn, user)
            self._approve(conn, user, params)

    def delete_agent(self, params: dict[str, str]) -> None:
        user = self._main_action("DelAgent", params)
        agent = _address(params["agentAddress"], "agentAddress")
        a = store.as_agents
        with self._lock, self.engine.begin() as conn:
            self._use_nonce(conn, user, params["nonce"])
            done = conn.execute(
                a.update()
                .where(a.c.address == agent, a.c.user == user, a.c.deleted_at.is_(None))
                .values(deleted_at=self.clock.now_ms())
            ).rowcount
        if not done:
            raise AsterRefusal(BAD_PARAMETER, f"No agent {agent} on this account.")

    def agents(self, user: str) -> list[dict[str, Any]]:
        a = store.as_agents
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(a).where(a.c.user == user, a.c.deleted_at.is_(None)).order_by(a.c.created_at)
            ).all()
        now = self.clock.now_ms()
        return [
            {
                "agentName": r.name,
                "agentAddress": r.address,
                "expired": r.expired,
                "status": "ACTIVE" if r.expired > now else "EXPIRED",
                "canSpotTrade": r.can_spot_trade,
                "canPerpTrade": r.can_perp_trade,
                "canWithdraw": r.can_withdraw,
                "ipWhitelist": r.ip_whitelist,
            }
            for r in rows
        ]
