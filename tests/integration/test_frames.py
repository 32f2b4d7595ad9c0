"""The DataFrame loaders against a real sandbox: Hyperliquid's 500-row pages, its weight budget and
injected 429s, the Parquet cache, Aster's rates and funding fees, and a PaperExchange account."""

from __future__ import annotations

import time

import httpx
import numpy as np
import polars as pl
import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange

import toolkit.sandbox
from toolkit import frames
from toolkit.frames import schema
from toolkit.frames.budget import WeightBudget
from toolkit.venues import hyperliquid as hl

HOUR = 3_600_000
COINS = ["BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE"]


def sizes_for(sandbox, notional: float = 2_000.0) -> dict[str, float]:
    """About ``notional`` USDC of each coin at today's prices, in each coin's size steps (the
    shared sandbox's prices depend on how far earlier tests moved its clock)."""
    client = hl.HyperliquidClient(sandbox)
    mids = client.info({"type": "allMids"})
    steps = {u["name"]: u["szDecimals"] for u in client.meta()["universe"]}
    return {c: round(notional / float(mids[c]), steps[c]) for c in COINS}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """This module's own sandbox: its fixtures move the clock by days, and its tests read what they
    made against that clock."""
    with toolkit.sandbox.start(home=tmp_path_factory.mktemp("frames-home"), log_level="warning") as sb:
        yield sb


@pytest.fixture(scope="module")
def funded(sandbox):
    """An account long or short in all seven coins for 120 funding hours: 840 payments, so
    userFunding takes two pages, the first ending inside an hour's rows."""
    account = Account.create()
    sandbox.deposit("hyperliquid", account.address, 1_000_000)
    ex = Exchange(account, sandbox.url)
    for i, (coin, size) in enumerate(sizes_for(sandbox).items()):
        result = ex.market_open(coin, i % 2 == 0, size)
        assert "filled" in result["response"]["data"]["statuses"][0], result
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
    # the engine's own running total agrees with the sum of the rows (up to now: other tests of this
    # shared sandbox may have moved its clock past ``end`` since)
    state = hl.HyperliquidClient(sandbox).info({"type": "clearinghouseState", "user": user})
    cum = sum(float(p["position"]["cumFunding"]["allTime"]) for p in state["assetPositions"])
    paid = src.user_funding(user, start, state["time"], backend="polars")["usdc"].sum()
    assert abs(cum) == pytest.approx(abs(paid), rel=1e-6)


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
    # a wider range fetches only the hours it has not seen (three more, whatever the clock shows now)
    sandbox.advance(hours=3)
    later = src.user_funding(user, start, end + 3 * HOUR, backend="polars")
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
    with pytest.raises(ValueError, match="user must be a 0x address of 40 hex digits"):
        src.fills("0x" + "z" * 40)
    with pytest.raises(
        ValueError, match=r"start \(2026-02-01 00:00 UTC\) is after end \(2026-01-01 00:00 UTC\)"
    ):
        src.funding_history("BTC", "2026-02-01", "2026-01-01")
    with pytest.raises(ValueError, match="backend must be 'pandas' or 'polars', not 'arrow'"):
        src.funding_history("BTC", backend="arrow")
    assert src.requests == 0
    with pytest.raises(ValueError, match="Unknown coin 'NOPE' on Hyperliquid"):
        src.funding_history("NOPE")
    assert src.requests == 1  # the venue's list of coins, and no history


# -- Aster ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aster_funded(sandbox):
    """An Aster account in seven coins for 150 hours: 1,050 funding fees, two income pages."""
    from toolkit.venues import aster as av
    from toolkit.venues.eip712 import Wallet

    wallet = Wallet.generate()
    sandbox.deposit("aster", wallet.address, 1_000_000)
    client = av.AsterClient(sandbox)
    client.create_api_key(wallet, "frames")
    for i, (coin, size) in enumerate(sizes_for(sandbox).items()):
        client.order(f"{coin}USDT", "BUY" if i % 2 else "SELL", str(size))
    start = sandbox.now_ms()
    sandbox.advance(hours=150)
    return client, start, sandbox.now_ms()


