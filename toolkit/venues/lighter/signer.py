"""The official Lighter signer (the native library inside the ``lighter-sdk`` wheel), via ctypes.

Only the library is loaded, never the ``lighter`` package (importing it costs ~2 s). Clients
are created with an empty URL so the library never does network I/O of its own, and every
signing call passes an explicit nonce (reference/lighter.md §7–8).

The library keeps one global client per (account, key index). Each call here re-creates the
client it needs and signs under one process-wide lock, so two keys for the same slot (an old
and a rotated one) or the official SDK in the same process never sign with each other's key.
"""

from __future__ import annotations

import ctypes
import importlib.util
import platform
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.secrets import Secret


class SignerUnavailable(RuntimeError):
    """The native signer is not installed for this platform."""


class SignerError(ValueError):
    """The native signer refused (its own message)."""


class _ApiKeyResponse(ctypes.Structure):
    _fields_ = [("privateKey", ctypes.c_void_p), ("publicKey", ctypes.c_void_p), ("err", ctypes.c_void_p)]


class _StrOrErr(ctypes.Structure):
    _fields_ = [("str", ctypes.c_void_p), ("err", ctypes.c_void_p)]


class _SignedTxResponse(ctypes.Structure):
    _fields_ = [
        ("txType", ctypes.c_uint8),
        ("txInfo", ctypes.c_void_p),
        ("txHash", ctypes.c_void_p),
        ("messageToSign", ctypes.c_void_p),
        ("err", ctypes.c_void_p),
    ]


_LIBRARIES = {
    ("Linux", "x86_64"): "lighter-signer-linux-amd64.so",
    ("Linux", "aarch64"): "lighter-signer-linux-arm64.so",
    ("Darwin", "x86_64"): "lighter-signer-darwin-amd64.dylib",
    ("Darwin", "arm64"): "lighter-signer-darwin-arm64.dylib",
    ("Windows", "amd64"): "lighter-signer-windows-amd64.dll",
}
_ARCH = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}

_LOCK = threading.RLock()
_LIB: Any = None
# The library keeps one client per (account_index, api_key_index): which signer each holds now, so a
# signer reloads its slot only when another one (another key, or chain) took it since.
_LOADED: dict[tuple[int, int], object] = {}
_LL, _I, _U8 = ctypes.c_longlong, ctypes.c_int, ctypes.c_uint8
_SIGNATURES: dict[str, tuple[list[Any], Any]] = {
    "GenerateAPIKey": ([], _ApiKeyResponse),
    "CreateClient": ([ctypes.c_char_p, ctypes.c_char_p, _I, _I, _LL], ctypes.c_void_p),
    "SignChangePubKey": ([ctypes.c_char_p, _U8, _LL, _I, _LL], _SignedTxResponse),
    "SignCreateOrder": (
        [_LL, _LL, _LL, _I, _I, _I, _I, _I, _I, _LL, _LL, _I, _I, _U8, _U8, _U8, _LL, _I, _LL],
        _SignedTxResponse,
    ),
    "SignCancelOrder": ([_LL, _LL, _U8, _LL, _I, _LL], _SignedTxResponse),
    "SignCancelAllOrders": ([_I, _LL, _LL, _U8, _LL, _I, _LL], _SignedTxResponse),
    "SignModifyOrder": (
        [_LL, _LL, _LL, _LL, _LL, _LL, _I, _I, _U8, _U8, _U8, _LL, _LL, _I, _LL],
        _SignedTxResponse,
    ),
    "SignUpdateLeverage": ([_LL, _I, _I, _U8, _LL, _I, _LL], _SignedTxResponse),
    "SignUpdateMargin": ([_LL, _LL, _I, _U8, _LL, _I, _LL], _SignedTxResponse),
    "CreateAuthToken": ([_LL, _I, _LL], _StrOrErr),
    "Free": ([ctypes.c_void_p], None),
}


