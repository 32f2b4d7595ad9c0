"""LighterClient: accounts, API key registration, tokens, maker-only keys and tiers over httpx.

``LighterClient(sandbox)`` talks to the embedded sandbox; ``LighterClient("testnet")`` and
``LighterClient("mainnet")`` to the venue. Every transaction is signed by the official native
signer with an explicit nonce from this client's ``NonceManager``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx

from toolkit.secrets import Secret
from toolkit.venues._http import HttpClient
from toolkit.venues.eip712 import Wallet, as_wallet
from toolkit.venues.lighter import wire
from toolkit.venues.lighter.nonces import NonceManager
from toolkit.venues.lighter.signer import ApiKeyPair, NativeSigner, SignedTx, generate_api_key
from toolkit.venues.lighter.wire import LighterError
from toolkit.venues.target import resolve

TimeInForce = Literal["ioc", "gtt", "post_only"]
_TIF = {"ioc": wire.IMMEDIATE_OR_CANCEL, "gtt": wire.GOOD_TILL_TIME, "post_only": wire.POST_ONLY}


class AccountNotFound(LighterError):
    """No Lighter account belongs to this L1 address yet."""

    def __init__(self, l1_address: str) -> None:
        super().__init__(
            wire.ACCOUNT_NOT_FOUND,
            f"account not found: {l1_address} has no Lighter account yet. Deposit first: an account "
            "is created by its first deposit, then API keys can be registered.",
        )


@dataclass(frozen=True)
class LighterAccount:
    account_index: int
    l1_address: str
    account_type: int  # 0 master, 1 sub-account
    trading_mode: str  # unifiedTradingAccount or simpleTradingAccount (read-only here)
    collateral: float
    pending_order_count: int


@dataclass(frozen=True)
class ApiKeySlot:
    """One slot as ``/apikeys`` lists it."""

    account_index: int
    api_key_index: int
    nonce: int
    public_key: str  # 80 hex digits, no 0x; zeros when the slot is empty
    transaction_time: int

    @property
    def registered(self) -> bool:
        """Whether the slot holds a key (not the empty key)."""
        return self.public_key != wire.ZERO_PUBLIC_KEY


@dataclass(frozen=True)
class LighterKey:
    """A registered API key: where it sits and its key pair (the private part a Secret)."""

    account_index: int
    api_key_index: int
    public_key: str  # 0x + 80 hex digits, as the signer writes it
    private_key: Secret = field(repr=False)
    chain_id: int

    def __repr__(self) -> str:
        return (
            f"LighterKey(account_index={self.account_index}, api_key_index={self.api_key_index}, "
            f"public_key={self.public_key[:12]}…, {self.private_key.masked()})"
        )

    def signer(self) -> NativeSigner:
        """This key's native signer, made once: making one loads the key into the library."""
        native = self.__dict__.get("_native")
        if native is None:
            native = NativeSigner(self.private_key, self.account_index, self.api_key_index, self.chain_id)
            object.__setattr__(self, "_native", native)  # a cache, not a field: equality and repr ignore it
        return native


@dataclass(frozen=True)
class ReadOnlyToken:
    token_id: int
    name: str
    account_index: int
    expiry: datetime
    sub_account_access: bool
    revoked: bool
    scopes: str
    api_token: Secret = field(repr=False)


def _resolve(target: Any) -> tuple[str, str]:
    found = resolve(target, wire.NETWORKS, "LighterClient")
    return found.url, found.network


def auth_deadline(expires_in: timedelta, now_s: int | None = None) -> int:
    """A token deadline ``expires_in`` from now, refused client-side past Lighter's 8 hours."""
    seconds = int(expires_in.total_seconds())
    if seconds <= 0:
        raise ValueError("an auth token must expire in the future")
    if seconds > wire.MAX_AUTH_TOKEN_SECONDS:
        raise ValueError("an auth token may be valid for at most 8 hours (Lighter refuses longer ones)")
    return (int(time.time()) if now_s is None else now_s) + seconds


