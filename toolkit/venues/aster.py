"""Aster (asterdex): API keys from a wallet signature, V1 HMAC requests, V3 agents and V3 signing.

reference/venues.md §A:

* **API key + secret** through the web3 flow: fetch a nonce, sign ``You are signing into
  Astherus {nonce}`` with the wallet (EIP-191), trade the signature for a key and a secret.
* **V1** requests: HMAC-SHA256 with the secret over query string + body, ``X-MBX-APIKEY``,
  ``timestamp`` and ``recvWindow``.
* **V3 agents**: the main wallet approves an agent (EIP-712 ``AsterSignTransaction``, chain 56,
  a struct of the parameters, capitalised); the agent then signs every request: EIP-712
  ``Message{msg}`` over the exact parameter string sent, chain 1666 (714 on testnet), with
  ``user``, ``signer`` and a microsecond ``nonce``.

The client signs with these functions and the sandbox verifies with them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from toolkit.secrets import Secret, reveal
from toolkit.venues import eip712
from toolkit.venues._http import HttpClient
from toolkit.venues.eip712 import Signature, Wallet, as_wallet
from toolkit.venues.target import resolve

NETWORKS = {
    "mainnet": "https://fapi.asterdex.com",
    "testnet": "https://fapi.asterdex-testnet.com",
}
BAPI_PREFIX = "/bapi/futures/v1"
BAPI_MAINNET = "https://www.asterdex.com" + BAPI_PREFIX
V3_CHAIN_ID = {"Mainnet": 1666, "Testnet": 714}
MAIN_CHAIN_ID = 56  # the chain the main wallet signs account actions on
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60_000
NONCE_WINDOW_US = 10_000_000
NONCES_KEPT = 100

AsterChain = Literal["Mainnet", "Testnet"]

# Aster's error codes (Binance-futures numbering) and their texts.
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015
NONCE_EXPIRED = -4225
MESSAGES = {
    INVALID_TIMESTAMP: "Timestamp for this request is outside of the recvWindow.",
    INVALID_SIGNATURE: "Signature for this request is not valid.",
    BAD_API_KEY_FMT: "API-key format invalid.",
    REJECTED_MBX_KEY: "Invalid API-key, IP, or permissions for action.",
    NONCE_EXPIRED: "Nonce Expired",
}


# -- API key + secret from a wallet signature ---------------------------------------------------


def login_message(nonce: str | int) -> str:
    """The text a wallet signs to log in to Aster and create an API key."""
    return f"You are signing into Astherus {nonce}"


def sign_login(key: Any, nonce: str | int) -> str:
    """The wallet's ``personal_sign`` of the login message, as 0x-hex of 65 bytes."""
    return eip712.sign_digest(key, eip712.eip191_digest(login_message(nonce).encode())).to_hex()


def recover_login(nonce: str | int, signature: str) -> str:
    """The address that signed the login text for ``nonce``."""
    return eip712.recover_address(
        eip712.eip191_digest(login_message(nonce).encode()), Signature.from_wire(signature)
    )


# -- V1: HMAC-SHA256 ------------------------------------------------------------------------------


def hmac_signature(secret: str | Secret, total_params: str) -> str:
    """HMAC-SHA256 of query string + body (no separator between them), as lower-case hex."""
    return hmac.new(reveal(secret).encode(), total_params.encode(), hashlib.sha256).hexdigest()


def signed_v1_query(
    params: dict[str, Any] | list[tuple[str, Any]],
    secret: str | Secret,
    *,
    timestamp: int | None = None,
    recv_window: int | None = DEFAULT_RECV_WINDOW,
) -> str:
    """The query string with ``recvWindow``, ``timestamp`` and ``signature`` (last) added."""
    items = list(params.items()) if isinstance(params, dict) else list(params)
    if recv_window is not None:
        items.append(("recvWindow", recv_window))
    items.append(("timestamp", timestamp if timestamp is not None else int(time.time() * 1000)))
    query = urlencode(items)
    return f"{query}&signature={hmac_signature(secret, query)}"


