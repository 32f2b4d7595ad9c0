"""Hyperliquid: agent wallets (approveAgent), user-signed and L1 signing, and an httpx client.

Two signing schemes (reference/hyperliquid.md §1.3, §1.7):

* user-signed actions (approveAgent, usdSend, withdraw3, approveBuilderFee): EIP-712 under the
  domain ``HyperliquidSignTransaction`` with ``chainId = int(signatureChainId, 16)``; the action's
  ``hyperliquidChain`` ("Mainnet" / "Testnet") is signed, so one network's signature is useless
  on the other;
* L1 actions (order, cancel, noop, ...): keccak of msgpack(action) ‖ nonce ‖ vault ‖ expiry
  becomes the ``connectionId`` of a phantom agent signed under the domain ``Exchange`` (chain
  1337), with source "a" on mainnet and "b" on testnet.

The client signs with these functions and the sandbox recovers signers with them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import httpx
import msgpack

from toolkit.secrets import Secret
from toolkit.venues import eip712, hyperliquid_wire
from toolkit.venues._http import HttpClient, retry_after
from toolkit.venues.eip712 import ZERO_ADDRESS, Signature, Wallet
from toolkit.venues.target import resolve

NETWORKS = {
    "mainnet": "https://api.hyperliquid.xyz",
    "testnet": "https://api.hyperliquid-testnet.xyz",
}
SIGNATURE_CHAIN_ID = "0x66eee"  # what the official SDKs sign with, on both networks
MAX_AGENT_DAYS = 180
MS_PER_DAY = 86_400_000

Chain = Literal["Mainnet", "Testnet"]

USER_SIGNED: dict[str, tuple[str, list[eip712.Field]]] = {
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            ("hyperliquidChain", "string"),
            ("agentAddress", "address"),
            ("agentName", "string"),
            ("nonce", "uint64"),
        ],
    ),
    "usdSend": (
        "HyperliquidTransaction:UsdSend",
        [("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")],
    ),
    "withdraw3": (
        "HyperliquidTransaction:Withdraw",
        [("hyperliquidChain", "string"), ("destination", "string"), ("amount", "string"), ("time", "uint64")],
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            ("hyperliquidChain", "string"),
            ("maxFeeRate", "string"),
            ("builder", "address"),
            ("nonce", "uint64"),
        ],
    ),
}

# -- info requests: pages and weights (reference/hyperliquid.md §3) ---------------------------------

WEIGHT_PER_MINUTE = 1200  # the REST budget per IP, shared by /info and /exchange
PAGE_ROWS = 500  # any info request over a time range returns at most this many rows
FILLS_PAGE_ROWS = 2000  # userFillsByTime's own cap
_LIGHT_INFO = frozenset(
    {"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState", "exchangeStatus"}
)
_PER_ITEM_INFO = frozenset(
    {"recentTrades", "historicalOrders", "userFills", "userFillsByTime", "fundingHistory", "userFunding",
     "nonUserFundingUpdates", "twapHistory", "userTwapSliceFills", "userTwapSliceFillsByTime",
     "delegatorHistory", "delegatorRewards", "validatorStats"}
)  # fmt: skip


def info_weight(kind: str, items: int = 0) -> int:
    """The weight an info request of type ``kind`` costs, given how many items it returned.

    2 for the light reads, 60 for userRole, 20 for the rest, plus 1 per 20 items returned for the
    history endpoints (candleSnapshot: per 60)."""
    if kind in _LIGHT_INFO:
        return 2
    if kind == "userRole":
        return 60
    if kind in _PER_ITEM_INFO:
        return 20 + items // 20
    if kind == "candleSnapshot":
        return 20 + items // 60
    return 20


def user_address(value: Any, field: str = "user") -> str:
    """A user address as info requests take it (lower case), or ValueError saying what is wrong."""
    return eip712.checked_address(value, field)


def page_rows(kind: str) -> int:
    """The most rows one time-ranged info request of type ``kind`` returns."""
    return FILLS_PAGE_ROWS if kind == "userFillsByTime" else PAGE_ROWS


_EXCHANGE_DOMAIN = eip712.domain_separator("Exchange", "1", 1337)
_AGENT_FIELDS: list[eip712.Field] = [("source", "string"), ("connectionId", "bytes32")]
_AGENT_TYPE_HASH = eip712.type_hash("Agent", _AGENT_FIELDS)
_SOURCE_HASH = {True: eip712.keccak(b"a"), False: eip712.keccak(b"b")}
_USER_DOMAINS: dict[int, bytes] = {}


def chain_name(is_mainnet: bool) -> Chain:
    """Hyperliquid's name for the chain in user-signed actions."""
    return "Mainnet" if is_mainnet else "Testnet"


# -- user-signed actions ----------------------------------------------------------------------


