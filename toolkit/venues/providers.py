"""Provider setup descriptors, shaped as the perps SDK's ``GET /providers``
(reference/venues.md §E.1): per provider, the ``setup`` steps that gate trading and the
``options`` that tune it. The sandbox serves these; ``toolkit.setup`` reads them.

Hyperliquid's and Lighter's follow the perps SDK. Its Hyperliquid ``approveBuilderFee`` step is
left out: it approves the SDK's integrator fee, and nothing here trades through a builder. Aster,
Kalshi and PaperExchange have no SDK descriptor, so theirs are this toolkit's, in the
same shape. Two values extend the SDK's enums, each said where used: the signing methods
``rsaPss`` and ``login``, for steps run with a member's session or an account's login.
"""

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

APPROVE_AGENT = "approveAgent"
_AGENT_PARAMS = [
    {"name": "agentAddress", "type": "string", "readOnly": True},
    {"name": "agentTtlMs", "type": "string", "default": {"value": "2592000000", "label": "30 days"}},
]

HYPERLIQUID: dict[str, Any] = {
    "key": "hyperliquid",
    "name": "Hyperliquid",
    "logoURI": "",
    "signingMethod": "eip712",
    "active": True,
    "setup": [
        {
            "type": APPROVE_AGENT,
            "title": "Approve Agent Wallet",
            "description": (
                "Generates an API wallet (agent) and has the master account approve it with an "
                "EIP-712 user-signed approveAgent; the agent then signs every trade. Redone when "
                "the approval expires."
            ),
            "signers": ["USER"],
            "signingMethod": "eip712",
            "sequence": 10,
            "params": _AGENT_PARAMS,
        }
    ],
    "options": [
        {
            "type": ACCOUNT_MODE,
            "title": "Account Mode",
            "signers": ["USER"],
            "signingMethod": "eip712",
            "params": [
                {
                    "name": "abstraction",
                    "type": "string",
                    "readOnly": True,
                    "values": [
                        {"value": "disabled", "label": "Disabled"},
                        {"value": "unifiedAccount", "label": "Unified Account"},
                        {"value": "portfolioMargin", "label": "Portfolio Margin"},
                    ],
                }
            ],
        }
    ],
    "actions": [],
    "categories": [{"id": "perps", "quoteAsset": None}],
}

ASTER: dict[str, Any] = {
    "key": "aster",
    "name": "Aster",
    "logoURI": "",
    "signingMethod": "eip712",
    "active": True,
    "setup": [
        {
            "type": APPROVE_AGENT,
            "title": "Register and Approve Agent",
            "description": (
                "Generates a V3 agent and has the main wallet register itself (if new) and approve "
                "the agent in one signed registerAndApproveAgent; the agent then signs V3 requests."
            ),
            "signers": ["USER"],
            "signingMethod": "eip712",
            "sequence": 10,
            "params": _AGENT_PARAMS,
        }
    ],
    "options": [],
    "actions": [],
    "categories": [{"id": "perps", "quoteAsset": None}],
}

KALSHI: dict[str, Any] = {
    "key": "kalshi",
    "name": "Kalshi",
    "logoURI": "",
    "signingMethod": "rsaPss",
    "active": True,
    "setup": [
        {
            "type": REGISTER_API_KEY,
            "title": "Register RSA API Key",
            "description": (
                "Generates an RSA key pair on this machine and registers its public key with the "
                "member's session (or, at a usage level that may not upload keys, has the venue "
                "generate the pair). Requests are then signed with RSA-PSS."
            ),
            "signers": ["USER"],
            "signingMethod": "rsaPss",
            "sequence": 10,
            "params": [
                {"name": "name", "type": "string", "default": {"value": "toolkit", "label": "toolkit"}}
            ],
        }
    ],
    "options": [],
    "actions": [],
    "categories": [{"id": "events", "quoteAsset": None}],
}

PAPERX: dict[str, Any] = {
    "key": "paperx",
    "name": "PaperExchange",
    "logoURI": "",
    "signingMethod": "login",
    "active": True,
    "setup": [
        {
            "type": REGISTER_API_KEY,
            "title": "Create API Key",
            "description": "Logs in and creates an API key, shown once and kept in the key store.",
            "signers": ["USER"],
            "signingMethod": "login",
            "sequence": 10,
            "params": [
                {"name": "name", "type": "string", "default": {"value": "toolkit", "label": "toolkit"}}
            ],
        }
    ],
    "options": [],
    "actions": [],
    "categories": [{"id": "perps", "quoteAsset": None}],
}

PROVIDERS: dict[str, dict[str, Any]] = {
    "hyperliquid": HYPERLIQUID,
    "aster": ASTER,
    "lighter": LIGHTER,
    "kalshi": KALSHI,
    "paperx": PAPERX,
}


def providers() -> list[dict[str, Any]]:
    """Every provider's descriptor (a fresh copy: callers may edit theirs)."""
    return copy.deepcopy(list(PROVIDERS.values()))


def served(base_url: str, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The catalogue a sandbox serves at ``GET /providers``; ValueError if the answer is not one."""
    import httpx

    response = httpx.get(f"{base_url.rstrip('/')}/providers", timeout=timeout)
    try:
        catalogue = response.json()["providers"] if response.is_success else None
    except (ValueError, KeyError, TypeError):
        catalogue = None
    if not isinstance(catalogue, list) or not all(isinstance(p, dict) for p in catalogue):
        raise ValueError(
            f"{base_url}/providers did not answer a provider catalogue (HTTP {response.status_code})"
        )
    return catalogue
