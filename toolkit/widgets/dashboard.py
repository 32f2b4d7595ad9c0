"""``AccountDashboard``: one account's overview, positions, open orders, funding and liquidation
tables, a price chart with the account's fills on it, equity and cumulative-funding plots;
refresh, optional auto-refresh, and fast-forward buttons when the account is on the sandbox. Over
``AccountWatch``."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import ipywidgets as W

from toolkit.frames import plots
from toolkit.widgets._base import Ticker, button, frame_table, guarded, message, show_figure
from toolkit.widgets.account import AccountWatch, Snapshot

OVERVIEW = [
    ("account_value", "Account value"),
    ("total_pnl", "Total PnL"),
    ("unrealized_pnl", "Unrealised PnL"),
    ("realized_pnl", "Realised PnL"),
    ("margin_used", "Margin used"),
    ("total_margin_used", "Margin used"),
    ("withdrawable", "Withdrawable"),
    ("total_trades", "Trades"),
    ("win_rate", "Win rate"),
    ("total_fees", "Fees"),
    ("positions", "Positions"),
]
POSITION_COLUMNS = [
    "coin", "szi", "entry_px", "mark_px", "position_value", "unrealized_pnl", "liquidation_px",
    "margin_used", "leverage", "cum_funding_since_open",
]  # fmt: skip
FUNDING_COLUMNS = ["time", "coin", "usdc", "szi", "funding_rate"]
LIQUIDATION_COLUMNS = ["time", "coin", "side", "size", "price", "mark_px", "entry_px", "closed_pnl"]


class AccountDashboard(W.VBox):
    """``AccountDashboard(paper_client)`` or ``AccountDashboard(sandbox, user=address)``.

    ``auto_refresh`` seconds (None: off) refreshes on a background thread; the checkbox turns it
    on and off."""

    def __init__(
        self,
        source: Any,
        *,
        user: str | None = None,
        history: timedelta = timedelta(days=30),
        auto_refresh: float | None = None,
    ) -> None:
        self.watch = (
            source if isinstance(source, AccountWatch) else AccountWatch(source, user=user, history=history)
        )
        self.snapshot: Snapshot | None = None
        self.error = W.HTML()
        self.error.add_class("toolkit-error")
        self.title = W.HTML()
        self.overview = W.HTML()
        self.overview.add_class("toolkit-overview")
        self.positions = W.HTML()
        self.positions.add_class("toolkit-positions")
        self.orders = W.HTML()
        self.orders.add_class("toolkit-open-orders")
        self.funding = W.HTML()
        self.funding.add_class("toolkit-funding")
        self.liquidations = W.HTML()
        self.liquidations.add_class("toolkit-liquidations")
        self.equity_plot = W.Output()
        self.equity_plot.add_class("toolkit-equity-plot")
        self.funding_plot = W.Output()
        self.funding_plot.add_class("toolkit-funding-plot")
        self.price_plot = W.Output()
        self.price_plot.add_class("toolkit-price-plot")
        self.refresh_button = button("Refresh", "toolkit-dashboard-refresh", "info")
        self.auto = W.Checkbox(value=bool(auto_refresh), description="Auto-refresh", indent=False)
        self.every = W.BoundedIntText(value=int(auto_refresh or 30), min=2, max=3600, description="every (s)",
                                      layout=W.Layout(width="160px"))  # fmt: skip
        self.forward_buttons = [
            button(text, f"toolkit-forward-{hours}h")
            for text, hours in (("+1 h", 1), ("+8 h", 8), ("+1 day", 24))
        ]
        self.forward_progress = W.IntProgress(value=0, min=0, max=1, description="Forward")
        self.status = W.HTML()
        self.status.add_class("toolkit-status")
        self.ticker: Ticker | None = None

        self.refresh_button.on_click(guarded(self.error, lambda _: self.refresh()))
        self.auto.observe(guarded(self.error, self._on_auto), names="value")
        for forward_button, hours in zip(self.forward_buttons, (1, 8, 24), strict=True):
            forward_button.on_click(guarded(self.error, lambda _, h=hours: self.fast_forward(h)))
        on_sandbox = self.watch.sandbox is not None
        controls: list[W.Widget] = [self.refresh_button, self.auto, self.every]
        forward = W.HBox([W.HTML("Sandbox clock: "), *self.forward_buttons, self.forward_progress])
        forward.layout.display = "" if on_sandbox else "none"
        tabs = W.Tab(children=[self.positions, self.orders, self.funding, self.liquidations])
        for i, name in enumerate(["Positions", "Open orders", "Funding", "Liquidations"]):
            tabs.set_title(i, name)
        super().__init__(
            [
                self.title,
                self.overview,
                W.HBox(controls),
                forward,
                self.status,
                self.error,
                tabs,
                self.price_plot,
                self.equity_plot,
                self.funding_plot,
            ]
        )
        self.add_class("toolkit-dashboard")
        self.refresh()
        if auto_refresh:
            self._start_ticker()

    # -- drawing ----------------------------------------------------------------------------------

    def refresh(self) -> Snapshot:
        """Fetch everything again and redraw."""
        snap = self.watch.snapshot()
        self.snapshot = snap
        who = self.watch.user or "paper account"
        self.title.value = f"<b>{html.escape(who)}</b> at {snap.time:%Y-%m-%d %H:%M} UTC"
        seen: set[str] = set()
        cells = []
        for key, label in OVERVIEW:
            value = snap.overview.get(key)
            if value is None or label in seen:
                continue
            seen.add(label)
            shown = (
                f"{value:.1%}"
                if key == "win_rate"
                else f"{value:,.2f}"
                if isinstance(value, float)
                else str(value)
            )
            cells.append(
                f'<div class="toolkit-figure"><small>{label}</small><br><b>{html.escape(shown)}</b></div>'
            )
        self.overview.value = '<div style="display:flex;gap:18px">' + "".join(cells) + "</div>"
        for widget, frame, columns, css, empty in (
            (self.positions, snap.positions, POSITION_COLUMNS, "positions", "no open positions"),
            (self.orders, snap.open_orders, None, "orders", "no resting orders"),
            (self.funding, snap.funding, FUNDING_COLUMNS, "funding", "no funding in this window"),
            (self.liquidations, snap.liquidations, LIQUIDATION_COLUMNS, "liquidations", "no liquidations"),
        ):
            shown = frame.select(columns) if columns else frame
            widget.value = frame_table(shown, css_class=f"toolkit-{css}-table", empty=empty)
        show_figure(self.price_plot, plots.prices_with_fills(snap.prices, snap.fills))
        show_figure(self.equity_plot, plots.equity(snap.equity))
        funding = snap.funding.sort("time")
        show_figure(
            self.funding_plot,
            plots.cumulative_funding(funding, by="account" if funding.is_empty() else "coin"),
        )
        return snap

    def fast_forward(self, hours: float) -> None:
        """Move the sandbox's clock ahead an hour at a time, then redraw."""
        self.forward_progress.value = 0

        def step(done: int, total: int) -> None:
            self.forward_progress.max, self.forward_progress.value = total, done

        steps = self.watch.fast_forward(hours, on_step=step)
        snap = self.refresh()
        self.status.value = message(
            f"moved {hours:g} h ahead in {steps} steps: now {snap.time:%Y-%m-%d %H:%M} UTC", "ok"
        )

    def _on_auto(self, change: Any) -> None:
        if change["new"]:
            self._start_ticker()
        elif self.ticker is not None:
            self.ticker.stop()
            self.ticker = None

    def _start_ticker(self) -> None:
        if self.ticker is None:
            self.ticker = Ticker(float(self.every.value), guarded(self.error, self.refresh))

    def close(self) -> None:
        # also reached from __del__ of a dashboard whose construction failed half-way
        """Stop auto-refresh and close the widget and its client."""
        if getattr(self, "ticker", None) is not None:
            self.ticker.stop()
        if hasattr(self, "watch"):
            self.watch.close()
        super().close()