def _user_domain(signature_chain_id: str) -> bytes:
    chain_id = int(signature_chain_id, 16)
    domain = _USER_DOMAINS.get(chain_id)
    if domain is None:
        domain = _USER_DOMAINS[chain_id] = eip712.domain_separator(
            "HyperliquidSignTransaction", "1", chain_id
        )
    return domain


def user_signed_digest(action: dict[str, Any]) -> bytes:
    """The EIP-712 digest of a user-signed action (its ``type`` picks the struct)."""
    try:
        primary, fields = USER_SIGNED[action["type"]]
    except KeyError:
        raise ValueError(f"not a user-signed action type: {action.get('type')!r}") from None
    message = dict(action)
    if primary == USER_SIGNED["approveAgent"][0] and message.get("agentName") is None:
        message["agentName"] = ""  # signed as "", posted as "", null or absent
    return eip712.digest(
        _user_domain(action["signatureChainId"]), eip712.struct_hash(primary, fields, message)
    )


def sign_user_signed_action(key: Any, action: dict[str, Any]) -> Signature:
    """The EIP-712 signature of a user-signed action (approveAgent, transfers ...)."""
    return eip712.sign_digest(key, user_signed_digest(action))


def recover_user_signer(action: dict[str, Any], signature: Any) -> str:
    """The address that signed a user-signed action."""
    return eip712.recover_address(user_signed_digest(action), Signature.from_wire(signature))


# -- approveAgent -------------------------------------------------------------------------------


def agent_name_field(name: str | None, valid_until: int | None) -> str:
    """What goes in ``agentName``: the name, then `` valid_until <ms>`` when an expiry is set."""
    base = name or ""
    return f"{base} valid_until {valid_until}" if valid_until is not None else base


def parse_agent_name(field: str | None) -> tuple[str, int | None]:
    """(name, valid_until) from an ``agentName`` field."""
    text = field or ""
    head, sep, tail = text.rpartition(" valid_until ")
    if sep and tail.isdigit():
        return head, int(tail)
    if text.startswith("valid_until ") and text[12:].isdigit():
        return "", int(text[12:])
    return text, None


def approve_agent_action(
    agent_address: str,
    *,
    name: str | None = None,
    valid_until: int | None = None,
    nonce: int,
    is_mainnet: bool,
    signature_chain_id: str = SIGNATURE_CHAIN_ID,
) -> dict[str, Any]:
    """An approveAgent action for ``agent_address``, named and with an expiry, as the venue takes it."""
    return {
        "type": "approveAgent",
        "signatureChainId": signature_chain_id,
        "hyperliquidChain": chain_name(is_mainnet),
        "agentAddress": agent_address.lower(),
        "agentName": agent_name_field(name, valid_until),
        "nonce": nonce,
    }


def user_signed_body(key: Any, action: dict[str, Any]) -> dict[str, Any]:
    """The ``/exchange`` body of a user-signed action (approveAgent and the like): public, ready to post."""
    signature = sign_user_signed_action(key, action)
    return {
        "action": action,
        "nonce": action.get("nonce", action.get("time")),
        "signature": signature.to_wire(),
    }


# -- L1 actions ----------------------------------------------------------------------------------


def action_hash(
    action: dict[str, Any], vault_address: str | None, nonce: int, expires_after: int | None
) -> bytes:
    """The phantom agent's ``connectionId``: keccak(msgpack(action) ‖ nonce ‖ vault ‖ expiry)."""
    data = msgpack.packb(action) + nonce.to_bytes(8, "big")
    data += b"\x00" if vault_address is None else b"\x01" + eip712.address_bytes(vault_address)
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return eip712.keccak(data)


