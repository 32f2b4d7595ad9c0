"""The tables the widgets draw: labels a trader reads, money to the cent, rates in basis points."""

from __future__ import annotations


def test_widget_tables_use_labels_and_formats_a_trader_reads():
    import polars as pl

    from toolkit.widgets._base import frame_table

    frame = pl.DataFrame({"coin": ["ETH"], "funding_rate": [0.0000125], "usdc": [-12345.678], "leverage": [10.0],
                          "mark_px": [3301.25], "szi": [0.5]})  # fmt: skip
    html = frame_table(frame, css_class="t")
    for text in ("<th>Rate</th>", "<th>Funding (USDC)</th>", "<th>Leverage</th>", "<th>Mark price</th>",
                 "<td>0.125 bp</td>", "<td>-12,345.68</td>", "<td>10x</td>", "<td>3,301.25</td>", "<td>0.5</td>"):  # fmt: skip
        assert text in html, text
