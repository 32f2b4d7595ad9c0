"""Lighter's wire format: transactions, the L1 message, auth and read-only tokens, error codes.

The one place that knows how Lighter messages are encoded. The client signs with the official
native signer (``signer.py``); the sandbox parses what arrives with ``parse_tx`` and checks it
with ``tx_hash``, ``verify_signature`` and ``recover_l1_signer``. The Poseidon2 / ECgFp5 /
Schnorr arithmetic and the per-type hashing come from ``typed-lighter`` (a port of lighter-go);
the tests hold both to the native signer's own hashes and signatures (reference/lighter.md §2–3).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Literal

from typed_lighter.core.signer import curve, field, schnorr
from typed_lighter.core.signer.poseidon2 import bytes_to_elements, hash_to_fp5
from typed_lighter.core.signer.txs import account as _account
from typed_lighter.core.signer.txs import orders as _orders
from typed_lighter.core.signer.txs.base import Attributes, L2Tx

from toolkit.venues import eip712
from toolkit.venues.refusal import VenueRefusal

# -- networks ------------------------------------------------------------------------------------

NETWORKS = {
    "mainnet": "https://mainnet.zklighter.elliot.ai",
    "testnet": "https://testnet.zklighter.elliot.ai",
}
CHAIN_IDS = {"mainnet": 304, "testnet": 300}
# The official SignerClient signs with 304 for any URL it does not recognise, so the sandbox
# uses 304 too: the SDK then works against it unmodified.
SANDBOX_CHAIN_ID = 304

# -- slots, nonces and limits (reference/lighter.md §1, §3–6; seed 001) -------------------------

MIN_API_KEY_INDEX = 0
MAX_API_KEY_INDEX = 254
NIL_API_KEY_INDEX = 255  # "all keys" in queries, "the account's default client" in the signer
RESERVED_API_KEY_INDEXES = range(0, 4)  # Lighter's desktop and mobile front-ends
MIN_USER_API_KEY_INDEX = 4
DEFAULT_API_KEY_INDEX = 42  # the slot the perps SDK uses by convention (seed 004)
MAX_MASTER_ACCOUNT_INDEX = (1 << 47) - 1
MAX_ACCOUNT_INDEX = (1 << 48) - 2
MAX_NONCE = (1 << 48) - 1
MAX_SKIP_NONCE = (1 << 47) - 1  # with SkipNonce: 2^47 - 1 > new > old
ZERO_PUBLIC_KEY = "0" * 80  # an empty (never registered or revoked) slot
MAX_AUTH_TOKEN_SECONDS = 8 * 3600
MIN_RO_TOKEN_SECONDS = 86_400
MAX_RO_TOKEN_SECONDS = 10 * 365 * 86_400
MAX_MAKER_ONLY_KEYS = 200
MAKER_ONLY_COOLDOWN_SECONDS = 3600
TIER_COOLDOWN_SECONDS = 24 * 3600
TX_EXPIRY_MS = 10 * 60_000 - 1000  # the signer's default ExpiredAt: now + 10 min - 1 s

Tier = Literal["standard", "premium"]
TIERS: tuple[Tier, ...] = ("standard", "premium")
TRADING_MODES = {0: "simpleTradingAccount", 1: "unifiedTradingAccount"}

# -- transaction types (lighter-go constants.go) ------------------------------------------------

TX_CHANGE_PUB_KEY = 8
TX_CREATE_ORDER = 14
TX_CANCEL_ORDER = 15
TX_CANCEL_ALL_ORDERS = 16
TX_MODIFY_ORDER = 17
TX_UPDATE_LEVERAGE = 20
TX_UPDATE_MARGIN = 29
# what the sandbox parses and verifies (``_build`` makes each one)
TX_TYPES = frozenset(
    {
        TX_CHANGE_PUB_KEY, TX_CREATE_ORDER, TX_CANCEL_ORDER, TX_CANCEL_ALL_ORDERS, TX_MODIFY_ORDER,
        TX_UPDATE_LEVERAGE, TX_UPDATE_MARGIN,
    }
)  # fmt: skip
# order types and times in force
ORDER_LIMIT, ORDER_MARKET = 0, 1
STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT, TWAP = 2, 3, 4, 5, 6
CROSS_MARGIN, ISOLATED_MARGIN = 0, 1
REMOVE_MARGIN, ADD_MARGIN = 0, 1
IMMEDIATE_OR_CANCEL, GOOD_TILL_TIME, POST_ONLY = 0, 1, 2
# what a maker-only key may send: post-only orders, their modification, cancels
MAKER_ONLY_TX_TYPES = frozenset({TX_CREATE_ORDER, TX_CANCEL_ORDER, TX_CANCEL_ALL_ORDERS, TX_MODIFY_ORDER})

# -- error codes: Lighter's ``{code, message}`` envelope -----------------------------------------
# 21100, 21104 and 20013 are the venue's own (reference/lighter.md §2.4, venues.md §E.2); the
# venue publishes no table for the rest, so the sandbox numbers them near their relatives.

OK = 200
INVALID_PARAM = 20001
INVALID_AUTH = 20013
ACCOUNT_NOT_FOUND = 21100
INVALID_API_KEY_INDEX = 21101
API_KEY_NOT_FOUND = 21102
INVALID_TX = 21103
INVALID_NONCE = 21104
INVALID_SIGNATURE = 21120  # the venue's code (reference/lighter-reads.md §5)
INVALID_L1_SIGNATURE = 21106
TX_EXPIRED = 21107
MAKER_ONLY_VIOLATION = 21108
MAKER_ONLY_REFUSED = 21109
TIER_CHANGE_REFUSED = 21110
INVALID_MARKET_INDEX = 21602  # the venue's code (reference/lighter-reads.md §5)
# sendTxBatch's own rules, with the venue's codes (reference/lighter-reads.md §4-5)
BATCH_MIXED_SENDERS = 21121
BATCH_NONCE_NOT_INCREASING = 21105
BATCH_LENGTHS_DIFFER = 21513
BATCH_TOO_LARGE = 21514
MAX_BATCH_TXS = 50
TOKEN_REFUSED = 21111
ORDER_NOT_FOUND = 21112
# trading, with the venue's codes (reference/lighter-reads.md §5)
INVALID_MARGIN_FRACTION = 21113
BELOW_INITIAL_MARGIN = 21508
INVALID_MARGIN_MODE = 21613
NO_POSITION = 21614
INVALID_BASE_AMOUNT = 21701
INVALID_PRICE = 21702
TOO_MANY_ORDERS = 21717
CLIENT_ORDER_INDEX_EXISTS = 21728

MESSAGES = {
    INVALID_AUTH: "invalid auth token",
    ACCOUNT_NOT_FOUND: "account not found",
    INVALID_NONCE: "invalid nonce",
    INVALID_SIGNATURE: "invalid signature",
    INVALID_L1_SIGNATURE: "invalid L1 signature",
    TX_EXPIRED: "transaction expired",
    API_KEY_NOT_FOUND: "api key not found",
}


class LighterError(VenueRefusal):
    """A refusal in Lighter's words: ``{"code": code, "message": message}``."""

    def __init__(self, code: int, message: str | None = None, status: int = 400) -> None:
        super().__init__(message or MESSAGES.get(code, "invalid request"), status)
        self.code = code
        self.args = (f"{self.code}: {self.message}",)

    def body(self) -> dict[str, Any]:
        """The error as the venue's JSON body."""
        return {"code": self.code, "message": self.message}


