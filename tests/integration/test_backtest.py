"""``toolkit.backtest``: a strategy trades through an ordinary client on a private replay, hour by
hour, and the run comes back as DataFrames; the same run twice is the same run."""

from __future__ import annotations

import httpx
import pytest

import toolkit
from toolkit import frames
from toolkit.backtesting import Step
from toolkit.venues import hyperliquid as hl

H = 3_600_000
COINS = ("BTC", "ETH", "SOL")


@pytest.fixture(scope="module")
def history(shared_sandbox):
    """72 hours of three coins, as the venue interface of a sandbox answered them."""
    end = shared_sandbox.now_ms() // H * H - 6 * H
    return frames.Hyperliquid(shared_sandbox, progress=False).market_history(COINS, end - 72 * H, end)


def carry(step: Step) -> None:
    """Every 12 hours: short the coins whose last funding rate is above 0.00002 an hour, buy back
    the others (the toolkit's client: ``info`` and ``order``)."""
    if step.index % 12:
        return
    client, now = step.client, step.now_ms
    mids = client.info({"type": "allMids"})
    held = {p["position"]["coin"]: float(p["position"]["szi"])
            for p in client.info({"type": "clearinghouseState", "user": step.address})["assetPositions"]}  # fmt: skip
    for asset, coin in enumerate(COINS):
        rows = client.info({"type": "fundingHistory", "coin": coin, "startTime": now - 3 * H})
        high = (bool(rows) and float(rows[-1]["fundingRate"]) > 0.00002) or step.index % 24 == 0
        size = round(5_000 / float(mids[coin]), 4 if coin == "BTC" else 2)
        if high and held.get(coin, 0) >= 0:
            client.order(
                [hl.order_wire(asset, False, f"{float(mids[coin]) * 0.9:.5g}", str(size), tif="Ioc")]
            )
        elif not high and held.get(coin, 0) < 0:
            px = f"{float(mids[coin]) * 1.1:.5g}"
            client.order([hl.order_wire(asset, True, px, str(abs(held[coin])), tif="Ioc", reduce_only=True)])


def test_the_same_strategy_on_the_same_replay_gives_the_same_fills_and_equity(history):
    first = toolkit.backtest(carry, history, progress=False, backend="polars")
    second = toolkit.backtest(carry, history, progress=False, backend="polars")
    assert first.steps == second.steps == 72 and len(first.fills) >= 3
    columns = [c for c in first.fills.columns if c not in ("hash",)]
    assert first.fills.select(columns).equals(second.fills.select(columns))
    assert first.equity.equals(second.equity) and first.funding.drop("hash").equals(
        second.funding.drop("hash")
    )
    assert first.summary.equals(second.summary)


def test_the_run_adds_up_in_one_sign_convention(history):
    run = toolkit.backtest(carry, history, capital=50_000, progress=False, backend="polars")
    last = run.equity.row(-1, named=True)
    assert last["deposits"] == 50_000 and last["fees"] == pytest.approx(float(run.fills["fee"].sum()))
    assert last["funding"] == pytest.approx(float(run.funding["usdc"].sum()), abs=1e-6)  # + into the account
    assert last["pnl"] == pytest.approx(last["trading_pnl"] + last["funding"] - last["fees"], abs=1e-9)
    summary = run.summary.row(0, named=True)
    assert summary["pnl"] == last["pnl"] and summary["max_drawdown"] == run.equity["drawdown"].min()
    assert run.equity["time"].is_sorted() and run.liquidations.height == 0
    assert (run.start_ms, run.end_ms) == (history.start_ms, history.end_ms)
    pandas = toolkit.backtest(carry, history, capital=50_000, progress=False)  # the default backend
    assert pandas.equity["equity"].iloc[-1] == pytest.approx(last["equity"])


