"""Hyperliquid's setup: one approveAgent step, signed by the master account (EIP-712, user-signed).

The check generates the agent (an API wallet) and keeps it as a *pending* key store entry under
its name; polling returns that same step and sends nothing. Executing posts the approval; the
entry becomes active with its ``validUntil``, and the agent it replaces under the same name is
marked revoked. An agent that expired, or that the venue no longer lists, makes the step due again.
"""

from __future__ import annotations

from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.setup.steps import (
    ActionStep,
    SetupError,
    SetupStatus,
    SignedRequest,
    activate,
    check_wallet,
    in_order,
    named_agents,
    open_store,
    pending_record,
    reconcile,
    step_from,
)
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

PROVIDER = "hyperliquid"
AGENT_NAME = "toolkit"
DEFAULT_DAYS = 30.0
RENEW_BEFORE_MS = 3_600_000  # an approval with less than an hour left is renewed, not relied on


def _step(entry: Entry, ttl_ms: int) -> ActionStep:
    params = {"agentAddress": entry.public, "agentName": entry.extra["name"], "agentTtlMs": ttl_ms}
    return step_from(PROVIDER, "approveAgent", entry.id, params)


def check(
    address: str,
    *,
    client: hl.HyperliquidClient,
    store: KeyStore | None = None,
    name: str = AGENT_NAME,
    days: float = DEFAULT_DAYS,
) -> SetupStatus:
    """Ready when a stored agent under ``name`` is approved for ``address`` and not about to
    expire; otherwise one approveAgent step for a freshly generated agent."""
    master = hl.user_address(address)
    if not 0 < days <= hl.MAX_AGENT_DAYS:
        raise SetupError(f"an agent may be approved for up to {hl.MAX_AGENT_DAYS} days, not {days}")
    store = open_store(store)
    now = client.venue_now_ms()
    listed = {
        a["address"].lower(): a
        for a in client.extra_agents(master)
        if a["name"] == name and (a["validUntil"] is None or a["validUntil"] > now + RENEW_BEFORE_MS)
    }

    def make() -> Entry:
        agent = Wallet.generate()
        approved = hl.ApprovedAgent(agent.address, agent.private_key, name, None, master)
        return lifecycle.save_hyperliquid_agent(store, client.base_url, approved, status="pending")

    keep = reconcile(
        store,
        named_agents(store, PROVIDER, client.base_url, master, name),
        lambda e: e.key_ref in listed,
        make,
    )
    if keep is None:
        return SetupStatus(PROVIDER, address, None, True, [])
    return SetupStatus(PROVIDER, address, None, False, [_step(keep, int(days * hl.MS_PER_DAY))])


def sign(
    address: str,
    step: ActionStep,
    *,
    wallet: Wallet | Any,
    client: hl.HyperliquidClient,
    store: KeyStore | None = None,
) -> SignedRequest:
    """The master signs ``approveAgent`` for the pending agent, valid for the step's TTL from now."""
    wallet = check_wallet(wallet, address)
    entry = pending_record(open_store(store), step)
    valid_until = client.venue_now_ms() + int(step.params["agentTtlMs"])
    action = hl.approve_agent_action(
        entry.key_ref,
        name=entry.extra["name"],
        valid_until=valid_until,
        nonce=client.next_nonce(),
        is_mainnet=client.is_mainnet,
    )
    return SignedRequest(step.id, hl.user_signed_body(wallet.signer, action))


def execute(
    address: str,
    setup: list[ActionStep],
    signed_actions: list[SignedRequest],
    *,
    client: hl.HyperliquidClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Post each approval; the venue's refusal is raised as ``HyperliquidError`` in its words."""
    store = open_store(store)
    results = []
    for step, signed in in_order(setup, signed_actions):
        entry = pending_record(store, step)
        action = signed.body["action"]
        if action.get("agentAddress") != entry.key_ref:
            raise SetupError("this signed approval is for another agent: sign the step again")
        client.exchange(signed.body)
        _, valid_until = hl.parse_agent_name(action["agentName"])
        siblings = named_agents(store, PROVIDER, client.base_url, entry.account, entry.extra["name"])
        activate(store, entry, siblings, expires_at=lifecycle.ms_to_iso(valid_until))
        results.append({"step": step.id, "type": step.type, "agentAddress": entry.public, "status": "ok"})
    return results
