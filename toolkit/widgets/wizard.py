"""``SetupWizard``: register a trading key on any venue by clicking, over ``SetupFlow``.

A private key, session token or password is typed into a Password widget, read once into a
``Secret`` and the widget emptied at once, so it never stays in the widget state that JupyterLab
saves with the notebook. A wallet can also be taken from the key store.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from toolkit.keystore.store import KeyStore
from toolkit.secrets import Secret
from toolkit.widgets._base import button, guarded, message, set_choices, table
from toolkit.widgets.setup_flow import NETWORKS, VENUES, SetupFlow, venue_errors, venue_words

LABELS = {"description_width": "8em"}  # wide enough for "Session token" and "Private key", whole

_STATE_WORDS = {
    "waiting": "to do",
    "running": "running…",
    "done": "done",
    "failed": "failed",
    "satisfied": "already done",
}


class SetupWizard(W.VBox):
    """Choose venue and network, say whose account it is, check, then run the outstanding steps."""

    def __init__(
        self,
        store: KeyStore | None = None,
        sandbox: Any = None,
        *,
        venue: str = "hyperliquid",
        network: str = "sandbox",
        on_registered: Any = None,
    ) -> None:
        self.flow = SetupFlow(store, sandbox)
        self.on_registered = on_registered
        self.error = W.HTML()
        self.error.add_class("toolkit-error")
        self.venue = W.Dropdown(
            options=[(label, key) for key, label in VENUES.items()], value=venue, description="Venue"
        )
        self.network = W.Dropdown(options=list(NETWORKS[venue]), value=network, description="Network")
        # wallet venues
        self.source = W.ToggleButtons(options=["Type the key", "From the key store"], value="Type the key")
        self.private_key = W.Password(
            description="Private key", placeholder="0x… (read once, then cleared)", style=LABELS
        )
        self.private_key.add_class("toolkit-private-key")
        self.remember = W.Checkbox(value=False, description="Keep it in the key store", indent=False)
        self.stored = W.Dropdown(options=[], description="Wallet")
        self.use_wallet = button("Use this wallet", "toolkit-use-wallet")
        # session and login venues
        self.email = W.Text(description="Email", style=LABELS)
        self.password = W.Password(description="Password", style=LABELS)
        self.password.add_class("toolkit-password")
        self.use_account = button("Use this account", "toolkit-use-account")
        self.sandbox_account = button("New sandbox account", "toolkit-sandbox-account")
        self.account = W.HTML()
        self.account.add_class("toolkit-account")
        self.check_button = button("Check", "toolkit-check", "info")
        self.run_button = button("Run steps", "toolkit-run", "primary")
        self.fund_button = button("Fund on the sandbox", "toolkit-fund", "warning")
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Progress")
        self.steps = W.HTML()
        self.steps.add_class("toolkit-steps")
        self.status = W.HTML()
        self.status.add_class("toolkit-status")
        self.account_box = W.VBox()

        self.venue.observe(guarded(self.error, self._on_choice), names="value")
        self.network.observe(guarded(self.error, self._on_choice), names="value")
        self.source.observe(guarded(self.error, lambda _: self._layout_account()), names="value")
        self.use_wallet.on_click(guarded(self.error, self._on_use_wallet))
        self.use_account.on_click(guarded(self.error, self._on_use_account))
        self.sandbox_account.on_click(guarded(self.error, self._on_sandbox_account))
        self.check_button.on_click(guarded(self.error, self._on_check))
        self.run_button.on_click(guarded(self.error, self._on_run))
        self.fund_button.on_click(guarded(self.error, self._on_fund))

        super().__init__(
            [
                W.HTML("<b>Set up a venue</b>"),
                W.HBox([self.venue, self.network]),
                self.account_box,
                self.account,
                W.HBox([self.check_button, self.run_button, self.fund_button]),
                self.progress,
                self.steps,
                self.status,
                self.error,
            ]
        )
        self.add_class("toolkit-wizard")
        self.flow.choose(venue, network)
        self._layout_account()
        self._render()

    # -- layout ----------------------------------------------------------------------------------

    def _layout_account(self) -> None:
        kind, sandbox = self.flow.credential, self.flow.on_sandbox
        if kind == "wallet":
            if self.source.value == "From the key store":
                wallets = self.flow.stored_wallets()
                set_choices(self.stored, [(f"{e.label or 'wallet'} {e.public}", e.public) for e in wallets])
                rows: list[W.Widget] = [self.source, W.HBox([self.stored, self.use_wallet])]
            else:
                rows = [self.source, W.HBox([self.private_key, self.use_wallet]), self.remember]
        else:
            self.password.description = "Session token" if kind == "session" else "Password"
            self.sandbox_account.description = (
                "New sandbox member" if kind == "session" else "Sign up on the sandbox"
            )
            buttons = [self.use_account] + ([self.sandbox_account] if sandbox else [])
            rows = [self.email, self.password, W.HBox(buttons)]
        self.account_box.children = rows
        self.fund_button.layout.display = "" if sandbox and kind == "wallet" else "none"

    def _render(self) -> None:
        flow = self.flow
        who = html.escape(flow.address) if flow.address else "<i>not chosen yet</i>"
        self.account.value = (
            f"Account: <code>{who}</code> on {html.escape(VENUES[flow.venue])} {flow.network}"
        )
        done, total = flow.progress
        self.progress.max, self.progress.value = max(total, 1), done
        rows = [
            {"step": s.title, "type": s.type, "status": _STATE_WORDS[s.state], "message": s.message}
            for s in flow.steps
        ]
        self.steps.value = table(rows, ["step", "type", "status", "message"], css_class="toolkit-steps-table",
                                 empty="check to see what this venue needs")  # fmt: skip
        failed = any(s.state == "failed" for s in flow.steps)
        self.run_button.description = "Retry" if failed else "Run steps"
        self.run_button.disabled = not flow.checked or flow.ready
        self.check_button.disabled = not flow.address

    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = message(text, kind)

    # -- callbacks ----------------------------------------------------------------------------

    def _on_choice(self, change: Any) -> None:
        venue = self.venue.value
        if change["owner"] is self.venue:
            with self.network.hold_trait_notifications():
                self.network.options = list(NETWORKS[venue])
                self.network.value = NETWORKS[venue][0]
        self.flow.choose(venue, self.network.value)
        self._clear_form()  # one venue's account is not another's: nothing typed carries over
        self.status.value = ""
        self._layout_account()
        self._render()

    def _clear_form(self) -> None:
        self.email.value = self.password.value = self.private_key.value = ""
        self.remember.value = False

    def _read(self, widget: W.Password, label: str) -> Secret:
        """The typed secret, and the widget emptied before anything else can happen."""
        value = Secret(widget.value, label)
        widget.value = ""
        return value

    def _on_use_wallet(self, _: Any) -> None:
        try:
            if self.source.value == "From the key store":
                if not self.stored.value:
                    raise ValueError("the key store holds no wallet yet: type the key once and keep it")
                address = self.flow.use_stored_wallet(self.stored.value)
            else:
                key = self._read(self.private_key, "private_key")
                address = self.flow.use_private_key(key, remember=self.remember.value)
        except venue_errors() as exc:
            self._say(venue_words(exc), "error")
        else:
            self._say(f"using wallet {address}", "ok")
        self._render()

    def _on_use_account(self, _: Any) -> None:
        secret = self._read(self.password, "password")
        try:
            if self.flow.credential == "session":
                address = self.flow.use_session(self.email.value, secret)
            else:
                address = self.flow.use_login(self.email.value, secret)
        except venue_errors() as exc:
            self._say(venue_words(exc), "error")
        else:
            self._say(f"signed in as {address}", "ok")
        self._render()

    def _on_sandbox_account(self, _: Any) -> None:
        try:
            if self.flow.credential == "session":
                address = self.flow.sandbox_member()
            else:
                address = self.flow.sign_up(self.email.value, self._read(self.password, "password"))
        except venue_errors() as exc:
            self._say(venue_words(exc), "error")
        else:
            self.email.value = address
            self._say(f"opened {address} on the sandbox", "ok")
        self._render()

    def _on_fund(self, _: Any) -> None:
        try:
            self._say(self.flow.fund(), "ok")
        except venue_errors() as exc:
            self._say(venue_words(exc), "error")
        self._render()

    def _on_check(self, _: Any) -> None:
        ready = self.flow.check()
        if self.flow.last_error:
            self._say(self.flow.last_error, "error")
        elif ready:
            self._say("nothing to do: this account is set up" + _entry_words(self.flow.registered()), "ok")
        else:
            todo = sum(s.state == "waiting" for s in self.flow.steps)
            self._say(f"{todo} step(s) to run", "info")
        self._render()

    def _on_run(self, _: Any) -> None:
        self._say("running…", "muted")
        self._render()
        if self.flow.run():
            entry = self.flow.registered()
            self._say("done: the key is registered and kept in the key store" + _entry_words(entry), "ok")
            if self.on_registered is not None:
                self.on_registered(entry)
        else:
            failed = next((s for s in self.flow.steps if s.state == "failed"), None)
            self._say(f"the venue refused: {failed.message}" if failed else "not done", "error")
        self._render()

    def close(self) -> None:
        """Close the wizard and its venue client."""
        if hasattr(self, "flow"):  # not when construction failed half-way
            self.flow.close()
        super().close()


def _entry_words(entry: Any) -> str:
    return f" ({entry.kind} {entry.public})" if entry is not None else ""
