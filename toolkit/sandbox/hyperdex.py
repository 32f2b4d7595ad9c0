"""HyperDEX server wallets in the sandbox (seed 000): wallets held for a tenant's users, and the
venue keys registered with them.

A wallet's key exists only as two shares (2-of-2, XOR): share A sealed in the database under
vault key A, share B sealed under vault key B in a separate folder. Neither vault key is in the
database, so the database alone decrypts nothing. The shares meet only inside ``_signer`` and
are overwritten after use (best effort: Python may hold copies it does not let us clear).

Registration runs the venue's real flow over HTTP with the toolkit's own clients, against the
configured venue: the sandbox itself unless ``TOOLKIT_HYPERDEX_ASTER_URL`` or
``TOOLKIT_HYPERDEX_HYPERLIQUID_URL`` says otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from coincurve import PrivateKey
from sqlalchemy.engine import Engine

from toolkit.sandbox import store
from toolkit.sandbox.clock import Clock
from toolkit.sandbox.vault import Vault
from toolkit.secrets import Secret
from toolkit.venues import eip712
from toolkit.venues.refusal import VenueRefusal

HYPERLIQUID_AGENT_NAME = "hyperdex"
HYPERLIQUID_AGENT_DAYS = 180


class HyperdexRefusal(VenueRefusal):
    """``{"success": false, "error": message}`` with an HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status)

    def body(self) -> dict[str, Any]:
        return {"success": False, "error": self.message}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tenant_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