def library_path() -> Path:
    """Where the installed ``lighter-sdk`` keeps the signer for this OS and CPU."""
    spec = importlib.util.find_spec("lighter")
    if spec is None or not spec.submodule_search_locations:
        raise SignerUnavailable("the Lighter signer needs lighter-sdk: pip install 'toolkit[lighter]'")
    machine = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    system = platform.system()
    name = _LIBRARIES.get((system, machine)) or _LIBRARIES.get((system, platform.machine().lower()))
    if name is None:
        raise SignerUnavailable(f"lighter-sdk ships no signer for {system}/{platform.machine()}")
    path = Path(next(iter(spec.submodule_search_locations))) / "signers" / name
    if not path.exists():
        raise SignerUnavailable(f"the Lighter signer is missing: {path}")
    return path


def _lib() -> Any:
    global _LIB
    if _LIB is None:
        with _LOCK:
            if _LIB is None:
                lib = ctypes.CDLL(str(library_path()))
                for name, (argtypes, restype) in _SIGNATURES.items():
                    fn = getattr(lib, name)
                    fn.argtypes, fn.restype = argtypes, restype
                _LIB = lib
    return _LIB


def _take(ptr: int | None) -> str | None:
    """Read a C string the library returned, and free it with the library's own Free."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8")
    finally:
        _lib().Free(ptr)


@dataclass(frozen=True)
class ApiKeyPair:
    """A Lighter API key: the private part as a Secret, the public part as 0x + 80 hex digits."""

    private_key: Secret = field(repr=False)
    public_key: str

    def __repr__(self) -> str:
        return f"ApiKeyPair(public_key={self.public_key[:12]}…, {self.private_key.masked()})"


@dataclass(frozen=True)
class SignedTx:
    """What ``sendTx`` takes (``tx_type``, ``tx_info``), the hash, and for ChangePubKey the L1 text."""

    tx_type: int
    tx_info: str
    tx_hash: str
    message_to_sign: str | None = None


def generate_api_key() -> ApiKeyPair:
    """A fresh key pair from the native signer (offline)."""
    with _LOCK:
        res = _lib().GenerateAPIKey()
        private, public, err = _take(res.privateKey), _take(res.publicKey), _take(res.err)
    if err:
        raise SignerError(err)
    assert private is not None and public is not None
    return ApiKeyPair(Secret(private, "lighter_private_key"), public)


class NativeSigner:
    """Signs for one key at one (account, slot) on one chain; the private key stays a Secret."""

    def __init__(
        self, private_key: Secret | str, account_index: int, api_key_index: int, chain_id: int
    ) -> None:
        self._key = Secret(private_key, "lighter_private_key")
        self.account_index = account_index
        self.api_key_index = api_key_index
        self.chain_id = chain_id
        self._mark = object()  # what _LOADED holds for its slot while this signer's key is loaded
        with _LOCK:
            self._load()  # fail now on a malformed key or account, not at the first signature

    def __repr__(self) -> str:
        return f"NativeSigner(account_index={self.account_index}, api_key_index={self.api_key_index})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("NativeSigner refuses to be pickled")

    def _load(self) -> None:
        slot = (self.account_index, self.api_key_index)
        if _LOADED.get(slot) is self._mark:
            return
        _LOADED.pop(slot, None)
        key = self._key.reveal().removeprefix("0x").encode()
        err = _take(_lib().CreateClient(b"", key, self.chain_id, self.api_key_index, self.account_index))
        if err:
            raise SignerError(err)
        _LOADED[slot] = self._mark

    def _signed(self, fn: str, *args: Any) -> SignedTx:
        with _LOCK:
            self._load()
            res = getattr(_lib(), fn)(*args, self.api_key_index, self.account_index)
            tx_info, tx_hash = _take(res.txInfo), _take(res.txHash)
            message, err = _take(res.messageToSign), _take(res.err)
        if err:
            raise SignerError(err)
        assert tx_info is not None and tx_hash is not None
        return SignedTx(res.txType, tx_info, tx_hash, message)

    def sign_change_pub_key(self, public_key: str, nonce: int, *, skip_nonce: bool = False) -> SignedTx:
        """ChangePubKey (type 8) registering ``public_key`` at this signer's slot, L1Sig still empty."""
        pub = "0x" + public_key.removeprefix("0x")
        return self._signed("SignChangePubKey", pub.encode(), int(skip_nonce), nonce)

    def sign_create_order(
        self,
        *,
        market_index: int,
        client_order_index: int,
        base_amount: int,
        price: int,
        is_ask: bool,
        order_type: int,
        time_in_force: int,
        nonce: int,
        reduce_only: bool = False,
        trigger_price: int = 0,
        order_expiry: int = -1,
        skip_nonce: bool = False,
    ) -> SignedTx:
        """CreateOrder (type 14); ``order_expiry=-1`` means the signer's 28-day default."""
        return self._signed(
            "SignCreateOrder",
            market_index,
            client_order_index,
            base_amount,
            price,
            int(is_ask),
            order_type,
            time_in_force,
            int(reduce_only),
            trigger_price,
            order_expiry,
            0,  # integrator account
            0,  # integrator taker fee
            0,  # integrator maker fee
            0,  # self-trade behaviour
            0,  # self-trade equality
            int(skip_nonce),
            nonce,
        )

    def sign_cancel_order(
        self, market_index: int, order_index: int, nonce: int, *, skip_nonce: bool = False
    ) -> SignedTx:
        """A signed CancelOrder transaction."""
        return self._signed("SignCancelOrder", market_index, order_index, int(skip_nonce), nonce)

    def sign_cancel_all_orders(
        self,
        time_in_force: int,
        time_ms: int,
        nonce: int,
        *,
        market_index: int = 255,
        skip_nonce: bool = False,
    ) -> SignedTx:
        """A signed CancelAllOrders transaction (now, or scheduled)."""
        return self._signed(
            "SignCancelAllOrders", time_in_force, time_ms, market_index, int(skip_nonce), nonce
        )

    def sign_modify_order(
        self,
        market_index: int,
        order_index: int,
        base_amount: int,
        price: int,
        nonce: int,
        *,
        trigger_price: int = 0,
        skip_nonce: bool = False,
    ) -> SignedTx:
        """A signed ModifyOrder transaction."""
        return self._signed(
            "SignModifyOrder",
            market_index,
            order_index,
            base_amount,
            price,
            trigger_price,
            0,
            0,
            0,
            0,
            0,
            int(skip_nonce),
            nonce,
            0,  # order version: not checked
        )

    def sign_update_leverage(
        self, market_index: int, initial_margin_fraction: int, margin_mode: int, nonce: int,
        *, skip_nonce: bool = False,
    ) -> SignedTx:  # fmt: skip
        """UpdateLeverage (type 20): the market's margin mode and initial margin fraction (1e-4 units)."""
        return self._signed(
            "SignUpdateLeverage", market_index, initial_margin_fraction, margin_mode, int(skip_nonce), nonce
        )

    def sign_update_margin(
        self, market_index: int, usdc_amount: int, direction: int, nonce: int, *, skip_nonce: bool = False
    ) -> SignedTx:
        """UpdateMargin (type 29): USDC (1e-6 units) into (direction 1) or out of an isolated position."""
        return self._signed("SignUpdateMargin", market_index, usdc_amount, direction, int(skip_nonce), nonce)

    def create_auth_token(self, deadline_s: int) -> Secret:
        """``{deadline}:{account}:{key}:{signature}``, offline; the venue refuses more than 8 h ahead."""
        with _LOCK:
            self._load()
            res = _lib().CreateAuthToken(deadline_s, self.api_key_index, self.account_index)
            token, err = _take(res.str), _take(res.err)
        if err:
            raise SignerError(err)
        assert token is not None
        return Secret(token, "lighter_auth_token")
