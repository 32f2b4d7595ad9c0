"""ccxt's Hyperliquid class, unmodified, pointed at the sandbox: markets, tickers, the book,
candles, orders of every kind, their lifecycle, positions, trades and fees."""

from __future__ import annotations

import asyncio

import ccxt
import ccxt.pro as ccxtpro
import pytest
from eth_account import Account

SYMBOL = "ETH/USDC:USDC"
WAIT = 30.0  # seconds a stream may take to deliver on a busy machine: a ceiling, never a pause


@pytest.fixture
def exchange(sandbox):
    account = Account.create()
    sandbox.deposit("hyperliquid", account.address, 10_000)
    ex = ccxt.hyperliquid(
        {"walletAddress": account.address, "privateKey": account.key.hex(), "enableRateLimit": False}
    )  # the sandbox paces nobody unless asked
    ex.set_sandbox_mode(True)  # testnet signing, as the sandbox is Testnet
    ex.urls["api"] = {"public": sandbox.url, "private": sandbox.url}
    ex.load_markets()
    return ex


def test_market_data(exchange):
    assert {"BTC/USDC:USDC", SYMBOL, "SOL/USDC:USDC"} <= set(exchange.markets)
    ticker = exchange.fetch_ticker(SYMBOL)
    assert ticker["bid"] < ticker["last"] < ticker["ask"]
    book = exchange.fetch_order_book(SYMBOL)
    assert book["bids"][0][0] < book["asks"][0][0] and len(book["bids"]) == 20
    candles = exchange.fetch_ohlcv(SYMBOL, "1h", limit=24)
    assert len(candles) == 24 and all(low <= min(o, c) for _, o, _, low, c, _ in candles)
    rates = exchange.fetch_funding_rate_history(SYMBOL, limit=5)
    assert len(rates) == 5 and all(r["symbol"] == SYMBOL for r in rates)
    assert exchange.fetch_status()["status"] == "ok"
    fee = exchange.fetch_trading_fee(SYMBOL)
    assert (fee["maker"], fee["taker"]) == (0.00015, 0.00045)


def test_the_order_lifecycle(exchange):
    last = exchange.fetch_ticker(SYMBOL)["last"]
    bought = exchange.create_order(SYMBOL, "market", "buy", 0.2, last)
    resting = exchange.create_order(SYMBOL, "limit", "buy", 0.1, round(last * 0.8, 1))
    assert exchange.fetch_order(resting["id"], SYMBOL)["status"] == "open"
    edited = exchange.edit_order(resting["id"], SYMBOL, "limit", "buy", 0.2, round(last * 0.75, 1))
    assert edited["id"] != resting["id"]
    assert exchange.fetch_order(resting["id"], SYMBOL)["status"] == "canceled"
    (live,) = exchange.fetch_open_orders(SYMBOL)
    assert (live["id"], live["amount"], live["price"]) == (edited["id"], 0.2, round(last * 0.75, 1))
    exchange.cancel_order(edited["id"], SYMBOL)
    assert exchange.fetch_open_orders(SYMBOL) == []
    closed = {o["id"]: o["status"] for o in exchange.fetch_closed_orders(SYMBOL)}
    assert closed[bought["id"]] == "closed"
    stop = exchange.create_order(SYMBOL, "market", "sell", 0.2, last, {"stopLossPrice": round(last * 0.5, 1),
                                                                        "reduceOnly": True})  # fmt: skip
    (trigger,) = exchange.fetch_open_orders(SYMBOL)
    assert trigger["id"] == stop["id"] and trigger["triggerPrice"] == round(last * 0.5, 1)
    (position,) = exchange.fetch_positions([SYMBOL])
    assert (position["side"], position["contracts"]) == ("long", 0.2)
    (trade,) = exchange.fetch_my_trades(SYMBOL)
    assert (trade["order"], trade["side"], trade["amount"]) == (bought["id"], "buy", 0.2)
    assert exchange.set_leverage(5, SYMBOL)["status"] == "ok"
    with pytest.raises(ccxt.InsufficientFunds):
        exchange.create_order(SYMBOL, "market", "buy", 100, last)


def test_ccxt_pro_streams_and_trades_over_the_websocket(sandbox):
    """ccxt.pro's Hyperliquid: the book, ticker and candles streamed; an order placed and cancelled
    over the socket's ``post``; the user's orders, trades and the public trades streamed as it fills."""
    account = Account.create()
    sandbox.deposit("hyperliquid", account.address, 10_000)
    ws = "ws" + sandbox.url.removeprefix("http") + "/ws"

    async def scenario() -> None:
        ex = ccxtpro.hyperliquid({"walletAddress": account.address, "privateKey": account.key.hex(),
                                  "enableRateLimit": False})  # fmt: skip
        ex.set_sandbox_mode(True)
        ex.urls["api"] = {"public": sandbox.url, "private": sandbox.url, "ws": {"public": ws, "private": ws}}
        ex.urls["test"]["ws"] = {"public": ws, "private": ws}
        try:
            book = await asyncio.wait_for(ex.watch_order_book(SYMBOL), WAIT)
            assert book["bids"][0][0] < book["asks"][0][0]
            ticker = await asyncio.wait_for(ex.watch_ticker(SYMBOL), WAIT)
            assert ticker["bid"] < ticker["ask"]
            (candle,) = (await asyncio.wait_for(ex.watch_ohlcv(SYMBOL, "1m"), WAIT))[-1:]
            assert candle[3] <= candle[4] <= candle[2]  # low <= close <= high
            resting = await asyncio.wait_for(
                ex.create_order_ws(SYMBOL, "limit", "buy", 0.1, round(ticker["last"] * 0.8, 1)), WAIT
            )
            assert (await asyncio.wait_for(ex.cancel_order_ws(resting["id"], SYMBOL), WAIT))[
                "status"
            ] == "success"
            mine = asyncio.create_task(ex.watch_my_trades(SYMBOL))
            orders = asyncio.create_task(ex.watch_orders(SYMBOL))
            public = asyncio.create_task(ex.watch_trades(SYMBOL))
            await asyncio.sleep(0.5)  # the subscriptions are on their way before the order
            placed = await ex.create_order(SYMBOL, "market", "buy", 0.1, ticker["last"])
            (trade,) = await asyncio.wait_for(mine, WAIT)
            assert (trade["order"], trade["amount"]) == (placed["id"], 0.1)
            assert any(
                o["id"] == placed["id"] and o["status"] == "closed"
                for o in await asyncio.wait_for(orders, WAIT)
            )
            assert any(t["amount"] == 0.1 for t in await asyncio.wait_for(public, WAIT))
        finally:
            await ex.close()

    asyncio.run(scenario())
