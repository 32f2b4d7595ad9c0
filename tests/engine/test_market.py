"""Market data: the synthetic market is deterministic, continuous and funded by the formula; the
replay market reads Hyperliquid's own row shapes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit.sandbox.market import HOUR_MS, ReplayMarket, SyntheticMarket
from toolkit.sandbox.render import hyperliquid as render
from toolkit.venues import funding

START = 1_767_225_600_000  # 2026-01-01T00:00Z


def test_same_seed_same_market_in_any_order_of_asking():
    a, b = SyntheticMarket(seed=7, start_ms=START), SyntheticMarket(seed=7, start_ms=START)
    far = START + 3000 * HOUR_MS
    assert a.oracle("BTC", far) == b.oracle("BTC", far)  # b asks far first, a asks near first below
    assert a.oracle("BTC", START + HOUR_MS) == b.oracle("BTC", START + HOUR_MS)
    assert SyntheticMarket(seed=8, start_ms=START).oracle("BTC", far) != a.oracle("BTC", far)


def test_funding_rate_follows_the_formula_and_the_cap():
    m = SyntheticMarket(seed=1, start_ms=START)
    for h in range(0, 2000, 97):
        assert m.funding_rate("ETH", h) == pytest.approx(funding.hourly_rate(m.premium("ETH", h)), abs=1e-18)
    rates = np.array([m.funding_rate("SOL", h) for h in range(5000)])
    assert np.all(np.abs(rates) <= 0.04)
    # mostly the 0.0000125 plateau, with clamped excursions on both sides
    assert 0.3 < np.mean(np.isclose(rates, 0.0000125)) < 0.99 and rates.min() < 0.0000125 < rates.max()


def test_prices_are_positive_continuous_and_mark_tracks_oracle():
    m = SyntheticMarket(seed=2, start_ms=START)
    hours = np.arange(0, 3 * 1024 + 5)
    oracle = np.array([m.oracle("DOGE", START + int(h) * HOUR_MS) for h in hours])
    assert np.all(oracle > 0)
    jumps = np.abs(np.diff(np.log(oracle)))
    assert jumps.max() < 0.2  # chunks join without a gap
    assert m.oracle("BTC", START) == pytest.approx(95_000.0, rel=1e-12)
    mid = START + HOUR_MS // 2
    assert m.oracle("BTC", mid) == pytest.approx(
        (m.oracle("BTC", START) + m.oracle("BTC", START + HOUR_MS)) / 2
    )
    assert abs(m.mark("ETH", START + 5 * HOUR_MS) / m.oracle("ETH", START + 5 * HOUR_MS) - 1) < 0.01


def test_funding_history_rows_are_stamped_when_paid_and_render_in_hyperliquids_shape():
    m = SyntheticMarket(seed=3, start_ms=START)
    rows = m.funding_history("BTC", START, START + 5 * HOUR_MS)
    # stamped when paid: hour h's rate is applied at the end of hour h
    assert [r.time for r in rows] == [START + (h + 1) * HOUR_MS for h in range(5)]
    assert rows[2].rate == m.funding_rate("BTC", 2)
    wire = render.funding_history(rows)
    assert set(wire[0]) == {"coin", "fundingRate", "premium", "time"}
    assert float(wire[2]["fundingRate"]) == pytest.approx(m.funding_rate("BTC", 2), abs=1e-10)


def test_replay_from_hyperliquid_json(tmp_path):
    rows = [
        {"coin": "ETH", "fundingRate": "0.0000125", "premium": "0.0003", "time": START + h * HOUR_MS + 7}
        for h in range(48)
    ]
    rows[10]["fundingRate"], rows[10]["premium"] = "-0.00002", "-0.0011"
    candles = [
        {"t": START + h * HOUR_MS, "T": START + (h + 1) * HOUR_MS - 1, "s": "ETH", "i": "1h",
         "o": "3000", "c": str(3000 + h), "h": "3010", "l": "2990", "v": "1", "n": 1}
        for h in range(49)
    ]  # fmt: skip
    (tmp_path / "funding.json").write_text(json.dumps(rows))
    (tmp_path / "eth.json").write_text(json.dumps(candles))
    m = ReplayMarket.from_files([tmp_path / "funding.json"], {"ETH": tmp_path / "eth.json"})
    assert m.coins == ("ETH",) and m.start_ms == START
    assert m.funding_rate("ETH", 10) == -0.00002 and m.premium("ETH", 10) == -0.0011
    assert m.oracle("ETH", START + 5 * HOUR_MS) == pytest.approx(3004, rel=1e-3)
    with pytest.raises(ValueError, match="covers hours"):
        m.funding_rate("ETH", 500)