class LighterClient(HttpClient):
    """Lighter's HTTP API: accounts, API keys at slots, tokens, tiers and orders, signed by the official
    native signer."""

    def __init__(
        self,
        target: Any = "testnet",
        *,
        chain_id: int | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        nonce_retries: int = 2,
    ) -> None:
        """``nonce_retries``: how often a transaction is signed again after "invalid nonce" (another
        client used the key); each retry first re-reads ``nextNonce``."""
        self.base_url, self.network = _resolve(target)
        self.nonce_retries = nonce_retries
        self.chain_id = (
            chain_id if chain_id is not None else wire.CHAIN_IDS.get(self.network, wire.SANDBOX_CHAIN_ID)
        )
        self._http = httpx.Client(base_url=self.base_url, transport=transport, timeout=timeout)
        self.nonces = NonceManager(self.next_nonce)

    def __repr__(self) -> str:
        return f"LighterClient({self.base_url!r}, chain_id={self.chain_id})"

    # -- HTTP ------------------------------------------------------------------------------------

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise LighterError(
                wire.INVALID_PARAM, response.text or response.reason_phrase, response.status_code
            ) from None
        if not isinstance(data, dict):
            raise LighterError(wire.INVALID_PARAM, "unexpected answer", response.status_code)
        code = data.get("code", 200)
        if not response.is_success or code not in (0, 200):
            raise LighterError(
                int(code) if isinstance(code, int) else 0, str(data.get("message")), response.status_code
            )
        return data

    def _get(self, path: str, params: dict[str, Any], auth: Any = None) -> dict[str, Any]:
        headers = {"authorization": self._auth(auth)} if auth is not None else None
        return self._answer(self._http.get(f"/api/v1/{path}", params=params, headers=headers))

    def _post(self, path: str, form: dict[str, Any], auth: Any = None) -> dict[str, Any]:
        headers = {"authorization": self._auth(auth)} if auth is not None else None
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in form.items()}
        return self._answer(self._http.post(f"/api/v1/{path}", data=data, headers=headers))

    def _auth(self, auth: LighterKey | Secret | str) -> str:
        """A header value: a fresh 10-minute token for a key, or a token (standard or read-only) as given."""
        if isinstance(auth, LighterKey):
            return self.create_auth_token(auth).reveal()
        return auth.reveal() if isinstance(auth, Secret) else auth

    # -- markets (public) ----------------------------------------------------------------------------

    def order_books(self, market_id: int = 255) -> list[dict[str, Any]]:
        """The markets and their specs (``orderBooks``); 255: every market."""
        return self._get("orderBooks", {"market_id": market_id})["order_books"]

    def fundings(
        self, market_id: int, start_s: int, end_s: int, *, resolution: str = "1h", count_back: int = 750
    ) -> list[dict[str, Any]]:
        """A market's funding in ``[start_s, end_s]`` (seconds, as the venue takes them): the latest
        ``count_back`` periods, oldest first; ``rate`` in percent, ``direction`` the paying side."""
        params = {"market_id": market_id, "resolution": resolution, "start_timestamp": start_s,
                  "end_timestamp": end_s, "count_back": count_back}  # fmt: skip
        return self._get("fundings", params)["fundings"]

    def order_book_orders(self, market_id: int, limit: int = 20) -> dict[str, list[dict[str, Any]]]:
        """The book's best ``limit`` asks and bids (``orderBookOrders``), best first."""
        data = self._get("orderBookOrders", {"market_id": market_id, "limit": limit})
        return {"asks": data["asks"], "bids": data["bids"]}

    def best_prices(self, market_id: int) -> tuple[int, int]:
        """(best bid, best ask) as integer prices in the market's units, as orders carry them."""
        book = self.order_book_orders(market_id, 1)
        return _units(book["bids"][0]["price"]), _units(book["asks"][0]["price"])

    def recent_trades(self, market_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """The market's latest trades, newest first."""
        return self._get("recentTrades", {"market_id": market_id, "limit": limit})["trades"]

    # -- an account's trading (positions, orders, trades, funding) -----------------------------------

    def account(self, account_index: int) -> dict[str, Any]:
        """The account with its collateral, positions and margin (``account``; public on Lighter)."""
        (found,) = self._get("account", {"by": "index", "value": str(account_index)})["accounts"]
        return found

    def active_orders(
        self, account_index: int, auth: LighterKey | Secret | str, market_id: int = 255
    ) -> list[dict[str, Any]]:
        """The account's open orders (auth token required)."""
        params = {"account_index": account_index, "market_id": market_id}
        return self._get("accountActiveOrders", params, auth)["orders"]

    def inactive_orders(
        self, account_index: int, auth: LighterKey | Secret | str, *, limit: int = 100, market_id: int = 255
    ) -> list[dict[str, Any]]:
        """The account's filled and canceled orders, newest first (auth token required)."""
        params = {"account_index": account_index, "limit": limit, "market_id": market_id}
        return self._get("accountInactiveOrders", params, auth)["orders"]

    def trades(
        self, account_index: int, auth: LighterKey | Secret | str, *, limit: int = 100, market_id: int = 255
    ) -> list[dict[str, Any]]:
        """The account's trades, newest first (auth token required)."""
        params = {
            "sort_by": "timestamp",
            "limit": limit,
            "market_id": market_id,
            "account_index": account_index,
        }
        return self._get("trades", params, auth)["trades"]

    def position_funding(
        self, account_index: int, auth: LighterKey | Secret | str, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The account's latest hourly funding payments, newest first; ``change``: money into the account."""
        return self.position_funding_page(account_index, auth, limit=limit)["position_fundings"]

    def position_funding_page(
        self, account_index: int, auth: LighterKey | Secret | str, *, limit: int = 100,
        start_s: int | None = None, end_s: int | None = None, cursor: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """One page of ``positionFunding`` (times in seconds); its ``next_cursor`` asks for the next older."""
        params = {"account_index": account_index, "limit": limit, "start_timestamp": start_s,
                  "end_timestamp": end_s, "cursor": cursor}  # fmt: skip
        return self._get("positionFunding", _given(params), auth)

    def trades_page(
        self,
        account_index: int,
        auth: LighterKey | Secret | str,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of the account's trades, newest first; its ``next_cursor`` asks for the next older."""
        params = {"sort_by": "trade_id", "limit": limit, "account_index": account_index, "cursor": cursor}
        return self._get("trades", _given(params), auth)

    def liquidations_page(
        self,
        account_index: int,
        auth: LighterKey | Secret | str,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """One page of the account's liquidations, newest first; ``next_cursor`` asks for the next older."""
        params = {"account_index": account_index, "limit": limit, "cursor": cursor}
        return self._get("liquidations", _given(params), auth)

    # -- accounts and keys ------------------------------------------------------------------------

    def accounts(self, l1_address: str) -> list[LighterAccount]:
        """Every account (master first) of an L1 address; ``AccountNotFound`` when it has none."""
        try:
            data = self._get("accountsByL1Address", {"l1_address": l1_address})
        except LighterError as exc:
            if exc.code == wire.ACCOUNT_NOT_FOUND or "account not found" in exc.message:
                raise AccountNotFound(l1_address) from None
            raise
        found = [
            LighterAccount(
                a["index"],
                a["l1_address"],
                a.get("account_type", 0),
                wire.TRADING_MODES.get(a.get("account_trading_mode", 0), "simpleTradingAccount"),
                float(a.get("collateral") or 0),
                a.get("pending_order_count", 0),
            )
            for a in data.get("sub_accounts") or []
        ]
        if not found:
            raise AccountNotFound(l1_address)
        return sorted(found, key=lambda a: a.account_index)

    def account_index(self, l1_address: str) -> int:
        """The master account's index: the smallest of the address's accounts."""
        return self.accounts(l1_address)[0].account_index

    def next_nonce(self, account_index: int, api_key_index: int) -> int:
        """The nonce the venue expects next from this slot."""
        return int(
            self._get("nextNonce", {"account_index": account_index, "api_key_index": api_key_index})["nonce"]
        )

    def api_keys(self, account_index: int) -> list[ApiKeySlot]:
        """The registered keys of an account."""
        data = self._get("apikeys", {"account_index": account_index})
        return [ApiKeySlot(**k) for k in data.get("api_keys") or []]

    def api_key(self, account_index: int, api_key_index: int) -> ApiKeySlot:
        """One slot, registered or empty."""
        data = self._get("apikeys", {"account_index": account_index, "api_key_index": api_key_index})
        keys = data.get("api_keys") or []
        if not keys:
            return ApiKeySlot(account_index, api_key_index, 0, wire.ZERO_PUBLIC_KEY, 0)
        return ApiKeySlot(**keys[0])

    def send_tx(self, signed: SignedTx) -> dict[str, Any]:
        """Send one signed transaction (``sendTx``)."""
        return self._post("sendTx", {"tx_type": signed.tx_type, "tx_info": signed.tx_info})

    # -- registration ---------------------------------------------------------------------------------

    def sign_change_pub_key(
        self,
        wallet: Wallet,
        account_index: int,
        api_key_index: int,
        new_key: ApiKeyPair,
        nonce: int,
        *,
        signing_key: Secret | None = None,
    ) -> SignedTx:
        """ChangePubKey signed on L2 (by ``new_key``, or ``signing_key`` when revoking) and
        countersigned on L1 by ``wallet`` over Lighter's exact message."""
        key = signing_key or new_key.private_key
        signed = NativeSigner(key, account_index, api_key_index, self.chain_id).sign_change_pub_key(
            new_key.public_key, nonce
        )
        assert signed.message_to_sign is not None
        info = json.loads(signed.tx_info)
        info["L1Sig"] = wire.sign_l1(wallet, signed.message_to_sign)
        return SignedTx(
            signed.tx_type, json.dumps(info, separators=(",", ":")), signed.tx_hash, signed.message_to_sign
        )

    def register_api_key(
        self,
        wallet: Wallet | str | Secret,
        *,
        api_key_index: int = wire.DEFAULT_API_KEY_INDEX,
        account_index: int | None = None,
        key: ApiKeyPair | None = None,
    ) -> LighterKey:
        """Generate a key (unless given), register it at ``api_key_index`` with one wallet
        signature, and confirm it through ``/apikeys``. Re-registering a slot replaces its key."""
        wallet = as_wallet(wallet)
        wire.check_user_slot(api_key_index)
        if account_index is None:
            account_index = self.account_index(wallet.address)
        key = key or generate_api_key()

        def send(nonce: int) -> dict[str, Any]:
            return self.send_tx(self.sign_change_pub_key(wallet, account_index, api_key_index, key, nonce))

        self.nonces.submit(account_index, api_key_index, send, retries=self.nonce_retries)
        registered = LighterKey(account_index, api_key_index, key.public_key, key.private_key, self.chain_id)
        self.confirm(registered)
        return registered

    def confirm(self, key: LighterKey) -> ApiKeySlot:
        """The slot, checked to hold ``key`` (what the SDK's ``check_client`` checks)."""
        slot = self.api_key(key.account_index, key.api_key_index)
        if slot.public_key != wire.public_key_hex(key.public_key):
            raise LighterError(
                wire.API_KEY_NOT_FOUND,
                f"slot {key.api_key_index} of account {key.account_index} does not hold this key",
            )
        return slot

    def rotate_api_key(self, wallet: Wallet | str | Secret, key: LighterKey) -> LighterKey:
        """A new key at the same slot: the old one stops working the moment this returns."""
        return self.register_api_key(wallet, api_key_index=key.api_key_index, account_index=key.account_index)

    def revoke_api_key(self, wallet: Wallet | str | Secret, key: LighterKey) -> dict[str, Any]:
        """Empty the slot: a ChangePubKey to the zero key, signed by the key itself and the wallet."""
        wallet = as_wallet(wallet)
        zero = ApiKeyPair(Secret("0" * 80, "unused"), "0x" + wire.ZERO_PUBLIC_KEY)

        def send(nonce: int) -> dict[str, Any]:
            signed = self.sign_change_pub_key(
                wallet, key.account_index, key.api_key_index, zero, nonce, signing_key=key.private_key
            )
            return self.send_tx(signed)

        result = self.nonces.submit(key.account_index, key.api_key_index, send, retries=self.nonce_retries)
        assert isinstance(result, dict)
        return result

    # -- tokens ---------------------------------------------------------------------------------------

    def create_auth_token(self, key: LighterKey, *, expires_in: timedelta = timedelta(minutes=10)) -> Secret:
        """A signed auth token, made offline; at most 8 hours (longer is refused here, as there)."""
        return key.signer().create_auth_token(auth_deadline(expires_in))

    def create_read_only_token(
        self,
        key: LighterKey,
        name: str,
        *,
        expires_in: timedelta = timedelta(days=30),
        all_accounts: bool = False,
    ) -> ReadOnlyToken:
        """A ``ro:`` token for reading auth-gated data; from 1 day to 10 years."""
        seconds = int(expires_in.total_seconds())
        if not wire.MIN_RO_TOKEN_SECONDS <= seconds <= wire.MAX_RO_TOKEN_SECONDS:
            raise ValueError("a read-only token lives from 1 day to 10 years")
        form = {
            "name": name,
            "account_index": key.account_index,
            "expiry": int(time.time()) + seconds,
            "sub_account_access": all_accounts,
            "scopes": "read.*",
        }
        return _token(self._post("tokens/create", form, key))

    def read_only_tokens(self, account_index: int, auth: LighterKey | Secret | str) -> list[ReadOnlyToken]:
        """The account's read-only tokens."""
        data = self._get("tokens", {"account_index": account_index}, auth)
        return [_token(t) for t in data.get("api_tokens") or []]

    def revoke_read_only_token(self, key: LighterKey, token_id: int) -> None:
        """Revoke read-only token ``token_id``."""
        self._post("tokens/revoke", {"token_id": token_id, "account_index": key.account_index}, key)

    # -- maker-only keys and tiers -----------------------------------------------------------------------

    def set_maker_only_api_keys(self, key: LighterKey, api_key_indexes: list[int]) -> None:
        """Replace the account's maker-only keys (premium only; 4-254; at most once an hour)."""
        for index in api_key_indexes:
            wire.check_user_slot(index)
        form = {"account_index": key.account_index, "api_key_indexes": json.dumps(sorted(api_key_indexes))}
        self._post("setMakerOnlyApiKeys", form, key)

    def maker_only_api_keys(self, account_index: int, auth: LighterKey | Secret | str) -> list[int]:
        """The slots marked maker-only."""
        return list(
            self._get("getMakerOnlyApiKeys", {"account_index": account_index}, auth)["api_key_indexes"]
        )

    def change_account_tier(self, key: LighterKey, tier: wire.Tier) -> None:
        """Standard <-> premium: no open positions, no pending orders, 24 h between switches."""
        if tier not in wire.TIERS:
            raise ValueError(f"tier must be one of {wire.TIERS}")
        self._post("changeAccountTier", {"account_index": key.account_index, "new_tier": tier}, key)

    def account_limits(self, account_index: int, auth: LighterKey | Secret | str) -> dict[str, Any]:
        """The account's tier, trading mode and limits (auth token required)."""
        return self._get("accountLimits", {"account_index": account_index}, auth)

    # -- orders (what maker-only keys and the tier rules are about) ----------------------------------------

    def _submit(self, key: LighterKey, sign: Any) -> dict[str, Any]:
        signer = key.signer()
        result = self.nonces.submit(
            key.account_index, key.api_key_index, lambda n: self.send_tx(sign(signer, n))
        )
        assert isinstance(result, dict)
        return result

    def create_order(
        self,
        key: LighterKey,
        *,
        market_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        time_in_force: TimeInForce = "gtt",
        client_order_index: int = 0,
        reduce_only: bool = False,
    ) -> dict[str, Any]:
        """A limit order in the market's integer units; ``post_only`` is what maker-only keys may send."""
        tif = _TIF[time_in_force]
        return self._submit(
            key,
            lambda s, n: s.sign_create_order(
                market_index=market_index,
                client_order_index=client_order_index,
                base_amount=base_amount,
                price=price,
                is_ask=is_ask,
                order_type=wire.ORDER_LIMIT,
                time_in_force=tif,
                reduce_only=reduce_only,
                order_expiry=0 if tif == wire.IMMEDIATE_OR_CANCEL else -1,
                nonce=n,
            ),
        )

    def create_market_order(
        self, key: LighterKey, *, market_index: int, base_amount: int, worst_price: int, is_ask: bool,
        client_order_index: int = 0, reduce_only: bool = False,
    ) -> dict[str, Any]:  # fmt: skip
        """A market order: fills now at no worse than ``worst_price`` (market units) or not at all."""
        return self._submit(
            key,
            lambda s, n: s.sign_create_order(
                market_index=market_index, client_order_index=client_order_index, base_amount=base_amount,
                price=worst_price, is_ask=is_ask, order_type=wire.ORDER_MARKET,
                time_in_force=wire.IMMEDIATE_OR_CANCEL, reduce_only=reduce_only, order_expiry=0, nonce=n,
            ),
        )  # fmt: skip

    def update_leverage(
        self, key: LighterKey, market_index: int, leverage: float, *, isolated: bool = False
    ) -> dict[str, Any]:
        """The market's leverage (as an initial margin fraction, 10,000 / leverage) and margin mode."""
        fraction = int(10_000 / leverage)
        mode = wire.ISOLATED_MARGIN if isolated else wire.CROSS_MARGIN
        return self._submit(key, lambda s, n: s.sign_update_leverage(market_index, fraction, mode, n))

    def update_margin(self, key: LighterKey, market_index: int, usdc: float) -> dict[str, Any]:
        """Add (positive) or remove (negative) USDC from an isolated position's margin."""
        direction = wire.ADD_MARGIN if usdc > 0 else wire.REMOVE_MARGIN
        micro = round(abs(usdc) * 1_000_000)
        return self._submit(key, lambda s, n: s.sign_update_margin(market_index, micro, direction, n))

    def cancel_order(self, key: LighterKey, market_index: int, order_index: int) -> dict[str, Any]:
        """Cancel one order, signed with the next nonce of ``key``'s slot."""
        return self._submit(key, lambda s, n: s.sign_cancel_order(market_index, order_index, n))

    def cancel_all_orders(self, key: LighterKey) -> dict[str, Any]:
        """Cancel every order of the account, now."""
        return self._submit(key, lambda s, n: s.sign_cancel_all_orders(wire.IMMEDIATE_OR_CANCEL, 0, n))

    def modify_order(
        self, key: LighterKey, market_index: int, order_index: int, base_amount: int, price: int
    ) -> dict[str, Any]:
        """Change a resting order's size and price."""
        return self._submit(
            key, lambda s, n: s.sign_modify_order(market_index, order_index, base_amount, price, n)
        )


def _given(params: dict[str, Any]) -> dict[str, Any]:
    """The query parameters that have a value (the venue reads a missing one as its default)."""
    return {k: v for k, v in params.items() if v is not None}


def _units(price: str) -> int:
    """A printed price as the integer orders carry: the venue prints exactly the market's decimals."""
    return int(price.replace(".", ""))


def _token(data: dict[str, Any]) -> ReadOnlyToken:
    return ReadOnlyToken(
        token_id=data["token_id"],
        name=data["name"],
        account_index=data["account_index"],
        expiry=datetime.fromtimestamp(data["expiry"], tz=UTC),
        sub_account_access=data["sub_account_access"],
        revoked=data["revoked"],
        scopes=data["scopes"],
        api_token=Secret(data["api_token"], "lighter_read_only_token"),
    )
