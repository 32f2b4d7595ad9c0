"""The replay sandbox: real history (here recorded from the venue interface of another sandbox, as
this machine is offline) cached by ``frames``, replayed hour by hour behind the Hyperliquid API."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hyperliquid.info import Info

import toolkit
import toolkit.sandbox
from toolkit import frames
from toolkit.cli import main
from toolkit.frames import MarketHistory
from toolkit.sandbox import SandboxError
from toolkit.sandbox.process import spawn
from toolkit.venues import hyperliquid as hl
from toolkit.venues.eip712 import Wallet

H = 3_600_000
COINS = ("BTC", "ETH", "SOL")
HOURS = 48


def when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


@pytest.fixture(scope="module")
def recorded(shared_sandbox, tmp_path_factory):
    """48 hours of BTC, ETH and SOL as the venue answered them (``fundingHistory`` and 1h
    ``candleSnapshot``, kept as sent), and the same hours as a frames dataset cached on disk."""
    end = shared_sandbox.now_ms() // H * H - 24 * H
    start = end - HOURS * H
    with httpx.Client(base_url=shared_sandbox.url, timeout=60) as http:
        funding = {c: http.post("/info", json={"type": "fundingHistory", "coin": c, "startTime": start + 1,
                                               "endTime": end}).json() for c in COINS}  # fmt: skip
        candles = {c: http.post("/info", json={"type": "candleSnapshot", "req": {
            "coin": c, "interval": "1h", "startTime": start, "endTime": end - 1}}).json() for c in COINS}  # fmt: skip
    cache = tmp_path_factory.mktemp("frames-cache")
    history = frames.Hyperliquid(shared_sandbox, cache=cache, progress=False).market_history(
        COINS, start, end
    )
    folder = history.save(tmp_path_factory.mktemp("replay") / "three-coins")
    return {"funding": funding, "candles": candles, "history": history, "folder": folder, "cache": cache,
            "start": start, "end": end}  # fmt: skip


@pytest.fixture
def replay(recorded, tmp_path):
    with toolkit.sandbox.start(
        home=tmp_path / "replay-home", market=recorded["folder"], log_level="warning"
    ) as sb:
        yield sb


def test_the_history_is_what_the_venue_answered_and_the_cache_gives_it_back(recorded, shared_sandbox):
    history = recorded["history"]
    assert history.coins == COINS and history.hours == HOURS and history.carried.height == 0
    assert (history.start_ms, history.end_ms) == (recorded["start"], recorded["end"])
    for coin in COINS:
        mine = history.funding.filter(history.funding["coin"] == coin)
        assert mine["time"].dt.epoch("ms").to_list() == [r["time"] for r in recorded["funding"][coin]]
        assert mine["funding_rate"].to_list() == [float(r["fundingRate"]) for r in recorded["funding"][coin]]
    again = frames.Hyperliquid(shared_sandbox, cache=recorded["cache"], progress=False)
    assert (
        again.market_history(COINS, recorded["start"], recorded["end"]).fingerprint() == history.fingerprint()
    )
    assert MarketHistory.load(recorded["folder"]).fingerprint() == history.fingerprint()


def test_every_hourly_payment_is_size_times_oracle_times_the_recorded_rate(replay, recorded):
    assert replay.now_ms() == recorded["start"]  # the clock starts where the history does
    wallet = Wallet.generate()
    replay.deposit("hyperliquid", wallet.address, 100_000)
    with hl.HyperliquidClient(replay, wallet=wallet) as client:
        mids = client.info({"type": "allMids"})
        sizes = {0: "-0.05", 1: "2", 2: "-30"}  # short BTC, long ETH, short SOL
        for asset, size in sizes.items():
            buy, coin = not size.startswith("-"), COINS[asset]
            px = f"{float(mids[coin]) * (1.1 if buy else 0.9):.5g}"
            status = client.order([hl.order_wire(asset, buy, px, size.lstrip("-"), tif="Ioc")])
            assert "filled" in status["response"]["data"]["statuses"][0], status
        replay.advance(hours=24)
        paid = client.info({"type": "userFunding", "user": wallet.address, "startTime": recorded["start"]})
    assert len(paid) == 24 * 3
    for row in paid:
        coin, t = row["delta"]["coin"], row["time"]
        hour = (t - recorded["start"]) // H - 1  # the hour this boundary closes
        candle = recorded["candles"][coin][hour]
        rate = recorded["funding"][coin][hour]
        assert candle["T"] + 1 == t and rate["time"] // H * H == t  # the recorded rows of that hour
        szi = float(sizes[COINS.index(coin)])
        assert float(row["delta"]["szi"]) == szi and row["delta"]["fundingRate"] == rate["fundingRate"]
        assert float(row["delta"]["usdc"]) == pytest.approx(
            -szi * float(candle["c"]) * float(rate["fundingRate"]), abs=1e-8
        )


def test_funding_history_and_candle_snapshot_answer_the_recorded_rows(replay, recorded):
    replay.advance(hours=HOURS)  # to the end: every recorded row is in the past
    info = Info(replay.url, skip_ws=True)  # the official SDK's reader
    for coin in COINS:
        assert info.funding_history(coin, recorded["start"] + 1, recorded["end"]) == recorded["funding"][coin]
        served = info.candles_snapshot(coin, "1h", recorded["start"], recorded["end"] - 1)
        assert [(c["t"], c["T"], c["n"]) for c in served] == [
            (c["t"], c["T"], c["n"]) for c in recorded["candles"][coin]
        ]
        for got, want in zip(served, recorded["candles"][coin], strict=True):
            assert all(float(got[k]) == pytest.approx(float(want[k]), rel=1e-9) for k in "ohlcv")


def test_the_clock_stands_still_refuses_to_pass_the_end_and_unrecorded_coins_are_halted(replay, recorded):
    first = replay.now_ms()
    assert first == recorded["start"] and replay.now_ms() == first  # no wall clock in a replay
    with pytest.raises(SandboxError) as past:
        replay.advance(hours=HOURS + 1)
    assert str(past.value) == (
        f'400: {{"detail":"the replay ends at {when(recorded["end"])} UTC; the clock cannot pass it '
        f'(now {when(first)})"}}'
    )
    assert replay.now_ms() == first  # nothing moved
    wallet = Wallet.generate()
    replay.deposit("hyperliquid", wallet.address, 10_000)
    with hl.HyperliquidClient(replay, wallet=wallet) as client:
        status = client.order([hl.order_wire(3, True, "40", "1", tif="Ioc")])  # AVAX: not replayed
        assert status["response"]["data"]["statuses"] == [
            {"error": "Trading is halted for AVAX: this replay has no history for it."}
        ]
        assert client.info({"type": "fundingHistory", "coin": "AVAX", "startTime": 0}) == []
    replay.advance(hours=HOURS)
    assert replay.now_ms() == recorded["end"]


def test_a_home_keeps_the_market_it_was_made_in(recorded, tmp_path):
    with toolkit.sandbox.start(home=tmp_path / "synthetic", log_level="warning"):
        pass
    with pytest.raises(SandboxError, match=r"was made in the synthetic market, not in this replay \(replay:"):
        toolkit.sandbox.start(home=tmp_path / "synthetic", market=recorded["folder"], log_level="warning")
    home = tmp_path / "replayed"
    with toolkit.sandbox.start(home=home, market=recorded["folder"], log_level="warning") as sb:
        sb.advance(hours=5)
    with toolkit.sandbox.start(home=home, market=recorded["history"], log_level="warning") as sb:
        assert sb.now_ms() == recorded["start"] + 5 * H  # carries on where it stopped
    with pytest.raises(
        SandboxError, match=r"holds a replay of real history \(replay:[0-9a-f]{16}\); start it"
    ):
        toolkit.sandbox.start(home=home, log_level="warning")


def test_the_command_line_serves_a_replay_and_names_a_folder_without_one(recorded, tmp_path, capsys):
    proc, url = spawn(tmp_path / "cli-home", replay=recorded["folder"])
    try:
        assert httpx.get(f"{url}/sandbox/clock", timeout=30).json()["now_ms"] == recorded["start"]
        mids = httpx.post(f"{url}/info", json={"type": "allMids"}, timeout=30).json()
        assert float(mids["BTC"]) > 0
    finally:
        proc.terminate()
        proc.wait(30)
    assert main(["sandbox", "--replay", str(tmp_path), "--home", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err == (
        f"toolkit sandbox: --replay {tmp_path}: {tmp_path} holds no replay (no replay.json)\n"
    )


def test_the_websocket_streams_the_replayed_funding(replay, recorded):
    from tests.integration.test_hyperliquid_ws import Socket, _ws_url

    wallet = Wallet.generate()
    replay.deposit("hyperliquid", wallet.address, 50_000)
    with hl.HyperliquidClient(replay, wallet=wallet) as client:
        mid = float(client.info({"type": "allMids"})["ETH"])
        client.order([hl.order_wire(1, True, f"{mid * 1.1:.5g}", "3", tif="Ioc")])
    s = Socket(_ws_url(replay))
    try:
        s.send({"method": "subscribe", "subscription": {"type": "userFundings", "user": wallet.address}})
        assert s.next("userFundings")["isSnapshot"] is True
        replay.advance(hours=3)
        streamed: list[dict] = []
        while len(streamed) < 3:
            streamed += s.next("userFundings")["fundings"]
    finally:
        s.close()
    rates = [r["fundingRate"] for r in recorded["funding"]["ETH"][:3]]
    assert [f["fundingRate"] for f in streamed] == rates and [f["coin"] for f in streamed] == ["ETH"] * 3
    assert [f["time"] for f in streamed] == [recorded["start"] + h * H for h in (1, 2, 3)]


@pytest.mark.parametrize("market", [42, ["BTC"], b"folder"])
def test_a_market_that_is_neither_a_history_nor_a_folder_is_refused(market, tmp_path):
    message = r"^market must be a frames\.MarketHistory or the folder one was saved to, not "
    with pytest.raises(TypeError, match=message + type(market).__name__):
        toolkit.sandbox.start(home=tmp_path, market=market)
    with pytest.raises(TypeError, match=message + type(market).__name__):
        toolkit.backtest(lambda step: None, market)
