"""Static export of the toolkit's plots (``fig.write_image``) with Kaleido, the engine the notebook
extra installs; it draws in the same Debian Chromium as the browser test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.frames import plots, schema, synthetic


def write_image(fig: Any, path: Path, **kwargs: Any) -> None:
    """``fig.write_image``, once more if Kaleido's tab ran its script before its page had loaded
    ("kaleido_scopes is not defined": a race inside Kaleido that a busy machine makes likely)."""
    from kaleido._kaleido_tab._errors import JavascriptError

    for attempt in range(3):
        try:
            fig.write_image(path, **kwargs)
            return
        except JavascriptError as exc:
            if "kaleido_scopes is not defined" not in str(exc) or attempt == 2:
                raise


def test_a_plot_saves_as_png_and_svg(chromium, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(chromium))  # where Kaleido's choreographer finds Chrome
    payments = synthetic.funding_payments(coins=2, hours=72, seed=1)
    fig = plots.cumulative_funding(schema.conform(payments, "funding"))
    png, svg = tmp_path / "funding.png", tmp_path / "funding.svg"
    write_image(fig, png, width=800, height=400)
    write_image(fig, svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    text = svg.read_text()
    assert text.startswith("<svg") and "C000" in text  # the first coin's trace name, drawn
