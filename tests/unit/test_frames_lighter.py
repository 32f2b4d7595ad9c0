"""Lighter's account rows in the toolkit's units: money positive into the account, times in ms,
the account's own side of each trade."""

from __future__ import annotations

import pytest

from toolkit.frames import lighter as fl

ACCOUNT = 101


def _trade(**changes):
    base = {
        "trade_id": 7, "tx_hash": "ab" * 40, "type": "trade", "market_id": 0, "market_symbol": "ETH",
        "size": "0.5000", "price": "2000.00", "usd_amount": "1000.000000", "ask_id": 0, "bid_id": 99,
        "ask_account_id": 0, "bid_account_id": ACCOUNT, "is_maker_ask": True, "timestamp": 1_700_000_000_000,
        "taker_position_size_before": "-0.2500", "maker_position_size_before": "0", "bid_account_pnl": "1.500000",
        "ask_account_pnl": "0.000000", "taker_fee": 280,
    }  # fmt: skip
    return base | changes


def test_a_taker_buy_that_closes_a_short_is_a_close_short_with_its_fee_in_usdc():
    row = fl.trade_rows(ACCOUNT, [_trade()]).row(0, named=True)
    assert (row["side"], row["dir"], row["crossed"], row["start_position"]) == (
        "buy",
        "Close Short",
        True,
        -0.25,
    )
    assert row["fee"] == pytest.approx(1000 * 0.00028) and row["closed_pnl"] == 1.5 and row["oid"] == 99
    assert row["time"].timestamp() * 1000 == 1_700_000_000_000


def test_a_maker_sell_is_the_accounts_side_and_the_makers_fee():
    trade = _trade(ask_account_id=ACCOUNT, bid_account_id=0, ask_id=55, bid_id=0, is_maker_ask=True,
                   maker_position_size_before="0", maker_fee=40, taker_fee=None)  # fmt: skip
    row = fl.trade_rows(ACCOUNT, [trade]).row(0, named=True)
    assert (row["side"], row["dir"], row["crossed"], row["oid"]) == ("sell", "Open Short", False, 55)
    assert row["fee"] == pytest.approx(1000 * 0.00004)


def test_funding_payments_keep_money_into_the_account_positive_and_rates_as_fractions():
    rows = [
        {"timestamp": 1_700_000_000, "market_id": 0, "funding_id": 1, "change": "-0.250000", "discount": "0",
         "rate": "0.001250", "position_size": "0.5000", "position_side": "long"},
        {"timestamp": 1_700_003_600, "market_id": 0, "funding_id": 2, "change": "0.100000", "discount": "0",
         "rate": "-0.000500", "position_size": "0.5000", "position_side": "short"},
    ]  # fmt: skip
    frame = fl.position_funding_rows(rows, {0: "ETH"})
    assert frame["usdc"].to_list() == [-0.25, 0.1] and frame["szi"].to_list() == [0.5, -0.5]
    assert frame["funding_rate"].to_list() == pytest.approx([0.0000125, -0.000005])
    assert frame["coin"].cast(str).to_list() == ["ETH", "ETH"]


def test_positions_count_funding_received_as_positive():
    account = {"positions": [{
        "market_id": 0, "symbol": "ETH", "initial_margin_fraction": "10.00", "sign": -1, "position": "0.5000",
        "avg_entry_price": "2000.00", "position_value": "990.000000", "unrealized_pnl": "10.000000",
        "liquidation_price": "2500.00", "total_funding_paid_out": "-3.000000", "margin_mode": 0,
        "allocated_margin": "0.000000",
    }]}  # fmt: skip
    row = fl.account_positions(account, 1_700_000_000_000).row(0, named=True)
    assert (row["szi"], row["leverage"], row["leverage_type"]) == (-0.5, 10.0, "cross")
    assert row["cum_funding_all_time"] == 3.0 and row["margin_used"] == pytest.approx(99.0)
    assert row["mark_px"] == pytest.approx(1980.0) and row["liquidation_px"] == 2500.0


def test_account_reads_without_auth_say_what_is_missing():
    source = fl.Lighter.__new__(fl.Lighter)
    source.auth = None
    with pytest.raises(ValueError, match="need auth="):
        source._auth(None)
