"""What the three widgets share: callbacks that show their exceptions, HTML tables, plotly figures
inside an Output, and a background ticker for countdowns and auto-refresh."""

from __future__ import annotations

import contextlib
import html
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as W

ERROR_STYLE = "color:#b00020;font-weight:600"


def guarded(error: W.HTML, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` as a widget callback: an exception is shown in ``error`` (type and message, never
    locals) and raised again, so ipywidgets reports it and a test that clicked fails."""

    def handler(*args: Any) -> Any:
        error.value = ""
        try:
            return fn(*args)
        except Exception as exc:
            words = html.escape(f"{type(exc).__name__}: {exc}")
            error.value = f'<span style="{ERROR_STYLE}">{words}</span>'
            raise

    return handler


def button(text: str, css: str, style: str = "") -> W.Button:
    """A button sized to its text, with a CSS class to find it by (in a browser test, say)."""
    b = W.Button(description=text, button_style=style, layout=W.Layout(width="auto"))
    b.add_class(css)
    return b


def set_choices(dropdown: W.Dropdown, choices: list[tuple[str, Any]], keep: Any = None) -> None:
    """New options for ``dropdown``, selecting ``keep`` if still offered, else the first: ipywidgets
    leaves the value None when options replace a None value."""
    dropdown.options = choices
    values = [value for _, value in choices]
    dropdown.value = keep if keep in values else (values[0] if values else None)


def message(text: str, kind: str = "info") -> str:
    colour = {"info": "#1a4f8b", "ok": "#1b7f3a", "error": "#b00020", "muted": "#666"}[kind]
    return f'<span style="color:{colour}">{html.escape(text)}</span>'


# What the tables people read call a frame's column, and how they write its values; the DataFrames
# keep their machine names. Money is positive into the account everywhere.
USD, PRICE, RATE, SIZE, LEVERAGE, TEXT = "usd", "price", "rate", "size", "leverage", "text"
COLUMNS: dict[str, tuple[str, str]] = {
    "time": ("Time (UTC)", TEXT), "coin": ("Coin", TEXT), "side": ("Side", TEXT), "szi": ("Size", SIZE),
    "size": ("Size", SIZE), "sz": ("Size", SIZE), "orig_size": ("Original size", SIZE),
    "entry_px": ("Entry price", PRICE), "mark_px": ("Mark price", PRICE), "px": ("Price", PRICE),
    "price": ("Price", PRICE), "liquidation_px": ("Liquidation price", PRICE),
    "position_value": ("Position value", USD), "unrealized_pnl": ("Unrealised PnL", USD),
    "margin_used": ("Margin used", USD), "leverage": ("Leverage", LEVERAGE),
    "cum_funding_since_open": ("Funding since open", USD), "cum_funding_all_time": ("Funding, all time", USD),
    "usdc": ("Funding (USDC)", USD), "funding_rate": ("Rate", RATE), "closed_pnl": ("Closed PnL", USD),
    "fee": ("Fee", USD), "notional": ("Notional", USD), "account_value": ("Account value", USD),
    "oid": ("Order id", TEXT), "cloid": ("Client order id", TEXT),
}  # fmt: skip


def label(column: str) -> str:
    return COLUMNS.get(column, (column.replace("_", " ").capitalize(), TEXT))[0]


def shown(column: str, value: Any) -> str:
    """``value`` as the tables write it: money to the cent with thousands separators, rates in basis
    points, prices to 6 significant figures, leverage as ``10x``."""
    kind = COLUMNS.get(column, ("", ""))[1]
    if isinstance(value, float) and value == value:
        if kind == USD:
            return f"{value:,.2f}"
        if kind == RATE:
            return f"{value * 10_000:,.3f} bp"
        if kind == LEVERAGE:
            return f"{value:g}x"
        if kind == PRICE:
            return f"{value:,.2f}" if abs(value) >= 1_000 else f"{value:.6g}"
    return _cell(value)


def table(rows: Iterable[dict[str, Any]], columns: list[str], *, css_class: str, empty: str = "none") -> str:
    """Rows as an HTML table (escaped): what the browser test and a reader both look at. Known
    columns get their readable label and format (``COLUMNS``)."""
    rows = list(rows)
    head = "".join(f"<th>{html.escape(label(c))}</th>" for c in columns)
    if not rows:
        body = f'<tr><td colspan="{len(columns)}"><i>{html.escape(empty)}</i></td></tr>'
    else:
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(shown(c, r.get(c)))}</td>" for c in columns) + "</tr>"
            for r in rows
        )
    return (
        f'<table class="toolkit-table {css_class}" style="border-collapse:collapse;font-size:12px">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def frame_table(df: Any, *, css_class: str, empty: str = "none", limit: int = 50) -> str:
    """A pandas or polars frame's last ``limit`` rows as an HTML table."""
    import polars as pl

    if not isinstance(df, pl.DataFrame):
        df = pl.from_pandas(df)
    return table(df.tail(limit).to_dicts(), df.columns, css_class=css_class, empty=empty)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.2f}"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def show_figure(out: W.Output, fig: Any) -> None:
    """Put a plotly figure in ``out`` as plotly's own MIME bundle: JupyterLab's plotly renderer
    draws it, and no renderer setting (which might open a browser) is consulted."""
    spec = json.loads(fig.to_json())
    spec.setdefault("config", {})["displaylogo"] = False
    out.outputs = (
        {
            "output_type": "display_data",
            "data": {
                "application/vnd.plotly.v1+json": spec,
                "text/plain": f"<figure: {fig.layout.title.text}>",
            },
            "metadata": {},
        },
    )


class Ticker:
    """Calls ``fn`` every ``seconds`` on a daemon thread until stopped (countdowns, auto-refresh)."""

    def __init__(self, seconds: float, fn: Callable[[], Any]) -> None:
        self.seconds, self.fn = seconds, fn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="toolkit-widget-ticker")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            with contextlib.suppress(Exception):  # shown by the guarded callback; keep ticking
                self.fn()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=30)
