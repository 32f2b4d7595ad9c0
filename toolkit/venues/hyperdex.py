"""HyperDEX: server wallets held by the service, and exchange keys registered with them.

A server wallet's key never reaches the caller: HyperDEX signs with it, registers it with Aster
(an API key + secret, kept by HyperDEX) or Hyperliquid (an API wallet whose key is returned once),
and keeps imported Lighter credentials. Errors are ``{"success": false, "error": "..."}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from toolkit.secrets import Secret, reveal
from toolkit.venues._http import HttpClient

MAINNET_URL = "https://api.dexaggregatorbeta.xyz"


class HyperDexError(Exception):
    """A refusal from HyperDEX: the HTTP status and its ``error`` text."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"{status}: {error}")
        self.status, self.error = status, error


@dataclass(frozen=True)
class ServerWallet:
    wallet_id: str
    user_id: str
    address: str
    public_key: str


@dataclass(frozen=True)
class HyperliquidApiWallet:
    """The API wallet HyperDEX approved for a server wallet; its key is shown this once."""

    api_wallet_address: str
    api_private_key: Secret
    main_wallet_address: str
    expiry_timestamp: int


class HyperDexClient(HttpClient):
    """HyperDEX over httpx; ``HyperDexClient(sandbox, api_key=sandbox.hyperdex_api_key())``."""

    def __init__(
        self,
        target: Any = MAINNET_URL,
        *,
        api_key: str | Secret,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:
        url = getattr(target, "url", target)
        if not isinstance(url, str) or not url.startswith("http"):
            raise ValueError("HyperDexClient needs a base URL or a sandbox handle")
        self.base_url = url.rstrip("/")
        self.api_key = Secret(api_key, "api_key")
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return f"HyperDexClient({self.base_url!r})"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, path, json=body, headers={"X-API-KEY": self.api_key.reveal()})
        try:
            data = response.json()
        except ValueError:
            raise HyperDexError(response.status_code, response.text or response.reason_phrase) from None
        if not response.is_success or not data.get("success", False):
            raise HyperDexError(response.status_code, str(data.get("error", data)))
        return data

    @staticmethod
    def _wallet(data: dict[str, Any]) -> ServerWallet:
        return ServerWallet(data["walletId"], data["userId"], data["address"], data["publicKey"])

    def create_wallet(self, user_id: str) -> ServerWallet:
        """A new server wallet held for ``user_id``."""
        return self._wallet(self._call("POST", "/api/wallets", {"userId": user_id}))

    def wallet(self, wallet_id_or_address: str) -> ServerWallet:
        """By userId, walletId (UUID) or 0x address."""
        return self._wallet(self._call("GET", f"/api/wallets/{wallet_id_or_address}"))

    def sign(self, wallet_id_or_address: str, message: str) -> str:
        """An EIP-191 signature of ``message`` by the server wallet."""
        return self._call("POST", f"/api/wallets/{wallet_id_or_address}/sign", {"message": message})[
            "signature"
        ]

    def register_aster(self, wallet_id_or_address: str) -> dict[str, Any]:
        """Aster issues a key + secret to the server wallet; HyperDEX keeps them (encrypted)."""
        return self._call("POST", "/api/trading/aster/apikey", {"walletIdOrAddress": wallet_id_or_address})[
            "data"
        ]

    def register_hyperliquid(self, wallet_id_or_address: str) -> HyperliquidApiWallet:
        """Approve a new Hyperliquid agent for the server wallet; HyperDEX holds its key."""
        data = self._call(
            "POST", "/api/trading/hyperliquid/apikey", {"walletIdOrAddress": wallet_id_or_address}
        )["data"]
        return HyperliquidApiWallet(
            data["apiWalletAddress"],
            Secret(data["apiPrivateKey"], "private_key"),
            data["mainWalletAddress"],
            data["expiryTimestamp"],
        )

    def import_lighter(
        self,
        wallet_id_or_address: str,
        *,
        account_index: int,
        api_key_index: int,
        api_public_key: str,
        api_private_key: str | Secret,
    ) -> str:
        """Hand HyperDEX a Lighter API key for the server wallet's account."""
        body = {
            "walletIdOrAddress": wallet_id_or_address,
            "accountIndex": account_index,
            "apiKeyIndex": api_key_index,
            "apiPublicKey": api_public_key,
            "apiPrivateKey": reveal(api_private_key),
        }
        return self._call("POST", "/api/trading/lighter/import", body)["message"]