def l1_digest(
    action: dict[str, Any], vault_address: str | None, nonce: int, expires_after: int | None, is_mainnet: bool
) -> bytes:
    """The digest of an L1 action: the msgpack hash of action, nonce and vault, signed via the phantom
    agent."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    struct = eip712.keccak(_AGENT_TYPE_HASH + _SOURCE_HASH[is_mainnet] + connection_id)
    return eip712.keccak(b"\x19\x01" + _EXCHANGE_DOMAIN + struct)


def sign_l1_action(
    key: Any,
    action: dict[str, Any],
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
) -> Signature:
    """The signature of an L1 action (orders, cancels ...) by ``key``."""
    return eip712.sign_digest(key, l1_digest(action, vault_address, nonce, expires_after, is_mainnet))


def recover_l1_signer(
    action: dict[str, Any],
    signature: Any,
    vault_address: str | None,
    nonce: int,
    expires_after: int | None,
    is_mainnet: bool,
    *,
    checksum: bool = True,
) -> str:
    """The address that signed an L1 action."""
    digest = l1_digest(action, vault_address, nonce, expires_after, is_mainnet)
    return eip712.recover_address(digest, Signature.from_wire(signature), checksum=checksum)


# -- order wire format ---------------------------------------------------------------------------


def float_to_wire(x: float | str | Decimal) -> str:
    """A number as Hyperliquid hashes it: at most 8 decimals, no trailing zeros, no "-0"."""
    value = Decimal(str(x))
    rounded = value.quantize(Decimal("1e-8"))
    if abs(rounded - value) >= Decimal("1e-12"):
        raise ValueError(f"{x} has more than 8 decimals")
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "0") else text


Tif = Literal["Gtc", "Ioc", "Alo"]


def order_wire(
    asset: int,
    is_buy: bool,
    price: float | str,
    size: float | str,
    *,
    reduce_only: bool = False,
    tif: Tif = "Gtc",
    cloid: str | None = None,
) -> dict[str, Any]:
    """One limit order as Hyperliquid's wire writes it (price and size as its decimal text)."""
    wire: dict[str, Any] = {
        "a": asset,
        "b": is_buy,
        "p": float_to_wire(price),
        "s": float_to_wire(size),
        "r": reduce_only,
        "t": {"limit": {"tif": tif}},
    }
    if cloid is not None:
        wire["c"] = cloid
    return wire


def order_action(orders: list[dict[str, Any]], grouping: str = "na") -> dict[str, Any]:
    """An ``order`` action from order wires (see ``order_wire``)."""
    return {"type": "order", "orders": orders, "grouping": grouping}


def cancel_action(cancels: list[tuple[int, int]]) -> dict[str, Any]:
    """A ``cancel`` action from ``(asset, oid)`` pairs."""
    return {"type": "cancel", "cancels": [{"a": a, "o": o} for a, o in cancels]}


def cancel_by_cloid_action(cancels: list[tuple[int, str]]) -> dict[str, Any]:
    """A ``cancelByCloid`` action from ``(asset, cloid)`` pairs."""
    return {"type": "cancelByCloid", "cancels": [{"asset": a, "cloid": c} for a, c in cancels]}


# -- client ----------------------------------------------------------------------------------------


