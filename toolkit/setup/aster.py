"""Aster's setup: one approveAgent step, a V3 agent registered and approved in one public call
(``registerAndApproveAgent``) signed by the main wallet, which registers the wallet if it is new.

As for Hyperliquid, the check keeps the generated agent as a *pending* key store entry, so polling
repeats the same step; the agent is verified by asking the venue with the agent's own signature.
"""

from __future__ import annotations

from collections.abc import Callable
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
from toolkit.venues import aster as av
from toolkit.venues.eip712 import Wallet, checked_address

PROVIDER = "aster"
AGENT_NAME = "toolkit"
DEFAULT_DAYS = 30.0
RENEW_BEFORE_MS = 3_600_000


def _approved(client: av.AsterClient, entry: Entry, now: int) -> bool:
    expires = entry.expires_at
    if expires is not None:
        from toolkit.keystore.inventory import parse_time

        moment = parse_time(expires)
        if moment is None or moment.timestamp() * 1000 <= now + RENEW_BEFORE_MS:
            return False
    with av.AsterClient(client.base_url, user=entry.account, agent_key=entry.secret("private_key")) as own:
        try:
            listed = own.agents()
        except av.AsterError as exc:
            if exc.code == av.REJECTED_MBX_KEY:
                return False
            raise
    return any(str(a.get("agentAddress", "")).lower() == entry.key_ref for a in listed)


def check(
    address: str,
    *,
    client: av.AsterClient,
    store: KeyStore | None = None,
    name: str = AGENT_NAME,
    days: float = DEFAULT_DAYS,
) -> SetupStatus:
    """What stands between ``address`` and trading on Aster: an approveAgent step until a stored agent is
    live."""
    user = checked_address(address)
    if days <= 0:
        raise SetupError(f"an agent must be approved for some time, not {days} days")
    store = open_store(store)
    now = client.venue_now_ms()

    def make() -> Entry:
        agent = Wallet.generate()
        new = av.AsterAgent(agent.address, agent.private_key, name, 0, user)
        return save_aster_agent(store, client.base_url, new, status="pending")

    keep = reconcile(
        store,
        named_agents(store, PROVIDER, client.base_url, user, name),
        lambda e: _approved(client, e, now),
        make,
    )
    if keep is None:
        return SetupStatus(PROVIDER, address, None, True, [])
    params = {"agentAddress": keep.public, "agentName": name, "agentTtlMs": int(days * 86_400_000)}
    return SetupStatus(PROVIDER, address, None, False, [step_from(PROVIDER, "approveAgent", keep.id, params)])


def sign(
    address: str,
    step: ActionStep,
    *,
    wallet: Wallet | Any,
    client: av.AsterClient,
    store: KeyStore | None = None,
) -> SignedRequest:
    """Sign ``step``'s approveAgent with the main ``wallet``; the agent's key goes to the store."""
    wallet = check_wallet(wallet, address)
    entry = pending_record(open_store(store), step)
    params = av.register_and_approve_params(
        wallet,
        entry.public,
        entry.extra["name"],
        expired=client.expiry_ms(int(step.params["agentTtlMs"]) / 86_400_000),
        nonce=client.next_nonce(),
    )
    return SignedRequest(step.id, params)


def execute(
    address: str,
    setup: list[ActionStep],
    signed_actions: list[SignedRequest],
    *,
    client: av.AsterClient,
    store: KeyStore | None = None,
) -> list[dict[str, Any]]:
    """Post each signed form; a refusal is raised as ``AsterError`` with the venue's code and msg."""
    store = open_store(store)
    results = []
    for step, signed in in_order(setup, signed_actions):
        entry = pending_record(store, step)
        if str(signed.body.get("agentAddress", "")).lower() != entry.key_ref:
            raise SetupError("this signed approval is for another agent: sign the step again")
        client.send_register_and_approve(signed.body)
        siblings = named_agents(store, PROVIDER, client.base_url, entry.account, entry.extra["name"])
        activate(store, entry, siblings, expires_at=lifecycle.ms_to_iso(int(signed.body["expired"])))
        results.append({"step": step.id, "type": step.type, "agentAddress": entry.public, "status": "ok"})
    return results


# -- the key's life after setup: saved, refreshed, rotated, revoked ------------------------------


