"""Hyperliquid's setup: one approveAgent step, signed by the master account (EIP-712, user-signed).

The check generates the agent (an API wallet) and keeps it as a *pending* key store entry under
its name; polling returns that same step and sends nothing. Executing posts the approval; the
entry becomes active with its ``validUntil``, and the agent it replaces under the same name is
marked revoked. An agent that expired, or that the venue no longer lists, makes the step due again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
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
        return save_hyperliquid_agent(store, client.base_url, approved, status="pending")

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


# -- the key's life after setup: saved, refreshed, rotated, revoked ------------------------------


def save_hyperliquid_agent(
    store: KeyStore, base_url: str, agent: Any, *, label: str = "", status: str = "active"
) -> Entry:
    """Store an agent from ``HyperliquidClient.approve_agent`` (an ``ApprovedAgent``); a setup
    step stores its new agent as ``pending`` until the venue has approved it."""
    network = lifecycle.network_of(base_url, hl.NETWORKS)
    return store.put(
        lifecycle.agent_entry(
            "hyperliquid", network, base_url, agent, agent.master, agent.valid_until, label, status
        )
    )


class HyperliquidAgents:
    """Agents are replaced by approving a fresh key under the same name; removed by a zero-address
    approval. Both need the master account's key (``client=HyperliquidClient(..., wallet=master)``)."""

    venue = "hyperliquid"

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the agent is still approved for its master account (``userRole``)."""
        from toolkit.venues.hyperliquid import HyperliquidClient

        with HyperliquidClient(entry.base_url) as client:
            role = client.user_role(entry.key_ref)
        if role.get("role") == "agent" and role["data"]["user"].lower() == entry.account:
            return {"status": "active"}
        return {"status": "revoked"}  # replaced, removed or pruned after expiry

    def _master(self, entry: Entry, client: Any) -> Any:
        if client is None or client.wallet is None:
            raise ValueError(
                "Hyperliquid agents are managed by the master key: "
                "pass client=HyperliquidClient(..., wallet=master)"
            )
        if client.wallet.address.lower() != entry.account:
            raise ValueError(f"this agent belongs to {entry.account}, not to {client.wallet.address}")
        return client

    def rotate(
        self, store: KeyStore, entry: Entry, *, client: Any = None, days: float | None = None, **_: Any
    ) -> Entry:
        """A fresh agent under the same name (which replaces the old one at the venue)."""
        master = self._master(entry, client)
        name = entry.extra.get("name", "")
        if days is None and entry.expires_at:
            created, expires = (
                datetime.fromisoformat(entry.created_at),
                datetime.fromisoformat(entry.expires_at),
            )
            days = max((expires - created).total_seconds() / 86_400, 1 / 24)
        agent = master.approve_agent(name or None, days=days)
        new = save_hyperliquid_agent(store, entry.base_url or master.base_url, agent, label=entry.label)
        store.update(entry.id, status="revoked")
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, client: Any = None, **_: Any) -> Entry:
        """Remove the agent, signed by its master wallet."""
        from toolkit.venues.hyperliquid import HyperliquidError

        master = self._master(entry, client)
        try:
            master.remove_agent(entry.extra.get("name") or None)
        except HyperliquidError as exc:
            if "no named" not in exc.message and "no unnamed" not in exc.message:
                raise
        return store.update(entry.id, status="revoked")

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """A client signed by the master wallet."""
        client = hl.HyperliquidClient(target, wallet=wallet())
        return {"client": client}, [client]


KEYS = HyperliquidAgents()  # what the key store asks of this venue (toolkit.keystore.lifecycle.adapter)
