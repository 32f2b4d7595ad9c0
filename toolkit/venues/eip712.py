"""EIP-712 digests and secp256k1 signatures, fast: the primitives the EVM venues sign with.

Only the field types those venues use (string, address, bool, uintN, bytes32) are encoded, by
hand, so a digest costs a few keccak calls instead of a trip through a generic encoder. Signing
uses libsecp256k1 (coincurve) with RFC 6979 nonces, which gives the same bytes as eth-account.
"""

from __future__ import annotations

import re
import secrets as _secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from coincurve import PrivateKey, PublicKey
from eth_utils import to_checksum_address

from toolkit.secrets import Secret, reveal

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

Field = tuple[str, str]  # (name, type)


try:  # a C keccak: 0.7 us a call against pycryptodome's 5 us, which dominated signing
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        """Keccak-256 of ``data`` (Ethereum's hash, not SHA3-256)."""
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - pycryptodome comes with eth-account
    from Crypto.Hash import keccak as _keccak

    def keccak(data: bytes) -> bytes:
        return _keccak.new(data=data, digest_bits=256).digest()


def type_string(primary: str, fields: Sequence[Field]) -> str:
    """The EIP-712 type string, e.g. ``Agent(string source,bytes32 connectionId)``."""
    return f"{primary}({','.join(f'{t} {n}' for n, t in fields)})"


def type_hash(primary: str, fields: Sequence[Field]) -> bytes:
    """The hash of the type string."""
    return keccak(type_string(primary, fields).encode())


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)


def checked_address(value: Any, field: str = "address") -> str:
    """An EVM address in lower case, or ValueError saying what is wrong: exactly ``0x`` and 40 ASCII
    hex digits (``int(..., 16)`` would also take spaces, underscores and other scripts' digits)."""
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise ValueError(f"{field} must be a 0x address of 40 hex digits")
    return value.lower()


def address_bytes(address: str) -> bytes:
    """An address's 20 bytes; ValueError for anything else."""
    raw = bytes.fromhex(address[2:] if address.startswith(("0x", "0X")) else address)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {address!r}")
    return raw


def encode_value(kind: str, value: Any) -> bytes:
    """One field encoded to 32 bytes by EIP-712's rules for its type."""
    if kind == "string":
        return keccak(str(value).encode())
    if kind == "address":
        return address_bytes(value).rjust(32, b"\0")
    if kind == "bool":
        return int(bool(value)).to_bytes(32, "big")
    if kind.startswith("uint"):
        number = int(value)
        if number < 0 or number.bit_length() > int(kind[4:] or 256):
            raise ValueError(f"{value!r} does not fit {kind}")
        return number.to_bytes(32, "big")
    if kind == "bytes32":
        raw = bytes(value) if not isinstance(value, str) else bytes.fromhex(value.removeprefix("0x"))
        if len(raw) != 32:
            raise ValueError("bytes32 needs 32 bytes")
        return raw
    raise ValueError(f"unsupported EIP-712 field type {kind!r}")


def struct_hash(primary: str, fields: Sequence[Field], message: dict[str, Any]) -> bytes:
    """The EIP-712 hash of ``message`` as a ``primary`` struct."""
    parts = [type_hash(primary, fields)]
    parts += [encode_value(kind, message[name]) for name, kind in fields]
    return keccak(b"".join(parts))


_DOMAIN_FIELDS: list[Field] = [
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
]


def domain_separator(name: str, version: str, chain_id: int, verifying_contract: str = ZERO_ADDRESS) -> bytes:
    """The EIP-712 domain separator for this name, version and chain."""
    return struct_hash(
        "EIP712Domain",
        _DOMAIN_FIELDS,
        {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract},
    )


def digest(domain: bytes, struct: bytes) -> bytes:
    """The digest a wallet signs: ``keccak(0x1901 ‖ domain ‖ struct)``."""
    return keccak(b"\x19\x01" + domain + struct)


def eip191_digest(message: bytes) -> bytes:
    """``personal_sign`` of ``message``: the hash a wallet signs for a text message."""
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


