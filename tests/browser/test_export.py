"""Static export of the toolkit's plots (``fig.write_image``) with Kaleido, the engine the notebook
extra installs; it draws in the same Debian Chromium as the browser test."""

from __future__ import annotations

from toolkit.frames import plots, schema, synthetic


def test_a_plot_saves_as_png_and_svg(chromium, tmp_path, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(chromium))  # where Kaleido's choreographer finds Chrome
    payments = synthetic.funding_payments(coins=2, hours=72, seed=1)
    fig = plots.cumulative_funding(schema.conform(payments, "funding"))
    png, svg = tmp_path / "funding.png", tmp_path / "funding.svg"
    fig.write_image(png, width=800, height=400)
    fig.write_image(svg)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    text = svg.read_text()
    assert text.startswith("<svg") and "C000" in text  # the first coin's trace name, drawn
