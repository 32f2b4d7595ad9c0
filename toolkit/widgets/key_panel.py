"""``KeyPanel``: every key in the key store, with create, rotate, revoke, copy public part and an
expiry countdown, over ``KeyInventory``. Secrets appear only as masked fingerprints."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as W

from toolkit.keystore.store import KeyStore
from toolkit.secrets import Secret
from toolkit.widgets._base import Ticker, button, guarded, message, set_choices, table
from toolkit.widgets.key_inventory import COLUMNS, KeyInventory
from toolkit.widgets.setup_flow import VENUES, venue_errors, venue_words


class KeyPanel(W.VBox):
    """``KeyPanel(store, sandbox=None, tick_seconds=30)``: the countdown ticks every
    ``tick_seconds`` on a background thread (None: only on refresh)."""

    def __init__(
        self, store: KeyStore | None = None, sandbox: Any = None, *, tick_seconds: float | None = 30
    ) -> None:
        self.inventory = KeyInventory(store, sandbox)
        self.error = W.HTML()
        self.error.add_class("toolkit-error")
        self.table = W.HTML()
        self.table.add_class("toolkit-keys")
        self.key = W.Dropdown(options=[], description="Key", layout=W.Layout(width="60%"))
        self.credential = W.Password(description="Owner", placeholder="wallet key or password, if needed")
        self.credential.add_class("toolkit-owner-secret")
        self.refresh_button = button("Refresh from venues", "toolkit-refresh")
        self.rotate_button = button("Rotate", "toolkit-rotate", "warning")
        self.revoke_button = button("Revoke", "toolkit-revoke", "danger")
        self.copy_button = button("Copy public part", "toolkit-copy")
        self.new_button = button("New key…", "toolkit-new-key", "success")
        self.clipboard = W.Text(description="Public", disabled=False, layout=W.Layout(width="70%"))
        self.clipboard.add_class("toolkit-clipboard")
        self.copy_html = W.HTML()
        self.status = W.HTML()
        self.status.add_class("toolkit-status")
        self.wizard_box = W.VBox()

        self.refresh_button.on_click(guarded(self.error, self._on_refresh))
        self.rotate_button.on_click(guarded(self.error, lambda _: self._on_act("rotate")))
        self.revoke_button.on_click(guarded(self.error, lambda _: self._on_act("revoke")))
        self.copy_button.on_click(guarded(self.error, self._on_copy))
        self.new_button.on_click(guarded(self.error, self._on_new))
        super().__init__(
            [
                W.HTML("<b>Keys</b>"),
                self.table,
                W.HBox([self.key, self.credential]),
                W.HBox(
                    [
                        self.refresh_button,
                        self.rotate_button,
                        self.revoke_button,
                        self.copy_button,
                        self.new_button,
                    ]
                ),
                W.HBox([self.clipboard, self.copy_html]),
                self.status,
                self.error,
                self.wizard_box,
            ]
        )
        self.add_class("toolkit-key-panel")
        self.reload()
        self.ticker = Ticker(tick_seconds, guarded(self.error, self.tick)) if tick_seconds else None

    def reload(self) -> None:
        """Read the store again: the table and the key chooser."""
        rows = self.inventory.rows()
        choices = [(f"{VENUES.get(r['venue'], r['venue'])} {r['kind']} {r['key']} ({r['status']})", r["id"])
                   for r in rows]  # fmt: skip
        set_choices(self.key, choices, keep=self.key.value)
        self._draw(rows)

    def tick(self) -> None:
        """Redraw the countdowns (and statuses, which follow the clock)."""
        self._draw(self.inventory.rows())

    def _draw(self, rows: list[dict[str, Any]]) -> None:
        self.table.value = table(
            rows, COLUMNS, css_class="toolkit-keys-table", empty="the key store is empty"
        )

    def _say(self, text: str, kind: str = "info") -> None:
        self.status.value = message(text, kind)

    def _chosen(self) -> str:
        if not self.key.value:
            raise ValueError("choose a key first")
        return self.key.value

    def _on_refresh(self, _: Any) -> None:
        problems = self.inventory.refresh()
        self.reload()
        self._say(
            "; ".join(problems) if problems else "every key checked with its venue",
            "error" if problems else "ok",
        )

    def _on_act(self, action: str) -> None:
        secret = Secret(self.credential.value, "owner")
        self.credential.value = ""  # read once: never left in the widget state
        try:
            entry_id = self._chosen()
            new = getattr(self.inventory, action)(entry_id, secret if secret.reveal() else None)
        # what a lifecycle refuses by design (an Aster V1 key cannot be deleted by its owner) is a message
        except (*venue_errors(), NotImplementedError, KeyError) as exc:
            self._say(venue_words(exc), "error")
            return
        self.reload()
        if action == "rotate":
            self.key.value = new.id
            self._say(f"rotated: the new key is {new.key_ref}; the old one is revoked", "ok")
        else:
            self._say(f"revoked {new.key_ref}", "ok")

    def _on_copy(self, _: Any) -> None:
        public = self.inventory.public_part(self._chosen())
        self.clipboard.value = public
        # a browser-side button: writing the clipboard needs a user gesture in the page itself
        quoted = html.escape(json.dumps(public), quote=True)
        self.copy_html.value = (
            f'<button class="toolkit-copy-now" onclick="navigator.clipboard.writeText({quoted})">'
            "copy to clipboard</button>"
        )
        self._say("the public part is in the field: nothing secret is in it", "ok")

    def _on_new(self, _: Any) -> None:
        from toolkit.widgets.wizard import SetupWizard

        if self.wizard_box.children:
            self.wizard_box.children = []
            return
        wizard = SetupWizard(
            self.inventory.store, self.inventory.sandbox, on_registered=lambda _: self.reload()
        )
        self.wizard_box.children = [wizard]

    def close(self) -> None:
        """Stop the countdown and close the widget."""
        if getattr(self, "ticker", None) is not None:  # None also when construction failed half-way
            self.ticker.stop()
        for child in getattr(self, "wizard_box", W.VBox()).children:
            child.close()
        super().close()