@dataclass(frozen=True)
class Signature:
    r: int
    s: int
    v: int  # 27 or 28

    def to_wire(self) -> dict[str, Any]:
        """``{r, s, v}`` with r and s as 0x-prefixed 32-byte hex (zero-padded)."""
        return {"r": f"0x{self.r:064x}", "s": f"0x{self.s:064x}", "v": self.v}

    def to_bytes(self) -> bytes:
        """``r ‖ s ‖ v``, 65 bytes."""
        return self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big") + bytes([self.v])

    def to_hex(self) -> str:
        """The 65 bytes as ``0x`` hex, as venues take it."""
        return "0x" + self.to_bytes().hex()

    @classmethod
    def from_wire(cls, sig: Any) -> Signature:
        """From ``{r, s, v}`` (hex strings, padded or not) or 65 bytes / hex of r‖s‖v."""
        if isinstance(sig, dict):
            r, s, v = int(str(sig["r"]), 16), int(str(sig["s"]), 16), int(sig["v"])
        else:
            raw = bytes.fromhex(sig.removeprefix("0x")) if isinstance(sig, str) else bytes(sig)
            if len(raw) != 65:
                raise ValueError("a signature is 65 bytes")
            r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
        if v in (0, 1):
            v += 27
        if v not in (27, 28) or not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
            raise ValueError("malformed signature")
        return cls(r, s, v)


class Signer:
    """A private key parsed once for repeated signing (parsing costs more than a signature).

    Shows only its address; the key itself stays inside.
    """

    __slots__ = ("_key", "address")

    def __init__(self, key: Any) -> None:
        self._key = _private_key(key)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = to_checksum_address(keccak(public)[-20:])

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("Signer refuses to be pickled")

    def sign(self, message_hash: bytes) -> Signature:
        """A recoverable secp256k1 signature of a 32-byte hash."""
        raw = self._key.sign_recoverable(message_hash, hasher=None)
        return Signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64] + 27)


def _private_key(key: Any) -> PrivateKey:
    if isinstance(key, PrivateKey):
        return key
    if isinstance(key, Signer):
        return key._key
    raw = reveal(key)
    raw = bytes.fromhex(raw.removeprefix("0x")) if isinstance(raw, str) else bytes(raw)
    if len(raw) != 32:  # coincurve would left-pad a short value into a valid, guessable key
        raise ValueError(f"a private key is 32 bytes, not {len(raw)}")
    return PrivateKey(raw)


def sign_digest(key: Any, message_hash: bytes) -> Signature:
    """secp256k1 over a 32-byte hash; low-s, deterministic (RFC 6979), as eth-account signs.

    ``key`` is a hex string, bytes, a Secret, or (fastest) a ``Signer``.
    """
    signer = key if isinstance(key, Signer) else Signer(key)
    return signer.sign(message_hash)


def recover_address(message_hash: bytes, signature: Signature, *, checksum: bool = True) -> str:
    """The address whose key made ``signature`` over ``message_hash``: checksummed, or lowercase
    (a verifier that compares lowercase skips the checksum's extra hash)."""
    raw = signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([signature.v - 27])
    public = PublicKey.from_signature_and_message(raw, message_hash, hasher=None)
    address = keccak(public.format(compressed=False)[1:])[-20:]
    return to_checksum_address(address) if checksum else "0x" + address.hex()


def address_of(key: Any) -> str:
    """The checksummed address of a private key."""
    public = _private_key(key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak(public)[-20:])


@dataclass(frozen=True)
class Wallet:
    """An EVM key pair: the address in the clear, the private key as a Secret."""

    address: str
    private_key: Secret

    @cached_property
    def signer(self) -> Signer:
        return Signer(self.private_key)

    @classmethod
    def generate(cls) -> Wallet:
        """A fresh random key; every agent gets a new one, never a reused address."""
        key = "0x" + _secrets.token_hex(32)
        return cls(address_of(key), Secret(key, "private_key"))

    @classmethod
    def from_key(cls, key: str | Secret) -> Wallet:
        """A wallet for a hex private key (kept as a Secret)."""
        secret = Secret(key, "private_key")
        return cls(address_of(secret), secret)


def as_wallet(wallet: Any) -> Any:
    """A Wallet, anything wallet-shaped that signs (``.signer``, ``.address``), or a raw key."""
    return wallet if hasattr(wallet, "signer") else Wallet.from_key(wallet)
