"""Provider setup descriptors (seed 004), shaped as the perps SDK's ``GET /providers``
(reference/venues.md §E.1): per provider, the ``setup`` steps that gate trading and the
``options`` that tune it. The sandbox serves these; ``toolkit.setup`` reads them."""

from __future__ import annotations

import copy
from typing import Any

REGISTER_API_KEY = "registerApiKey"
ACCOUNT_MODE = "accountMode"
ACCOUNT_TYPE = "accountType"

LIGHTER: dict[str, Any] = {
    "key": "lighter",
    "name": "Lighter",
    "logoURI": "",
    "signingMethod": "wasmBlob",
    "active": True,
    "setup": [
        {
            "type": REGISTER_API_KEY,
            "title": "Register Trading API Key",
            "description": (
                "Generates a per-account Lighter API keypair and registers its public key at a slot "
                "with a ChangePubKey signed by the new key and countersigned (EIP-191) by the L1 wallet."
            ),
            "signers": ["USER", "API_KEY"],
            "signingMethod": "wasmBlob",
            "sequence": 10,
            "params": [],
        }
    ],
    "options": [
        {
            "type": ACCOUNT_MODE,
            "title": "Account Mode",
            "signers": ["API_KEY"],
            "signingMethod": "wasmBlob",
            "params": [
                {
                    "name": "mode",
                    "type": "string",
                    "readOnly": True,
                    "values": [
                        {"value": "unifiedTradingAccount", "label": "Unified Trading Account"},
                        {"value": "simpleTradingAccount", "label": "Simple Trading Account"},
                    ],
                }
            ],
        },
        {
            "type": ACCOUNT_TYPE,
            "title": "Account Tier",
            "signers": ["API_KEY"],
            "signingMethod": "wasmBlob",
            "params": [
                {
                    "name": "tier",
                    "type": "string",
                    "values": [
                        {"value": "standard", "label": "Standard"},
                        {"value": "premium", "label": "Premium"},
                    ],
                    "default": {"value": "standard", "label": "Standard"},
                }
            ],
        },
    ],
    "actions": [],
    "categories": [{"id": "perps", "quoteAsset": None}],
}

PROVIDERS: dict[str, dict[str, Any]] = {"lighter": LIGHTER}


def providers() -> list[dict[str, Any]]:
    """Every provider's descriptor (a fresh copy: callers may edit theirs)."""
    return copy.deepcopy(list(PROVIDERS.values()))