def test_the_official_sdk_exchange_trades_the_same_rule(history):
    """The same rule written for the SDK (``Exchange.order``, ``Info.user_state``) trades the same."""
    from hyperliquid.utils.signing import OrderType

    def with_sdk(step: Step) -> None:
        exchange = step.client
        if step.index % 24:
            return
        mids = exchange.info.all_mids()
        assert float(exchange.info.user_state(step.address)["marginSummary"]["accountValue"]) > 90_000
        for coin in COINS:
            size = round(5_000 / float(mids[coin]), 4 if coin == "BTC" else 2)
            tif: OrderType = {"limit": {"tif": "Ioc"}}
            answer = exchange.order(coin, False, size, float(f"{float(mids[coin]) * 0.9:.5g}"), tif)
            assert answer["status"] == "ok" and "filled" in answer["response"]["data"]["statuses"][0], answer

    def with_toolkit(step: Step) -> None:
        if step.index % 24:
            return
        mids = step.client.info({"type": "allMids"})
        for asset, coin in enumerate(COINS):
            size = round(5_000 / float(mids[coin]), 4 if coin == "BTC" else 2)
            step.client.order(
                [hl.order_wire(asset, False, f"{float(mids[coin]) * 0.9:.5g}", str(size), tif="Ioc")]
            )

    sdk = toolkit.backtest(with_sdk, history, client="sdk", progress=False, backend="polars")
    ours = toolkit.backtest(with_toolkit, history, progress=False, backend="polars")
    shape = ["time", "coin", "side", "px", "sz", "fee"]
    assert len(sdk.fills) == 9 and sdk.fills.select(shape).equals(ours.fills.select(shape))
    assert sdk.equity["equity"].to_list() == ours.equity["equity"].to_list()


def test_an_object_with_on_hour_and_a_client_of_ones_own(history):
    seen: list[tuple[int, int]] = []

    class Bot:
        def on_hour(self, step: Step) -> None:
            seen.append((step.index, step.now_ms))
            assert step.time.timestamp() * 1000 == step.now_ms
            answer = step.client.post("/info", json={"type": "clearinghouseState", "user": step.address})
            assert float(answer.json()["marginSummary"]["accountValue"]) == 25_000

    def plain_http(url: str, wallet) -> httpx.Client:
        return httpx.Client(base_url=url, timeout=30)

    run = toolkit.backtest(Bot(), history, history.start_ms + 10 * H, history.start_ms + 16 * H, step="2h",
                           capital=25_000, client=plain_http, progress=False)  # fmt: skip
    assert seen == [(i, history.start_ms + (10 + 2 * i) * H) for i in range(3)] and run.steps == 3
    assert run.fills.empty and len(run.equity) >= 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"step": "2x"}, ValueError, "step must look like '1h', '30m' or '1d', not '2x'"),
        ({"step": 10}, ValueError, "step must be at least a minute"),
        ({"capital": -5}, ValueError, "capital must be a positive number of USDC below 1e12"),
        ({"capital": float("nan")}, ValueError, "capital must be a positive number of USDC below 1e12"),
        ({"start": "2001-01-01"}, ValueError, "start and end must lie within the replay"),
        (
            {"client": "ccxt"},
            ValueError,
            "client must be 'toolkit', 'sdk', or a function (url, wallet) -> client",
        ),
        ({"backend": "arrow"}, ValueError, "backend must be 'pandas' or 'polars', not 'arrow'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(history, kwargs, error, message):
    with pytest.raises(error, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        toolkit.backtest(carry, history, progress=False, **kwargs)


def test_a_strategy_that_is_neither_a_function_nor_a_bot_is_refused(history):
    with pytest.raises(
        TypeError, match=r"^strategy must be a function of one Step, or an object with an on_hour"
    ):
        toolkit.backtest(42, history)


def test_a_backtest_runs_where_an_event_loop_already_runs(history):
    """As in a Jupyter kernel, whose loop runs in the thread that calls the backtest."""
    import asyncio

    async def in_a_kernel() -> toolkit.backtesting.BacktestResult:
        return toolkit.backtest(carry, history, end=history.start_ms + 13 * H, progress=False)

    run = asyncio.run(in_a_kernel())
    plain = toolkit.backtest(carry, history, end=history.start_ms + 13 * H, progress=False)
    assert run.steps == 13 and len(run.fills) >= 3  # the first step shorts all three coins
    assert run.fills.drop(columns="hash").equals(plain.fills.drop(columns="hash"))