class HyperdexSandbox:
    def __init__(self, engine: Engine, clock: Clock, home: Path, self_url: str | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.vault_a = Vault(home / "hyperdex_share_key_a")
        self.vault_b = Vault(home / "hyperdex_share_key_b")
        self.share_dir = home / "hyperdex_shares"
        self.share_dir.mkdir(mode=0o700, exist_ok=True)
        self.credentials_vault = Vault(home / "hyperdex_credentials_key")
        self.self_url = self_url  # where this sandbox listens: the venue URL its sandbox credentials use
        self._lock = threading.Lock()

    # -- tenants ---------------------------------------------------------------------------------

    def create_tenant(self, label: str) -> str:
        api_key = "hdx_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                store.hd_tenants.insert().values(
                    key_hash=tenant_hash(api_key), label=label, created_at=self.clock.now_ms()
                )
            )
        return api_key

    def tenant(self, api_key: str | None) -> str:
        if not api_key:
            raise HyperdexRefusal(401, "Missing API key: send the X-API-KEY header")
        digest = tenant_hash(api_key)
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(store.hd_tenants.c.key_hash).where(store.hd_tenants.c.key_hash == digest)
            ).first()
        if found is None:
            raise HyperdexRefusal(401, "Invalid API key")
        return digest

    # -- wallets ---------------------------------------------------------------------------------

    def _share_b_path(self, wallet_id: str) -> Path:
        return self.share_dir / f"{wallet_id}.share"

    def create_wallet(self, tenant: str, user_id: Any) -> dict[str, Any]:
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 128:
            raise HyperdexRefusal(
                400, "Missing required parameter: userId (a string of at most 128 characters)"
            )
        user_id = user_id.strip()
        key = PrivateKey()
        secret = bytearray(key.secret)
        share_a = bytearray(secrets.token_bytes(32))
        share_b = bytearray(x ^ y for x, y in zip(secret, share_a, strict=True))
        public = key.public_key.format(compressed=False)
        address = eip712.address_of(key)
        wallet_id = str(uuid.uuid4())
        try:
            sealed_a = self.vault_a.seal(share_a.hex(), f"hyperdex-share-a:{wallet_id}")
            sealed_b = self.vault_b.seal(share_b.hex(), f"hyperdex-share-b:{wallet_id}")
        finally:
            for buf in (secret, share_a, share_b):
                buf[:] = bytes(len(buf))
        path = self._share_b_path(wallet_id)
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        store.hd_wallets.insert().values(
                            id=wallet_id, tenant=tenant, user_id=user_id, address=address.lower(),
                            public_key=public.hex(), share_a=sealed_a, created_at=self.clock.now_ms(),
                        )
                    )  # fmt: skip
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "w") as f:
                        f.write(sealed_b)
                        f.flush()
                        os.fsync(f.fileno())
            except sa.exc.IntegrityError:
                raise HyperdexRefusal(409, f"A wallet already exists for userId {user_id!r}") from None
        return {
            "success": True,
            "userId": user_id,
            "address": address,
            "walletId": wallet_id,
            "publicKey": public.hex(),
        }

    def _wallet(self, tenant: str, ref: Any) -> Any:
        if not isinstance(ref, str) or not ref.strip():
            raise HyperdexRefusal(400, "Missing required parameter: walletIdOrAddress")
        w = store.hd_wallets
        ref = ref.strip()
        if ref.startswith("0x"):
            condition = w.c.address == ref.lower()
        else:
            try:
                condition = w.c.id == str(uuid.UUID(ref))
            except ValueError:
                condition = w.c.user_id == ref
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(w).where(condition, w.c.tenant == tenant)).first()
        if row is None:
            raise HyperdexRefusal(404, f"Wallet not found: {ref}")
        return row

    def wallet(self, tenant: str, ref: Any) -> dict[str, Any]:
        row = self._wallet(tenant, ref)
        return {
            "success": True,
            "userId": row.user_id,
            "address": _checksum(row.address),
            "walletId": row.id,
            "publicKey": row.public_key,
            "createdAt": _iso(row.created_at),
        }

    @contextlib.contextmanager
    def _signer(self, row: Any) -> Iterator[eip712.Signer]:
        """The wallet's key, assembled from its two shares for one signing call."""
        share_a = bytearray(bytes.fromhex(self.vault_a.open(row.share_a, f"hyperdex-share-a:{row.id}")))
        sealed_b = self._share_b_path(row.id).read_text()
        share_b = bytearray(bytes.fromhex(self.vault_b.open(sealed_b, f"hyperdex-share-b:{row.id}")))
        key = bytearray(x ^ y for x, y in zip(share_a, share_b, strict=True))
        try:
            yield eip712.Signer(bytes(key))
        finally:
            for buf in (share_a, share_b, key):
                buf[:] = bytes(len(buf))

    def sign(self, tenant: str, ref: Any, message: Any) -> dict[str, Any]:
        if not isinstance(message, str) or not message:
            raise HyperdexRefusal(400, "Missing required parameter: message")
        row = self._wallet(tenant, ref)
        with self._signer(row) as signer:
            signature = signer.sign(eip712.eip191_digest(message.encode())).to_hex()
        return {"success": True, "signature": signature, "address": _checksum(row.address)}

    # -- venue registration ------------------------------------------------------------------------

    def _venue_url(self, env: str) -> str:
        url = os.environ.get(env) or self.self_url
        if not url:
            raise HyperdexRefusal(
                500, "No venue URL is configured and the sandbox does not know its own address"
            )
        return url

    def _existing(self, wallet_id: str, venue: str) -> Any:
        c = store.hd_credentials
        now = self.clock.now_ms()
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(c).where(
                    c.c.wallet_id == wallet_id,
                    c.c.venue == venue,
                    sa.or_(c.c.expires_at.is_(None), c.c.expires_at > now),
                )
            ).first()

    def _store(
        self, wallet_id: str, venue: str, public: str, secret_fields: dict[str, Any], expires_at: int | None
    ) -> int:
        sealed = self.credentials_vault.seal(
            json.dumps(secret_fields), f"hyperdex-credentials:{wallet_id}:{venue}"
        )
        now = self.clock.now_ms()
        with self.engine.begin() as conn:
            conn.execute(
                store.hd_credentials.insert().values(
                    wallet_id=wallet_id,
                    venue=venue,
                    public=public,
                    sealed=sealed,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return now

    def register_aster(self, tenant: str, ref: Any) -> dict[str, Any]:
        from toolkit.venues.aster import AsterClient, AsterError

        row = self._wallet(tenant, ref)
        if self._existing(row.id, "aster") is not None:
            raise HyperdexRefusal(409, f"An Aster API key already exists for wallet {row.id}")
        with self._signer(row) as signer, AsterClient(self._venue_url("TOOLKIT_HYPERDEX_ASTER_URL")) as aster:
            wallet = _SignerWallet(signer)
            try:
                key = aster.create_api_key(wallet, f"hyperdex-{row.id[:8]}")
            except AsterError as exc:
                raise HyperdexRefusal(400, f"Aster refused the registration: {exc.msg}") from None
        api_key = key.api_key.reveal()
        sealed_fields = {"apiKey": api_key, "apiSecret": key.api_secret.reveal()}
        created = self._store(row.id, "aster", api_key, sealed_fields, None)
        return {
            "success": True,
            "message": "API key generated successfully",
            "data": {"signerAddress": _checksum(row.address), "createdAt": _iso(created)},
            "timestamp": self.clock.now_ms(),
        }

    def register_hyperliquid(self, tenant: str, ref: Any) -> dict[str, Any]:
        from toolkit.venues.hyperliquid import HyperliquidClient, HyperliquidError

        row = self._wallet(tenant, ref)
        if self._existing(row.id, "hyperliquid") is not None:
            raise HyperdexRefusal(
                409, f"An unexpired Hyperliquid API wallet already exists for wallet {row.id}"
            )
        url = self._venue_url("TOOLKIT_HYPERDEX_HYPERLIQUID_URL")
        with self._signer(row) as signer, HyperliquidClient(url, wallet=_SignerWallet(signer)) as hl:
            try:
                agent = hl.approve_agent(HYPERLIQUID_AGENT_NAME, days=HYPERLIQUID_AGENT_DAYS)
            except HyperliquidError as exc:
                raise HyperdexRefusal(400, f"Hyperliquid refused the registration: {exc.message}") from None
        private = agent.private_key.reveal()
        self._store(row.id, "hyperliquid", agent.address, {"apiPrivateKey": private}, agent.valid_until)
        return {
            "success": True,
            "data": {
                "apiWalletAddress": agent.address,
                "apiPrivateKey": private,
                "mainWalletAddress": _checksum(row.address),
                "expiryTimestamp": agent.valid_until,
            },
            "timestamp": self.clock.now_ms(),
        }

    def import_lighter(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        for name in ("walletIdOrAddress", "accountIndex", "apiKeyIndex", "apiPublicKey", "apiPrivateKey"):
            if body.get(name) in (None, ""):
                raise HyperdexRefusal(400, f"Missing required parameter: {name}")
        account, index = body["accountIndex"], body["apiKeyIndex"]
        if not isinstance(account, int) or isinstance(account, bool) or account < 0:
            raise HyperdexRefusal(400, "accountIndex must be a non-negative integer")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 255:
            raise HyperdexRefusal(400, "apiKeyIndex must be an integer from 0 to 255")
        row = self._wallet(tenant, body["walletIdOrAddress"])
        c = store.hd_credentials
        public = f"{account}:{index}"
        with self.engine.connect() as conn:
            taken = conn.execute(
                sa.select(c.c.id).where(c.c.wallet_id == row.id, c.c.venue == "lighter", c.c.public == public)
            ).first()
        if taken is not None:
            raise HyperdexRefusal(
                409, f"Lighter credentials for account {account}, API key {index} already exist"
            )
        secret = {"apiPublicKey": str(body["apiPublicKey"]), "apiPrivateKey": str(body["apiPrivateKey"])}
        self._store(row.id, "lighter", public, secret, None)
        return {
            "success": True,
            "message": "Lighter credentials imported successfully",
            "timestamp": self.clock.now_ms(),
        }


def _checksum(address: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


class _SignerWallet:
    """A Wallet-shaped view of a Signer for the venue clients: it signs, it never shows a key."""

    def __init__(self, signer: eip712.Signer) -> None:
        self.signer = signer
        self.address = signer.address
        self.private_key = Secret("(held by the server wallet)", "private_key")

    def __repr__(self) -> str:
        return f"ServerWallet({self.address})"
