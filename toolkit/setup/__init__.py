"""Provider setup: what a venue needs before trading, checked, signed and executed.

    status = check_setup(provider, address, client=client, store=store)
    if not status.is_ready:
        signed = [sign_setup_action(provider, address, step, wallet=wallet, client=client, store=store)
                  for step in status.setup]
        execute_setup(provider, address, status.setup, signed, client=client, store=store)

One shape for every venue, one module per venue behind it:

* ``hyperliquid``: approveAgent, signed by the master wallet (EIP-712);
* ``aster``: approveAgent (a V3 agent, registerAndApproveAgent), signed by the main wallet;
* ``lighter``: registerApiKey, signed by the new key and countersigned by the L1 wallet;
* ``kalshi`` and ``paperx``: registerApiKey, run with the member's session
  or a login; their ``sign_setup_action`` returns None, as the perps SDK's client-side steps do.

``check_setup`` may be polled freely: it records an outstanding step as a *pending* key store
entry and never sends anything to the venue, so polling burns no nonce and duplicates nothing.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from toolkit.keystore.store import KeyStore
from toolkit.setup.steps import ActionStep, SetupError, SetupStatus, SignedAction, SignedRequest
from toolkit.venues import providers as pv
from toolkit.venues import registry

__all__ = [
    "ActionStep",
    "SetupError",
    "SetupStatus",
    "SignedAction",
    "SignedRequest",
    "check_setup",
    "execute_setup",
    "providers",
    "sign_setup_action",
]


def _venue(provider: str) -> ModuleType:
    """The setup steps of a registered venue (its module here, ``toolkit.setup.<name>``, by default)."""
    if provider not in registry.VENUES:
        raise SetupError(f"setup descriptors are served for {sorted(registry.VENUES)}, not {provider!r}")
    return registry.VENUES[provider].setup_module()


def providers(client: Any = None) -> list[dict[str, Any]]:
    """The provider catalogue: from the sandbox's ``GET /providers`` when given a client on it,
    else the descriptors this toolkit ships (the venues publish no such endpoint themselves)."""
    if client is not None and getattr(client, "network", None) == "sandbox":
        return pv.served(client.base_url)
    return pv.providers()


def check_setup(
    provider: str, address: str, *, client: Any, store: KeyStore | None = None, **options: Any
) -> SetupStatus:
    """What stands between ``address`` and trading: nothing (``is_ready``) or the steps, in order."""
    return _venue(provider).check(address, client=client, store=store, **options)


def sign_setup_action(
    provider: str,
    address: str,
    step: ActionStep,
    *,
    client: Any,
    wallet: Any = None,
    store: KeyStore | None = None,
) -> SignedAction | SignedRequest | None:
    """Sign one step with ``wallet`` (None for steps run with a session or login)."""
    return _venue(provider).sign(address, step, wallet=wallet, client=client, store=store)


def execute_setup(
    provider: str,
    address: str,
    setup: list[ActionStep],
    signed_actions: list[Any],
    *,
    client: Any,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Submit the signed steps in sequence; the venue's refusal is raised in the venue's words."""
    return _venue(provider).execute(address, setup, signed_actions, client=client, store=store)
