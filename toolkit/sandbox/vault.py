"""Secrets the sandbox itself must be able to read back (e.g. an API secret it checks HMACs
with), encrypted with AES-256-GCM under a key file kept in the sandbox home, mode 0600."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from toolkit.sandbox.config import made_once


def _load_key(path: Path) -> bytes:
    return bytes.fromhex(made_once(path, lambda: AESGCM.generate_key(bit_length=256).hex()))


class Vault:
    """Encrypts short secrets for storage in the sandbox database; ``purpose`` binds each use."""

    def __init__(self, key_file: Path) -> None:
        self._aead = AESGCM(_load_key(key_file))

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(12)
        return (nonce + self._aead.encrypt(nonce, plaintext.encode(), purpose.encode())).hex()

    def open(self, sealed: str, purpose: str) -> str:
        raw = bytes.fromhex(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], purpose.encode()).decode()
