"""The engine's mechanics against the numbers of reference/hyperliquid.md §4-§6."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from toolkit.sandbox.engine import margin
from toolkit.sandbox.engine.specs import CONTRACTS, Contract, OrderRejected, Reason, Tier, fee
from toolkit.sandbox.render import hyperliquid as render
from toolkit.venues import funding

# -- funding (§4) ----------------------------------------------------------------------------------


def test_hourly_rate_is_the_interest_rate_over_8_inside_the_clamp():
    assert funding.hourly_rate(0.00031774) == pytest.approx(0.0000125, abs=1e-15)  # the D-PERP example
    assert funding.hourly_rate(0.0) == pytest.approx(0.0000125, abs=1e-15)


def test_hourly_rate_on_the_clamped_branch():
    # a mainnet row: premium −0.0004653492 published with fundingRate "0.0000043313"
    rate = funding.hourly_rate(-0.0004653492)
    assert rate == pytest.approx(0.00000433135, abs=1e-18)
    assert f"{Decimal(repr(rate)).quantize(Decimal('1e-10'), rounding='ROUND_DOWN'):.10f}" == "0.0000043313"
    # the docs' worked example on the 8-hour scale: P = 1% gives F = 0.95%
    assert funding.hourly_rate(0.01) * 8 == pytest.approx(0.0095)


def test_hourly_rate_is_capped_at_4_percent():
    assert funding.hourly_rate(10.0) == 0.04 and funding.hourly_rate(-10.0) == -0.04
    rates = funding.hourly_rate(np.array([-10.0, 0.0, 10.0]))
    assert rates.tolist() == pytest.approx([-0.04, 0.0000125, 0.04])


def test_payments_sign_longs_pay_positive_rates():
    usdc = funding.payments([0.5, -0.5], [42_500.0, 42_500.0], 0.0001)
    assert usdc.tolist() == pytest.approx([-2.125, 2.125])  # seed 003's example row: −2.125
    # the D-PERP userFunding example: 49.1477 ETH at rate 0.0000417 paid 3.625312
    assert -funding.payments(49.1477, 3.625312 / 49.1477 / 0.0000417, 0.0000417) == pytest.approx(3.625312)


def test_24_hours_of_funding_by_hand():
    oracle = np.linspace(3000, 3100, 24)
    premium = np.full(24, 0.0002)
    rates = funding.hourly_rate(premium)
    total = funding.payments(np.full(24, 2.0), oracle, rates).sum()
    by_hand = sum(-2.0 * oracle[h] * 0.0000125 for h in range(24))
    assert total == pytest.approx(by_hand, rel=1e-12)
    assert total == pytest.approx(-2.0 * 0.0000125 * oracle.sum())


# -- margin tiers (§5.2) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coin", "tier", "deduction"),
    [("BTC", 1, 1.875e6), ("ETH", 1, 100e6 * (1 / 30 - 1 / 50)), ("AVAX", 1, 1e6), ("ARB", 1, 3e6 * 0.05)],
)
def test_tier_deductions(coin, tier, deduction):
    assert CONTRACTS[coin].deductions[tier] == pytest.approx(deduction)


@pytest.mark.parametrize("coin", sorted(CONTRACTS))
def test_maintenance_margin_is_continuous_at_every_tier_bound(coin):
    contract = CONTRACTS[coin]
    for tier in contract.tiers[1:]:
        below = contract.maintenance_margin(tier.lower_bound * (1 - 1e-12))
        at = contract.maintenance_margin(tier.lower_bound)
        assert at == pytest.approx(below, rel=1e-9)


def test_mmr_is_half_the_initial_margin_at_max_leverage():
    assert CONTRACTS["SOL"].maintenance_margin(10_000) == pytest.approx(10_000 * 0.025)
    assert CONTRACTS["BTC"].maintenance_margin(10_000) == pytest.approx(10_000 * 0.0125)
    assert margin.initial_margin(10_000, 20) == 500


# -- liquidation price (§5.3) ---------------------------------------------------------------------------


def test_isolated_liquidation_price_matches_the_documented_example():
    # D-PERP: ETH long 0.0335 isolated, rawUsd −95.059824, positionValue 100.02765, at max leverage 50
    eth50 = Contract("ETH", 4, (Tier(0, 50),))
    mark = 100.02765 / 0.0335
    isolated_margin = -95.059824 + 0.0335 * mark  # marginUsed 4.967826
    liq = margin.isolated_liquidation_price(eth50, 0.0335, mark, isolated_margin)
    assert liq == pytest.approx(2866.26936529, rel=1e-6)
    assert liq == pytest.approx(95.059824 / (0.0335 * (1 - 0.01)), rel=1e-12)  # the closed form


def test_short_liquidation_is_above_the_price_and_long_below():
    btc = CONTRACTS["BTC"]
    long_liq = margin.cross_liquidation_price(btc, 1.0, 100_000, account_value=10_000)
    short_liq = margin.cross_liquidation_price(btc, -1.0, 100_000, account_value=10_000)
    assert long_liq < 100_000 < short_liq
    # at the liquidation price, the account's value equals maintenance margin exactly
    for szi, liq in ((1.0, long_liq), (-1.0, short_liq)):
        value = 10_000 + szi * (liq - 100_000)
        assert value == pytest.approx(btc.maintenance_margin(abs(szi) * liq), rel=1e-9)


def test_no_liquidation_price_when_the_margin_covers_everything():
    assert margin.cross_liquidation_price(CONTRACTS["ETH"], 1.0, 3000, account_value=1e9) is None
    assert margin.liquidation_price(CONTRACTS["ETH"], 0.0, 3000, 100) is None


# -- ticks, lots, values, fees (§6) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coin", "price", "ok"),
    [
        ("BTC", 123456, True), ("BTC", "12345.6", False), ("ETH", "1234.5", True), ("ETH", "1234.56", False),
        ("DOGE", "0.001234", True), ("DOGE", "0.0012345", False), ("LINK", "0.01234", True),
        ("LINK", "0.012345", False), ("SOL", "0", False), ("SOL", "-1", False), ("SOL", "abc", False),
    ],
)  # fmt: skip
def test_price_rules(coin, price, ok):
    if ok:
        CONTRACTS[coin].check_price(price)
    else:
        with pytest.raises(OrderRejected) as refused:
            CONTRACTS[coin].check_price(price)
        assert render.text(refused.value.reason) == "Price must be divisible by tick size."


@pytest.mark.parametrize(
    ("coin", "size", "ok"),
    [
        ("BTC", "0.00001", True),
        ("BTC", "0.000001", False),
        ("DOGE", "12", True),
        ("DOGE", "12.5", False),
        ("ETH", "0", False),
    ],
)
def test_size_rules(coin, size, ok):
    if ok:
        CONTRACTS[coin].check_size(size)
    else:
        with pytest.raises(OrderRejected) as refused:
            CONTRACTS[coin].check_size(size)
        assert render.text(refused.value.reason) == "Order has invalid size."


def test_minimum_and_maximum_order_value():
    eth = CONTRACTS["ETH"]
    with pytest.raises(OrderRejected) as refused:
        eth.check_value(Decimal("3000"), Decimal("0.0033"), market=True)
    assert refused.value.reason is Reason.MIN_VALUE
    assert render.text(Reason.MIN_VALUE) == "Order must have minimum value of $10."
    assert eth.check_value(Decimal("3000"), Decimal("0.0034"), market=True) == pytest.approx(10.2)
    with pytest.raises(OrderRejected) as refused:
        eth.check_value(Decimal("3000"), Decimal("10001"), market=True)
    assert render.text(refused.value.reason, refused.value.context) == (
        "Order value exceeds the maximum of $30,000,000 for ETH."
    )
    eth.check_value(Decimal("3000"), Decimal("10001"), market=False)  # limit orders may be 10x larger
    assert (
        CONTRACTS["SOL"].max_market_order_value() == 5e6 and CONTRACTS["ARB"].max_market_order_value() == 2e6
    )


def test_fees():
    assert fee(10_000, maker=False) == pytest.approx(4.5) and fee(-10_000, maker=True) == pytest.approx(1.5)
