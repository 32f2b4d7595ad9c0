"""The DataFrame loaders against a real sandbox: Hyperliquid's 500-row pages, its weight budget and
injected 429s, the Parquet cache, Aster's rates and funding fees, and a PaperExchange account."""

from __future__ import annotations

import polars as pl
import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange

from toolkit import frames
from toolkit.frames import schema
from toolkit.frames.budget import WeightBudget
from toolkit.venues import hyperliquid as hl

HOUR = 3_600_000
COINS = ["BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE"]


@pytest.fixture(scope="module")
def funded(sandbox):
    """An account long or short in all seven coins for 120 funding hours: 840 payments, so
    userFunding takes two pages, the first ending inside an hour's rows."""
    account = Account.create()
    sandbox.hyperliquid_deposit(account.address, 1_000_000)
    ex = Exchange(account, sandbox.url)
    for i, coin in enumerate(COINS):
        result = ex.market_open(
            coin, i % 2 == 0, {"BTC": 0.01, "ETH": 0.2}.get(coin, 20 if coin != "DOGE" else 2000)
        )
        assert result["status"] == "ok", result
    start = sandbox.now_ms()
    sandbox.advance(hours=120)
    return account.address.lower(), start, sandbox.now_ms()


@pytest.fixture
def limits(sandbox):
    yield sandbox
    sandbox.hyperliquid_info_limits(None)


def truth(sandbox, user, start, end):
    """Every payment, read an hour at a time (never near the 500-row cap)."""
    client = hl.HyperliquidClient(sandbox)
    rows = []
    for t in range(start, end + 1, HOUR):
        rows += client.info(
            {"type": "userFunding", "user": user, "startTime": t, "endTime": min(t + HOUR - 1, end)}
        )
    return rows


def test_user_funding_pages_past_500_rows_without_losing_or_repeating_one(sandbox, funded, limits):
    user, start, end = funded
    src = frames.Hyperliquid(sandbox, progress=False, budget=WeightBudget(1200, 60))
    df = src.user_funding(user, start, end, backend="polars")
    expected = truth(sandbox, user, start, end)
    assert len(expected) == 7 * 120
    assert df.height == len(expected)
    assert src.requests == 2  # 500 + the rest (the boundary hour's rows asked for twice, kept once)
    assert df.select("time", "coin").is_unique().all()
    by_key = {(r["time"], r["delta"]["coin"]): float(r["delta"]["usdc"]) for r in expected}
    got = {
        (t, c): u
        for t, c, u in df.select(
            pl.col("time").dt.epoch("ms"), pl.col("coin").cast(pl.String), "usdc"
        ).iter_rows()
    }
    assert got == by_key
    assert df.schema == pl.Schema(schema.FUNDING)
    # the engine's own running total agrees with the sum of the rows
    state = hl.HyperliquidClient(sandbox).info({"type": "clearinghouseState", "user": user})
    cum = sum(float(p["position"]["cumFunding"]["allTime"]) for p in state["assetPositions"])
    assert abs(cum) == pytest.approx(abs(df["usdc"].sum()), rel=1e-6)


def test_injected_429s_are_retried_and_the_budget_is_never_exceeded(sandbox, funded, limits):
    _, start, end = funded
    # a budget of 100 weight per 2 s: each userFunding page may cost 45, so the fetch must wait;
    # the sandbox enforces the same budget, and the next three requests fail with 429 regardless
    sandbox.hyperliquid_info_limits(100, window_seconds=2.0, fail_next=3, retry_after=0.05)
    src = frames.Hyperliquid(sandbox, progress=False, budget=WeightBudget(100, 2.0), backoff=0.01)
    rates = src.funding_history(COINS, start - 200 * HOUR, end, backend="polars")
    stats = sandbox.hyperliquid_info_stats()
    assert stats["injected"] == 3 and src.retries == 3
    assert stats["refused"] == 0, stats  # never over the budget by the venue's own count
    assert stats["peak_weight"] <= 100
    assert src.budget.waited > 0  # it did have to wait for room
    hours = end // HOUR - -(-(start - 200 * HOUR) // HOUR) + 1  # hour boundaries in the range
    assert rates.height == 7 * hours
    assert rates.select("time", "coin").is_unique().all()
    assert rates.group_by("coin").len()["len"].to_list() == [hours] * 7