# -- keys ----------------------------------------------------------------------------------------


def public_key_bytes(public_key: str) -> bytes:
    """40 bytes from a public key as the signer and ``/apikeys`` write it (hex, ``0x`` optional)."""
    text = public_key.removeprefix("0x")
    if len(text) != 80:
        raise ValueError("a Lighter public key is 40 bytes (80 hex digits)")
    return bytes.fromhex(text)


def public_key_hex(public_key: bytes | str) -> str:
    """80 lowercase hex digits, no ``0x``: how ``/apikeys`` lists a key (check_client compares this)."""
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    return raw.hex()


def is_user_slot(api_key_index: int) -> bool:
    """Whether a key may be registered at ``api_key_index`` (4 to 254)."""
    return MIN_USER_API_KEY_INDEX <= api_key_index <= MAX_API_KEY_INDEX


def check_user_slot(api_key_index: int) -> None:
    """Refuse the reserved slots 0–3, the nil index 255 and anything out of range."""
    if api_key_index in RESERVED_API_KEY_INDEXES:
        raise LighterError(
            INVALID_API_KEY_INDEX,
            f"api key index {api_key_index} is reserved for Lighter's front-ends (0-3); use 4-254",
        )
    if not is_user_slot(api_key_index):
        raise LighterError(INVALID_API_KEY_INDEX, f"api key index must be 4-254, got {api_key_index}")


