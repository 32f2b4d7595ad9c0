"""The setup wizard's logic, without widgets: choose a venue and network, say whose account it is,
check what is outstanding, then sign and execute the steps one by one.

A failed step keeps the venue's exact words and can be run again; a step already satisfied is
shown as done and never asked for. Secrets arrive as ``Secret`` and stay in this object (or the
key store): nothing here is a widget trait, so nothing here is synced to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from toolkit import setup
from toolkit.keystore import lifecycle
from toolkit.keystore.store import Entry, KeyStore
from toolkit.secrets import Secret
from toolkit.venues import providers as pv
from toolkit.venues import registry
from toolkit.venues.eip712 import Wallet
from toolkit.venues.hyperliquid import HyperliquidError

# the registry's venues as the wizard lists them, read live (a venue registered later shows too):
# labels, networks (the sandbox first), credentials
VENUES: registry.Column = registry.Column("label")
NETWORKS: registry.Column = registry.Column("networks")
CREDENTIALS: registry.Column = registry.Column("credential")


def venue_errors() -> tuple[type[Exception], ...]:
    """Refusals a user can act on: shown in the venue's words, never raised out of the wizard."""
    return (*registry.errors(), setup.SetupError, httpx.HTTPError, ValueError)


def venue_words(exc: Exception) -> str:
    """The refusal as the venue put it (its message, with its code where it has one)."""
    if isinstance(exc, HyperliquidError):
        return exc.message
    if isinstance(exc, httpx.HTTPError):
        return f"could not reach the venue: {type(exc).__name__}: {exc}"
    return str(exc)


@dataclass
class StepState:
    """One descriptor step as the wizard shows it."""

    type: str
    title: str
    state: Literal["waiting", "running", "done", "failed", "satisfied"] = "waiting"
    message: str = ""
    step: setup.ActionStep | None = None