def save_aster_api_key(store: KeyStore, base_url: str, key: Any, *, label: str = "") -> Entry:
    """Store a V1 key + secret from ``AsterClient.create_api_key``."""
    entry = Entry(
        venue="aster",
        kind="api_key",
        network=lifecycle.network_of(base_url, av.NETWORKS),
        account=key.address.lower(),
        key_ref=key.key_id,
        public=key.api_key.reveal()[:8] + "…",
        label=label or key.api_name,
        base_url=base_url.rstrip("/"),
        secrets={
            "api_key": Secret(key.api_key, "api_key"),
            "api_secret": Secret(key.api_secret, "api_secret"),
        },
    )
    return store.put(entry)


def save_aster_agent(
    store: KeyStore, base_url: str, agent: Any, *, label: str = "", status: str = "active"
) -> Entry:
    """Store a V3 agent from ``AsterClient.approve_agent`` or ``register_and_approve_agent``."""
    network = lifecycle.network_of(base_url, av.NETWORKS)
    return store.put(
        lifecycle.agent_entry("aster", network, base_url, agent, agent.user, agent.expired, label, status)
    )


class AsterKeys:
    """V1 keys cannot be deleted by their owner on Aster, so they are refreshed but never revoked
    here; V3 agents are rotated by approving a fresh agent, then deleting the old one, both signed
    by the main wallet (``main_wallet=``)."""

    venue = "aster"

    def _client(self, entry: Entry) -> Any:
        from toolkit.venues.aster import AsterClient

        if entry.kind == "agent":
            return AsterClient(entry.base_url, user=entry.account, agent_key=entry.secret("private_key"))
        return AsterClient(
            entry.base_url, api_key=entry.secret("api_key").reveal(), api_secret=entry.secret("api_secret")
        )

    def refresh(self, entry: Entry) -> dict[str, Any]:
        """Whether the key or V3 agent still authenticates a read."""
        from toolkit.venues.aster import REJECTED_MBX_KEY, AsterError

        with self._client(entry) as client:
            try:
                client.agents() if entry.kind == "agent" else client.balance()
            except AsterError as exc:
                if exc.code == REJECTED_MBX_KEY:
                    return {"status": "revoked"}
                raise
        return {"status": "active", "last_used_at": lifecycle.now_iso()}

    def rotate(
        self, store: KeyStore, entry: Entry, *, main_wallet: Any = None, days: float = 30, **_: Any
    ) -> Entry:
        """Approve a new V3 agent and delete the old one (V1 keys cannot be deleted by their owner)."""
        if entry.kind != "agent":
            raise NotImplementedError(
                "Aster API keys cannot be deleted by their owner: create a new one with "
                "AsterClient.create_api_key and stop using this one"
            )
        if main_wallet is None:
            raise ValueError("Aster agents are managed by the main wallet: pass main_wallet=")
        from toolkit.venues.aster import AsterClient

        with AsterClient(entry.base_url) as client:
            agent = client.approve_agent(main_wallet, entry.extra.get("name") or entry.label, days=days)
            new = save_aster_agent(store, entry.base_url or client.base_url, agent, label=entry.label)
            client.delete_agent(main_wallet, entry.key_ref)
        store.update(entry.id, status="revoked")
        return new

    def revoke(self, store: KeyStore, entry: Entry, *, main_wallet: Any = None, **_: Any) -> Entry:
        """Delete a V3 agent, signed by the main wallet."""
        if entry.kind != "agent":
            raise NotImplementedError("Aster API keys cannot be deleted by their owner")
        if main_wallet is None:
            raise ValueError("Aster agents are managed by the main wallet: pass main_wallet=")
        from toolkit.venues.aster import AsterClient

        with AsterClient(entry.base_url) as client:
            client.delete_agent(main_wallet, entry.key_ref)
        return store.update(entry.id, status="revoked")

    def options(
        self, entry: Entry, target: Any, secret: Secret | None, wallet: Callable[[], Any]
    ) -> tuple[dict[str, Any], list[Any]]:
        """The main wallet, which signs agent approvals and deletions."""
        return {"main_wallet": wallet()}, []


KEYS = AsterKeys()  # what the key store asks of this venue (toolkit.keystore.lifecycle.adapter)