# -- the L1 countersignature --------------------------------------------------------------------

CHANGE_PUB_KEY_TEMPLATE = (
    "Register Lighter Account\n\npubkey: 0x{pubkey}\nnonce: {nonce}\naccount index: {account}\n"
    "api key index: {index}\nOnly sign this message for a trusted client!"
)


def _hex10(value: int) -> str:
    return f"0x{value & 0xFFFFFFFFFFFFFFFF:016x}"


def change_pub_key_message(
    public_key: bytes | str, nonce: int, account_index: int, api_key_index: int
) -> str:
    """The EIP-191 text the account's L1 wallet signs to approve a key (lighter-go ``GetL1SignatureBody``)."""
    return CHANGE_PUB_KEY_TEMPLATE.format(
        pubkey=public_key_hex(public_key),
        nonce=_hex10(nonce),
        account=_hex10(account_index),
        index=_hex10(api_key_index),
    )


def recover_l1_signer(message: str, l1_sig: str) -> str:
    """The checksummed address that signed ``message`` (v may be 27/28 or 0/1, as Go accepts)."""
    signature = eip712.Signature.from_wire(l1_sig)
    return eip712.recover_address(eip712.eip191_digest(message.encode()), signature)


def sign_l1(wallet: eip712.Wallet, message: str) -> str:
    """``personal_sign`` of ``message``: 65 bytes hex, v = 27/28, as the SDK inserts into ``L1Sig``."""
    return wallet.signer.sign(eip712.eip191_digest(message.encode())).to_hex()


# -- transactions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """A decoded ``sendTx``: the typed transaction plus what is not part of its hash."""

    tx_type: int
    tx: L2Tx
    sig: bytes
    l1_sig: str
    skip_nonce: bool

    @property
    def account_index(self) -> int:
        """The account the transaction acts for."""
        return self.tx.account_index

    @property
    def api_key_index(self) -> int:
        """The slot whose key signed it."""
        return self.tx.api_key_index

    @property
    def nonce(self) -> int:
        """The slot nonce it consumes."""
        return self.tx.nonce


def _int(info: dict[str, Any], name: str, default: int | None = None) -> int:
    value = info.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if value is None:
            raise LighterError(INVALID_TX, f"tx_info is missing {name}")
        raise LighterError(INVALID_TX, f"tx_info field {name} must be an integer")
    return value


