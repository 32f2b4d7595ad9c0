"""A market history to replay: checked hour by hour, gaps named or carried forward, shared as files.

The recorded answers in ``tests/data/hyperliquid_recorded_2023.json`` are Hyperliquid mainnet's, as
the official SDK's own tests recorded them in 2023: BTC funding rows eight hours apart (the venue
then stamped them every 8 hours) and an hour-by-hour day of kPEPE candles. They are too few and too
unlike each other to replay, which is exactly what the gap and coin checks are for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.frames import MarketHistory, ReplayGap
from toolkit.sandbox import universe
from toolkit.sandbox.market import ReplayMarket

H = 3_600_000
RECORDED = json.loads((Path(__file__).parents[1] / "data" / "hyperliquid_recorded_2023.json").read_text())
BTC_FUNDING = RECORDED["fundingHistory"]["response"]
KPEPE_CANDLES = RECORDED["candleSnapshot"]["response"]
START = 1_767_225_600_000  # 2026-01-01T00:00Z


def flat_candles(coin: str, first: int, last: int, price: str = "27000") -> list[dict]:
    """Candles made for the test (the recordings hold no BTC candles), one per hour in [first, last)."""
    return [{"t": t, "T": t + H - 1, "s": coin, "i": "1h", "o": price, "h": price, "l": price, "c": price,
             "v": "0", "n": 0} for t in range(first, last, H)]  # fmt: skip


def rows(coin: str, hours: int, start: int = START, rate: float = 0.0000125) -> tuple[list, list]:
    funding = [{"coin": coin, "fundingRate": str(rate * (1 + h % 3)), "premium": str(-0.0001 * h),
                "time": start + (h + 1) * H + 31} for h in range(hours)]  # fmt: skip
    candles = [{"t": start + h * H, "T": start + (h + 1) * H - 1, "s": coin, "i": "1h", "o": str(100 + h),
                "h": str(102 + h), "l": str(99 + h), "c": str(101 + h), "v": "7.5", "n": 3}
               for h in range(hours)]  # fmt: skip
    return funding, candles


def test_the_recorded_eight_hourly_btc_rows_are_a_gap_named_hour_by_hour():
    first, last = BTC_FUNDING[0]["time"] // H * H - H, BTC_FUNDING[-1]["time"] // H * H
    with pytest.raises(ReplayGap) as gap:
        MarketHistory.from_responses(BTC_FUNDING, flat_candles("BTC", first, last), origin="recorded")
    assert str(gap.value) == (
        "BTC misses 231 hours of funding (2023-05-12 01:00, 2023-05-12 02:00, 2023-05-12 03:00, "
        "2023-05-12 04:00, 2023-05-12 05:00 ...). Pass carry_forward=True to carry the last value "
        "forward over them."
    )
    assert len(gap.value.missing["BTC"]) == 231 and gap.value.missing["BTC"][0] == 1683853200000


def test_carry_forward_fills_each_missing_hour_with_the_last_row_and_lists_it():
    first, last = BTC_FUNDING[0]["time"] // H * H - H, BTC_FUNDING[-1]["time"] // H * H
    history = MarketHistory.from_responses(
        BTC_FUNDING, flat_candles("BTC", first, last), origin="recorded", carry_forward=True
    )
    assert history.coins == ("BTC",) and history.hours == 265 and history.start_ms == first
    assert history.carried.height == 231 and set(history.carried["kind"]) == {"funding"}
    rates = history.funding.sort("time")["funding_rate"].to_list()
    assert rates[:9] == [-0.00061334] * 8 + [-0.00074503]  # the 00:00 row stands for 01:00-07:00
    carried = set(history.carried["time"].dt.epoch("ms").to_list())
    stamped = [t for t in history.funding["time"].dt.epoch("ms").to_list() if t // H * H not in carried]
    assert stamped == [r["time"] for r in BTC_FUNDING]  # the recorded rows keep the venue's stamps


def test_a_coin_needs_both_funding_and_candles_and_each_refusal_names_it():
    with pytest.raises(ValueError, match=r"^no candles for BTC: a replay needs both$"):
        MarketHistory.from_responses(BTC_FUNDING, KPEPE_CANDLES, origin="recorded")
    funding, candles = rows("ETH", 24)
    with pytest.raises(ValueError, match=r"^no funding history for kPEPE$"):
        MarketHistory.from_responses(funding, candles + KPEPE_CANDLES, origin="recorded")


def test_a_coin_the_sandbox_does_not_list_is_refused_by_name_when_replayed():
    t0 = KPEPE_CANDLES[0]["t"]
    funding = [{"coin": "kPEPE", "fundingRate": "0.0000125", "premium": "0", "time": t0 + (h + 1) * H + 5}
               for h in range(len(KPEPE_CANDLES))]  # fmt: skip
    history = MarketHistory.from_responses(funding, KPEPE_CANDLES, origin="recorded candles")
    with pytest.raises(ValueError, match=r": no contract to replay kPEPE on$"):
        ReplayMarket.from_history(history, universe.COINS)


def test_a_missing_candle_is_a_gap_and_carries_the_last_close_flat():
    funding, candles = rows("SOL", 10)
    del candles[4]
    with pytest.raises(ReplayGap, match=r"^SOL misses 1 hour of candles \(2026-01-01 04:00\)\. Pass carry"):
        MarketHistory.from_responses(funding, candles, origin="t")
    history = MarketHistory.from_responses(funding, candles, origin="t", carry_forward=True)
    bar = history.candles.row(4, named=True)
    assert (bar["open"], bar["high"], bar["low"], bar["close"], bar["volume"]) == (
        104.0,
        104.0,
        104.0,
        104.0,
        0.0,
    )
    assert history.carried.rows() == [("SOL", history.carried["time"][0], "candle")]


def test_history_must_not_begin_late_and_rows_must_not_disagree():
    funding, candles = rows("ETH", 10)
    btc_funding, btc_candles = rows("BTC", 10)
    with pytest.raises(
        ValueError, match=r"^BTC's funding begin at 2026-01-01 04:00, after the replay's start"
    ):
        MarketHistory.from_responses(
            funding + btc_funding[3:], candles + btc_candles, origin="t", carry_forward=True
        )
    twice = dict(funding[2], fundingRate="0.5")
    with pytest.raises(ValueError, match=r"^two different funding rows for ETH at 2026-01-01 03:00$"):
        MarketHistory.from_responses([*funding, twice], candles, origin="t")
    again = MarketHistory.from_responses(
        funding + funding[:4], candles + candles[:2], origin="t"
    )  # pages overlap
    assert again.hours == 10


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-inf"])
def test_non_finite_values_are_refused(bad):
    funding, candles = rows("ETH", 5)
    funding[2]["fundingRate"] = bad
    with pytest.raises(
        ValueError, match=r"^funding: ETH at 2026-01-01 03:00 has a missing or non-finite value$"
    ):
        MarketHistory.from_responses(funding, candles, origin="t")


def test_saved_and_read_back_the_same_and_a_changed_file_is_refused(tmp_path):
    funding, candles = rows("BTC", 30)
    eth_funding, eth_candles = rows("ETH", 30)
    history = MarketHistory.from_responses(funding + eth_funding, candles + eth_candles, origin="made here")
    folder = history.save(tmp_path / "replay")
    manifest = json.loads((folder / "replay.json").read_text())
    assert (
        manifest["coins"] == ["BTC", "ETH"] and manifest["hours"] == 30 and manifest["origin"] == "made here"
    )
    back = MarketHistory.load(folder)
    assert back.fingerprint() == history.fingerprint() and back.funding.equals(history.funding)
    assert back.candles.equals(history.candles) and (back.start_ms, back.end_ms) == (START, START + 30 * H)
    data = bytearray((folder / "candles.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "candles.parquet").write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match=r"candles\.parquet does not match its manifest: it was changed after saving"
    ):
        MarketHistory.load(folder)
    with pytest.raises(FileNotFoundError, match=r"holds no replay \(no replay\.json\)"):
        MarketHistory.load(tmp_path)


def test_a_replay_market_pays_each_hour_on_its_candle_close_and_serves_the_recorded_rows():
    funding, candles = rows("ETH", 6)
    market = ReplayMarket.from_history(
        MarketHistory.from_responses(funding, candles, origin="t"), universe.COINS
    )
    assert market.start_ms == START and market.end_ms == START + 6 * H and market.halted("BTC")
    assert market.oracle("ETH", START) == 100.0  # hour 0 opens at its candle's open
    for h in range(6):  # hour h is paid at its end on its candle's close, at its recorded rate
        assert market.oracle("ETH", START + (h + 1) * H) == 101.0 + h
        assert market.funding_rate("ETH", h) == float(funding[h]["fundingRate"])
    served = market.funding_history("ETH", START, START + 6 * H)
    assert [(r.time, r.rate, r.premium) for r in served] == [
        (f["time"], float(f["fundingRate"]), float(f["premium"])) for f in funding
    ]
    assert market.funding_history("BTC", START, START + 6 * H) == []  # halted: nothing recorded
    now = START + 3 * H + 1_800_000  # half past three: the 03:00 candle is still open
    bars = market.recorded_candles("ETH", "1h", START, now, now)
    assert [(b.t, b.o, b.c, b.h, b.low, b.v, b.n) for b in bars[:3]] == [
        (START + h * H, 100.0 + h, 101.0 + h, 102.0 + h, 99.0 + h, 7.5, 3) for h in range(3)
    ]
    assert bars[3].o == 103.0 and bars[3].c == market.oracle("ETH", now) and bars[3].v == 0.0  # no future
    day = market.recorded_candles("ETH", "4h", START, now, now)
    assert (day[0].o, day[0].c, day[0].h, day[0].low, day[0].v) == (
        100.0,
        market.oracle("ETH", now),
        104.0,
        99.0,
        22.5,
    )
    assert market.recorded_candles("ETH", "15m", START, now, now) is None  # finer than recorded