# -- V3: agent request signing --------------------------------------------------------------------

_MESSAGE_FIELDS: list[eip712.Field] = [("msg", "string")]
_DOMAINS: dict[int, bytes] = {}


def _domain(chain_id: int) -> bytes:
    domain = _DOMAINS.get(chain_id)
    if domain is None:
        domain = _DOMAINS[chain_id] = eip712.domain_separator("AsterSignTransaction", "1", chain_id)
    return domain


def message_digest(msg: str, chain_id: int) -> bytes:
    """The EIP-712 digest of Aster's ``Message`` type for ``msg`` on ``chain_id``."""
    return eip712.digest(_domain(chain_id), eip712.struct_hash("Message", _MESSAGE_FIELDS, {"msg": msg}))


def sign_message(key: Any, msg: str, chain_id: int) -> str:
    """EIP-712 ``Message{msg}`` under ``AsterSignTransaction``: the V3 request signature (0x-hex)."""
    return eip712.sign_digest(key, message_digest(msg, chain_id)).to_hex()


def recover_message(msg: str, signature: str, chain_id: int) -> str:
    """The address that signed ``msg`` as an EIP-712 ``Message``."""
    return eip712.recover_address(message_digest(msg, chain_id), Signature.from_wire(signature))


def strip_signature(raw: str) -> tuple[str, str | None]:
    """(the exact string that was signed, the signature) from a query string or form body."""
    head, sep, tail = raw.rpartition("&signature=")
    if not sep:
        if raw.startswith("signature="):
            return "", raw[len("signature=") :].split("&", 1)[0]
        return raw, None
    value, _, rest = tail.partition("&")
    return head + (("&" + rest) if rest else ""), value


# -- V3: the legacy scheme (2025-09 to 2026-01), still described in Aster's overview -------------


def legacy_v3_hash(params: dict[str, Any], user: str, signer: str, nonce: int) -> bytes:
    """keccak(abi.encode(string json, address user, address signer, uint256 nonce)), where json is
    the parameters as sorted, space-free JSON of strings."""
    text = json.dumps({k: str(v) for k, v in params.items() if v is not None}, sort_keys=True).replace(
        " ", ""
    )
    data = text.encode()
    padded = data + b"\0" * (-len(data) % 32)
    head = (
        (128).to_bytes(32, "big")
        + eip712.address_bytes(user).rjust(32, b"\0")
        + eip712.address_bytes(signer).rjust(32, b"\0")
        + nonce.to_bytes(32, "big")
    )
    return eip712.keccak(head + len(data).to_bytes(32, "big") + padded)


def sign_legacy_v3(key: Any, params: dict[str, Any], user: str, signer: str, nonce: int) -> str:
    """A request signature in Aster's earlier V3 scheme (EIP-191 over the parameter hash)."""
    digest = legacy_v3_hash(params, user, signer, nonce)
    return eip712.sign_digest(key, eip712.eip191_digest(digest)).to_hex()


# -- V3: main-wallet account actions ----------------------------------------------------------------

MAIN_ACTIONS: dict[str, list[eip712.Field]] = {
    "ApproveAgent": [
        ("agentName", "string"),
        ("agentAddress", "string"),
        ("ipWhitelist", "string"),
        ("expired", "uint256"),
        ("canSpotTrade", "bool"),
        ("canPerpTrade", "bool"),
        ("canWithdraw", "bool"),
        ("asterChain", "string"),
        ("user", "string"),
        ("nonce", "uint256"),
    ],
    "UpdateAgent": [
        ("agentAddress", "string"),
        ("ipWhitelist", "string"),
        ("canSpotTrade", "bool"),
        ("canPerpTrade", "bool"),
        ("canWithdraw", "bool"),
        ("asterChain", "string"),
        ("user", "string"),
        ("nonce", "uint256"),
    ],
    "DelAgent": [
        ("agentAddress", "string"),
        ("asterChain", "string"),
        ("user", "string"),
        ("nonce", "uint256"),
    ],
}


