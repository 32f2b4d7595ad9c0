"""The key store's cryptography, pure: key derivation, key wrapping and per-entry AEAD.

A random 256-bit data key encrypts every entry with AES-256-GCM; the entry's id and public
metadata are its associated data, so neither can be swapped or edited unnoticed. The data key is
itself wrapped (AES-256-GCM) by a key derived from the passphrase with argon2id, which makes a
passphrase change one small rewrite.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
WRAP_AAD = b"toolkit-keystore/data-key/v1"


class DecryptionError(Exception):
    """Authentication failed: the wrong key, or bytes changed since they were written."""


@dataclass(frozen=True)
class Argon2Params:
    """argon2id parameters, stored beside the salt so they can be raised later."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2

    def as_dict(self) -> dict[str, int]:
        """The parameters as stored beside the wrapped key, to derive it again."""
        return {"time_cost": self.time_cost, "memory_kib": self.memory_kib, "parallelism": self.parallelism}


def b64e(raw: bytes) -> str:
    """Bytes as base64 text."""
    return base64.b64encode(raw).decode()


def b64d(text: str) -> bytes:
    """Base64 text as bytes; anything but strict base64 is refused."""
    return base64.b64decode(text, validate=True)


def derive_key(passphrase: str, salt: bytes, params: Argon2Params) -> bytes:
    """A 256-bit key from the passphrase by Argon2id: slow on purpose, to make guessing costly."""
    return hash_secret_raw(
        passphrase.encode(),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def new_data_key() -> bytes:
    """A fresh random 256-bit AES key for the entries."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> dict[str, str]:
    """``plaintext`` encrypted with AES-256-GCM under a fresh nonce, bound to ``aad``."""
    nonce = os.urandom(NONCE_BYTES)
    return {"nonce": b64e(nonce), "ciphertext": b64e(AESGCM(key).encrypt(nonce, plaintext, aad))}


def open_sealed(key: bytes, sealed: dict[str, Any], aad: bytes) -> bytes:
    """The plaintext of :func:`seal`'s output; DecryptionError when the key, data or ``aad`` differ."""
    try:
        return AESGCM(key).decrypt(b64d(sealed["nonce"]), b64d(sealed["ciphertext"]), aad)
    except (InvalidTag, KeyError, ValueError, TypeError):
        raise DecryptionError("authentication failed") from None


def wrap_data_key(passphrase: str, data_key: bytes, params: Argon2Params | None = None) -> dict[str, Any]:
    """The data key encrypted under a key derived from the passphrase (new salt each time)."""
    params = params or Argon2Params()
    salt = os.urandom(16)
    kek = derive_key(passphrase, salt, params)
    return {
        "kdf": "argon2id",
        "salt": b64e(salt),
        "params": params.as_dict(),
        **seal(kek, data_key, WRAP_AAD),
    }


def unwrap_data_key(passphrase: str, wrapped: dict[str, Any]) -> bytes:
    """The data key back from :func:`wrap_data_key`'s record; DecryptionError for a wrong passphrase."""
    params = Argon2Params(**wrapped["params"])
    kek = derive_key(passphrase, b64d(wrapped["salt"]), params)
    return open_sealed(kek, wrapped, WRAP_AAD)