class SetupFlow:
    """``SetupFlow(store, sandbox)``: the wizard's state machine, drivable from plain Python."""

    def __init__(self, store: KeyStore | None = None, sandbox: Any = None) -> None:
        self.store = store
        self._sandbox = sandbox
        self.venue = "hyperliquid"
        self.network = "sandbox"
        self.address = ""
        self.steps: list[StepState] = []
        self.checked = False
        self.ready = False
        self.last_error = ""
        self._wallet: Wallet | None = None
        self._session: Secret | None = None
        self._client: Any = None

    def __repr__(self) -> str:
        return f"SetupFlow({self.venue}/{self.network}, address={self.address!r}, ready={self.ready})"

    # -- choices --------------------------------------------------------------------------------

    @property
    def credential(self) -> str:
        """What the chosen venue needs from the user: ``wallet``, ``session`` or ``login``."""
        return CREDENTIALS[self.venue]

    def choose(self, venue: str, network: str | None = None) -> None:
        """Pick the venue and network; forgets the account and steps of the previous choice."""
        spec = registry.spec(venue)
        network = network or spec.networks[0]
        if network not in spec.networks:
            raise ValueError(f"{spec.label} networks are {list(spec.networks)}, not {network!r}")
        if (venue, network) != (self.venue, self.network):
            self.close()
            self.venue, self.network = venue, network
            self.address, self._wallet, self._session = "", None, None
            self._reset_steps()

    def _reset_steps(self) -> None:
        self.steps, self.checked, self.ready, self.last_error = [], False, False, ""

    @property
    def sandbox(self) -> Any:
        """The sandbox handle this flow was given (a widget never starts a server of its own)."""
        if self._sandbox is None:
            raise ValueError(
                "the sandbox network needs a sandbox: pass one, e.g. "
                "SetupWizard(store, toolkit.sandbox.start())"
            )
        return self._sandbox

    @property
    def on_sandbox(self) -> bool:
        """Whether the chosen network is the sandbox."""
        return self.network == "sandbox"

    def _store(self) -> KeyStore:
        if self.store is None:
            from toolkit import keystore

            self.store = keystore.open()
        return self.store

    def client(self) -> Any:
        """The venue client for this choice (and this account's session or login)."""
        if self._client is None:
            spec = registry.spec(self.venue)
            options = {"session_token": self._session} if spec.credential == "session" else {}
            sandbox = self.sandbox if self.on_sandbox else None
            self._client = spec.client(self.network, sandbox, **options)
        return self._client

    def close(self) -> None:
        """Close the venue client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- whose account --------------------------------------------------------------------------

    def use_private_key(self, private_key: str | Secret, *, remember: bool = False, label: str = "") -> str:
        """The wallet that owns the account (hyperliquid, aster, lighter); ``remember`` keeps it in
        the key store for next time. Returns its address."""
        self._need("wallet")
        try:
            wallet = Wallet.from_key(Secret(str(Secret(private_key).reveal()).strip(), "private_key"))
        except Exception:
            raise ValueError("that is not a private key: 32 bytes of hex, with or without 0x") from None
        if remember:
            lifecycle.save_wallet(self._store(), wallet, label=label)
        return self._use_wallet(wallet)

    def stored_wallets(self) -> list[Entry]:
        """The wallets kept in the key store."""
        return [e for e in self._store().find(venue="evm", kind="wallet") if e.status == "active"]

    def use_stored_wallet(self, address: str) -> str:
        """Use the stored wallet of ``address``; returns the address."""
        self._need("wallet")
        wallet = lifecycle.stored_wallet(self._store(), address)
        if wallet is None:
            raise ValueError(f"no wallet for {address} in the key store")
        return self._use_wallet(wallet)

    def _use_wallet(self, wallet: Wallet) -> str:
        self._wallet = wallet
        self.address = wallet.address
        self._reset_steps()
        return self.address

    def use_session(self, email: str, session_token: str | Secret) -> str:
        """A Kalshi member: email and the session token its website issued."""
        self._need("session")
        if "@" not in email:
            raise ValueError("the member's email address, please")
        token = Secret(session_token, "session_token")
        if not token.reveal():
            raise ValueError("the session token is empty")
        self.close()
        self.address, self._session = email.strip().lower(), token
        self._reset_steps()
        return self.address

    def use_login(self, email: str, password: str | Secret) -> str:
        """PaperExchange's account: logs in at once, so a wrong password is said here."""
        self._need("login")
        self._reset_steps()
        session = self.client().login(email.strip(), Secret(password, "password"))
        self.address = session.email.lower()
        return self.address

    def _need(self, kind: str) -> None:
        if self.credential != kind:
            raise ValueError(f"{VENUES[self.venue]} setup takes a {self.credential}, not a {kind}")

    # -- the sandbox's helpers --------------------------------------------------------------------

    def fund(self, amount: float = 10_000.0) -> str:
        """Deposit play money for this address on the sandbox (a funding action, not a setup step)."""
        if not self.on_sandbox:
            raise ValueError("funding by hand exists only on the sandbox: deposit on the venue")
        if not self.address or self.credential != "wallet":
            raise ValueError("choose the wallet first")
        self.sandbox.deposit(self.venue, self.address, amount)
        return f"deposited {amount:,.0f} on the sandbox for {self.address}"

    def sandbox_member(self) -> str:
        """A new Kalshi member on the sandbox, with its session (what sign-up would give)."""
        if not (self.on_sandbox and self.venue == "kalshi"):
            raise ValueError("sandbox members exist only for Kalshi on the sandbox")
        member = self.sandbox.kalshi_member(usage_level="premier")
        return self.use_session(member.email, member.session_token)

    def sign_up(self, email: str, password: str | Secret) -> str:
        """Open a PaperExchange account (its real sign-up) and log in."""
        self._need("login")
        self._reset_steps()
        session = self.client().register(email.strip(), Secret(password, "password"))
        self.address = session.email.lower()
        return self.address

    # -- check, then run --------------------------------------------------------------------------

    def descriptors(self) -> list[dict[str, Any]]:
        """The venue's setup descriptors, in order."""
        return sorted(pv.PROVIDERS[self.venue]["setup"], key=lambda d: d["sequence"])

    def check(self) -> bool:
        """Ask what is outstanding. True when the venue needs nothing more; a refusal (no account
        yet, say) is kept in ``last_error`` in the venue's words."""
        if not self.address:
            raise ValueError("say whose account this is first")
        self.last_error = ""
        try:
            status = setup.check_setup(self.venue, self.address, client=self.client(), store=self._store())
        except venue_errors() as exc:
            self.last_error = venue_words(exc)
            self.checked, self.ready, self.steps = False, False, []
            return False
        outstanding = {s.type: s for s in status.setup}
        self.steps = [
            StepState(d["type"], d["title"], "waiting", "", outstanding[d["type"]])
            if d["type"] in outstanding
            else StepState(d["type"], d["title"], "satisfied", "already done")
            for d in self.descriptors()
        ]
        self.checked, self.ready = True, status.is_ready
        return self.ready

    @property
    def progress(self) -> tuple[int, int]:
        """Steps done and steps in all."""
        done = sum(s.state in ("done", "satisfied") for s in self.steps)
        return done, len(self.steps)

    def run(self) -> bool:
        """Sign and execute each outstanding step in order; stop at the first refusal (kept on the
        step in the venue's words, ready to run again). True when every step is done."""
        if not self.checked:
            raise ValueError("check first: the steps come from the check")
        for state in self.steps:
            if state.state in ("done", "satisfied"):
                continue
            state.state, state.message = "running", ""
            if not self._run_one(state):
                return False
        self.ready = all(s.state in ("done", "satisfied") for s in self.steps)
        return self.ready

    def _run_one(self, state: StepState) -> bool:
        assert state.step is not None
        client, store = self.client(), self._store()
        try:
            if self.credential == "wallet" and self._wallet is None:
                raise ValueError("this step is signed by the account's wallet: give its key first")
            signed = setup.sign_setup_action(
                self.venue, self.address, state.step, wallet=self._wallet, client=client, store=store
            )
            results = setup.execute_setup(
                self.venue, self.address, [state.step], [signed], client=client, store=store
            )
        except venue_errors() as exc:
            state.state, state.message = "failed", venue_words(exc)
            if isinstance(exc, setup.SetupError) and "no longer current" in str(exc):
                self.check()  # replaced meanwhile: take the new step
            return False
        state.state, state.message = "done", _result_words(results[0])
        return True

    def registered(self) -> Entry | None:
        """The newest active key this setup left in the key store (its public part is safe to show)."""
        found = [
            e
            for e in self._store().find(venue=self.venue, kind=registry.spec(self.venue).key_kind)
            if e.status == "active" and lifecycle.key_owner(e) == self.address.lower()
        ]
        return found[-1] if found else None


def _result_words(result: dict[str, Any]) -> str:
    pairs = (
        ("agentAddress", "agent"),
        ("apiKeyId", "API key"),
        ("keyPrefix", "API key"),
        ("txHash", "key, tx"),
    )
    for key, what in pairs:
        if key in result:
            return f"registered {what} {result[key]}"
    return "registered"