def test_a_429_storm_longer_than_the_retries_surfaces_the_venue_error(sandbox, funded, limits):
    user, start, end = funded
    sandbox.hyperliquid_info_limits(None, fail_next=3, retry_after=0.01)
    src = frames.Hyperliquid(sandbox, progress=False, max_retries=2, backoff=0.01)
    with pytest.raises(hl.HyperliquidError) as caught:
        src.user_funding(user, start, end)
    assert caught.value.status == 429
    assert "Too many requests" in caught.value.message


def test_the_cache_fetches_only_what_is_new(sandbox, funded, tmp_path):
    user, start, end = funded
    src = frames.Hyperliquid(sandbox, progress=False, cache=tmp_path)
    first = src.user_funding(user, start, end, backend="polars")
    assert src.requests == 2
    again = src.user_funding(user, start, end, backend="polars")
    assert src.requests == 2  # all from Parquet
    assert again.equals(first)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert all(f.startswith("venue=hyperliquid/network=sandbox@") for f in files)
    assert {f.split("/coin=")[1].split("/")[0] for f in files} == set(COINS)
    assert all("/month=" in f for f in files)
    # a wider range fetches only the hours it has not seen
    sandbox.advance(hours=3)
    later = src.user_funding(user, start, sandbox.now_ms(), backend="polars")
    assert src.requests == 3
    assert later.height == first.height + 7 * 3
    assert later.head(first.height).equals(first)
    # and the cache can be read back as a Parquet dataset
    stored = frames.read_parquet(tmp_path, kind="funding", backend="polars")
    assert stored.height == later.height and stored.schema == pl.Schema(schema.FUNDING)


def test_typed_columns_in_both_libraries_and_ccxt_names(sandbox, funded):
    user, start, end = funded
    src = frames.Hyperliquid(sandbox, progress=False)
    pdf = src.user_funding(user, start, end)
    assert str(pdf["time"].dtype) == "datetime64[ms, UTC]"
    assert str(pdf["coin"].dtype) == "category"
    assert [str(pdf[c].dtype) for c in ("usdc", "szi", "funding_rate")] == ["float64"] * 3
    unified = src.user_funding(user, start, end, backend="polars", ccxt=True)
    assert unified.columns == ["symbol", "code", "timestamp", "datetime", "id", "amount", "rate"]
    assert unified["symbol"][0].endswith("/USDC:USDC") and unified["code"][0] == "USDC"
    rates = src.funding_history("BTC", start, end, backend="polars", ccxt=True)
    assert rates.columns == ["symbol", "fundingRate", "timestamp", "datetime"]
    assert rates["symbol"].unique().to_list() == ["BTC/USDC:USDC"]


def test_fills_positions_account_and_ledger(sandbox, funded):
    user, start, end = funded
    src = frames.Hyperliquid(sandbox, progress=False)
    fills = src.fills(user, start - HOUR, end, backend="polars")
    assert fills.height == 7 and set(fills["coin"].cast(pl.String)) == set(COINS)
    assert fills["side"].cast(pl.String).to_list().count("buy") == 4
    positions = src.positions(user, backend="polars")
    assert positions.height == 7 and positions.schema == pl.Schema(schema.POSITIONS)
    account = src.account(user, backend="polars")
    assert account.height == 1 and account["positions"][0] == 7
    ledger = src.ledger(user, start - 10 * HOUR, end, backend="polars")
    assert ledger["type"].cast(pl.String).to_list() == ["deposit"]


def test_bad_input_is_refused_before_any_request(sandbox):
    src = frames.Hyperliquid(sandbox, progress=False)
    with pytest.raises(ValueError, match="user must be a 0x address of 40 hex digits"):
        src.user_funding("alice")
    with pytest.raises(ValueError, match="start is after end"):
        src.funding_history("BTC", "2026-02-01", "2026-01-01")
    with pytest.raises(ValueError, match="backend must be 'pandas' or 'polars', not 'arrow'"):
        src.funding_history("BTC", backend="arrow")
    with pytest.raises(hl.HyperliquidError, match="Unknown coin 'NOPE'"):
        src.funding_history("NOPE")
    assert src.requests == 0