def _capitalised(fields: list[eip712.Field]) -> list[eip712.Field]:
    return [(name[:1].upper() + name[1:], kind) for name, kind in fields]


def main_action_digest(primary: str, params: dict[str, Any]) -> bytes:
    """The struct is the action's parameters, first letters capitalised, in Aster's order."""
    fields = MAIN_ACTIONS[primary]
    message = {name[:1].upper() + name[1:]: _typed(kind, params[name]) for name, kind in fields}
    return eip712.digest(_domain(MAIN_CHAIN_ID), eip712.struct_hash(primary, _capitalised(fields), message))


def _typed(kind: str, value: Any) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind.startswith("uint"):
        return int(value)
    return str(value)


def sign_main_action(key: Any, primary: str, params: dict[str, Any]) -> str:
    """The main wallet's EIP-712 signature of an agent action (approve, delete)."""
    return eip712.sign_digest(key, main_action_digest(primary, params)).to_hex()


def recover_main_action(primary: str, params: dict[str, Any], signature: str) -> str:
    """The address that signed an agent action."""
    return eip712.recover_address(main_action_digest(primary, params), Signature.from_wire(signature))


REGISTER_ORDER = (
    "user", "nonce", "agentName", "agentAddress", "expired", "signatureChainId",
    "canSpotTrade", "canPerpTrade", "canWithdraw", "ipWhitelist",
)  # fmt: skip


def register_message(params: dict[str, Any]) -> str:
    """What ``registerAndApproveAgent`` signs: the parameters in Aster's order as key=value pairs."""
    return "&".join(f"{k}={_text(params[k])}" for k in REGISTER_ORDER if k in params)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# -- client -----------------------------------------------------------------------------------------