def _attributes(raw: Any) -> Attributes:
    if raw is None:
        return Attributes()
    if not isinstance(raw, dict):
        raise LighterError(INVALID_TX, "L2TxAttributes must be an object or null")
    names = [f.name for f in fields(Attributes)]
    values: dict[str, int] = {}
    for key, value in raw.items():
        if not (isinstance(key, str) and key.isdigit() and 1 <= int(key) <= len(names)):
            raise LighterError(INVALID_TX, f"unknown L2TxAttributes type {key!r}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise LighterError(INVALID_TX, f"L2TxAttributes[{key}] must be an integer")
        values[names[int(key) - 1]] = value
    return Attributes(**values)


def _b64(value: Any) -> bytes | None:
    """A base64 field (Go's encoding of ``[]byte``), or None when it is not one."""
    try:
        return base64.b64decode(value, validate=True) if isinstance(value, str) else None
    except (binascii.Error, ValueError):
        return None


def _order_info(info: dict[str, Any]) -> _orders.OrderInfo:
    return _orders.OrderInfo(
        market_index=_int(info, "MarketIndex"),
        client_order_index=_int(info, "ClientOrderIndex"),
        base_amount=_int(info, "BaseAmount"),
        price=_int(info, "Price"),
        is_ask=_int(info, "IsAsk"),
        type=_int(info, "Type"),
        time_in_force=_int(info, "TimeInForce"),
        reduce_only=_int(info, "ReduceOnly"),
        trigger_price=_int(info, "TriggerPrice"),
        order_expiry=_int(info, "OrderExpiry"),
    )


def _build(tx_type: int, info: dict[str, Any], common: dict[str, Any]) -> L2Tx:
    if tx_type == TX_CHANGE_PUB_KEY:
        pub_key = _b64(info.get("PubKey"))
        if pub_key is None:
            raise LighterError(INVALID_TX, "PubKey must be base64")
        return _account.ChangePubKey(pub_key=pub_key, **common)
    if tx_type == TX_CREATE_ORDER:
        return _orders.CreateOrder(order=_order_info(info), **common)
    if tx_type == TX_CANCEL_ORDER:
        return _orders.CancelOrder(
            market_index=_int(info, "MarketIndex"), index=_int(info, "Index"), **common
        )
    if tx_type == TX_CANCEL_ALL_ORDERS:
        return _orders.CancelAllOrders(
            time_in_force=_int(info, "TimeInForce"), time=_int(info, "Time"), **common
        )
    if tx_type == TX_MODIFY_ORDER:
        return _orders.ModifyOrder(
            market_index=_int(info, "MarketIndex"),
            index=_int(info, "Index"),
            base_amount=_int(info, "BaseAmount"),
            price=_int(info, "Price"),
            trigger_price=_int(info, "TriggerPrice"),
            **common,
        )
    if tx_type == TX_UPDATE_LEVERAGE:
        return _account.UpdateLeverage(
            market_index=_int(info, "MarketIndex"),
            initial_margin_fraction=_int(info, "InitialMarginFraction"),
            margin_mode=_int(info, "MarginMode"),
            **common,
        )
    if tx_type == TX_UPDATE_MARGIN:
        return _account.UpdateMargin(
            market_index=_int(info, "MarketIndex"),
            usdc_amount=_int(info, "USDCAmount"),
            direction=_int(info, "Direction"),
            **common,
        )
    raise LighterError(INVALID_TX, f"tx_type {tx_type} is not supported by the sandbox")


def parse_tx(tx_type: int, tx_info: str | dict[str, Any]) -> Transaction:
    """Decode and validate (Go's rules and messages) a ``sendTx`` body; no signature check yet."""
    if tx_type not in TX_TYPES:
        raise LighterError(INVALID_TX, f"tx_type {tx_type} is not supported by the sandbox")
    if isinstance(tx_info, str):
        try:
            info = json.loads(tx_info)
        except ValueError:
            raise LighterError(INVALID_TX, "tx_info is not valid JSON") from None
    else:
        info = tx_info
    if not isinstance(info, dict):
        raise LighterError(INVALID_TX, "tx_info must be a JSON object")
    common = {
        "account_index": _int(info, "AccountIndex"),
        "api_key_index": _int(info, "ApiKeyIndex"),
        "expired_at": _int(info, "ExpiredAt"),
        "nonce": _int(info, "Nonce"),
        "attributes": _attributes(info.get("L2TxAttributes")),
    }
    tx = _build(tx_type, info, common)
    try:
        tx.validate()
    except Exception as exc:  # typed-lighter raises its BadRequest with Go's own message
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else "invalid transaction"
        raise LighterError(INVALID_TX, message) from None
    sig = _b64(info.get("Sig"))
    if sig is None or len(sig) != 80:
        raise LighterError(INVALID_SIGNATURE, "Sig must be 80 bytes of base64")
    l1_sig = info.get("L1Sig") or ""
    if not isinstance(l1_sig, str):
        raise LighterError(INVALID_L1_SIGNATURE, "L1Sig must be a hex string")
    return Transaction(tx_type, tx, sig, l1_sig, tx.attributes.skip_nonce == 1)


def tx_hash(tx: L2Tx, chain_id: int) -> bytes:
    """The 40-byte message hash the L2 signature covers (also the tx hash, as 80 hex digits)."""
    return tx.hash(chain_id)


def check_nonce(nonce: int, next_nonce: int, skip_nonce: bool) -> None:
    """Lighter's rule: ``next`` exactly, or with SkipNonce ``2^47-1 > new > old``."""
    if nonce > MAX_NONCE:
        raise LighterError(INVALID_NONCE, f"invalid nonce: nonces are capped at {MAX_NONCE}")
    if skip_nonce:
        if not next_nonce - 1 < nonce < MAX_SKIP_NONCE:
            raise LighterError(
                INVALID_NONCE,
                f"invalid nonce: with SkipNonce the nonce must be above {next_nonce - 1} "
                f"and below {MAX_SKIP_NONCE}, got {nonce}",
            )
    elif nonce != next_nonce:
        raise LighterError(INVALID_NONCE, f"invalid nonce: expected {next_nonce}, got {nonce}")


# -- Schnorr verification, with per-key tables for keys that sign often ----------------------------


class _KeyTables:
    """Fixed-base tables (like the generator's) for public keys seen often: a hot key then
    verifies in a third of the time. Building one costs about six plain verifications."""

    BUILD_AFTER = 6
    KEEP = 64

    def __init__(self) -> None:
        self._seen: OrderedDict[bytes, int] = OrderedDict()
        self._tables: OrderedDict[bytes, list[list[Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, pk: bytes, point: Any) -> list[list[Any]] | None:
        with self._lock:
            table = self._tables.get(pk)
            if table is not None:
                self._tables.move_to_end(pk)
                return table
            count = self._seen.pop(pk, 0) + 1
            self._seen[pk] = count
            while len(self._seen) > 4096:
                self._seen.popitem(last=False)
            if count < self.BUILD_AFTER:
                return None
        table = _table(point)
        with self._lock:
            self._tables[pk] = table
            while len(self._tables) > self.KEEP:
                self._tables.popitem(last=False)
        return table


def _digit_count(window: int) -> int:
    """Digits of ``window`` bits a scalar below n takes, one more for the carry (64 for 5 bits)."""
    return (curve.N.bit_length() + window) // window


def _recode(scalar: int, window: int) -> list[int]:
    """Signed base-2^window digits of ``scalar`` (< n) in [1 - 2^(w-1), 2^(w-1)], low first."""
    mask, half, carry, digits = (1 << window) - 1, 1 << (window - 1), 0, []
    for _ in range(_digit_count(window)):
        digit = (scalar & mask) + carry
        scalar >>= window
        carry = 1 if digit > half else 0
        digits.append(digit - (carry << window))
    return digits


def _table(point: Any, window: int = curve.WINDOW) -> list[list[Any]]:
    """For each digit position i, the affine [1 .. 2^(window-1)] * 2^(window*i) * point."""
    size, points, base = 1 << (window - 1), [], point
    for _ in range(_digit_count(window)):
        row = [base]
        for i in range(1, size):
            row.append(curve.add(row[i - 1], base) if i % 2 == 0 else curve.double(row[i >> 1]))
        points.extend(row)
        base = curve.mdouble(base, window)
    flat = curve.batch_to_affine(points)
    return [flat[i : i + size] for i in range(0, len(flat), size)]


def _mul_table(table: list[list[Any]], scalar: int) -> Any:
    """scalar * P from P's table: one mixed addition per non-zero digit, no doubling."""
    window = len(table[0]).bit_length()  # a row holds 2^(window-1) points
    result = curve.NEUTRAL
    for row, digit in zip(table, _recode(scalar % curve.N, window), strict=True):
        if digit:
            result = curve.add_affine(result, curve.lookup(row, digit))
    return result


WIDE_WINDOW = 8  # the generator's table: 40 additions where the 5-bit one takes 64, built once


@cache
def _generator_table() -> list[list[Any]]:
    return _table(curve.GENERATOR, WIDE_WINDOW)


_TABLES = _KeyTables()


def verify_signature(public_key: bytes, msg_hash: bytes, sig: bytes) -> bool:
    """Schnorr over ECgFp5 (poseidon_crypto ``schnorr.Validate``): s, e < n; r = s·G + e·pk; e == H(r‖m)."""
    if len(sig) != 80 or len(public_key) != 40 or len(msg_hash) != 40:
        return False
    s = int.from_bytes(sig[:40], "little")
    e = int.from_bytes(sig[40:], "little")
    if s >= curve.N or e >= curve.N:
        return False
    point = curve.decode(field.from_bytes(public_key))
    if point is None or public_key == bytes(40):
        return False
    table = _TABLES.get(public_key, point)
    e_pk = curve.mul(point, e) if table is None else _mul_table(table, e)
    r = curve.encode(curve.add(_mul_table(_generator_table(), s), e_pk))
    return schnorr.challenge(r=r, msg=field.from_bytes(msg_hash)) == e


# -- auth tokens ---------------------------------------------------------------------------------

_AUTH_TOKEN = re.compile(r"^(\d{1,12}):(\d{1,16}):(\d{1,3}):([0-9a-f]{160})$")
_RO_TOKEN = re.compile(r"^ro:(\d{1,16}):(single|all):(\d{1,12}):([0-9a-f]{32,128})$")


@dataclass(frozen=True)
class AuthToken:
    """A parsed standard token ``{deadline}:{account_index}:{api_key_index}:{signature}``."""

    deadline: int  # unix seconds
    account_index: int
    api_key_index: int
    message: str
    signature: bytes


def auth_message_hash(message: str) -> bytes:
    """What an auth token's signature covers: Poseidon2 over the message's 8-byte LE words."""
    return field.to_bytes(hash_to_fp5(bytes_to_elements(message.encode())))


def parse_auth_token(token: str) -> AuthToken:
    """An auth token's parts (expiry, account, slot, signature); LighterError when malformed."""
    match = _AUTH_TOKEN.match(token)
    if match is None:
        raise LighterError(INVALID_AUTH, "invalid auth token: expected {expiry}:{account}:{key}:{signature}")
    deadline, account, key, sig = match.groups()
    message = f"{deadline}:{account}:{key}"
    return AuthToken(int(deadline), int(account), int(key), message, bytes.fromhex(sig))


def check_auth_deadline(deadline: int, now_s: int) -> None:
    """Expired, or valid for longer than 8 hours from now: both refused."""
    if deadline <= now_s:
        raise LighterError(INVALID_AUTH, "invalid auth token: expired")
    if deadline - now_s > MAX_AUTH_TOKEN_SECONDS:
        raise LighterError(INVALID_AUTH, "invalid auth token: expiry is more than 8 hours ahead")


def verify_auth_token(token: AuthToken, public_key: bytes) -> bool:
    """Whether the token is signed by ``public_key``."""
    return verify_signature(public_key, auth_message_hash(token.message), token.signature)


@dataclass(frozen=True)
class ReadOnlyToken:
    """``ro:{account_index}:{single|all}:{expiry}:{random}``: reads, never signs."""

    account_index: int
    scope: Literal["single", "all"]
    expiry: int  # unix seconds


def parse_ro_token(token: str) -> ReadOnlyToken | None:
    """A read-only token's parts, or None when ``token`` is not one."""
    match = _RO_TOKEN.match(token)
    if match is None:
        return None
    account, scope, expiry, _ = match.groups()
    return ReadOnlyToken(int(account), scope, int(expiry))  # type: ignore[arg-type]


def format_ro_token(account_index: int, all_accounts: bool, expiry: int, random_hex: str) -> str:
    """A read-only token as the venue writes it: ``ro:{account}:{single|all}:{expiry}:{random}``."""
    return f"ro:{account_index}:{'all' if all_accounts else 'single'}:{expiry}:{random_hex}"


RO_SCOPE = re.compile(r"read(\.[a-z_]{1,32})*(\.\*)?")
MAX_RO_SCOPES = 16


def check_ro_scopes(scopes: str) -> str:
    """Read-only token scopes: read scopes only (``read.*``, ``read.account``, ...), comma-separated,
    at most 16; a token can never be given more than reading."""
    parts = [part.strip() for part in scopes.split(",")]
    if len(parts) > MAX_RO_SCOPES or not all(RO_SCOPE.fullmatch(part) for part in parts):
        raise LighterError(
            TOKEN_REFUSED,
            f"scopes must be at most {MAX_RO_SCOPES} read scopes, comma-separated, such as read.*",
        )
    return ",".join(parts)


def check_ro_expiry(expiry: int, now_s: int) -> None:
    """A read-only token lives from 1 day to 10 years."""
    life = expiry - now_s
    if life < MIN_RO_TOKEN_SECONDS:
        raise LighterError(TOKEN_REFUSED, "read-only token expiry must be at least 1 day ahead")
    if life > MAX_RO_TOKEN_SECONDS:
        raise LighterError(TOKEN_REFUSED, "read-only token expiry must be at most 10 years ahead")