def test_aster_funding_fees_page_past_1000_rows(sandbox, aster_funded):
    client, start, end = aster_funded
    src = frames.Aster(sandbox, client=client, progress=False)
    fees = src.funding_fees(start, end, backend="polars")
    truth = []
    for t in range(start, end + 1, 24 * HOUR):
        truth += client.income(
            incomeType="FUNDING_FEE", startTime=t, endTime=min(t + 24 * HOUR - 1, end), limit=1000
        )
    assert len(truth) == 7 * 150 and fees.height == len(truth)
    assert src.requests == 2
    assert sorted(fees["hash"].to_list()) == sorted(r["tranId"] for r in truth)
    assert fees["usdc"].sum() == pytest.approx(sum(float(r["income"]) for r in truth))
    assert fees.schema == pl.Schema(schema.FUNDING)
    unified = src.funding_fees(start, end, backend="polars", ccxt=True)
    assert unified["symbol"][0].endswith("/USDT:USDT") and unified["code"][0] == "USDT"


def test_aster_funding_rates_match_the_public_route(sandbox, aster_funded):
    _, start, end = aster_funded
    src = frames.Aster(sandbox, progress=False)
    rates = src.funding_rate(["BTCUSDT", "ETHUSDT"], start - 1000 * HOUR, end, backend="polars")
    assert src.requests == 1 + 4  # the symbol list once; 1,150 hours a symbol: two pages of at most 1,000
    assert rates.group_by("coin").len().sort("coin")["len"].to_list() == [rates.height // 2] * 2
    assert rates.select("time", "coin").is_unique().all()
    assert set(rates["coin"].cast(pl.String)) == {"BTC", "ETH"}


def test_aster_funding_fees_need_a_signed_client(sandbox):
    from toolkit.venues import aster as av

    with pytest.raises(av.AsterError, match="funding fees need a signed client"):
        frames.Aster(sandbox, progress=False).funding_fees()


# -- PaperExchange -------------------------------------------------------------------------------------


def test_a_paper_accounts_history_and_statistics(sandbox, new_account):
    from toolkit.venues.paperx import PaperClient

    account = new_account("pro")
    key = account.client.create_api_key("frames")  # outlives the session across a long fast-forward
    paper = PaperClient(sandbox, api_key=key.api_key)
    paper.order("ETH", True, 2.0)
    paper.order("BTC", False, 0.05)
    start = sandbox.now_ms()
    sandbox.advance(hours=300)  # 600 payments: two pages
    src = frames.PaperExchange(paper, progress=False)
    funding = src.user_funding(start, backend="polars")
    assert funding.height == 600 and funding.select("time", "coin").is_unique().all()
    assert src.requests == 2
    summary = paper.funding_summary()
    assert funding["usdc"].sum() == pytest.approx(summary["total"], abs=600 * 5e-7)  # 6 decimals a row
    stats = src.account(backend="polars")
    assert stats["positions_count"][0] == 2 and stats["total_volume"][0] > 0
    assert stats.schema["account_value"] == pl.Float64 and stats.schema["total_trades"] == pl.Int64
    positions = src.positions(backend="polars")
    assert sorted(positions["coin"].cast(pl.String).to_list()) == ["BTC", "ETH"]
    fills = src.fills(start - HOUR, backend="polars")
    assert fills["side"].cast(pl.String).to_list() == ["buy", "sell"]
    assert src.liquidations(backend="polars").height == 0


def test_a_liquidation_in_the_fills_ledger_and_ccxt_rows(sandbox):
    from toolkit.venues.eip712 import Wallet

    wallet = Wallet.generate()
    user = wallet.address.lower()
    sandbox.deposit("hyperliquid", user, 60)
    start = sandbox.now_ms()
    src = frames.Hyperliquid(sandbox, progress=False)
    with hl.HyperliquidClient(sandbox, wallet=wallet) as client:
        client.l1_action({"type": "updateLeverage", "asset": 5, "isCross": True, "leverage": 10})
        mark = float(client.info({"type": "allMids"})["ARB"])
        size = round(500 / mark, 1)  # ~8x on 60 USDC: a few percent against it liquidates
        client.order([hl.order_wire(5, True, f"{mark * 1.05:.5g}", size, tif="Ioc")])
        for _ in range(60):
            sandbox.advance(hours=24)
            if src.positions(user, backend="polars").height == 0:
                break
    liquidations = src.liquidations(user, start, backend="polars")
    assert liquidations.height == 1
    row = liquidations.row(0, named=True)
    assert (row["coin"], row["side"], row["size"]) == ("ARB", "long", size)
    assert row["notional"] == pytest.approx(row["size"] * row["price"])
    ledger = src.ledger(user, start - HOUR, backend="polars")
    assert ledger["type"].cast(pl.String).to_list() == ["deposit", "liquidation"]
    assert ledger["leverage_type"][1] == "Cross" and ledger["liquidated_positions"][1] == 1
    unified = src.liquidations(user, start, backend="polars", ccxt=True)
    assert unified.columns == ["symbol", "timestamp", "datetime", "price", "baseValue", "quoteValue",
                               "contracts", "contractSize", "side"]  # fmt: skip
    assert unified["symbol"][0] == "ARB/USDC:USDC" and unified["quoteValue"][0] == pytest.approx(
        row["notional"]
    )


def test_candles_and_the_order_book_as_frames(sandbox):
    src = frames.Hyperliquid(sandbox, progress=False)
    candles = src.candles("ETH", "1h", backend="polars")
    assert candles.columns == list(schema.CANDLES) and candles.height == 7 * 24 + 1  # a week by default
    assert candles["time"].is_sorted() and (candles["high"] >= candles["low"]).all()
    raw = src.client.info(
        {"type": "candleSnapshot", "req": {"coin": "ETH", "interval": "1h", "startTime": 0}}
    )
    closed = {c["t"]: float(c["c"]) for c in raw[:-1]}  # the last candle is still open
    for row in candles.head(24).iter_rows(named=True):
        assert row["close"] == closed[int(row["time"].timestamp() * 1000)]
    assert src.candles("BTC", "1d", backend="pandas")["interval"].astype(str).unique().tolist() == ["1d"]
    with pytest.raises(ValueError, match="interval must be one of 1m, 3m"):
        src.candles("ETH", "7m")

    book = src.order_book("BTC", backend="polars")
    assert book.columns == list(schema.ORDER_BOOK) and book.height == 40
    bids, asks = book.filter(pl.col("side") == "bid"), book.filter(pl.col("side") == "ask")
    assert bids["price"].max() < asks["price"].min()
    assert bids["cum_size"].is_sorted() and asks["cum_notional"].is_sorted()
    coarse = src.order_book("BTC", n_sig_figs=2, backend="polars")
    assert coarse.height < book.height


@pytest.mark.parametrize("venue", ["hyperliquid", "paperexchange"])
def test_one_sign_in_every_view_over_a_week_with_a_liquidation(own_sandbox, venue):
    """Funding and PnL read two ways (from the payments and fills, and from the venue's own summary)
    agree, positive meaning money into the account, across positions, payments, fills and
    liquidations."""
    from toolkit.secrets import generate_password
    from toolkit.venues.eip712 import Wallet
    from toolkit.venues.paperx import PaperClient

    sb = own_sandbox
    if venue == "hyperliquid":
        wallet = Wallet.generate()
        sb.deposit("hyperliquid", wallet.address, 2_000)
        trader = hl.HyperliquidClient(sb, wallet=wallet)
        src = frames.Hyperliquid(sb, progress=False)

        def read(name, *args, **kw):
            return getattr(src, name)(wallet.address, *args, **kw)

        def order(asset, is_buy, size, mark):
            px = f"{mark * (1.05 if is_buy else 0.95):.5g}"
            trader.order([hl.order_wire(asset, is_buy, px, size, tif="Ioc")])

        def leverage(asset, lev):
            trader.l1_action({"type": "updateLeverage", "asset": asset, "isCross": False, "leverage": lev})

        mids = lambda: trader.info({"type": "allMids"})  # noqa: E731
    else:
        owner = PaperClient(sb)
        owner.register(
            f"signs-{Wallet.generate().address[2:10]}@example.com", generate_password(), plan="basic"
        )
        paper = PaperClient(
            sb, api_key=owner.create_api_key("signs").api_key
        )  # a login lasts a day; a key stays
        src = frames.PaperExchange(paper, progress=False)

        def read(name, *args, **kw):
            return getattr(src, name)(*args, **kw)

        def order(asset, is_buy, size, mark):
            paper.order(["BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE"][asset], is_buy, size)

        def leverage(asset, lev):
            paper.update_leverage(
                ["BTC", "ETH", "SOL", "AVAX", "LINK", "ARB", "DOGE"][asset], lev, is_cross=False
            )

        mids = lambda: paper.info({"type": "allMids"})  # noqa: E731
    start = sb.now_ms()
    m = mids()
    order(1, True, 0.5, float(m["ETH"]))  # a long that pays funding while rates are positive
    order(2, False, 5, float(m["SOL"]))  # a short that receives it
    leverage(5, 10)
    order(5, True, round(1_000 / float(m["ARB"]), 1), float(m["ARB"]))  # isolated 10x: liquidated in days
    for _ in range(30):
        sb.advance(hours=24)
        if read("liquidations", start, backend="polars").height:
            break
    funding = read("user_funding", start, backend="polars")
    positions = read("positions", backend="polars")
    for row in positions.iter_rows(named=True):  # the position's own total: the payments it was paid
        paid = funding.filter(pl.col("coin") == row["coin"])["usdc"].sum()
        assert row["cum_funding_since_open"] == pytest.approx(paid, abs=1e-6), row["coin"]
    (liquidation,) = read("liquidations", start, backend="polars").iter_rows(named=True)
    fills = read("fills", start, backend="polars").filter(pl.col("liquidation"))
    (fill,) = fills.iter_rows(named=True)
    assert liquidation["closed_pnl"] == pytest.approx(fill["closed_pnl"]) and fill["closed_pnl"] < 0

    # the account's history rebuilt from its deposits, fills, fees and funding, marked hourly, agrees
    # with the venue's own figures: the same fees, the same funding, and today's account value
    history = read("account_history", start - 60_000, backend="polars")
    every_fill = read("fills", start, backend="polars")
    last = history.row(-1, named=True)
    assert last["fees"] == pytest.approx(every_fill["fee"].sum(), abs=1e-9)
    assert last["funding"] == pytest.approx(funding["usdc"].sum(), abs=1e-9)
    assert last["pnl"] == pytest.approx(last["trading_pnl"] + last["funding"] - last["fees"], abs=1e-9)
    value = read("account", backend="polars")["account_value"][0]
    assert last["equity"] == pytest.approx(value, rel=1e-4)  # a moment apart: the mark moves
    assert history["drawdown"].min() < 0 and history["time"].is_sorted()
    summary = frames.analytics.performance(history).row(0, named=True)
    assert summary["max_drawdown"] == history["drawdown"].min() and summary["pnl"] == last["pnl"]


@pytest.mark.parametrize("target", ["http://127.0.0.1:9", "http://no-such-host.invalid"])
def test_an_unreachable_venue_fails_fast_in_words(target):
    """Nothing listening, or a name that does not resolve: one more try, then the toolkit's own error
    with the cause chained (429s and 5xx keep their backoff)."""
    src = frames.Hyperliquid(target, cache=False, progress=False)
    host = target.split("//")[1].split(":")[0]
    with pytest.raises(frames.VenueUnreachable, match=f"^cannot reach {host} \\(no network\\?\\)") as err:
        src.funding_history("BTC", start="2026-11-01", end="2026-11-02")
    assert src.retries == 0 and src.requests == 0  # no backoff: failed on the second try
    assert isinstance(err.value.__cause__, httpx.ConnectError)


def test_times_and_coins_as_users_write_them(sandbox):
    src = frames.Hyperliquid(sandbox, progress=False)
    now = sandbox.now_ms()
    day = now - 86_400_000
    rows = src.funding_history("btc", start=np.datetime64(day, "ms"), backend="polars")
    assert rows["coin"].cast(pl.String).unique().to_list() == ["BTC"]
    for typed in ("BTC-PERP", "BTC/USDC:USDC", "BTC"):
        assert src.funding_history(typed, start=day, backend="polars").equals(rows)
    with pytest.raises(ValueError, match=r"Unknown coin 'BTX' on Hyperliquid; did you mean BTC\?"):
        src.funding_history("BTX", start=day)
    with pytest.raises(ValueError, match=r"a time in seconds"):
        src.funding_history("BTC", start=time.time() - 86_400)
    with pytest.raises(ValueError, match=r"is after end which defaulted to now"):
        src.funding_history("BTC", start="2099-01-01")
    with pytest.warns(
        UserWarning, match=r"BTC's funding history begins at .* on the sandbox, after the start"
    ):
        src.funding_history("BTC", start="2020-01-01", end=day)
    aster = frames.Aster(sandbox, progress=False)
    assert aster.funding_rate("btc", start=day, backend="polars")["coin"].cast(
        pl.String
    ).unique().to_list() == ["BTC"]


def test_rate_analytics_on_what_the_loaders_return(sandbox):
    hyper, aster = frames.Hyperliquid(sandbox, progress=False), frames.Aster(sandbox, progress=False)
    start = sandbox.now_ms() - 7 * 86_400_000
    rates = hyper.funding_history(["BTC", "ETH"], start=start)  # pandas, as the README's example
    daily = frames.analytics.daily(rates)
    assert list(daily.columns) == [
        "coin",
        "period",
        "mean_rate",
        "mean_bps",
        "apr",
        "min_rate",
        "max_rate",
        "count",
    ]
    assert (daily["mean_bps"] == daily["mean_rate"] * 10_000).all()
    assert (daily["apr"] - daily["mean_rate"] * 24 * 365).abs().max() < 1e-12  # hourly rates
    table = frames.analytics.cross_venue(
        {"Hyperliquid": rates, "Aster": aster.funding_rate(["BTC", "ETH"], start=start)}
    )
    assert {"Hyperliquid", "Aster", "spread", "spread_apr", "short", "long"} <= set(table.columns)
    row = table.iloc[-1]
    assert row["spread"] == pytest.approx(abs(row["Hyperliquid"] - row["Aster"]))
    assert row["short"] == ("Hyperliquid" if row["Hyperliquid"] >= row["Aster"] else "Aster")
    nxt = frames.analytics.predicted(rates)
    assert list(nxt["coin"]) == ["BTC", "ETH"] and nxt["predicted_rate"].notna().all()


def test_aster_signs_add_up_to_the_balance_over_a_week_with_a_liquidation(own_sandbox):
    """Aster's own income rows (realised PnL, commissions, funding: money into the account positive)
    and the frames' funding fees add up, with the deposit, to the wallet balance it reports."""
    from toolkit.venues import aster as av
    from toolkit.venues.eip712 import Wallet

    sb = own_sandbox
    wallet = Wallet.generate()
    sb.deposit("aster", wallet.address, 100)
    client = av.AsterClient(sb)
    client.create_api_key(wallet, "signs")
    start = sb.now_ms()
    mids = frames.Hyperliquid(sb, progress=False).client.info({"type": "allMids"})  # one market for all
    client.order("ETHUSDT", "BUY", f"{1_700 / float(mids['ETH']):.3f}")  # 17x on 100 USDT: liquidated in days
    client.order("SOLUSDT", "SELL", f"{100 / float(mids['SOL']):.1f}")
    for _ in range(30):
        sb.advance(hours=24)
        if any(r["incomeType"] == "REALIZED_PNL" for r in client.income(startTime=start, limit=1000)):
            break
    income = client.income(startTime=start, limit=1000)
    kinds = {r["incomeType"] for r in income}
    assert {"REALIZED_PNL", "COMMISSION", "FUNDING_FEE"} <= kinds, kinds
    assert all(float(r["income"]) < 0 for r in income if r["incomeType"] == "COMMISSION")
    fees = frames.Aster(sb, client=client, progress=False).funding_fees(start, backend="polars")
    paid = sum(float(r["income"]) for r in income if r["incomeType"] == "FUNDING_FEE")
    assert fees["usdc"].sum() == pytest.approx(paid, abs=1e-6)
    (usdt,) = [b for b in client.balance() if b["asset"] == "USDT"]
    moved = sum(float(r["income"]) for r in income if r["incomeType"] != "TRANSFER")
    assert float(usdt["balance"]) == pytest.approx(100 + moved, abs=1e-4)


def test_progress_bars_wait_half_a_second_end_at_100_percent_and_never_start_for_a_bad_coin(
    sandbox, monkeypatch
):
    from toolkit.frames.source import Source

    bars = []
    made = Source._bar

    def recorded(self, total_ms, label):
        bar = made(self, total_ms, label)
        bars.append(bar)
        return bar

    monkeypatch.setattr(Source, "_bar", recorded)
    src = frames.Hyperliquid(sandbox, progress=True)
    with pytest.raises(ValueError, match="Unknown coin 'NOPE'"):
        src.funding_history("NOPE", start=sandbox.now_ms() - 10 * 86_400_000)
    assert bars == []  # refused before any bar was drawn
    src.funding_history(["BTC", "ETH"], start=sandbox.now_ms() - 10 * 86_400_000, backend="polars")
    assert len(bars) == 2 and all(b.delay == 0.5 for b in bars)  # no bar for sub-second work
    assert [b.n for b in bars] == [b.total for b in bars]  # complete, and not past it
    assert all(b.total == pytest.approx(240, abs=0.2) for b in bars)


# -- Lighter -------------------------------------------------------------------------------------------


def test_lighter_funding_rates_are_the_markets_hourly_rates_paged_750_hours_at_a_time(sandbox):
    src = frames.Lighter(sandbox, progress=False)
    end = sandbox.now_ms()
    start = end - 40 * 24 * HOUR  # 960 hours: two pages a coin
    rates = src.funding_rate(["eth", "BTC-PERP"], start, end, backend="polars")
    assert src.requests == 1 + 2 * 2  # the market list once, then two pages per coin
    assert rates.schema == pl.Schema(schema.FUNDING_RATES) and rates.select("time", "coin").is_unique().all()
    assert set(rates["coin"].cast(pl.String)) == {"ETH", "BTC"}
    hyper = frames.Hyperliquid(sandbox, progress=False).funding_history(
        ["ETH", "BTC"], start, end, backend="polars"
    )
    joined = rates.join(hyper, on=["time", "coin"], suffix="_hl")
    assert joined.height == rates.height == hyper.height  # the same hours, the same market
    assert (
        joined["funding_rate"] - joined["funding_rate_hl"]
    ).abs().max() < 6e-9  # six decimals of a percent: at most 5e-9 off
    with pytest.raises(ValueError, match=r"Unknown coin 'ETX' on Lighter; did you mean ETH\?"):
        src.funding_rate("ETX", start, end)
    table = frames.analytics.cross_venue({"Hyperliquid": hyper, "Lighter": rates})
    assert table["spread"].abs().max() < 6e-9  # one market: no basis between them