class AsterError(Exception):
    """``{"code": -1022, "msg": "..."}`` from Aster, or a failed web3 step."""

    def __init__(self, code: int | str, msg: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.status = code, msg, status


@dataclass(frozen=True)
class AsterApiKey:
    """A V1 key from the web3 flow: the key goes in ``X-MBX-APIKEY``, the secret signs. Both are
    credentials, so both are Secrets; ``key_id`` is the public handle."""

    api_key: Secret
    api_secret: Secret
    key_id: str
    api_name: str
    address: str


@dataclass(frozen=True)
class AsterAgent:
    """A V3 API wallet approved by the main wallet: its fresh key is a Secret."""

    address: str
    private_key: Secret
    name: str
    expired: int
    user: str


class AsterClient(HttpClient):
    """Aster over httpx: the web3 key flow, V1 HMAC requests and V3 agents.

    ``AsterClient(sandbox)`` for the sandbox (it plays Mainnet's chain ids), ``"mainnet"`` or
    ``"testnet"`` for the venue. Pass ``api_key``/``api_secret`` for V1, or ``user`` and an agent
    ``agent_key`` for V3.
    """

    def __init__(
        self,
        target: Any = "mainnet",
        *,
        api_key: str | Secret | None = None,
        api_secret: str | Secret | None = None,
        user: str | None = None,
        agent_key: str | Secret | None = None,
        bapi_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url, self.chain = _resolve(target)
        self.bapi_url = (bapi_url or (self.base_url + BAPI_PREFIX if self.base_url not in NETWORKS.values()
                         else BAPI_MAINNET)).rstrip("/")  # fmt: skip
        self.api_key = Secret(api_key, "api_key") if api_key is not None else None
        self.api_secret = Secret(api_secret, "api_secret") if api_secret is not None else None
        self.user = user
        self.agent = Wallet.from_key(agent_key) if agent_key is not None else None
        self._http = httpx.Client(transport=transport, timeout=timeout)
        self._nonce_lock = threading.Lock()
        self._last_nonce = 0
        # Against a sandbox handle, agent expiry is measured on the sandbox's (possibly fast-forwarded)
        # clock, which is what it judges expiry by; nonces always follow the wall clock, as on the venue.
        self._venue_now_ms = getattr(target, "now_ms", None)

    def __repr__(self) -> str:
        auth = "v1" if self.api_secret else "v3" if self.agent else "public"
        return f"AsterClient({self.base_url!r}, auth={auth}, user={self.user!r})"

    def venue_now_ms(self) -> int:
        """The venue's now: the sandbox's clock against a sandbox handle, else the wall clock."""
        return self._venue_now_ms() if self._venue_now_ms else int(time.time() * 1000)

    def expiry_ms(self, days: float) -> int:
        """``days`` from the venue's now, in ms."""
        return int(self.venue_now_ms() + days * 86_400_000)

    def next_nonce(self) -> int:
        """Microseconds now, strictly increasing within this client."""
        with self._nonce_lock:
            self._last_nonce = max(time.time_ns() // 1000, self._last_nonce + 1)
            return self._last_nonce

    # -- plumbing -----------------------------------------------------------------------------

    def _check(self, response: httpx.Response) -> Any:
        try:
            data = response.json()
        except ValueError:
            raise AsterError(
                response.status_code, response.text or response.reason_phrase, response.status_code
            ) from None
        if isinstance(data, dict) and "code" in data and isinstance(data["code"], int) and data["code"] < 0:
            raise AsterError(data["code"], str(data.get("msg")), response.status_code)
        if not response.is_success:
            raise AsterError(response.status_code, str(data), response.status_code)
        return data

    def _bapi(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(f"{self.bapi_url}{path}", json=body, headers={"clientType": "broker"})
        try:
            data = response.json()
        except ValueError:
            raise AsterError(
                response.status_code, response.text or response.reason_phrase, response.status_code
            ) from None
        if not isinstance(data, dict) or not data.get("success") or data.get("code") != "000000":
            data = data if isinstance(data, dict) else {"code": response.status_code, "message": str(data)}
            message = str(data.get("message") or data.get("messageDetail"))
            raise AsterError(str(data.get("code")), message, response.status_code)
        return data["data"]

    # -- API key and secret --------------------------------------------------------------------

    def create_api_key(
        self, wallet: Wallet | str | Secret, desc: str, *, ip: str | None = None, network: str = "56"
    ) -> AsterApiKey:
        """Sign in with the wallet and mint a V1 key + secret (the web3 flow)."""
        wallet = as_wallet(wallet)
        nonce = self._bapi(
            "/public/future/web3/get-nonce", {"sourceAddr": wallet.address, "type": "CREATE_API_KEY"}
        )
        body = {
            "desc": desc,
            "network": network,
            "signature": sign_login(wallet.signer, nonce["nonce"]),
            "sourceAddr": wallet.address,
            "type": "CREATE_API_KEY",
            "sourceCode": "ae",
        }
        if ip:
            body["ip"] = ip
        data = self._bapi("/public/future/web3/broker-create-api-key", body)
        key = AsterApiKey(
            Secret(data["apiKey"], "api_key"),
            Secret(data["apiSecret"], "api_secret"),
            str(data["keyId"]),
            data["apiName"],
            wallet.address,
        )
        self.api_key, self.api_secret = key.api_key, key.api_secret
        return key

    def v1(
        self, method: str, path: str, params: dict[str, Any] | None = None, recv_window: int = 5000
    ) -> Any:
        """A SIGNED (TRADE / USER_DATA) V1 request."""
        if not (self.api_key and self.api_secret):
            raise AsterError(REJECTED_MBX_KEY, "this client has no V1 API key and secret")
        query = signed_v1_query(params or {}, self.api_secret, recv_window=recv_window)
        headers = {"X-MBX-APIKEY": self.api_key.reveal()}
        return self._check(self._http.request(method, f"{self.base_url}{path}?{query}", headers=headers))

    def balance(self) -> list[dict[str, Any]]:
        """The account's balances (``/fapi/v2/balance``), signed with the V1 key."""
        return self.v1("GET", "/fapi/v2/balance")

    def _signed(self, method: str, version: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """V1 (HMAC) when this client holds a key and secret, else V3 (agent)."""
        if self.api_secret is not None:
            return self.v1(method, f"/fapi/v1/{path}", params)
        return self.v3(method, f"/fapi/v3/{path}", params)

    def order(
        self,
        symbol: str,
        side: Literal["BUY", "SELL"],
        quantity: str | float,
        *,
        price: str | float | None = None,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
        client_order_id: str | None = None,
    ) -> dict[str, Any]:
        """A LIMIT order when ``price`` is given, else MARKET."""
        kind = "LIMIT" if price is not None else "MARKET"
        params: dict[str, Any] = {"symbol": symbol, "side": side, "type": kind, "quantity": quantity}
        if price is not None:
            params |= {"price": price, "timeInForce": time_in_force}
        if reduce_only:
            params["reduceOnly"] = "true"
        if client_order_id:
            params["newClientOrderId"] = client_order_id
        return self._signed("POST", "", "order", params)

    def income(self, **params: Any) -> list[dict[str, Any]]:
        """Income rows (``incomeType`` TRANSFER, FUNDING_FEE, COMMISSION, REALIZED_PNL, ...)."""
        return self._signed("GET", "", "income", params)

    def funding_rate(self, symbol: str | None = None, **params: Any) -> list[dict[str, Any]]:
        """Funding-rate history (``/fapi/v1/fundingRate``), public."""
        query = {"symbol": symbol} if symbol else {}
        return self._check(self._http.get(f"{self.base_url}/fapi/v1/fundingRate", params=query | params))

    def funding_info(self) -> list[dict[str, Any]]:
        """Each symbol's funding interval and caps (``/fapi/v1/fundingInfo``), public."""
        return self._check(self._http.get(f"{self.base_url}/fapi/v1/fundingInfo"))

    # -- V3 agents ------------------------------------------------------------------------------

    def _main_action(self, main: Any, primary: str, method: str, path: str, params: dict[str, Any]) -> Any:
        """Sign ``params`` as the main wallet's ``primary`` action (chain 56) and send them as a form."""
        signed = params | {"signature": sign_main_action(main.signer, primary, params)}
        signed["signatureChainId"] = MAIN_CHAIN_ID
        return self._check(self._http.request(method, f"{self.base_url}{path}", data=_form(signed)))

    def approve_agent(
        self,
        main_wallet: Wallet | str | Secret,
        name: str,
        *,
        days: float = 30,
        can_spot_trade: bool = False,
        can_perp_trade: bool = True,
        can_withdraw: bool = False,
        ip_whitelist: str = "",
    ) -> AsterAgent:
        """The main wallet approves a freshly generated agent (``POST /fapi/v3/approveAgent``)."""
        main = as_wallet(main_wallet)
        agent = Wallet.generate()
        expired = self.expiry_ms(days)
        params: dict[str, Any] = {
            "agentName": name,
            "agentAddress": agent.address,
            "ipWhitelist": ip_whitelist,
            "expired": expired,
            "canSpotTrade": can_spot_trade,
            "canPerpTrade": can_perp_trade,
            "canWithdraw": can_withdraw,
            "asterChain": self.chain,
            "user": main.address,
            "nonce": self.next_nonce(),
        }
        self._main_action(main, "ApproveAgent", "POST", "/fapi/v3/approveAgent", params)
        self.user, self.agent = main.address, agent
        return AsterAgent(agent.address, agent.private_key, name, expired, main.address)

    def register_and_approve_agent(
        self,
        main_wallet: Wallet | str | Secret,
        name: str,
        *,
        days: float = 30,
        can_spot_trade: bool = False,
        can_perp_trade: bool = True,
        can_withdraw: bool = False,
        ip_whitelist: str | None = None,
    ) -> AsterAgent:
        """Register the main wallet (if new) and approve an agent in one public call."""
        main = as_wallet(main_wallet)
        agent = Wallet.generate()
        params = register_and_approve_params(
            main, agent.address, name, expired=self.expiry_ms(days), nonce=self.next_nonce(),
            can_spot_trade=can_spot_trade, can_perp_trade=can_perp_trade, can_withdraw=can_withdraw,
            ip_whitelist=ip_whitelist,
        )  # fmt: skip
        self.send_register_and_approve(params)
        self.user, self.agent = main.address, agent
        return AsterAgent(agent.address, agent.private_key, name, params["expired"], main.address)

    def send_register_and_approve(self, params: dict[str, Any]) -> Any:
        """Post signed ``registerAndApproveAgent`` parameters (signed here or by a setup step)."""
        return self._check(
            self._http.post(f"{self.base_url}/fapi/v3/registerAndApproveAgent", data=_form(params))
        )

    def delete_agent(self, main_wallet: Wallet | str | Secret, agent_address: str) -> None:
        """Remove a V3 agent, signed by the main wallet."""
        main = as_wallet(main_wallet)
        params: dict[str, Any] = {
            "agentAddress": agent_address,
            "asterChain": self.chain,
            "user": main.address,
            "nonce": self.next_nonce(),
        }
        self._main_action(main, "DelAgent", "DELETE", "/fapi/v3/agent", params)

    def v3(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """A request signed by the agent: business params, then asterChain, user, signer, nonce."""
        if self.agent is None or self.user is None:
            raise AsterError(INVALID_SIGNATURE, "this client has no V3 agent key and user")
        items = dict(params or {})
        items |= {
            "asterChain": self.chain,
            "user": self.user,
            "signer": self.agent.address,
            "nonce": self.next_nonce(),
        }
        query = urlencode([(k, _text(v)) for k, v in items.items()])
        signature = sign_message(self.agent.signer, query, V3_CHAIN_ID[self.chain])
        return self._check(self._http.request(method, f"{self.base_url}{path}?{query}&signature={signature}"))

    def balance_v3(self) -> list[dict[str, Any]]:
        """The account's balances, signed by the V3 agent."""
        return self.v3("GET", "/fapi/v3/balance")

    def agents(self) -> list[dict[str, Any]]:
        """The account's V3 agents."""
        return self.v3("GET", "/fapi/v3/agent")


def register_and_approve_params(
    main: Wallet,
    agent_address: str,
    name: str,
    *,
    expired: int,
    nonce: int,
    can_spot_trade: bool = False,
    can_perp_trade: bool = True,
    can_withdraw: bool = False,
    ip_whitelist: str | None = None,
) -> dict[str, Any]:
    """``registerAndApproveAgent``'s form, signed by the main wallet (public: holds no secret)."""
    params: dict[str, Any] = {
        "user": main.address,
        "nonce": nonce,
        "agentName": name,
        "agentAddress": agent_address,
        "expired": expired,
        "signatureChainId": MAIN_CHAIN_ID,
        "canSpotTrade": can_spot_trade,
        "canPerpTrade": can_perp_trade,
        "canWithdraw": can_withdraw,
    }
    if ip_whitelist is not None:
        params["ipWhitelist"] = ip_whitelist
    params["signature"] = sign_message(main.signer, register_message(params), MAIN_CHAIN_ID)
    return params


def _form(params: dict[str, Any]) -> dict[str, str]:
    return {k: _text(v) for k, v in params.items()}


def _resolve(target: Any) -> tuple[str, AsterChain]:
    """The base URL and the chain its agents sign for: Testnet on the testnet, else Mainnet (the
    sandbox verifies Mainnet signatures, as the venue's own)."""
    found = resolve(target, NETWORKS, "AsterClient")
    return found.url, "Testnet" if found.network == "testnet" else "Mainnet"
