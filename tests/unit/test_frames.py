"""The DataFrame views' pure parts: paging, the weight budget, the Parquet cache's coverage,
parsing (the fast path agrees with the plain one) and the analytics' numbers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import orjson
import polars as pl
import pytest

from toolkit.frames import analytics, parse, schema, synthetic
from toolkit.frames.budget import WeightBudget
from toolkit.frames.cache import Dataset, missing
from toolkit.frames.paging import PagingError, page_by_time
from toolkit.frames.timing import to_ms
from toolkit.venues import hyperliquid as hl

HOUR = 3_600_000


def rows_frame(rows: list[tuple[int, str, float]]) -> pl.DataFrame:
    return schema.conform(
        pl.DataFrame(rows, schema={"time": pl.Int64, "coin": pl.String, "usdc": pl.Float64}, orient="row"),
        "funding",
    )


class Venue:
    """Serves ``rows`` as Hyperliquid does: oldest first from startTime (inclusive), ``cap`` a page."""

    def __init__(self, rows: list[tuple[int, str, float]], cap: int) -> None:
        self.rows, self.cap, self.calls = sorted(rows, key=lambda r: r[0]), cap, 0

    def __call__(self, start: int, end: int) -> pl.DataFrame:
        self.calls += 1
        return rows_frame([r for r in self.rows if start <= r[0] <= end][: self.cap])


def test_paging_keeps_every_row_when_pages_end_inside_an_instant():
    rows = [(h * HOUR, c, float(h)) for h in range(100) for c in "ABCDEFG"]  # 7 rows an instant
    venue = Venue(rows, cap=50)
    got = page_by_time(venue, 0, 100 * HOUR, 50)
    assert got.height == 700 and got.select("time", "coin").is_unique().all()
    assert venue.calls > 700 // 50


@pytest.mark.parametrize("cap", [4, 5])
def test_paging_keeps_identical_rows_that_are_really_distinct(cap):
    # two equal payments in one millisecond: with cap 4 the page ends after both, with 5 between them
    rows = [
        (1, "A", 1.0),
        (1, "B", 1.0),
        (2, "A", 5.0),
        (2, "A", 5.0),
        (2, "B", 1.0),
        (3, "A", 1.0),
        (3, "A", 2.0),
    ]
    got = page_by_time(Venue(rows, cap=cap), 0, 10, cap)
    back = got.select(pl.col("time").dt.epoch("ms"), pl.col("coin").cast(pl.String), "usdc").rows()
    assert sorted(back) == sorted(rows)


def test_a_full_page_at_one_instant_cannot_be_paged_past():
    rows = [(5, c, 0.0) for c in "ABCD"]
    with pytest.raises(
        PagingError, match=r"4 rows at one instant \(5 ms\): the venue cannot be paged past it"
    ):
        page_by_time(Venue(rows, cap=4), 5, 10, 4)


def test_the_budget_never_lets_a_window_exceed_its_weight():
    now = [0.0]
    budget = WeightBudget(100, 10.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    done: list[tuple[float, int]] = []
    for _ in range(30):
        r = budget.reserve(45)  # a 500-row userFunding page, reserved at its most
        now[0] += 0.3  # the round trip
        budget.settle(r, 40)
        done.append((now[0], 40))
    for t, _ in done:
        assert sum(w for u, w in done if t - 10.0 < u <= t) <= 100
    assert budget.waited > 0


def test_in_flight_reservations_count_until_settled():
    budget = WeightBudget(100, 60.0)
    first = budget.reserve(60)
    entered = threading.Event()

    def second() -> None:
        budget.settle(budget.reserve(60), 60)
        entered.set()

    threading.Thread(target=second, daemon=True).start()
    assert not entered.wait(0.3)  # 60 + 60 > 100 while the first is still out
    budget.settle(first, 30)  # it cost less than reserved: now 30 + 60 fits
    assert entered.wait(2)
    with pytest.raises(ValueError, match="a request of weight 200 can never fit a budget of 100"):
        budget.reserve(200)


def test_hyperliquid_weights():
    assert hl.info_weight("clearinghouseState") == 2
    assert hl.info_weight("userRole") == 60
    assert hl.info_weight("userFunding", 500) == 45
    assert hl.info_weight("userFillsByTime", 2000) == 120
    assert hl.info_weight("userNonFundingLedgerUpdates", 500) == 20
    assert hl.page_rows("userFillsByTime") == 2000 and hl.page_rows("userFunding") == 500


def test_missing_ranges():
    assert missing([], 0, 10) == [(0, 10)]
    assert missing([(2, 4), (6, 8)], 0, 10) == [(0, 2), (4, 6), (8, 10)]
    assert missing([(0, 5), (5, 10)], 0, 10) == []
    assert missing([(3, 20)], 0, 10) == [(0, 3)]


def test_a_cache_write_is_idempotent_and_spans_months(tmp_path):
    ds = Dataset(tmp_path, "hyperliquid", "mainnet", "funding", "0xabc")
    jan31 = to_ms("2026-01-31T22:00:00Z")
    rows = rows_frame([(jan31 + h * HOUR, c, 1.0) for h in range(5) for c in ("BTC", "ETH")])
    ds.write(rows, jan31, jan31 + 5 * HOUR)
    ds.write(rows, jan31, jan31 + 5 * HOUR)  # redone after an interruption: nothing doubles
    back = ds.read(jan31, jan31 + 5 * HOUR)
    assert back.height == 10
    months = sorted(p.relative_to(ds.path).as_posix() for p in ds.path.rglob("*.parquet"))
    assert months == ["coin=BTC/month=2026-01.parquet", "coin=BTC/month=2026-02.parquet",
                      "coin=ETH/month=2026-01.parquet", "coin=ETH/month=2026-02.parquet"]  # fmt: skip
    assert ds.missing(jan31 - HOUR, jan31 + 6 * HOUR) == [
        (jan31 - HOUR, jan31),
        (jan31 + 5 * HOUR, jan31 + 6 * HOUR),
    ]
    # a rewrite of a range replaces it: a row that vanished from the venue leaves the cache too
    ds.write(rows.filter(pl.col("coin") == "BTC"), jan31, jan31 + 5 * HOUR)
    assert set(ds.read(jan31, jan31 + 5 * HOUR)["coin"].cast(pl.String)) == {"BTC"}


def test_fast_and_plain_parsing_agree():
    payments = synthetic.funding_payments(coins=5, hours=400, seed=3)
    raw = synthetic.user_funding_json(payments)
    fast = parse.user_funding(raw)
    plain = parse.user_funding(
        orjson.dumps(orjson.loads(raw), option=orjson.OPT_INDENT_2)
    )  # not compact: plain path
    assert fast.height == 2000 and fast.equals(plain)
    assert fast.schema == pl.Schema(schema.FUNDING)
    # pages, and a coin whose name holds the row separator, still parse exactly
    tricky = orjson.dumps([{"delta": {"type": "funding", "coin": 'X},{"delta"', "usdc": "1.5", "szi": "2",
                                      "fundingRate": "0.0001", "nSamples": None}, "hash": "0x0", "time": 7}])  # fmt: skip
    both = parse.user_funding([raw, tricky, b"[]"])
    assert both.height == 2001 and both["coin"].cast(pl.String)[-1] == 'X},{"delta"'
    # inside a page big enough for the fast path, the split lands in the string: Arrow refuses the
    # broken line and the page is parsed the plain way, whole
    big = raw[:-1] + b"," + tricky[1:]
    assert len(big) > 64 << 10
    whole = parse.user_funding(big)
    assert whole.height == 2001 and whole.head(2000).equals(fast)


def test_parse_ledger_fills_and_clearinghouse():
    ledger = parse.ledger([
        {"time": 1, "hash": "0x1", "delta": {"type": "deposit", "usdc": "100.0"}},
        {"time": 2, "hash": "0x2", "delta": {"type": "liquidation", "liquidatedNtlPos": "356.80015",
         "accountValue": "2.956494", "leverageType": "Cross", "liquidatedPositions": [{"coin": "ATOM", "szi": "29.21"}]}},
    ])  # fmt: skip
    assert ledger["liquidated_ntl_pos"].to_list() == [None, 356.80015]
    assert ledger["usdc"].to_list() == [100.0, None] and ledger["liquidated_positions"].to_list() == [None, 1]
    fill = {"coin": "ETH", "px": "2000", "sz": "1", "side": "A", "time": 5, "startPosition": "1", "dir": "Close Long",
            "closedPnl": "-50", "hash": "0x", "oid": 1, "crossed": True, "fee": "1", "tid": 9}  # fmt: skip
    mine = fill | {"liquidation": {"liquidatedUser": "0xAbC", "markPx": "1999", "method": "market"}}
    theirs = fill | {"liquidation": {"liquidatedUser": "0xdef", "markPx": "1999", "method": "market"}}
    fills = parse.fills([fill, mine, theirs], user="0xabc")
    assert fills["liquidation"].to_list() == [False, True, False]  # a liquidator's fill is not ours
    state = {"time": 1708622398623, "withdrawable": "13104.5", "crossMaintenanceMarginUsed": "0.0",
             "marginSummary": {"accountValue": "13109.482328", "totalMarginUsed": "4.967826",
                               "totalNtlPos": "100.02765", "totalRawUsd": "13009.454678"},
             "assetPositions": [{"type": "oneWay", "position": {
                 "coin": "ETH", "szi": "0.0335", "entryPx": "2986.3",
                 "leverage": {"type": "isolated", "value": 20, "rawUsd": "-95.059824"},
                 "liquidationPx": None, "marginUsed": "4.967826", "maxLeverage": 50,
                 "positionValue": "100.02765", "returnOnEquity": "-0.0026789", "unrealizedPnl": "-0.0134",
                 "cumFunding": {"allTime": "514.085417", "sinceOpen": "0.0", "sinceChange": "0.0"}}}]}  # fmt: skip
    positions = parse.clearinghouse_positions(state)
    assert positions["mark_px"][0] == pytest.approx(100.02765 / 0.0335)
    assert positions["liquidation_px"].to_list() == [None] and positions["leverage_type"][0] == "isolated"
    account = parse.clearinghouse_account(state)
    assert account["account_value"][0] == 13109.482328 and account["positions"][0] == 1


def test_times_as_users_type_them():
    assert (
        to_ms("2026-01-01")
        == to_ms(date(2026, 1, 1))
        == to_ms(datetime(2026, 1, 1, tzinfo=UTC))
        == 1767225600000
    )
    assert to_ms("2026-01-01T01:00:00+01:00") == 1767225600000
    assert to_ms(1767225600000) == 1767225600000
    with pytest.raises(TypeError, match="a time, not a bool"):
        to_ms(True)


def known_payments() -> pl.DataFrame:
    """Two coins; BTC long 2 then short 1 (a flip), price 100 → 110; ETH one hourly payment."""
    t0 = to_ms("2026-03-02")
    rows = [  # time, coin, usdc, szi, rate  (usdc = -szi × px × rate)
        (t0 + 1 * HOUR, "BTC", -2 * 100 * 0.001, 2.0, 0.001),
        (t0 + 2 * HOUR, "BTC", -2 * 110 * 0.001, 2.0, 0.001),
        (t0 + 3 * HOUR, "BTC", 1 * 110 * 0.002, -1.0, 0.002),
        (t0 + 1 * HOUR, "ETH", -1 * 50 * 0.0005, 1.0, 0.0005),
    ]
    df = pl.DataFrame(rows, schema=["time", "coin", "usdc", "szi", "funding_rate"], orient="row")
    return schema.conform(df, "funding")


def test_daily_and_weekly_aggregates():
    daily = analytics.daily(known_payments())
    btc = daily.filter(pl.col("coin") == "BTC").row(0, named=True)
    assert btc["usdc"] == pytest.approx(-0.2 - 0.22 + 0.22) and btc["count"] == 3
    assert btc["mean_rate"] == pytest.approx((0.001 + 0.001 + 0.002) / 3)
    assert daily["cum_usdc"].to_list() == pytest.approx(daily["usdc"].to_list())
    weekly = analytics.weekly(known_payments())
    assert weekly["period"].dt.weekday().to_list() == [1, 1]  # ISO weeks start on Monday
    pandas_in = analytics.daily(known_payments().to_pandas())
    assert type(pandas_in).__module__.startswith("pandas")


def test_apr_and_distribution_read_the_interval_from_the_data():
    t0 = to_ms("2026-01-01")
    hourly = [(t0 + h * HOUR, "HL", 0.0000125) for h in range(48)]
    eight = [(t0 + h * 8 * HOUR, "AS", 0.0001) for h in range(12)]
    rates = schema.conform(
        pl.DataFrame(hourly + eight, schema=["time", "coin", "funding_rate"], orient="row"), "funding_rates"
    )
    apr = {r["coin"]: r for r in analytics.apr(rates).iter_rows(named=True)}
    assert apr["HL"]["interval_hours"] == 1 and apr["HL"]["apr"] == pytest.approx(
        0.0000125 * 8760
    )  # ≈ 10.95%
    assert apr["AS"]["interval_hours"] == 8 and apr["AS"]["apr"] == pytest.approx(0.0001 * 1095)
    dist = analytics.distribution(rates)
    assert dist.columns[:3] == ["coin", "count", "mean"] and dist["share_positive"].to_list() == [1.0, 1.0]


def test_positions_carry_and_cumulative_funding():
    payments = known_payments()
    per = analytics.position_funding(payments).filter(pl.col("coin") == "BTC")
    assert per["position"].to_list() == [1, 1, 2]  # the flip to short opens a new position
    assert per["cum_usdc"].to_list() == pytest.approx([-0.2, -0.42, 0.22])
    summary = analytics.positions_summary(payments)
    assert summary.filter(pl.col("coin") == "BTC")["side"].to_list() == ["long", "short"]
    carry = analytics.carry(payments).filter(pl.col("coin") == "BTC").row(0, named=True)
    assert carry["funding_pnl"] == pytest.approx(-0.2)
    assert carry["price_pnl"] == pytest.approx(2 * (110 - 100))  # the long gained 10 a coin on 2 coins
    assert carry["carry_share"] == pytest.approx(0.2 / 20.2)


def test_ccxt_rows():
    unified = schema.ccxt_funding_history(known_payments(), "USDC")
    assert unified.columns == ["symbol", "code", "timestamp", "datetime", "id", "amount", "rate"]
    assert unified["symbol"].cast(pl.String).to_list()[0] == "BTC/USDC:USDC"
    assert unified["timestamp"].dtype == pl.Int64 and unified["datetime"].dtype == schema.UTC_MS


def test_retry_after_is_read_in_seconds_only():
    import httpx

    from toolkit.venues._http import retry_after

    def answer(value: str | None) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value} if value is not None else {})

    assert [retry_after(answer(v)) for v in ("2", "0.050", " 7 ")] == [2.0, 0.05, 7.0]
    assert [retry_after(answer(v)) for v in (None, "", "0", "-1", "Wed, 21 Oct 2026 07:28:00 GMT")] == [
        None
    ] * 5
