"""Lighter: API keys at slots, auth and read-only tokens, nonces, maker-only keys, account tiers.

One venue, four small modules: ``wire`` (the wire format: transactions, the L1 message, tokens,
error codes; the sandbox verifies with it), ``signer`` (the official native signer, via ctypes),
``nonces`` (one counter per key, safe across threads and tasks) and ``client`` (httpx).
"""

from toolkit.venues.lighter.client import (
    AccountNotFound,
    ApiKeySlot,
    LighterAccount,
    LighterClient,
    LighterKey,
    ReadOnlyToken,
)
from toolkit.venues.lighter.nonces import NonceManager
from toolkit.venues.lighter.signer import ApiKeyPair, NativeSigner, SignedTx, generate_api_key
from toolkit.venues.lighter.wire import DEFAULT_API_KEY_INDEX, LighterError

__all__ = [
    "DEFAULT_API_KEY_INDEX",
    "AccountNotFound",
    "ApiKeyPair",
    "ApiKeySlot",
    "LighterAccount",
    "LighterClient",
    "LighterError",
    "LighterKey",
    "NativeSigner",
    "NonceManager",
    "ReadOnlyToken",
    "SignedTx",
    "generate_api_key",
]
