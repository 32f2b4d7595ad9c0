"""Aster's setup: one approveAgent step, a V3 agent registered and approved in one public call
(``registerAndApproveAgent``) signed by the main wallet, which registers the wallet if it is new.

As for Hyperliquid, the check keeps the generated agent as a *pending* key store entry, so polling
repeats the same step; the agent is verified by asking the venue with the agent's own signature.
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
        return lifecycle.save_aster_agent(store, client.base_url, new, status="pending")

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