class HyperliquidError(Exception):
    """``{"status": "err", "response": "..."}``, or an HTTP failure, with the venue's words."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds, from a 429's Retry-After header


@dataclass(frozen=True)
class ApprovedAgent:
    """An API wallet just approved: its fresh key (a Secret), name and expiry (ms, or None)."""

    address: str
    private_key: Secret
    name: str
    valid_until: int | None
    master: str


class HyperliquidClient(HttpClient):
    """Hyperliquid's /info and /exchange over httpx.

    ``HyperliquidClient(sandbox, wallet=master_key)`` signs as the master account;
    ``HyperliquidClient("testnet", wallet=agent_key, account_address=master)`` trades through an
    agent. The sandbox plays Testnet, as the official SDK assumes for every non-mainnet URL.
    """

    def __init__(
        self,
        target: Any = "testnet",
        *,
        wallet: str | Secret | Wallet | None = None,
        account_address: str | None = None,
        vault_address: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url, self.is_mainnet = _resolve(target)
        # a Wallet, or anything wallet-shaped that signs (``.signer``, ``.address``), or a raw key
        self.wallet = None if wallet is None else eip712.as_wallet(wallet)
        self.account_address = account_address or (self.wallet.address if self.wallet else None)
        self.vault_address = vault_address
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)
        self._nonce_lock = threading.Lock()
        self._last_nonce = 0
        # Against a sandbox handle, expiries are measured on the sandbox's (possibly fast-forwarded)
        # clock; nonces always follow the wall clock, as on the venue.
        self._venue_now_ms = getattr(target, "now_ms", None)

    def __repr__(self) -> str:
        signer = self.wallet.address if self.wallet else None
        return f"HyperliquidClient({self.base_url!r}, account={self.account_address!r}, signer={signer!r})"

    def next_nonce(self) -> int:
        """Milliseconds now, strictly increasing within this client (nonces are per signer)."""
        with self._nonce_lock:
            self._last_nonce = max(int(time.time() * 1000), self._last_nonce + 1)
            return self._last_nonce

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(self._http.post(path, json=body))

    @staticmethod
    def _check(response: httpx.Response) -> Any:
        status, wait = response.status_code, retry_after(response)
        try:
            data = response.json()
        except ValueError:
            raise HyperliquidError(response.text or response.reason_phrase, status, wait) from None
        if isinstance(data, dict) and data.get("status") == "err":
            raise HyperliquidError(str(data.get("response")), status, wait)
        if not response.is_success:
            raise HyperliquidError(str(data), status, wait)
        return data

    def info(self, body: dict[str, Any]) -> Any:
        """Any ``/info`` request, as a dict body (``{"type": "allMids"}``)."""
        return self._post("/info", body)

    def info_bytes(self, body: dict[str, Any]) -> bytes:
        """An info request's raw JSON body, for loaders that parse it in bulk; errors (429 included,
        with ``status``) raise HyperliquidError as ``info`` does."""
        response = self._http.post("/info", json=body)
        if response.is_success and not response.content.startswith(b'{"status":"err"'):
            return response.content
        self._check(response)
        raise HyperliquidError(response.text, response.status_code)

    def meta(self) -> dict[str, Any]:
        """The perpetuals universe: names, size decimals, leverage."""
        return self.info({"type": "meta"})

    def extra_agents(self, user: str | None = None) -> list[dict[str, Any]]:
        """The account's named agents: ``[{name, address, validUntil}]``."""
        return self.info({"type": "extraAgents", "user": (user or self.account_address or "").lower()})

    def user_role(self, address: str | None = None) -> dict[str, Any]:
        """Whether ``address`` is a user, an agent (and whose), a vault or missing."""
        return self.info({"type": "userRole", "user": (address or self.account_address or "").lower()})

    def _require_wallet(self) -> Wallet:
        if self.wallet is None:
            raise HyperliquidError("this client has no wallet to sign with")
        return self.wallet

    def _user_signed(self, action: dict[str, Any]) -> Any:
        return self.exchange(user_signed_body(self._require_wallet().signer, action))

    def exchange(self, body: dict[str, Any]) -> Any:
        """Post an already signed ``/exchange`` body (a setup step signed elsewhere)."""
        return self._post("/exchange", body)

    def venue_now_ms(self) -> int:
        """The venue's now: the sandbox's clock against a sandbox handle, else the wall clock."""
        return self._venue_now_ms() if self._venue_now_ms else int(time.time() * 1000)

    def approve_agent(
        self, name: str | None = None, *, valid_until: int | None = None, days: float | None = None
    ) -> ApprovedAgent:
        """Approve a freshly generated API wallet, optionally named and expiring.

        ``days`` sets ``valid_until`` that far ahead (at most 180). The same name replaces the
        agent under it; no name replaces the unnamed agent.
        """
        nonce = self.next_nonce()
        now = self._venue_now_ms() if self._venue_now_ms else nonce
        if days is not None:
            valid_until = now + int(days * MS_PER_DAY)
        if valid_until is not None and valid_until > now + MAX_AGENT_DAYS * MS_PER_DAY:
            raise HyperliquidError("valid_until may be at most 180 days ahead")
        agent = Wallet.generate()
        action = approve_agent_action(
            agent.address, name=name, valid_until=valid_until, nonce=nonce, is_mainnet=self.is_mainnet
        )
        self._user_signed(action)
        return ApprovedAgent(
            agent.address, agent.private_key, name or "", valid_until, self._require_wallet().address
        )

    def remove_agent(self, name: str | None = None) -> None:
        """Deregister the agent under ``name`` (the unnamed one by default): a zero-address approval."""
        nonce = self.next_nonce()
        action = approve_agent_action(ZERO_ADDRESS, name=name, nonce=nonce, is_mainnet=self.is_mainnet)
        self._user_signed(action)

    def l1_action(self, action: dict[str, Any], expires_after: int | None = None) -> Any:
        """Sign and post an L1 action (order, cancel, noop, ...) with this client's wallet; an action
        the venue could not read is refused here, before it is signed."""
        try:
            hyperliquid_wire.check_action(action)
        except hyperliquid_wire.WireError as exc:
            raise HyperliquidError(f"Invalid {action.get('type')} action: {exc}") from None
        nonce = self.next_nonce()
        signature = sign_l1_action(
            self._require_wallet().signer,
            action,
            self.vault_address,
            nonce,
            expires_after,
            self.is_mainnet,
        )
        body: dict[str, Any] = {"action": action, "nonce": nonce, "signature": signature.to_wire()}
        body["vaultAddress"] = self.vault_address
        if expires_after is not None:
            body["expiresAfter"] = expires_after
        return self._post("/exchange", body)

    def noop(self) -> Any:
        """An L1 action that does nothing but use a nonce: proves a signer is accepted."""
        return self.l1_action({"type": "noop"})

    def order(self, orders: list[dict[str, Any]], grouping: str = "na") -> Any:
        """Place orders (wires from ``order_wire``), signed as an L1 action."""
        return self.l1_action(order_action(orders, grouping))

    def cancel(self, asset: int, oid: int) -> Any:
        """Cancel order ``oid`` on ``asset``."""
        return self.l1_action(cancel_action([(asset, oid)]))


def _resolve(target: Any) -> tuple[str, bool]:
    found = resolve(target, NETWORKS, "HyperliquidClient")
    return found.url, found.network == "mainnet"
